"""The catalog: hardware profiles and software releases, kept as data files beside this module."""

from tokenfactory.catalog.loader import load_catalog
from tokenfactory.catalog.models import Catalog, HardwareProfile
from tokenfactory.catalog.resolve import ResolutionError, ResolvedPackage, ResolvedRelease, resolve_release

__all__ = [
    "Catalog",
    "HardwareProfile",
    "ResolutionError",
    "ResolvedPackage",
    "ResolvedRelease",
    "load_catalog",
    "resolve_release",
]
