"""Checksums read from checksum files, before planning: fetch each checksum file (and its
signature) once per run, verify it against the trusted key when the manifest names one, then
fill every ``checksum_url`` source's ``checksum`` from its entry.

Nothing is planned, and so nothing reaches Glance, unless every checksum a catalog reads from
a file was found: a file that cannot be fetched, a signature that is not good, or a missing
entry fails the run with one line each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from catalog.checksum_files import (
    CLEARSIGN_HEADER,
    ChecksumEntryMissing,
    ChecksumFile,
    entry_name,
    parse_checksum_file,
)
from catalog.errors import GlanceCatalogError
from catalog.model import Catalog, Checksum, DesiredImage, ImageSource, ImageState, expand_url
from catalog.openpgp import KeyFileInvalid, read_public_key
from catalog.secrets import redact_url
from reconciler.core.plan import Plan
from reconciler.core.planner import resolved_checksums
from reconciler.errors import SourceError
from reconciler.retry import Retrier
from reconciler.sources.readers import document_reader
from reconciler.sources.reading import READ_TIMEOUT
from reconciler.sources.signatures import SignatureInvalid, verify_clearsigned, verify_detached

# A checksum file of a whole mirror is a few MB; a larger answer is something else (the image
# itself, say) and is not read to its end.
MAX_CHECKSUM_FILE = 16 * 1024 * 1024
MAX_SIGNATURE_FILE = 1024 * 1024
_CHECKSUM_FILE = ("checksum file", MAX_CHECKSUM_FILE)
_SIGNATURE = ("signature", MAX_SIGNATURE_FILE)
NOTHING_CHANGED = "; nothing was changed"


class ChecksumsUnresolved(GlanceCatalogError):
    """Some checksum could not be read from its checksum file; one line per problem, each
    naming the image(s), the file and what is wrong."""


@dataclass(frozen=True)
class _Origin:
    """One checksum file as some sources read it: where, and how it is verified."""

    checksum_url: str
    signature_url: str | None
    signing_key: Path | None

    @property
    def location(self) -> str:
        return f"checksum file {redact_url(self.checksum_url)}"


class _Unusable(Exception):
    """A checksum file that cannot be used; ``reason`` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def needs_resolution(image: DesiredImage, source: ImageSource | None) -> bool:
    """Whether planning needs ``source``'s checksum read from its checksum file (an absent image
    never reads its source, so a checksum file gone from the mirror does not stop its delete)."""
    return (
        source is not None
        and source.checksum_url is not None
        and source.checksum is None
        and image.state is not ImageState.ABSENT
    )


def resolve_checksums(
    catalog: Catalog,
    *,
    timeout: float = READ_TIMEOUT,
    parallel: int = 4,
    environ: Mapping[str, str] | None = None,
    retrier: Retrier,
) -> Catalog:
    """``catalog`` with the checksum of every source that needs one from a checksum file
    filled in. Each URL is fetched once, up to ``parallel`` at a time, transient faults retried
    under the run's ``retrier`` (its policy and budget). Raises ChecksumsUnresolved with every
    problem found."""
    users: dict[_Origin, list[tuple[DesiredImage, str, ImageSource]]] = {}
    for image in catalog.images:
        for key, source in image.keyed_sources():
            if needs_resolution(image, source):
                assert source.checksum_url is not None
                origin = _Origin(
                    source.checksum_url, source.checksum_signature_url, source.signing_key
                )
                users.setdefault(origin, []).append((image, key, source))
    if not users:
        return catalog
    wanted = {origin.checksum_url: _CHECKSUM_FILE for origin in users}
    wanted |= {o.signature_url: _SIGNATURE for o in users if o.signature_url is not None}
    urls = sorted(wanted)

    def fetch(url: str) -> bytes | _Unusable:
        return fetch_bounded(url, *wanted[url], timeout, environ, retrier=retrier)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="sums") as pool:
        fetched = dict(zip(urls, pool.map(fetch, urls), strict=True))
    problems: list[str] = []
    found: dict[str, Checksum] = {}
    for origin, slots in users.items():
        try:
            checksums = _checksum_file(origin, fetched)
        except _Unusable as error:
            problems.append(_problem([key for _, key, _ in slots], slots[0][0], error.reason))
            continue
        for image, key, source in slots:
            try:
                found[key] = checksums.lookup(_entry(source, environ))
            except (ChecksumEntryMissing, _Unusable) as error:
                problems.append(_problem([key], image, error.reason))
    if problems:
        raise ChecksumsUnresolved(*sorted(problems))
    return replace(catalog, images=tuple(_filled(image, found) for image in catalog.images))


def _filled(image: DesiredImage, found: Mapping[str, Checksum]) -> DesiredImage:
    filled = {
        key: replace(source, checksum=found[key])
        for key, source in image.keyed_sources()
        if key in found
    }
    if not filled:
        return image
    versions = tuple(
        replace(v, source=filled.get(image.source_key(v.version), v.source)) for v in image.versions
    )
    return replace(image, source=filled.get(image.name, image.source), versions=versions)


def _problem(keys: list[str], image: DesiredImage, reason: str) -> str:
    names = ", ".join(f"'{key}'" for key in keys)
    who = f"image {names}" if len(keys) == 1 else f"images {names}"
    return f"{image.position}: {who}: {reason}{NOTHING_CHANGED}"


def _download(
    url: str, noun: str, limit: int, timeout: float, environ: Mapping[str, str] | None
) -> bytes:
    location = f"{noun} {redact_url(url)}"
    try:
        expanded = expand_url(url, environ)
    except GlanceCatalogError as error:
        raise _Unusable(f"{location}: {' '.join(error.lines)}") from error
    body = bytearray()
    with document_reader(expanded, location).document(expanded, location, timeout) as chunks:
        for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise _Unusable(
                    f"{location} is larger than {limit // (1024 * 1024)} MiB: is that the "
                    f"URL of a {noun}?"
                )
    return bytes(body)


def _checksum_file(origin: _Origin, fetched: Mapping[str, bytes | _Unusable]) -> ChecksumFile:
    """The origin's checksum file, parsed once its signature (if it has a key) is good."""
    data = _fetched(fetched, origin.checksum_url)
    if origin.signing_key is not None:
        data = _verified(origin, data, fetched)
    text = data.decode("utf-8", "replace")
    return parse_checksum_file(text, redact_url(origin.checksum_url))


def _fetched(fetched: Mapping[str, bytes | _Unusable], url: str) -> bytes:
    answer = fetched[url]
    if isinstance(answer, _Unusable):
        raise answer
    return answer


def _verified(origin: _Origin, data: bytes, fetched: Mapping[str, bytes | _Unusable]) -> bytes:
    assert origin.signing_key is not None
    try:
        key = read_public_key(origin.signing_key.read_bytes())
    except OSError as error:
        raise _Unusable(
            f"cannot read signing_key {origin.signing_key}: {error.strerror}"
        ) from error
    except KeyFileInvalid as error:
        raise _Unusable(
            f"signing_key {origin.signing_key} is not an OpenPGP public key: {error.reason}"
        ) from error
    signed_by = f"trusted key {origin.signing_key}"
    if origin.signature_url is not None:
        signed_by = f"signature {redact_url(origin.signature_url)}, {signed_by}"
    try:
        if origin.signature_url is not None:
            signature = _fetched(fetched, origin.signature_url)
            return verify_detached(data, signature, key).text
        if CLEARSIGN_HEADER.encode() not in data:
            raise _Unusable(
                f"{origin.location} is not clear-signed, and signing_key without "
                "checksum_signature_url expects it to be; give checksum_signature_url for a "
                "detached signature"
            )
        return verify_clearsigned(data, key).text
    except SignatureInvalid as error:
        raise _Unusable(f"{origin.location}: {error.reason} ({signed_by})") from error


def _entry(source: ImageSource | None, environ: Mapping[str, str] | None) -> str:
    """The name ``source`` is listed under in its checksum file."""
    assert source is not None
    if source.checksum_name is not None:
        return source.checksum_name
    if source.file is not None:
        return source.file.name
    assert source.url is not None
    try:
        name = entry_name(expand_url(source.url, environ))
    except GlanceCatalogError as error:
        raise _Unusable(f"source {source.location}: {' '.join(error.lines)}") from error
    if name is None:
        raise _Unusable(
            f"the url {source.location} names no file to look up in the checksum file; "
            "add checksum_name"
        )
    return name


def stale_checksums(saved: Plan, catalog: Catalog) -> Iterable[str]:
    """Why ``saved`` no longer holds for ``catalog`` (resolved now): every checksum read from a
    checksum file that differs from the one the plan was made with."""
    then = {resolved.image: resolved for resolved in saved.checksums}
    for now in resolved_checksums(catalog):
        before = then.get(now.image)
        if before is None:
            yield (
                f"image '{now.image}' reads its checksum from {now.checksum_url}, and the plan "
                "records none; re-run plan (nothing was changed)"
            )
        elif before.checksum != now.checksum:
            yield (
                f"{now.checksum_url} now gives {now.checksum} for image '{now.image}', not "
                f"{before.checksum} as when the plan was made; re-run plan (nothing was "
                "changed)"
            )


def fetch_checksum_file(
    checksum_url: str,
    signature_url: str | None,
    signing_key: Path | None,
    *,
    timeout: float = READ_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    retrier: Retrier,
) -> ChecksumFile:
    """One checksum file, fetched (faults retried) and verified like a source's; raises
    ChecksumsUnresolved with the reason."""
    origin = _Origin(checksum_url, signature_url, signing_key)
    wanted = {checksum_url: _CHECKSUM_FILE}
    if signature_url is not None:
        wanted[signature_url] = _SIGNATURE
    fetched = {
        url: fetch_bounded(url, *wanted[url], timeout, environ, retrier=retrier) for url in wanted
    }
    try:
        return _checksum_file(origin, fetched)
    except _Unusable as error:
        raise ChecksumsUnresolved(error.reason) from error


def fetch_bounded(
    url: str,
    noun: str,
    limit: int,
    timeout: float = READ_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    *,
    retrier: Retrier,
) -> bytes | _Unusable:
    """The body at ``url`` (at most ``limit`` bytes), or why it cannot be had; transient
    faults retried under the run's ``retrier``."""
    try:
        return retrier.run(lambda: _download(url, noun, limit, timeout, environ))
    except _Unusable as error:
        return error
    except SourceError as error:
        return _Unusable(" ".join(error.lines))
