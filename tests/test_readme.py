"""The README and the role READMEs name only files that exist in the repository (issue 12 point 21)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = [REPO / "README.md", *sorted(REPO.glob("roles/*/README.md"))]
# A backticked repository path: starts at a top-level folder of the checkout, or is a file there.
TOP = ("docs/", "src/", "tests/", "roles/", "playbooks/", "scripts/", "benchmarks/", "molecule/", "stacks/",
       "inventories/", "../")
PLACEHOLDER = re.compile(r"[<>*{}\[\]]|\bSTACK\b|\bHOST\b|\bROLE\b|\.\.\.")


def _paths(text: str) -> set[str]:
    found = set()
    for quoted in re.findall(r"`([^`\s]+)`", text):
        path = quoted.split(":", 1)[0].rstrip(".,;)")
        if path.startswith(TOP) and not PLACEHOLDER.search(path):
            found.add(path)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_named_paths_exist_in_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text, f"{doc.name} points outside the repository"
    missing = sorted(p for p in _paths(text) if not (REPO / p).exists() and not (doc.parent / p).exists())
    assert missing == [], f"{doc.relative_to(REPO)} names files that do not exist: {missing}"


def test_the_readme_picture_and_facts_are_in_the_repository() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (REPO / image).is_file(), image
    assert (REPO / "docs" / "ascend-facts.md").is_file()
