"""Listing and creating images: the Glance requests GlanceGateway builds its reads and its
creates on, each safe to repeat."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from reconciler.core.actions import FieldChange
from reconciler.core.glance_patch import create_body
from reconciler.errors import CloudError
from reconciler.gateway.session import CloudSession, glance_message

PAGE_SIZE = 1000


def list_images(session: CloudSession, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every image Glance lists for ``params``, page after page."""
    url: str | None = "/images"
    query: dict[str, Any] | None = {**params, "limit": PAGE_SIZE}
    while url:
        response = session.glance("GET", url, params=query, expect=(200,), what="listing images")
        body = session.json(response, "listing images")
        if not isinstance(body, dict) or not isinstance(body.get("images"), list):
            raise CloudError(
                f"listing images: {session.glance_endpoint} answered JSON without "
                "an image list: is it really Glance?"
            )
        yield from body.get("images", [])
        next_link = body.get("next")
        url = next_link.removeprefix("/v2") if next_link else None
        query = None


def reserve(session: CloudSession, changes: Iterable[FieldChange]) -> str:
    """Create the image with exactly these fields, under the id the changes pin or a fresh
    one chosen here. The create is safe to repeat: a retry sends the same id, and Glance's
    409 for it means an earlier try made the image (checked: it carries the same name and
    tags), so no image is ever created twice."""
    body = create_body(changes)
    pinned = "id" in body
    body.setdefault("id", str(uuid.uuid4()))
    image_id = str(body["id"])
    what = f"creating image '{body.get('name')}'"
    response = session.glance("POST", "/images", json=body, expect=(201, 409), what=what)
    if response.status_code == 201:
        return image_id
    found = existing(session, image_id, what)
    wanted_tags = set(body.get("tags") or ())
    if (
        found is not None
        and found.get("name") == body.get("name")
        and wanted_tags <= set(found.get("tags") or ())
    ):
        return image_id
    reason = glance_message(response)
    if pinned:
        reason = (
            f"Glance refuses id {image_id}: an image had it before (Glance keeps the "
            "ids of deleted images and never gives them out again); choose a new id:"
        )
    raise CloudError(f"{what}: {reason}")


def existing(session: CloudSession, image_id: str, what: str) -> dict[str, Any] | None:
    """The image, or None when Glance has none with this id."""
    response = session.glance(
        "GET", f"/images/{image_id}", expect=(200, 404), what=f"{what}: reading it back"
    )
    if response.status_code == 404:
        return None
    body = session.json(response, what)
    return body if isinstance(body, dict) else None


def create_exactly(session: CloudSession, body: dict[str, Any], what: str) -> None:
    """Create the image with exactly ``body`` (its id included); a 409 for an image that
    exists (an earlier try made it) is success."""
    response = session.glance("POST", "/images", json=body, expect=(201, 409), what=what)
    if response.status_code == 409 and existing(session, str(body["id"]), what) is None:
        raise session.http_error(what, response)
