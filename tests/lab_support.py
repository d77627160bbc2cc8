"""Shared by the tests that need the container engine (marked `lab`)."""

from __future__ import annotations

import os

import pytest

SKIP_LAB = os.environ.get("TOKENFACTORY_SKIP_LAB") == "1"

needs_lab = [
    pytest.mark.lab,
    pytest.mark.skipif(SKIP_LAB, reason="TOKENFACTORY_SKIP_LAB=1: no container engine in this run"),
]
