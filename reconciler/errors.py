"""User-facing errors of the reconciler; all are GlanceCatalogError, so the CLI exits 1 on them."""

from __future__ import annotations

from catalog.errors import GlanceCatalogError

__all__ = ["CloudError", "GlanceCatalogError", "PlanConflict", "SourceError", "TransferError"]


class TransferError(GlanceCatalogError):
    """A failure of moving image data; ``transient`` when trying again may succeed (a dropped
    connection, a 5xx answer, a short read) rather than fail the same way."""

    def __init__(self, *lines: str, transient: bool = False) -> None:
        super().__init__(*lines)
        self.transient = transient


class CloudError(TransferError):
    """The cloud could not be reached, refused our credentials, or answered with an error."""


class PlanConflict(GlanceCatalogError):
    """The catalog cannot be converged without a person deciding (e.g. an unmanaged namesake)."""


class SourceError(TransferError):
    """Image data could not be read, or did not match its checksum."""
