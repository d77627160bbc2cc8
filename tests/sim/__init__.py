"""Tests of the Ascend simulator (tokenfactory.lab.sim)."""
