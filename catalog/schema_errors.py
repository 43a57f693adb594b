"""Turn JSON Schema errors into positioned diagnostics with messages a person can act on."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from catalog.diagnostics import Diagnostic
from catalog.locate import diagnostic_at
from catalog.schema import is_valid, validator
from catalog.schemes import URL_SCHEME_RULE
from catalog.secrets import redact_url
from catalog.yamldoc import JsonPath, ParsedDocument

if TYPE_CHECKING:
    from jsonschema import ValidationError

_PATTERN_MESSAGES: dict[str, tuple[str, str | None]] = {
    "catalog": (
        "must be 1 to 40 lower-case letters, digits or dashes, starting with a letter or digit",
        None,
    ),
    "url": (URL_SCHEME_RULE, None),
    "checksum_url": (URL_SCHEME_RULE, None),
    "checksum_signature_url": (URL_SCHEME_RULE, None),
}
# Fields whose value may be a URL with credentials in it.
_URL_FIELDS = frozenset({"url", "checksum_url", "checksum_signature_url"})

_TYPE_NAMES = {
    "string": "a string",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def schema_diagnostics(document: ParsedDocument) -> Iterator[Diagnostic]:
    if is_valid(document.value):
        return
    found = False
    for error in validator().iter_errors(document.value):
        found = True
        yield from _translate(document, error)
    if not found:
        # The two validators disagree: trust the stricter one rather than let the error pass.
        yield diagnostic_at(document, (), "does not match the manifest schema")


def _translate(document: ParsedDocument, error: ValidationError) -> Iterator[Diagnostic]:
    path: JsonPath = tuple(error.absolute_path)
    kind = error.validator
    value: Any = error.instance
    expected: Any = error.validator_value
    schema: Any = error.schema
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(value) - set(allowed), key=str):
            match = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            known = f"did you mean '{match[0]}'?" if match else f"known keys: {', '.join(allowed)}"
            yield diagnostic_at(document, (*path, key), f"unknown key '{key}'", known, key=True)
        return
    if kind in ("required", "const") and "then" in error.schema_path:
        # A key another one needs, or the value it needs (source's if/then): catalog.checks
        # says which and why.
        return
    if kind == "required":
        missing = [name for name in expected if name not in value]
        for name in missing:
            yield diagnostic_at(document, path, f"missing required key '{name}'")
        return
    if kind == "type":
        wanted = _TYPE_NAMES.get(str(expected), str(expected))
        written = document.written(path)
        quote = None
        if expected == "string" and written is not None:
            quote = f'quote it: "{written}"'
        shown = written if written is not None else type(value).__name__
        yield diagnostic_at(document, path, f"must be {wanted}, not {shown}", quote)
        return
    if kind == "oneOf":
        described = str(schema.get("description", "valid")).rstrip(".")
        yield diagnostic_at(document, path, f"must be {described[:1].lower()}{described[1:]}")
        return
    if kind == "enum":
        choices = ", ".join(str(choice) for choice in expected)
        shown, hint = _as_written(document, path, value)
        yield diagnostic_at(document, path, f"{shown} is not one of {choices}", hint)
        return
    if kind == "const":
        shown, hint = _as_written(document, path, value)
        yield diagnostic_at(document, path, f"must be {expected!r}, not {shown}", hint)
        return
    if kind == "pattern":
        field = str(path[-1]) if path else ""
        if field == "checksum":
            return  # catalog.checks says precisely what is wrong with it
        message, hint = _PATTERN_MESSAGES.get(field, (f"does not match {expected}", None))
        # A url that is refused may still carry credentials, in a form (a typo in the scheme)
        # that redact_text would not recognise as a URL.
        shown = redact_url(value) if field in _URL_FIELDS and isinstance(value, str) else value
        yield diagnostic_at(document, path, f"{shown!r}: {message}", hint)
        return
    if kind == "uniqueItems" and isinstance(value, list):
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                yield diagnostic_at(document, (*path, index), f"{item!r} is listed twice")
                return
            seen.append(item)
    limits = {
        "maxLength": f"is longer than {expected} characters",
        "minLength": "must not be empty",
        "minItems": f"must list at least {expected} {'entry' if expected == 1 else 'entries'}",
        "maxItems": f"has more than {expected} entries",
        "maxProperties": f"has more than {expected} entries",
        "minimum": f"must be at least {expected}",
    }
    if kind in limits and "propertyNames" in error.relative_schema_path:
        yield diagnostic_at(document, (*path, value), f"key {limits[str(kind)]}", key=True)
        return
    if kind in limits:
        yield diagnostic_at(document, path, limits[str(kind)])
        return
    yield diagnostic_at(document, path, error.message)


def _as_written(document: ParsedDocument, path: JsonPath, value: Any) -> tuple[str, str | None]:
    """How to show a rejected value: as written, and what YAML made of it when that differs."""
    written = document.written(path)
    if written is None or isinstance(value, str):
        return repr(value), None
    read_as = "null" if value is None else str(value).lower()
    if written == read_as:
        return written, None
    return f"{written} (YAML reads it as {read_as})", f'quote it: "{written}"'
