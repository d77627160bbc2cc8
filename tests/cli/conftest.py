"""Shared by the CLI tests of plan and apply: a throwaway project with the committed inventories."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_project


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_project(tmp_path, inventories=True)
    monkeypatch.delenv("TOKENFACTORY_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKENFACTORY_LAB_HOME", str(tmp_path / ".lab"))
    return tmp_path
