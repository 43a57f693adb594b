"""User-facing errors of the reconciler; all are GlanceCatalogError, so the CLI exits 1 on them."""

from __future__ import annotations

from catalog.errors import GlanceCatalogError

__all__ = ["CloudError", "GlanceCatalogError", "PlanConflict", "SourceError"]


class CloudError(GlanceCatalogError):
    """The cloud could not be reached, refused our credentials, or answered with an error."""


class PlanConflict(GlanceCatalogError):
    """The catalog cannot be converged without a person deciding (e.g. an unmanaged namesake)."""


class SourceError(GlanceCatalogError):
    """Image data could not be read, or did not match its checksum."""
