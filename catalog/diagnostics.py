"""Diagnostic: one problem found in a manifest, at a file position, and its text and JSON forms."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from catalog.errors import GlanceCatalogError
from catalog.secrets import redact_text


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a manifest.

    ``line`` and ``column`` are 1-based and always set; ``image`` names the image the problem
    belongs to, when it belongs to one; ``path`` is the dotted path inside that image (or inside
    the document when ``image`` is None); ``hint`` says how to fix it, when we know.

    ``message`` and ``hint`` may quote what the manifest wrote, a source URL with its
    credentials included: both forms a person or a CI job sees (``as_text``, ``as_json``) pass
    them through ``redact_text``. Redacted when shown, not when made, so that a secret
    registered after validation is hidden too.
    """

    file: str
    line: int
    column: int
    image: str | None
    path: str
    message: str
    hint: str | None = None

    def as_text(self) -> str:
        parts = [f"{self.file}:{self.line}:{self.column}: "]
        if self.image is not None:
            parts.append(f"image '{self.image}': ")
        if self.path:
            parts.append(f"{self.path}: ")
        parts.append(redact_text(self.message))
        if self.hint:
            parts.append(f" (hint: {redact_text(self.hint)})")
        return one_line("".join(parts))

    def as_json(self) -> dict[str, object]:
        """The fields as a JSON object, ``message`` and ``hint`` redacted."""
        document = asdict(self)
        document["message"] = redact_text(self.message)
        document["hint"] = redact_text(self.hint) if self.hint is not None else None
        return document


def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped, so it stays one line whatever
    the manifest contained."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics))


def diagnostics_as_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps(
        {"valid": False, "errors": [d.as_json() for d in diagnostics]} if diagnostics else {},
        indent=2,
    )


class ManifestInvalid(GlanceCatalogError):
    """The manifests have problems; ``diagnostics`` lists every one, sorted by file and line."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sort_diagnostics(diagnostics))
        count = len(self.diagnostics)
        summary = f"{count} error{'s' if count != 1 else ''} in the manifest; nothing was changed"
        super().__init__(*(d.as_text() for d in self.diagnostics), summary)
