"""export: read one cloud's images through the gateway, and write the manifests
reconciler.export.manifest_text makes of them, checked to load as one catalog before any is
written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from catalog.errors import GlanceCatalogError
from catalog.load import check_catalog
from catalog.secrets import redact_text
from reconciler.export.manifest_text import family_files, manifest_text
from reconciler.export.select import CATALOG_NAME, Export, ExportContext, default_catalog_name
from reconciler.export.select import select_images as select
from reconciler.retry import Retrier
from reconciler.settings import ExportRequest, RunSettings


@dataclass(frozen=True)
class ExportOutcome:
    """What export did: ``text`` is the manifest to print (None once written to files),
    ``notes`` and ``summary`` lines for standard error."""

    text: str | None
    notes: tuple[str, ...]
    summary: str


def run_export(
    cloud: str, request: ExportRequest, settings: RunSettings, retrier: Retrier
) -> ExportOutcome:
    """Read the project's images in ``cloud`` and write (or return) the manifests; nothing
    is written when any file exists (without ``force``) or a manifest would not validate.
    Requests spend the run's ``retrier``."""
    catalog = catalog_for(cloud, request.catalog)
    exported = export_cloud(cloud, catalog, request.include, settings, retrier, request.region)
    if request.include and len(exported.unmatched) == len(request.include):
        raise GlanceCatalogError(
            f"no image of project {exported.project_id} matches --include "
            f"{' '.join(repr(pattern) for pattern in request.include)}; nothing was written"
        )
    notes = tuple(
        f"note: --include {pattern!r} matches no image of the project"
        for pattern in exported.unmatched
    )
    text: str | None = None
    if request.out_dir is not None:
        files = checked(family_files(exported))
        written = write_files(request.out_dir, files, force=request.force)
        where = f" to {request.out_dir}: {', '.join(p.name for p in written) or 'no file'}"
    else:
        text = checked({"export.yaml": manifest_text(exported)})["export.yaml"]
        where = ""
        if request.out is not None:
            write_file(request.out, text, force=request.force)
            text, where = None, f" to {request.out}"
    skipped = f"; {len(exported.skipped)} not exported (listed in the header)"
    summary = (
        f"Exported {len(exported.images)} images of project {exported.project_id} (cloud "
        f"'{cloud}') as catalog '{catalog}'{where}{skipped if exported.skipped else ''}."
    )
    return ExportOutcome(text, notes, summary)


def catalog_for(cloud: str, catalog: str | None) -> str:
    """The catalog name to export under: ``catalog`` as given, else the cloud's name made
    into one."""
    if catalog is not None:
        if not CATALOG_NAME.fullmatch(catalog):
            raise GlanceCatalogError(
                f"--catalog '{catalog}': a catalog name is 1 to 40 of a-z, 0-9 and -, "
                "starting with a letter or digit"
            )
        return catalog
    derived = default_catalog_name(cloud)
    if derived is None:
        raise GlanceCatalogError(
            f"cloud '{cloud}' makes no catalog name (a-z, 0-9 and -); pass --catalog NAME"
        )
    return derived


def tool_version() -> str:
    try:
        return version("glance-catalog")
    except PackageNotFoundError:
        return "unknown"


def export_cloud(
    cloud: str,
    catalog: str,
    include: Sequence[str],
    settings: RunSettings,
    retrier: Retrier,
    region: str | None = None,
) -> Export:
    """The export of the project's images in ``cloud`` (every image it owns, the members of
    every shared one)."""
    # Imported here: the gateway brings openstacksdk.
    from reconciler.gateway import GlanceGateway

    gateway = GlanceGateway(
        cloud,
        concurrency=settings.parallel,
        timeout=settings.timeout,
        retrier=retrier,
        region=region,
    )
    with contextlib.closing(gateway):
        snapshot = gateway.snapshot()
        context = ExportContext(
            catalog=catalog,
            exported_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            tool_version=tool_version(),
            glance_endpoint=gateway.glance_endpoint,
            region=region,
        )
    return select(snapshot, context, include)


def checked(files: Mapping[str, str]) -> dict[str, str]:
    """``files`` (name -> text), redacted, once they load together as one catalog; a
    problem is a bug of export, reported with validate's lines and nothing written."""
    redacted = {name: redact_text(text) for name, text in files.items()}
    with tempfile.TemporaryDirectory(prefix="glance-catalog-export-") as folder:
        for name, text in redacted.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        result = check_catalog([Path(folder)], environ={})
    if result.catalog is None:
        raise GlanceCatalogError(
            "export made a manifest that does not validate (a bug); nothing was written:",
            *(diagnostic.as_text() for diagnostic in result.diagnostics),
        )
    return redacted


def write_files(folder: Path, files: Mapping[str, str], *, force: bool) -> list[Path]:
    """Write each file into ``folder`` (made if missing); refuses, before writing any, when
    one exists and not ``force``. Each file is replaced whole (written aside, then renamed)."""
    targets = [folder / name for name in sorted(files)]
    existing = [path.name for path in targets if path.exists()]
    if existing and not force:
        raise GlanceCatalogError(
            f"{folder}: {', '.join(existing)} already exist; nothing was written (pass --force "
            "to overwrite)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in targets:
            _write(path, files[path.name])
    except OSError as error:
        raise GlanceCatalogError(f"{folder}: cannot write: {error.strerror}") from error
    return targets


def write_file(path: Path, text: str, *, force: bool) -> None:
    if path.exists() and not force:
        raise GlanceCatalogError(
            f"{path} already exists; nothing was written (pass --force to overwrite)"
        )
    try:
        _write(path, text)
    except OSError as error:
        raise GlanceCatalogError(f"{path}: cannot write: {error.strerror}") from error


def _write(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
