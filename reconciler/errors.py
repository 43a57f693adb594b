"""User-facing errors of the reconciler; all are GlanceCatalogError, so the CLI exits 1 on them."""

from __future__ import annotations

from catalog.errors import GlanceCatalogError

__all__ = [
    "CloudError",
    "DataRefused",
    "GlanceCatalogError",
    "ImportTimedOut",
    "PlanConflict",
    "SourceError",
    "TransferError",
    "UnresolvedProject",
]


class TransferError(GlanceCatalogError):
    """A failure of a request or of moving image data; ``transient`` when trying again may
    succeed (a dropped connection, a 5xx answer, a short read) rather than fail the same way;
    ``retry_after`` is the wait in seconds the server asked for, if it did."""

    def __init__(
        self, *lines: str, transient: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(*lines)
        self.transient = transient
        self.retry_after = retry_after


class CloudError(TransferError):
    """The cloud could not be reached, refused our credentials, or answered with an error."""


class DataRefused(CloudError):
    """Glance itself keeps failing to take data into one image (retries spent on its side,
    not the source's): an image without verified data in that state is made again."""


class UnresolvedProject(CloudError):
    """A member project the manifest names is no single project of the cloud (unknown,
    ambiguous, or not to be looked up by name with these credentials)."""


class ImportTimedOut(CloudError):
    """Glance did not finish an import within the bound (--import-timeout)."""


class PlanConflict(GlanceCatalogError):
    """The catalog cannot be converged without a person deciding (e.g. an unmanaged namesake)."""


class SourceError(TransferError):
    """Image data could not be read, or did not match its checksum."""
