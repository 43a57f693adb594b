"""Load manifests: files -> YAML with positions -> schema and semantic checks -> Catalog.

Every problem in every file is collected before anything is reported; a catalog is returned only
when there is none.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from catalog.build import build_images, build_targets
from catalog.checks import document_diagnostics
from catalog.diagnostics import Diagnostic, ManifestInvalid, sort_diagnostics
from catalog.locate import diagnostic_at
from catalog.merge import merged_diagnostics
from catalog.model import (
    Catalog,
)
from catalog.schema_errors import schema_diagnostics
from catalog.targets import target_diagnostics
from catalog.yamldoc import JsonPath, ParsedDocument, parse_document

MANIFEST_SUFFIXES = (".yaml", ".yml")
# Below this many bytes of manifests, starting worker processes costs more than it saves.
PARALLEL_BYTES = 512 * 1024


@dataclass(frozen=True)
class LoadResult:
    """Either a catalog (and no diagnostics) or every diagnostic found (and no catalog)."""

    catalog: Catalog | None
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]


def load_catalog(
    paths: Sequence[Path], *, recursive: bool = False, environ: Mapping[str, str] | None = None
) -> Catalog:
    """The catalog the manifests at ``paths`` declare; raises ManifestInvalid with every error.

    ``environ`` (``os.environ`` when None) is where the ``${VAR}`` references of source urls
    must be set; the catalog keeps the urls as written."""
    result = check_catalog(paths, recursive=recursive, environ=environ)
    if result.catalog is None:
        raise ManifestInvalid(result.diagnostics)
    return result.catalog


def manifest_files(
    paths: Sequence[Path], *, recursive: bool = False
) -> tuple[list[Path], list[Diagnostic]]:
    """The manifest files ``paths`` name: files as given, folders' *.yaml and *.yml sorted
    (and their subfolders' with ``recursive``)."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            candidates = path.rglob("*") if recursive else path.iterdir()
            found = sorted(p for p in candidates if p.suffix in MANIFEST_SUFFIXES and p.is_file())
            if not found:
                problems.append(
                    Diagnostic(
                        str(path), 1, 1, None, "", "no *.yaml or *.yml manifest in this folder"
                    )
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Diagnostic(str(path), 1, 1, None, "", "no such file or folder"))
    return files, problems


def check_catalog(
    paths: Sequence[Path], *, recursive: bool = False, environ: Mapping[str, str] | None = None
) -> LoadResult:
    files, problems = manifest_files(paths, recursive=recursive)
    documents: list[ParsedDocument] = []
    digest = hashlib.sha256()
    for file, (file_digest, document, file_problems) in zip(
        files, _check_files(files, environ), strict=True
    ):
        digest.update(f"{file.name}\0{file_digest}\0".encode())
        problems.extend(file_problems)
        if document is not None:
            documents.append(document)
    problems.extend(_catalog_diagnostics(documents))
    problems.extend(merged_diagnostics(documents))
    problems.extend(target_diagnostics(documents))
    if problems or not documents:
        return LoadResult(None, tuple(sort_diagnostics(problems)), tuple(files))
    images = build_images(documents)
    name = str(documents[0].value["catalog"])
    prune = any(document.value.get("prune") is True for document in documents)
    catalog = Catalog(
        name, tuple(images), tuple(files), digest.hexdigest(), prune, build_targets(documents)
    )
    return LoadResult(catalog, (), tuple(files))


FileCheck = tuple[str, ParsedDocument | None, list[Diagnostic]]


def _check_files(files: Sequence[Path], environ: Mapping[str, str] | None) -> list[FileCheck]:
    """Every file's own checks, on all cores when the catalog is large enough to gain."""
    # A plain dict: it goes to the workers with each call, and os.environ cannot be pickled.
    check = partial(check_file, environ=dict(environ) if environ is not None else None)
    total = sum(file.stat().st_size for file in files)
    workers = min(len(files), os.cpu_count() or 1)
    # Forked workers only from a process of one thread: a fork copies the locks other threads
    # hold, and a child may deadlock on one (Python 3.12 and later warn of it). Workers that
    # start afresh instead (spawn, forkserver) would run the caller's main module again.
    if workers < 2 or total < PARALLEL_BYTES or _thread_count() > 1:
        return [check(file) for file in files]
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            return list(pool.map(check, files))
    except (OSError, ValueError, BrokenProcessPool):
        return [check(file) for file in files]


def _thread_count() -> int:
    """The threads of this process as the OS counts them where it tells (threads started
    outside Python too, as Python's own fork warning counts them), else those the threading
    module knows."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def check_file(file: Path, environ: Mapping[str, str] | None = None) -> FileCheck:
    """One manifest's own checks: (sha256 of its bytes, its document if it is YAML at all,
    its diagnostics). Image positions are recorded ahead for the catalog build."""
    raw = file.read_bytes()
    file_digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            file_digest,
            None,
            [Diagnostic(str(file), 1, 1, None, "", f"not UTF-8 text (byte {error.start})")],
        )
    document = parse_document(text, str(file))
    problems = list(document.diagnostics)
    if document.root is None:
        return file_digest, None, problems  # not YAML at all; a duplicate key still is
    problems.extend(schema_diagnostics(document))
    problems.extend(document_diagnostics(document, file.resolve().parent, environ))
    value = document.value if isinstance(document.value, dict) else {}
    images = value.get("images")
    for index, image in enumerate(images if isinstance(images, list) else []):
        document.known[("images", index)] = document.position(("images", index))
        if isinstance(image, dict):
            _known_members(document, ("images", index), image.get("members"))
    if isinstance(value.get("defaults"), dict):
        _known_members(document, ("defaults",), value["defaults"].get("members"))
    for index, target in enumerate(value.get("targets") or []):
        if not isinstance(target, dict):
            continue
        if isinstance(target.get("overrides"), dict):
            overrides = target["overrides"].get("members")
            _known_members(document, ("targets", index, "overrides"), overrides)
        for name, override in (target.get("images") or {}).items():
            if isinstance(override, dict):
                path = ("targets", index, "images", name)
                _known_members(document, path, override.get("members"))
    return file_digest, document, problems


def _known_members(document: ParsedDocument, path: JsonPath, members: Any) -> None:
    for number in range(len(members) if isinstance(members, list) else 0):
        entry = (*path, "members", number)
        document.known[entry] = document.position(entry)


def _catalog_diagnostics(documents: Iterable[ParsedDocument]) -> Iterable[Diagnostic]:
    first_catalog: tuple[str, ParsedDocument] | None = None
    first_defaults: ParsedDocument | None = None
    first_prune: ParsedDocument | None = None
    first_seen: dict[tuple[str, str], tuple[ParsedDocument, int]] = {}
    for document in documents:
        body = document.value
        if not isinstance(body, dict):
            continue
        name = body.get("catalog")
        if not isinstance(name, str):
            continue
        if first_catalog is None:
            first_catalog = (name, document)
        elif name != first_catalog[0]:
            yield diagnostic_at(
                document,
                ("catalog",),
                f"catalog '{name}' differs from '{first_catalog[0]}' in {first_catalog[1].file}",
                "all files of one catalog name the same catalog",
            )
        if "defaults" in body:
            if first_defaults is not None:
                yield diagnostic_at(
                    document,
                    ("defaults",),
                    f"defaults are already given in {first_defaults.file}",
                    "keep defaults in one file of the catalog",
                    key=True,
                )
            else:
                first_defaults = document
        if "prune" in body:
            if first_prune is not None and body["prune"] != first_prune.value["prune"]:
                yield diagnostic_at(
                    document,
                    ("prune",),
                    f"prune is {json.dumps(body['prune'])} here but "
                    f"{json.dumps(first_prune.value['prune'])} in "
                    f"{first_prune.file}",
                    "give prune once, or the same value in every file",
                )
            first_prune = first_prune or document
        images = body.get("images")
        for index, image in enumerate(images if isinstance(images, list) else []):
            if isinstance(image, dict):
                yield from _unique_keys(document, index, image, first_seen)


def _unique_keys(
    document: ParsedDocument,
    index: int,
    image: dict[str, Any],
    first_seen: dict[tuple[str, str], tuple[ParsedDocument, int]],
) -> Iterator[Diagnostic]:
    """Image names, and ids (in any letter case), are unique across the catalog's files."""
    for key in ("name", "id"):
        value = image.get(key)
        if not isinstance(value, str):
            continue
        seen_as = (key, value.lower() if key == "id" else value)
        if seen_as in first_seen:
            other, other_index = first_seen[seen_as]
            where = other.position(("images", other_index, key))
            yield diagnostic_at(
                document,
                ("images", index, key),
                f"duplicate image {key} (first at {where})",
                f"image {key}s are unique across the catalog's files",
            )
        else:
            first_seen[seen_as] = (document, index)
