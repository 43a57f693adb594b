"""What the Glance a session reaches offers, read from its version document (``GET`` on
Glance's root), never guessed from a release name or number.

Glance lists the v2 API versions it serves, one of them CURRENT. Each feature glance-catalog
depends on arrived with an API version, and a Glance that serves that version serves the
feature; a Glance that serves an older one is handled by the callers (imports followed without
the image tasks API, no interoperable import at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reconciler.errors import CloudError

# The API version each feature arrived with (Glance's api-ref, "API versions").
INTEROPERABLE_IMPORT = (2, 6)  # GET /v2/info/import, POST /v2/images/{id}/import
IMAGE_TASKS = (2, 12)  # GET /v2/images/{id}/tasks
SERVED = frozenset({"CURRENT", "SUPPORTED", "DEPRECATED"})
_VERSION = re.compile(r"^v(\d+)\.(\d+)$")


@dataclass(frozen=True)
class GlanceApi:
    """The image API a Glance serves. What must hold: ``version`` is the highest ``v2.N`` its
    version document lists as served (CURRENT, SUPPORTED or DEPRECATED), ``(2, 0)`` when it
    lists none of that form."""

    version: tuple[int, int]

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def interoperable_import(self) -> bool:
        """Imports (web-download, copy-image, glance-download) and ``/v2/info/import``."""
        return self.version >= INTEROPERABLE_IMPORT

    @property
    def image_tasks(self) -> bool:
        """The tasks of an image (``GET /v2/images/{id}/tasks``): how an import ended."""
        return self.version >= IMAGE_TASKS


def parse_versions(document: Any, where: str) -> GlanceApi:
    """The GlanceApi a version document (``{"versions": [{"id": "v2.16", "status":
    "CURRENT"}, ...]}``) describes; anything else is a CloudError that names ``where``."""
    listed = document.get("versions") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise CloudError(f"{where} answered JSON without a version list: is it Glance's endpoint?")
    served: list[tuple[int, int]] = []
    for entry in listed:
        if not isinstance(entry, dict) or str(entry.get("status", "")).upper() not in SERVED:
            continue
        match = _VERSION.match(str(entry.get("id", "")))
        if match and int(match.group(1)) == 2:
            served.append((2, int(match.group(2))))
    return GlanceApi(max(served, default=(2, 0)))


def glance_root(endpoint: str) -> str:
    """Glance's root: an image endpoint without its version (``/v2``, ``/v2.1``), if any, and
    without a trailing slash."""
    return re.sub(r"/v\d+(\.\d+)?/?$", "", endpoint.rstrip("/"))


def version_document_url(glance_endpoint: str) -> str:
    """Where the version document is: Glance's root."""
    return glance_root(glance_endpoint) + "/"
