"""Name the image and dotted path that a document path points into, for diagnostics."""

from __future__ import annotations

import re
from typing import Any, Protocol

from catalog.diagnostics import Diagnostic
from catalog.model import Position

# A path into a document's value: keys and list indexes.
JsonPath = tuple[str | int, ...]


class ParsedDocument(Protocol):
    """What locating needs of a document (yamldoc.ParsedDocument, which imports this module):
    its value, and the position of a path in its file."""

    @property
    def value(self) -> Any: ...

    def position(self, path: JsonPath, *, key: bool = False) -> Position: ...


def image_name(document: ParsedDocument, path: JsonPath) -> str | None:
    if len(path) < 2 or path[0] != "images" or not isinstance(path[1], int):
        return None
    images = document.value.get("images") if isinstance(document.value, dict) else None
    if not isinstance(images, list) or path[1] >= len(images):
        return None
    image: Any = images[path[1]]
    if isinstance(image, dict) and isinstance(image.get("name"), str) and image["name"]:
        return str(image["name"])
    return f"#{path[1] + 1}"


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:-]+$")


def dotted(path: JsonPath) -> str:
    """``images[3].source.url``; a key that is not plain is quoted: ``properties['a b']``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


def diagnostic_at(
    document: ParsedDocument,
    path: JsonPath,
    message: str,
    hint: str | None = None,
    *,
    key: bool = False,
    at: Position | None = None,
) -> Diagnostic:
    """A diagnostic about ``path``, placed at ``at``, else at its key when ``key`` is true,
    else at its value."""
    position = at or document.position(path, key=key)
    name = image_name(document, path)
    relative = path[2:] if name is not None else path
    return Diagnostic(
        position.file, position.line, position.column, name, dotted(relative), message, hint
    )
