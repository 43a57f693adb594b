"""Add a version to an image of a manifest by inserting lines into its text: every other byte
(comments, blank lines, quoting, key order) stays as written. Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from catalog.errors import GlanceCatalogError
from catalog.yamldoc import ParsedDocument, parse_document

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9:/._~%+=&?@-]*")


@dataclass(frozen=True)
class NewVersion:
    """A version to write: its label and source (a url and its pinned checksum); ``origin``
    (the checksum file it was read from) is written as a comment."""

    version: str
    url: str
    checksum: str
    origin: str = ""
    method: str | None = None


def _scalar(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else json.dumps(text)


def _entry(version: NewVersion, indent: int) -> list[str]:
    pad = " " * indent
    comment = f"  # from {version.origin}" if version.origin else ""
    lines = [
        f"{pad}- version: '{version.version}'",
        f"{pad}  source:",
        f"{pad}    url: {_scalar(version.url)}",
        f"{pad}    checksum: {version.checksum}{comment}",
    ]
    if version.method is not None:
        lines.append(f"{pad}    method: {version.method}")
    return lines


def _last_line(node: yaml.Node) -> int:
    """The 0-based line where the last scalar under ``node`` ends."""
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark
        # A block scalar (| or >) ends at the start of the line after its text.
        return int(end.line - 1 if end.column == 0 and node.style in ("|", ">") else end.line)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    if not children or getattr(node, "flow_style", False):
        return int(node.end_mark.line)
    return max(_last_line(child) for child in children)


def _image_index(document: ParsedDocument, image: str) -> int:
    images = document.value.get("images") if isinstance(document.value, dict) else None
    for index, entry in enumerate(images if isinstance(images, list) else []):
        if isinstance(entry, dict) and entry.get("name") == image:
            return index
    raise GlanceCatalogError(f"{document.file}: no image '{image}' in this manifest")


def add_version(text: str, file: str, image: str, version: NewVersion) -> str:
    """``text`` with ``version`` appended to the ``versions:`` of ``image`` (a ``versions:``
    key is added after the image's last line when it has none). Raises GlanceCatalogError
    when the manifest cannot be edited safely (a flow-style list, an image that is not in it)."""
    document = parse_document(text, file)
    if document.root is None or document.diagnostics:
        raise GlanceCatalogError(f"{file}: not a valid manifest; fix it before adding versions")
    index = _image_index(document, image)
    lines = text.splitlines(keepends=True)
    found = document.node(("images", index, "versions"))
    if found is not None:
        sequence = found[1]
        if not isinstance(sequence, yaml.SequenceNode) or sequence.flow_style:
            raise GlanceCatalogError(
                f"{file}:{sequence.start_mark.line + 1}: image '{image}': versions is written "
                "as a flow list [...]; write it as a block list (- version: ...) so that "
                "update-versions can add to it"
            )
        last = sequence.value[-1] if sequence.value else None
        if last is None:
            raise GlanceCatalogError(f"{file}: image '{image}': versions is empty")
        row = lines[last.start_mark.line]
        indent = row.rfind("-", 0, last.start_mark.column)
        after = _last_line(last)
        new = _entry(version, indent)
    else:
        image_node = document.node(("images", index))
        assert image_node is not None
        mapping = image_node[1]
        if not isinstance(mapping, yaml.MappingNode) or mapping.flow_style:
            raise GlanceCatalogError(
                f"{file}:{mapping.start_mark.line + 1}: image '{image}' is written as a flow "
                "mapping {...}; write it as a block mapping so that update-versions can edit it"
            )
        key_column = mapping.value[0][0].start_mark.column
        after = _last_line(mapping)
        new = [" " * key_column + "versions:", *_entry(version, key_column + 2)]
    if after >= len(lines):
        lines.append("\n")
    if not lines[after].endswith("\n"):
        lines[after] += "\n"
    lines[after + 1 : after + 1] = [line + "\n" for line in new]
    return "".join(lines)
