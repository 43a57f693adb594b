"""The schemes a source may be read from: the one table the manifest schema's URL patterns,
the schema's error messages and the redaction of URLs in text derive from.

A scheme written as a URL (``url:``, ``checksum_url:``, ...) carries an authority with a
possible userinfo and a query, both hidden in every message; ``file`` is written as a path
(``file:``) and carries neither. reconciler.sources.readers maps each scheme to the reader
that opens it (a unit test checks that the two agree). A new scheme is one line here, one
reader module there and its registry line, and the schema's patterns regenerated
(``python -m catalog.schemes schemas/catalog-v1.json``).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class SourceScheme:
    """One scheme: ``name`` as a URL spells it (lower case); ``url``: written as a URL, whose
    userinfo and query are redacted, rather than as a local path."""

    name: str
    url: bool


SOURCE_SCHEMES = (
    SourceScheme("file", url=False),
    SourceScheme("http", url=True),
    SourceScheme("https", url=True),
)
# The scheme of a source written as a path (``file:``).
FILE_SCHEME = "file"
# Schemes no source is read from, that messages may still quote (a redirect to ftp://, a
# file:// URL in a library's error): their userinfo and query are hidden all the same.
QUOTED_SCHEMES = ("ftp", "file")

URL_SCHEMES = tuple(scheme.name for scheme in SOURCE_SCHEMES if scheme.url)
# The fields of the schema whose value is a URL to read (their pattern is URL_PATTERN).
URL_FIELDS = ("url", "checksum_url", "checksum_signature_url", "index_url")


def _any_case(name: str) -> str:
    """``name`` as a regular expression in any letter case, without inline flags (which JSON
    Schema's ECMA-262 patterns lack)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in name)


def schemes_pattern(names: tuple[str, ...]) -> str:
    """One of ``names`` in any letter case (longest first, so that none hides another)."""
    ordered = sorted(set(names), key=lambda name: (-len(name), name))
    return "(?:" + "|".join(_any_case(name) for name in ordered) + ")"


# What the schema requires of a URL field: it starts with a URL scheme of the table.
URL_PATTERN = f"^{schemes_pattern(URL_SCHEMES)}://"
# What the URL fields' pattern error says.
URL_SCHEME_RULE = f"the URL scheme must be {', '.join(URL_SCHEMES[:-1])} or {URL_SCHEMES[-1]}"


def url_scheme(url: str) -> str:
    """The scheme of ``url``, lower case ('' when it has none)."""
    return urlsplit(url).scheme.lower()


def source_scheme(url: str | None, file: object | None) -> str:
    """The scheme a source of this ``url`` or ``file`` is read with."""
    return FILE_SCHEME if file is not None or url is None else url_scheme(url)


def with_url_patterns(schema: Any) -> Any:
    """``schema`` with the pattern of every URL field (URL_FIELDS, anywhere) set to
    URL_PATTERN."""
    if isinstance(schema, list):
        return [with_url_patterns(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    updated = {key: with_url_patterns(value) for key, value in schema.items()}
    properties = updated.get("properties")
    if isinstance(properties, dict):
        for field in URL_FIELDS:
            if isinstance(properties.get(field), dict) and "pattern" in properties[field]:
                properties[field] = {**properties[field], "pattern": URL_PATTERN}
    return updated


def main(argv: list[str]) -> int:
    """Rewrite the schema file named in ``argv`` with the URL patterns of the table."""
    (path,) = argv
    file = Path(path)
    schema = json.loads(file.read_text(encoding="utf-8"))
    file.write_text(
        json.dumps(with_url_patterns(schema), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
