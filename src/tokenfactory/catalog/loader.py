"""Load the catalog data files shipped in this package (or from another directory)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tokenfactory.catalog.models import Catalog
from tokenfactory.errors import ConfigError, ConfigIssue

CATALOG_DIR = Path(__file__).parent


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=yaml.CSafeLoader)
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(str(path), "expected a mapping at the top level")])
    return data


def load_catalog(directory: Path | None = None) -> Catalog:
    """Read profiles.yaml, releases.yaml and runtimes.yaml; a broken catalog is a ConfigError naming the entry."""
    if directory is None:
        return _default_catalog()
    return _load(directory)


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return _load(CATALOG_DIR)


def _load(directory: Path) -> Catalog:
    profiles = _read(directory / "profiles.yaml")
    releases = _read(directory / "releases.yaml")
    runtimes = _read(directory / "runtimes.yaml")
    for name, profile in profiles.items():
        if isinstance(profile, dict):
            profile["name"] = name
    try:
        return Catalog.model_validate({"profiles": profiles, **releases, "runtimes": runtimes})
    except ValidationError as error:
        raise ConfigError(
            [
                ConfigIssue("catalog." + ".".join(str(part) for part in e["loc"]), e["msg"])
                for e in error.errors()
            ]
        ) from None
