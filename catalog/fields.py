"""Glance's image fields: the one table that says, field by field, how a manifest declares it,
what Glance calls it, and how glance-catalog treats it. Validation, merging, the model built
from manifests, observation, the diff, recreation and export all read it; none lists fields.

The order of ``GLANCE_FIELDS`` is the order fields appear in: the changes a new image is
created with and the lines export writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from catalog.model import Visibility


class FieldKind(StrEnum):
    """How a field's value is shaped: compared, observed and written according to it."""

    NAME = "name"  # the image's name: how manifest and Glance images are matched
    TEXT = "text"  # a string, most often one of the schema's enum
    FLAG = "flag"  # a boolean
    COUNT = "count"  # a whole number, at least 0
    TAGS = "tags"  # a set of strings, compared as a set; the catalog's marker is among them
    READ_ONLY = "read-only"  # written by Glance; a manifest never declares it


class ReadOnly(Enum):
    """Who writes a field a manifest cannot declare, which decides what validate says when a
    manifest gives it as a custom property."""

    DATA = "computed by Glance from the image's data"
    GLANCE = "managed by Glance"


@dataclass(frozen=True)
class GlanceField:
    """One key of Glance's image JSON that is not a custom property.

    ``manifest_key`` is what a manifest calls it (empty: a manifest never declares it, and
    ``read_only`` says who writes it). ``default`` is glance-catalog's own, merged under an
    image's and its defaults' (None: none); with ``required`` the manifest of an image that is
    not absent must give it, and ``default`` only fills an absent image's. ``compared``: a
    difference is a change to make; ``frozen_with_data``: Glance refuses a change once the
    image has data (the image is then replaced); ``cloned``: an image made again in place of
    one that cannot take data takes it over. ``reported`` is False for a key reserved by name
    only: Glance does not show it in an image's JSON, so an image carrying it has it as a
    custom property. ``choices`` is the enum the model holds a text field's value as (None:
    the string).
    """

    glance_key: str
    kind: FieldKind
    manifest_key: str = ""
    default: object = None
    required: bool = False
    compared: bool = False
    frozen_with_data: bool = False
    cloned: bool = False
    read_only: ReadOnly | None = None
    reported: bool = True
    choices: type[StrEnum] | None = None

    @property
    def scalar(self) -> bool:
        """A single value, compared as a whole (neither the name nor the tags)."""
        return self.kind in (FieldKind.TEXT, FieldKind.FLAG, FieldKind.COUNT)

    def observe(self, body: Mapping[str, Any]) -> Any:
        """The field's value in one image of Glance's v2 JSON, as ObservedImage holds it."""
        return _OBSERVE[self.kind](body.get(self.glance_key))

    def desired(self, value: Any) -> Any:
        """The model's value of the field from the merged manifest value ``value``."""
        if self.choices is not None:
            return self.choices(value)
        return frozenset(value) if self.kind is FieldKind.TAGS else value

    def manifest_text(self, value: Any) -> str:
        """``value`` (as ObservedImage holds it) as the plain YAML scalar a manifest writes;
        a text value is the string, for the caller to quote as needed."""
        if self.kind is FieldKind.FLAG:
            return str(value).lower()
        if self.kind is FieldKind.TEXT:
            return str(value or "")
        return str(value)


_OBSERVE: dict[FieldKind, Callable[[Any], Any]] = {
    FieldKind.NAME: lambda value: str(value or ""),
    FieldKind.TEXT: lambda value: value,
    FieldKind.FLAG: bool,
    FieldKind.COUNT: lambda value: int(value or 0),
    FieldKind.TAGS: lambda value: frozenset(value or ()),
    FieldKind.READ_ONLY: lambda value: value,
}

_DATA = ReadOnly.DATA
_GLANCE = ReadOnly.GLANCE
_READ_ONLY = FieldKind.READ_ONLY

GLANCE_FIELDS: tuple[GlanceField, ...] = (
    GlanceField("name", FieldKind.NAME, "name", required=True, cloned=True),
    GlanceField(
        "disk_format",
        FieldKind.TEXT,
        "disk_format",
        default="raw",
        required=True,
        compared=True,
        frozen_with_data=True,
        cloned=True,
    ),
    GlanceField(
        "container_format",
        FieldKind.TEXT,
        "container_format",
        default="bare",
        compared=True,
        frozen_with_data=True,
        cloned=True,
    ),
    # Glance's default is shared; a catalog should not inherit it.
    GlanceField(
        "visibility",
        FieldKind.TEXT,
        "visibility",
        default="private",
        compared=True,
        cloned=True,
        choices=Visibility,
    ),
    GlanceField(
        "protected", FieldKind.FLAG, "protected", default=False, compared=True, cloned=True
    ),
    GlanceField("os_hidden", FieldKind.FLAG, "hidden", default=False, compared=True, cloned=True),
    GlanceField("min_disk", FieldKind.COUNT, "min_disk", default=0, compared=True, cloned=True),
    GlanceField("min_ram", FieldKind.COUNT, "min_ram", default=0, compared=True, cloned=True),
    GlanceField("tags", FieldKind.TAGS, "tags", compared=True, cloned=True),
    GlanceField("checksum", _READ_ONLY, read_only=_DATA),
    GlanceField("os_hash_algo", _READ_ONLY, read_only=_DATA),
    GlanceField("os_hash_value", _READ_ONLY, read_only=_DATA),
    GlanceField("size", _READ_ONLY, read_only=_DATA),
    GlanceField("virtual_size", _READ_ONLY, read_only=_DATA),
    GlanceField("id", _READ_ONLY, read_only=_GLANCE),
    GlanceField("status", _READ_ONLY, read_only=_GLANCE),
    GlanceField("owner", _READ_ONLY, read_only=_GLANCE),
    # The stores a manifest names are where the data goes (store steps), not this field.
    GlanceField("stores", _READ_ONLY, read_only=_GLANCE),
    GlanceField("locations", _READ_ONLY, read_only=_GLANCE),
    GlanceField("direct_url", _READ_ONLY, read_only=_GLANCE),
    GlanceField("created_at", _READ_ONLY, read_only=_GLANCE),
    GlanceField("updated_at", _READ_ONLY, read_only=_GLANCE),
    GlanceField("file", _READ_ONLY, read_only=_GLANCE),
    GlanceField("schema", _READ_ONLY, read_only=_GLANCE),
    GlanceField("self", _READ_ONLY, read_only=_GLANCE),
    GlanceField("os_hidden_at", _READ_ONLY, read_only=_GLANCE, reported=False),
)

# Derived views of the table, each named for the one question it answers.
MANIFEST_FIELDS = tuple(field for field in GLANCE_FIELDS if field.manifest_key)
# Manifest keys of the fields the diff compares one value at a time, in the table's order.
SCALAR_KEYS = tuple(
    field.manifest_key for field in MANIFEST_FIELDS if field.compared and field.scalar
)
FIELD_BY_GLANCE_KEY = {field.glance_key: field for field in GLANCE_FIELDS}
# The keys of Glance's image JSON that are not custom properties.
BASE_KEYS = frozenset(field.glance_key for field in GLANCE_FIELDS if field.reported)
# The keys an image made again in place of another takes over from it.
CLONED_KEYS = frozenset(field.glance_key for field in GLANCE_FIELDS if field.cloned)
# Manifest keys of the fields Glance accepts a change of only while an image has no data.
FORMAT_FIELDS = frozenset(field.manifest_key for field in MANIFEST_FIELDS if field.frozen_with_data)
# glance-catalog's own defaults for the Glance fields, merged under images.
FIELD_DEFAULTS: dict[str, object] = {
    field.manifest_key: field.default
    for field in MANIFEST_FIELDS
    if field.default is not None and not field.required
}
# Manifest keys whose Glance key differs.
GLANCE_KEY_BY_MANIFEST_KEY = {
    field.manifest_key: field.glance_key
    for field in MANIFEST_FIELDS
    if field.manifest_key != field.glance_key
}
