"""Semantic checks that JSON Schema cannot express, run on one schema-checked document."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from catalog.checksum_files import entry_name
from catalog.diagnostics import Diagnostic
from catalog.fields import FIELD_BY_GLANCE_KEY, ReadOnly
from catalog.locate import diagnostic_at
from catalog.openpgp import KeyFileInvalid, read_public_key
from catalog.secrets import EnvReferenceMalformed, env_references
from catalog.yamldoc import ParsedDocument


def reserved_property_hint(key: str) -> str | None:
    """Why ``key`` cannot be a custom property, or None when it can."""
    field = FIELD_BY_GLANCE_KEY.get(key)
    if field is not None and field.manifest_key:
        return f"use the image field '{field.manifest_key}'"
    if field is not None and field.read_only is ReadOnly.DATA:
        return "Glance computes it from the data; give source.checksum instead"
    if field is not None or key.startswith("os_glance"):
        return "Glance manages it"
    if key.startswith("glance_catalog"):
        return "glance-catalog keeps its own bookkeeping under this prefix"
    if key.startswith("owner_specified.openstack."):
        return "openstacksdk manages it"
    return None


def document_diagnostics(
    document: ParsedDocument, manifest_dir: Path, environ: Mapping[str, str] | None = None
) -> Iterator[Diagnostic]:
    """The semantic problems of one document. ``${VAR}`` references in source urls are checked
    against ``environ`` (``os.environ`` when None): the environment validation runs in is the
    one plan and apply fetch with."""
    variables = os.environ if environ is None else environ
    body = document.value
    if not isinstance(body, dict):
        return
    defaults = body.get("defaults")
    if isinstance(defaults, dict):
        yield from _fields_diagnostics(document, ("defaults",), defaults)
    images = body.get("images")
    if not isinstance(images, list):
        return
    for index, image in enumerate(images):
        if not isinstance(image, dict):
            continue
        yield from _fields_diagnostics(document, ("images", index), image)
        for path, source in _image_sources(image, ("images", index)):
            yield from _source_diagnostics(document, path, source, manifest_dir, variables)


def _image_sources(
    image: dict[str, Any], path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """The image's own source and each of its versions' sources, with their paths."""
    if isinstance(image.get("source"), dict):
        yield (*path, "source"), image["source"]
    versions = image.get("versions")
    for index, version in enumerate(versions if isinstance(versions, list) else []):
        if isinstance(version, dict) and isinstance(version.get("source"), dict):
            yield (*path, "versions", index, "source"), version["source"]


def _fields_diagnostics(
    document: ParsedDocument, path: tuple[str | int, ...], fields: dict[str, Any]
) -> Iterator[Diagnostic]:
    properties = fields.get("properties")
    if isinstance(properties, dict):
        for key in properties:
            hint = reserved_property_hint(str(key))
            if hint is not None:
                yield diagnostic_at(
                    document,
                    (*path, "properties", key),
                    f"'{key}' is not a custom property",
                    hint,
                    key=True,
                )
    tags = fields.get("tags")
    if isinstance(tags, list):
        seen: set[str] = set()
        for index, tag in enumerate(tags):
            if isinstance(tag, str) and tag.startswith("glance-catalog:"):
                yield diagnostic_at(
                    document,
                    (*path, "tags", index),
                    f"'{tag}' is glance-catalog's ownership marker",
                    "the tool adds it itself; remove it",
                )
            if not isinstance(tag, str):
                continue
            if tag in seen:
                yield diagnostic_at(document, (*path, "tags", index), f"duplicate tag '{tag}'")
            seen.add(tag)


def _source_diagnostics(
    document: ParsedDocument,
    path: tuple[str | int, ...],
    source: dict[str, Any],
    manifest_dir: Path,
    environ: Mapping[str, str],
) -> Iterator[Diagnostic]:
    has_url, has_file = "url" in source, "file" in source
    pulled = source.get("method") == "glance-download"
    for key in ("url", "checksum_url", "checksum_signature_url"):
        url = source.get(key)
        if isinstance(url, str):
            yield from _reference_diagnostics(document, (*path, key), url, environ)
    if has_url and has_file:
        yield diagnostic_at(
            document,
            path,
            "give exactly one of url and file",
            "a source is either an http(s) URL or a local file",
        )
    elif not has_url and not has_file and not pulled:
        yield diagnostic_at(
            document,
            path,
            "give one of url and file",
            "a source is either an http(s) URL or a local file (or, with method: "
            "glance-download and region, the image in another region)",
        )
    yield from glance_download_diagnostics(document, path, source)
    if has_url and "checksum" not in source and "checksum_url" not in source and not pulled:
        yield diagnostic_at(
            document,
            path,
            "a url source needs a checksum or a checksum_url",
            "add checksum: sha256:<hex> (sha256sum prints it), or checksum_url: the URL of "
            "the SHA256SUMS file that lists it",
        )
    yield from checksum_file_diagnostics(document, path, source, manifest_dir)
    if source.get("method") == "web-download" and has_file:
        yield diagnostic_at(
            document,
            (*path, "method"),
            "web-download needs a url source",
            "Glance can only pull from a URL; use method: upload for a file",
        )
    checksum = source.get("checksum")
    if isinstance(checksum, str):
        problem = checksum_problem(checksum)
        if problem is not None:
            yield diagnostic_at(document, (*path, "checksum"), problem[0], problem[1])
    file = source.get("file")
    if isinstance(file, str) and file:
        resolved = (manifest_dir / file).resolve()
        if not resolved.is_file():
            yield diagnostic_at(
                document,
                (*path, "file"),
                f"no such file: {resolved}",
                "file is relative to the manifest's folder",
            )


def glance_download_diagnostics(
    document: ParsedDocument, path: tuple[str | int, ...], source: dict[str, Any]
) -> Iterator[Diagnostic]:
    """The rules of method: glance-download and region (the schema's if/then rules of source,
    said with why): each needs the other, and the pulled data needs a checksum to be verified
    against, written or read from a checksum file."""
    pulled = source.get("method") == "glance-download"
    if pulled and "region" not in source:
        yield diagnostic_at(
            document,
            (*path, "method"),
            "glance-download needs region",
            "add region: the region whose Glance already holds this image (where this catalog "
            "is applied first)",
        )
    if "region" in source and not pulled:
        yield diagnostic_at(
            document,
            (*path, "region"),
            "region needs method: glance-download",
            "region names the region Glance pulls the image from; add method: glance-download, "
            "or remove region",
            key=True,
        )
    if pulled and "checksum" not in source and "checksum_url" not in source:
        yield diagnostic_at(
            document,
            (*path, "method"),
            "glance-download needs a checksum",
            "add checksum: sha256:<hex> of the image's data: the image found in the other "
            "region and the data Glance pulls are both checked against it",
        )
    if pulled and "checksum_url" in source and not {"url", "file", "checksum_name"} & set(source):
        yield diagnostic_at(
            document,
            (*path, "checksum_url"),
            "nothing names the entry to look up in the checksum file",
            "add checksum_name: the name the checksum file lists the image under (or the url)",
            key=True,
        )


# What each checksum-file key needs beside it, and why (the schema's if/then rules of source).
_NEEDS = (
    ("checksum_signature_url", "checksum_url", "it signs the file checksum_url names"),
    (
        "checksum_signature_url",
        "signing_key",
        "add signing_key: the OpenPGP public key file (in the repository) that signed it",
    ),
    ("signing_key", "checksum_url", "it verifies a checksum file; a written checksum needs none"),
    ("checksum_name", "checksum_url", "it names an entry of the file checksum_url names"),
)


def checksum_file_diagnostics(
    document: ParsedDocument,
    path: tuple[str | int, ...],
    source: dict[str, Any],
    manifest_dir: Path,
) -> Iterator[Diagnostic]:
    """The rules of checksum_url, checksum_signature_url, signing_key and checksum_name. The
    signing key must be readable and an OpenPGP public key now: validate is where a broken
    key file should show, not the first plan that needs it."""
    if "checksum" in source and "checksum_url" in source:
        yield diagnostic_at(
            document,
            (*path, "checksum_url"),
            "give one of checksum and checksum_url, not both",
            "with checksum_url the checksum is read from that file",
            key=True,
        )
    for key, needed, hint in _NEEDS:
        if key in source and needed not in source:
            yield diagnostic_at(document, (*path, key), f"{key} needs {needed}", hint, key=True)
    url = source.get("url")
    if (
        "checksum_url" in source
        and "checksum_name" not in source
        and isinstance(url, str)
        and "${" not in url
        and entry_name(url) is None
    ):
        yield diagnostic_at(
            document,
            (*path, "url"),
            "the url names no file to look up in the checksum file",
            "add checksum_name: the name the checksum file lists it under",
        )
    key_file = source.get("signing_key")
    if isinstance(key_file, str) and key_file:
        problem = _key_file_problem((manifest_dir / key_file).resolve())
        if problem is not None:
            yield diagnostic_at(document, (*path, "signing_key"), problem[0], problem[1])


def _key_file_problem(path: Path) -> tuple[str, str] | None:
    if not path.is_file():
        return f"no such file: {path}", _KEY_HINT
    stat = path.stat()
    return _key_problem(path, stat.st_mtime_ns, stat.st_size)


_KEY_HINT = "signing_key is relative to the manifest's folder"


# Many images share one key file: it is read and checked once per version of it.
@functools.lru_cache(maxsize=64)
def _key_problem(path: Path, _mtime: int, _size: int) -> tuple[str, str] | None:
    try:
        data = path.read_bytes()
    except OSError as error:
        return f"cannot read {path}: {error.strerror}", _KEY_HINT
    try:
        read_public_key(data)
    except KeyFileInvalid as error:
        return (
            f"{path} is not an OpenPGP public key: {error.reason}",
            "export the public key alone (gpg --export --armor KEYID), or take the "
            "distribution's published key file",
        )
    return None


def _reference_diagnostics(
    document: ParsedDocument, path: tuple[str | int, ...], url: str, environ: Mapping[str, str]
) -> Iterator[Diagnostic]:
    """A malformed ``${`` in the url, or else every variable it references that is not set.

    Both are placed at the url's value: a quoted or folded scalar has no simple mapping from
    an offset in the value to a column in the file. Messages name variables, never values.
    """
    try:
        references = env_references(url)
    except EnvReferenceMalformed as error:
        yield diagnostic_at(
            document,
            path,
            error.reason,
            "write ${NAME}, NAME being letters, digits and _ not starting with a digit; "
            "write $${ for a literal ${",
        )
        return
    reported: set[str] = set()
    for name, _ in references:
        if name in environ or name in reported:
            continue
        reported.add(name)
        yield diagnostic_at(
            document,
            path,
            f"environment variable '{name}' is not set",
            "export it before running glance-catalog; the manifest keeps only the reference",
        )


_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_KNOWN_LENGTHS = {32: "an md5", 40: "a sha1", 64: "a sha256", 128: "a sha512"}


def checksum_problem(checksum: str) -> tuple[str, str] | None:
    """What is wrong with a checksum string, and a hint; None when it is well-formed."""
    algorithm, colon, digest = checksum.partition(":")
    if not colon:
        return (
            f"'{checksum}' has no algorithm",
            "write sha256:<hex> or sha512:<hex> (sha256sum prints the hex)",
        )
    if algorithm.lower() not in _HEX_LENGTHS:
        return (
            f"algorithm '{algorithm}' is not accepted",
            "use sha256 or sha512; md5 and sha1 do not protect against tampering",
        )
    bad = next((char for char in digest if char not in "0123456789abcdefABCDEF"), None)
    if bad is not None:
        return f"the digest has a non-hex character {bad!r}", "a digest is 0-9 and a-f only"
    wanted = _HEX_LENGTHS[algorithm.lower()]
    if len(digest) != wanted:
        looks = _KNOWN_LENGTHS.get(len(digest))
        hint = f"{len(digest)} digits look like {looks} digest" if looks else "copy it again"
        return f"{algorithm} needs {wanted} hex digits, not {len(digest)}", hint
    return None
