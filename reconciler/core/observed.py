"""The observed state of Glance as plain frozen data, and its fingerprint. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

# BASE_KEYS (the keys of Glance's image JSON that are not custom properties) is re-exported.
from catalog.fields import BASE_KEYS as BASE_KEYS
from catalog.fields import MANIFEST_FIELDS, SCALAR_KEYS

# Custom properties Glance and openstacksdk write on their own; never diffed, never removed.
FOREIGN_PROPERTY_PREFIXES = ("os_glance", "owner_specified.openstack.")

# glance-catalog's own bookkeeping on each image it manages.
MANAGED_KEYS_PROPERTY = "glance_catalog_managed_properties"
SOURCE_PROPERTY = "glance_catalog_source_checksum"
# Set on an image that a replacement took the name of and that keep_previous kept.
PREVIOUS_PROPERTY = "glance_catalog_previous_of"
# On each version of a versioned image: its label, the manifest image it is a version of, and
# when it last took that image's name (ISO 8601, UTC).
VERSION_PROPERTY = "glance_catalog_version"
VERSION_OF_PROPERTY = "glance_catalog_version_of"
CURRENT_SINCE_PROPERTY = "glance_catalog_current_since"
# Set when Glance refused to delete a version its retire policy rotated out (it was hidden).
RETIRE_REFUSED_PROPERTY = "glance_catalog_retire_refused"
BOOKKEEPING_PROPERTIES = frozenset(
    {VERSION_PROPERTY, VERSION_OF_PROPERTY, CURRENT_SINCE_PROPERTY, RETIRE_REFUSED_PROPERTY}
)


def _epoch(timestamp: object) -> float | None:
    """Seconds since the epoch of a Glance timestamp ("2026-12-02T13:50:05Z")."""
    if not isinstance(timestamp, str):
        return None
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def store_ids(value: object) -> tuple[str, ...]:
    """The store ids of Glance's ``stores`` (a comma-separated string in image JSON), sorted."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        return ()
    return tuple(sorted({str(store).strip() for store in value if str(store).strip()}))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def is_foreign_property(key: str) -> bool:
    return key.startswith(FOREIGN_PROPERTY_PREFIXES)


@dataclass(frozen=True)
class ObservedImage:
    """An image as Glance reports it. ``fields`` holds the value of each scalar field of
    catalog.fields (SCALAR_KEYS: visibility, protected, ...) by manifest key, as
    ``GlanceField.observe`` reads it. ``properties`` are custom properties as the strings Glance
    stores, without those Glance and openstacksdk write on their own. ``stores`` are the ids of
    the stores that hold its data, sorted (empty without data, or when Glance has no
    multi-store backends)."""

    id: str
    name: str
    status: str
    fields: Mapping[str, Any]
    tags: frozenset[str]
    properties: Mapping[str, str]
    owner: str | None
    hash_algo: str | None
    hash_value: str | None
    size: int | None
    members: Mapping[str, str] = field(default_factory=dict)
    stores: tuple[str, ...] = ()
    # When Glance last changed the image (epoch seconds); not in to_json, so not in the
    # fingerprint: it tells only how long an image has been stuck.
    updated_at: float | None = None

    @classmethod
    def from_glance(
        cls, body: Mapping[str, Any], members: Mapping[str, str] | None = None
    ) -> ObservedImage:
        """Build from one image of Glance's v2 JSON (as listed or shown) and, for a shared
        image, its members (project id -> status)."""
        properties = {
            str(key): value if isinstance(value, str) else json.dumps(value)
            for key, value in body.items()
            if key not in BASE_KEYS and not is_foreign_property(str(key))
        }
        observed = {field.manifest_key: field.observe(body) for field in MANIFEST_FIELDS}
        return cls(
            id=str(body["id"]),
            name=observed["name"],
            status=str(body.get("status")),
            fields={key: observed[key] for key in SCALAR_KEYS},
            tags=observed["tags"],
            properties=dict(sorted(properties.items())),
            owner=body.get("owner"),
            hash_algo=body.get("os_hash_algo"),
            hash_value=body.get("os_hash_value"),
            size=body.get("size"),
            members=dict(sorted((members or {}).items())),
            stores=store_ids(body.get("stores")),
            updated_at=_epoch(body.get("updated_at")),
        )

    @property
    def visibility(self) -> str:
        return str(self.fields["visibility"])

    @property
    def protected(self) -> bool:
        return bool(self.fields["protected"])

    @property
    def hidden(self) -> bool:
        return bool(self.fields["hidden"])

    @property
    def disk_format(self) -> str | None:
        return _text(self.fields["disk_format"])

    @property
    def container_format(self) -> str | None:
        return _text(self.fields["container_format"])

    def managed_property_keys(self) -> frozenset[str]:
        recorded = self.properties.get(MANAGED_KEYS_PROPERTY, "")
        return frozenset(key for key in recorded.split(",") if key)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            **self.fields,
            "tags": sorted(self.tags),
            "properties": dict(self.properties),
            "owner": self.owner,
            "hash_algo": self.hash_algo,
            "hash_value": self.hash_value,
            "size": self.size,
            "members": dict(self.members),
            "stores": list(self.stores),
        }


@dataclass(frozen=True)
class Snapshot:
    """Everything glance-catalog saw of one project's images in one cloud, at one moment.

    ``projects`` maps every member project the catalog names (by name or id) to its id;
    ``taken_at`` is when the listing started (epoch seconds), to tell how long an image has
    been stuck. ``stores`` are the ids of the stores Glance offers (``GET /v2/info/stores``),
    read only when the catalog names stores: empty when Glance has no multi-store backends
    (or when they were not read). ``unresolved`` maps each member project the catalog names
    that Keystone does not resolve to one project to why (a one-line message).
    """

    cloud: str
    project_id: str
    images: tuple[ObservedImage, ...]
    projects: Mapping[str, str] = field(default_factory=dict)
    taken_at: float = 0.0
    stores: tuple[str, ...] = ()
    unresolved: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def _by_name(self) -> dict[str, list[ObservedImage]]:
        index: dict[str, list[ObservedImage]] = {}
        for image in self.images:
            index.setdefault(image.name, []).append(image)
        return index

    @cached_property
    def _by_id(self) -> dict[str, ObservedImage]:
        return {image.id: image for image in self.images}

    def named(self, name: str) -> list[ObservedImage]:
        return list(self._by_name.get(name, ()))

    def by_id(self, image_id: str) -> ObservedImage | None:
        return self._by_id.get(image_id)
