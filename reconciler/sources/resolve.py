"""The catalog as its sources say it is now, before planning: the newest upstream build of
each tracked image added as a version, and every checksum read from its checksum file."""

from __future__ import annotations

from catalog.model import Catalog
from reconciler.settings import RunSettings
from reconciler.sources.checksum_source import resolve_checksums
from reconciler.sources.upstream import find_upstream, with_upstream


def resolve_sources(catalog: Catalog, settings: RunSettings) -> Catalog:
    """Raises ChecksumsUnresolved (one line per problem) when anything cannot be read."""
    if any(image.track is not None for image in catalog.images):
        catalog = with_upstream(catalog, find_upstream(catalog, timeout=settings.timeout))
    return resolve_checksums(catalog, timeout=settings.timeout, parallel=settings.parallel)
