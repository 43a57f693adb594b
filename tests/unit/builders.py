"""Small builders of desired and observed images for the pure-code tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from catalog.fields import SCALAR_KEYS
from catalog.model import (
    Catalog,
    Checksum,
    DesiredImage,
    ImageSource,
    ImageState,
    Position,
    Visibility,
    marker_tag,
)
from reconciler.core.diff import desired_properties, desired_scalars
from reconciler.core.observed import ObservedImage, Snapshot

CATALOG = "prod"
MARKER = marker_tag(CATALOG)
SHA = Checksum.parse("sha256:" + "cd" * 32)


def desired(name: str = "ubuntu", **fields: Any) -> DesiredImage:
    image = DesiredImage(
        name=name,
        source=ImageSource(url="http://127.0.0.1:1/u.img", file=None, checksum=SHA),
        disk_format="qcow2",
        container_format="bare",
        visibility=Visibility.PRIVATE,
        protected=False,
        hidden=False,
        min_disk=0,
        min_ram=0,
        tags=frozenset({"lts"}),
        properties={"os_distro": "ubuntu"},
        members=(),
        state=ImageState.ACTIVE,
        position=Position("m.yaml", 1, 1),
    )
    return replace(image, **fields)


def observed_like(image: DesiredImage, image_id: str = "id-1", **fields: Any) -> ObservedImage:
    """The image as Glance would show it right after glance-catalog converged it; ``fields``
    are ObservedImage's attributes or its scalar fields (``hidden=True``)."""
    scalars = {key: fields.pop(key) for key in SCALAR_KEYS if key in fields}
    base = ObservedImage(
        id=image_id,
        name=image.name,
        status="active" if image.source else "queued",
        fields={**desired_scalars(image), **scalars},
        tags=frozenset(image.tags | {MARKER}),
        properties=desired_properties(image),
        owner="project-1",
        hash_algo="sha512",
        hash_value="ff",
        size=3,
    )
    return replace(base, **fields)


def catalog(*images: DesiredImage) -> Catalog:
    return Catalog(CATALOG, images, (Path("m.yaml"),), "digest")


def snapshot(*images: ObservedImage, stores: tuple[str, ...] = ()) -> Snapshot:
    """``stores``: the stores Glance offers (none: no multi-store backends)."""
    return Snapshot("local", "project-1", images, stores=stores)
