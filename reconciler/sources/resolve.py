"""The catalog as its sources say it is now, before planning: the newest upstream build of
each tracked image added as a version, and every checksum read from its checksum file."""

from __future__ import annotations

from catalog.model import Catalog
from reconciler.retry import Retrier
from reconciler.settings import RunSettings
from reconciler.sources.checksum_source import resolve_checksums
from reconciler.sources.upstream import find_upstream, with_upstream


def resolve_sources(catalog: Catalog, settings: RunSettings, retrier: Retrier) -> Catalog:
    """Raises ChecksumsUnresolved (one line per problem) when anything cannot be read; every
    fetch spends the run's ``retrier``."""
    if any(image.track is not None for image in catalog.images):
        found = find_upstream(catalog, timeout=settings.timeout, retrier=retrier)
        catalog = with_upstream(catalog, found)
    return resolve_checksums(
        catalog, timeout=settings.timeout, parallel=settings.parallel, retrier=retrier
    )
