"""An Export (reconciler.export.select) as manifest text, with comments that say where each
value came from. Pure.

The text is written line by line rather than by a YAML library, for the comments: images in
name order, keys in a fixed order, tags, properties and members sorted, so that two exports of
an unchanged cloud differ only in the ``# Exported at:`` line. Every string is written plain
only when YAML reads it back as that very string, else double-quoted with escapes; comments
carry names only escaped, so no value can end a comment or a line.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

import yaml

from catalog.fields import MANIFEST_FIELDS, FieldKind, GlanceField
from catalog.model import marker_tag
from reconciler.export.select import ChecksumOrigin, Export, ExportedImage, Skipped, family

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+:=-]*")
# What is escaped: all PyYAML's reader refuses (its NON_PRINTABLE), and tab, line breaks (NEL
# and U+2028/9 included) and the byte order mark, which it accepts with another meaning.
_UNPRINTABLE = re.compile(
    "[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_FIELDS = tuple(field for field in MANIFEST_FIELDS if field.scalar)
HEADER_NOTES = (
    "Every image has adopt: true: the first apply takes these unmanaged images over, adding",
    "the marker tag {marker} and glance-catalog's bookkeeping properties, and changes",
    "none of their fields, data or members. Fields, tags, properties and members are Glance's",
    "as exported; properties Glance, openstacksdk and glance-catalog write themselves",
    "(os_hash_*, os_glance_*, owner_specified.openstack.*, glance_catalog_*, stores, ...) are",
    "left out. A source url is where Glance keeps the image's data: never read while the",
    "image exists in Glance; write the upstream url there before it must be made again.",
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as ``text``."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _UNPRINTABLE.sub(_escape, body) + '"'


@lru_cache(maxsize=4096)
def scalar(text: str, *, key: bool = False) -> str:
    """``text`` plain when YAML reads it back as that string (as a mapping key with ``key``),
    else double-quoted."""
    if _PLAIN.fullmatch(text) and not text.endswith(":"):
        document = f"{text}: x" if key else f"k: {text}"
        try:
            value = yaml.load(document, Loader=_Loader)
        except yaml.YAMLError:
            value = None
        if value == ({text: "x"} if key else {"k": text}):
            return text
    return quoted(text)


def _comment(text: str) -> str:
    """``text`` safe inside a comment: unprintable characters escaped."""
    return _UNPRINTABLE.sub(_escape, text)


def file_name(name: str) -> str:
    """The file an image's family goes to: the family in lower case, characters other than
    letters, digits, ``.``, ``_`` and ``-`` as ``-``, and ``.yaml``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", family(name).lower()).strip("-._")[:100]
    return f"{slug or 'images'}.yaml"


def manifest_text(export: Export) -> str:
    """One manifest of every exported image, the skipped ones listed in its header."""
    context = export.context
    region = f"region {_comment(quoted(context.region))}, " if context.region else ""
    lines = [
        f"# Exported by glance-catalog {context.tool_version} (glance-catalog export) from "
        f"cloud {_comment(quoted(export.cloud))},",
        f"# {region}project {export.project_id}.",
        f"# Exported at: {context.exported_at}",
        *("# " + line.replace("{marker}", marker_tag(context.catalog)) for line in HEADER_NOTES),
    ]
    if export.skipped:
        lines.append(f"# Not exported ({len(export.skipped)}):")
        lines += [_skipped_line(skipped) for skipped in export.skipped]
    lines += ["version: 1", f"catalog: {scalar(context.catalog)}"]
    if not export.images:
        return "\n".join([*lines, "images: []", ""])
    lines.append("images:")
    for image in export.images:
        lines += _image_lines(image, context.catalog)
    return "\n".join([*lines, ""])


def family_files(export: Export) -> dict[str, str]:
    """File name -> manifest text: one file per image family (file_name), together one
    catalog (each names the same catalog; none has defaults or prune). A skipped image is
    listed in its family's file."""
    images: dict[str, list[ExportedImage]] = {}
    skipped: dict[str, list[Skipped]] = {}
    for image in export.images:
        images.setdefault(file_name(image.name), []).append(image)
    for left in export.skipped:
        skipped.setdefault(file_name(left.name), []).append(left)
    return {
        name: manifest_text(
            replace(
                export, images=tuple(images.get(name, ())), skipped=tuple(skipped.get(name, ()))
            )
        )
        for name in sorted(images.keys() | skipped.keys())
    }


def _skipped_line(skipped: Skipped) -> str:
    return f"#   {_comment(quoted(skipped.name))} ({skipped.id}): {_comment(skipped.reason)}"


def _field_line(field: GlanceField, value: object) -> str:
    """``key: value``, with the Glance key in a comment when it differs from the key."""
    text = field.manifest_text(value)
    written = scalar(text) if field.kind is FieldKind.TEXT else text
    named = f"  # Glance's {field.glance_key}" if field.glance_key != field.manifest_key else ""
    return f"    {field.manifest_key}: {written}{named}"


def _image_lines(image: ExportedImage, catalog: str) -> list[str]:
    observed = image.observed
    size = f", {observed.size} bytes" if observed.size is not None else ""
    lines = [
        f"  # Glance image {observed.id} (status {_comment(observed.status)}{size})",
        f"  - name: {scalar(image.name)}",
        f"    adopt: true  # take it over: apply adds the marker {marker_tag(catalog)}",
    ]
    if image.checksum is None:
        lines.append(f"    # no source: {image.no_source}")
    else:
        origin = (
            "glance_catalog_source_checksum, recorded when glance-catalog verified the data"
            if image.checksum_origin is ChecksumOrigin.RECORDED
            else f"Glance's os_hash_value ({observed.hash_algo})"
        )
        lines += [
            "    source:  # where Glance keeps the data; the upstream url belongs here",
            f"      url: {scalar(image.data_url)}",
            f"      checksum: {image.checksum}  # checksum: {origin}",
        ]
    lines += [_field_line(field, observed.fields[field.manifest_key]) for field in _SCALAR_FIELDS]
    lines.append(f"    state: {'deactivated' if image.deactivated else 'active'}")
    if image.tags:
        lines.append("    tags:")
        lines += [f"      - {scalar(tag)}" for tag in image.tags]
    left_out = f"; left out: {', '.join(image.left_out)}" if image.left_out else ""
    if image.properties:
        lines.append(f"    properties:  # from Glance{_comment(left_out)}")
        lines += [
            f"      {scalar(key, key=True)}: {scalar(value)}" for key, value in image.properties
        ]
    elif left_out:
        lines.append(f"    # properties{_comment(left_out)}")
    if image.members:
        lines.append("    members:  # from Glance: project ids")
        lines += [
            f"      - {scalar(project)}  # status {_comment(status)}"
            for project, status in image.members
        ]
    return lines
