"""Checksum files as distributions publish them (SHA256SUMS, SHA512SUMS, CHECKSUM): parsed into
entries, name -> Checksum. Pure: the text comes from elsewhere (reconciler.sources.checksum_source).

Two line formats are read, with sha256 and sha512 digests:

- GNU coreutils (``sha256sum``): ``<hex>  <name>``, or ``<hex> *<name>`` (binary mode); a line
  starting with ``\\`` writes its name with ``\\\\``, ``\\n`` and ``\\r`` escapes. The algorithm
  is told by the digest's length (64 hex digits sha256, 128 sha512). ``<hex> <name>`` with a
  single space (BSD ``sha256 -r``) is read too.
- BSD tagged (``sha256sum --tag``, BSD ``sha256``, Fedora's CHECKSUM): ``SHA256 (<name>) = <hex>``.

Blank lines, ``#`` comments, lines of other algorithms (md5, sha1, ...) and anything else that
is not an entry are skipped. A clear-signed file (``-----BEGIN PGP SIGNED MESSAGE-----``) is
read for the text it signs only; whether that signature is good is not checked here.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from catalog.errors import GlanceCatalogError
from catalog.model import Checksum, HashAlgorithm

_BY_LENGTH = {64: HashAlgorithm.SHA256, 128: HashAlgorithm.SHA512}
_GNU = re.compile(r"(?P<escaped>\\?)(?P<hex>[0-9a-fA-F]+) (?P<mode>[ *]?)(?P<name>.+)")
_BSD = re.compile(r"(?P<tag>[A-Za-z0-9-]+) ?\((?P<name>.+)\) ?= ?(?P<hex>[0-9a-fA-F]+)")
_BSD_TAGS = {"SHA256": HashAlgorithm.SHA256, "SHA512": HashAlgorithm.SHA512}
_ESCAPES = {"\\": "\\", "n": "\n", "r": "\r"}
# The algorithm used when one name is listed with both.
_PREFERENCE = (HashAlgorithm.SHA512, HashAlgorithm.SHA256)

CLEARSIGN_HEADER = "-----BEGIN PGP SIGNED MESSAGE-----"
_SIGNATURE_HEADER = "-----BEGIN PGP SIGNATURE-----"


@dataclass(frozen=True)
class ChecksumEntry:
    """One entry of a checksum file: ``name`` as the file lists it (escapes undone, a leading
    ``./`` kept), its digest, and its 1-based line."""

    name: str
    checksum: Checksum
    line: int


class ChecksumEntryMissing(GlanceCatalogError):
    """The checksum file has no usable entry for a name: ``reason`` says why, in one line that
    names the file, the name sought and the line formats expected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ChecksumFile:
    """Every sha256 and sha512 entry of one checksum file, in file order.

    ``location`` names the file in messages (a URL already redacted). ``skipped`` counts the
    lines that were neither blank, a comment, nor an entry of sha256 or sha512.
    """

    location: str
    entries: tuple[ChecksumEntry, ...]
    skipped: int = 0

    def names(self) -> tuple[str, ...]:
        """Every name listed, once each, in file order (with any leading ``./`` removed)."""
        return tuple(dict.fromkeys(_plain(entry.name) for entry in self.entries))

    def checksums(self) -> dict[str, Checksum]:
        """name -> Checksum of every name ``lookup`` can answer for (a name listed twice with
        different digests of one algorithm is left out)."""
        found: dict[str, Checksum] = {}
        for name in self.names():
            try:
                found[name] = self.lookup(name)
            except ChecksumEntryMissing:
                continue
        return found

    def lookup(self, name: str) -> Checksum:
        """The digest listed for ``name`` (``./name`` matches too), sha512 before sha256 when
        both are listed. Raises ChecksumEntryMissing when there is none, or when one algorithm
        gives two different digests for it."""
        wanted = _plain(name)
        matches = [entry for entry in self.entries if _plain(entry.name) == wanted]
        for algorithm in _PREFERENCE:
            digests = {
                e.checksum.hexdigest: e.line for e in matches if e.checksum.algorithm is algorithm
            }
            if len(digests) > 1:
                lines = " and ".join(str(line) for line in sorted(digests.values()))
                raise ChecksumEntryMissing(
                    f"checksum file {self.location} lists '{name}' with different "
                    f"{algorithm.value} digests (lines {lines}); it cannot be trusted as it is"
                )
            if digests:
                return Checksum(algorithm, next(iter(digests)))
        raise ChecksumEntryMissing(self._missing(name))

    def _missing(self, name: str) -> str:
        text = (
            f"checksum file {self.location} has no sha256 or sha512 entry for '{name}' "
            f"(expected a line '<sha256 hex>  {name}' or 'SHA256 ({name}) = <hex>', or the "
            "same with sha512)"
        )
        if not self.entries:
            return text + "; it has no checksum lines at all: is it a checksum file?"
        close = difflib.get_close_matches(_plain(name), self.names(), n=1, cutoff=0.75)
        if close:
            return text + f"; did you mean '{close[0]}'? (source.checksum_name sets the entry)"
        names = self.names()
        shown = ", ".join(f"'{listed}'" for listed in names[:3])
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        return text + f"; it lists {shown}{more}"


def _plain(name: str) -> str:
    return name.removeprefix("./")


def signed_text(text: str) -> str:
    """The text a clear-signed message signs (dash-escapes undone), or ``text`` itself when it
    is not clear-signed. Only for reading: it says nothing about the signature."""
    lines = text.splitlines()
    if CLEARSIGN_HEADER not in (line.rstrip() for line in lines):
        return text
    start = [line.rstrip() for line in lines].index(CLEARSIGN_HEADER) + 1
    while start < len(lines) and lines[start].strip():
        start += 1  # armor headers ("Hash: SHA256") up to the blank line
    body: list[str] = []
    for line in lines[start + 1 :]:
        if line.rstrip() == _SIGNATURE_HEADER:
            break
        body.append(line[2:] if line.startswith("- ") else line)
    return "\n".join(body) + "\n"


def parse_checksum_file(text: str, location: str) -> ChecksumFile:
    """The entries of a checksum file's text; ``location`` names it in messages."""
    entries: list[ChecksumEntry] = []
    skipped = 0
    for number, raw in enumerate(signed_text(text.removeprefix("\ufeff")).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entry = _entry(line, number)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    return ChecksumFile(location, tuple(entries), skipped)


def _entry(line: str, number: int) -> ChecksumEntry | None:
    tagged = _BSD.fullmatch(line)
    if tagged is not None:
        algorithm = _BSD_TAGS.get(tagged["tag"].upper())
        digest = tagged["hex"].lower()
        if algorithm is None or _BY_LENGTH.get(len(digest)) is not algorithm:
            return None
        return ChecksumEntry(tagged["name"], Checksum(algorithm, digest), number)
    gnu = _GNU.fullmatch(line)
    if gnu is None:
        return None
    found = _BY_LENGTH.get(len(gnu["hex"]))
    name = gnu["name"]
    if gnu["escaped"]:
        name = _unescape(name)
    if found is None or name is None:
        return None
    return ChecksumEntry(name, Checksum(found, gnu["hex"].lower()), number)


def _unescape(name: str) -> str | None:
    """A name as sha256sum escapes it, unescaped; None when it has an escape sha256sum does
    not write."""
    text: list[str] = []
    characters = iter(name)
    for character in characters:
        if character != "\\":
            text.append(character)
            continue
        escaped = _ESCAPES.get(next(characters, ""))
        if escaped is None:
            return None
        text.append(escaped)
    return "".join(text)


def entry_name(url: str) -> str | None:
    """The name a checksum file lists for the file at ``url``: its last path segment,
    percent-decoded (a query or fragment is no part of it); None when the path ends in ``/``
    or is empty."""
    path = urlsplit(url).path
    name = unquote(path.rsplit("/", 1)[-1])
    return name or None
