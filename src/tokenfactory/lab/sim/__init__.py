"""Ascend simulator: a test double for NPUs and Huawei packages (hardware.py, packages.py, tools/)."""
