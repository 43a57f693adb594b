"""update-versions: write each tracked image's newest upstream build into its manifest, its
checksum pinned, for a bot's pull request. Only inserted lines change in the files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from catalog.errors import GlanceCatalogError
from catalog.load import load_catalog
from catalog.manifest_edit import add_version
from reconciler.planning import run_retrier
from reconciler.settings import RunSettings
from reconciler.sources.upstream import find_upstream


def update_manifests(
    paths: Sequence[Path], settings: RunSettings, *, recursive: bool = False
) -> list[str]:
    """One line per version added (every fetch under one retry budget, that of the run). The
    manifests must load before and after; when they would not after, every file is put back as
    it was and GlanceCatalogError is raised."""
    catalog = load_catalog(paths, recursive=recursive)
    found = find_upstream(catalog, timeout=settings.timeout, retrier=run_retrier(settings))
    originals: dict[Path, str] = {}
    added = []
    for upstream in found:
        image = catalog.image(upstream.image)
        assert image is not None
        file = Path(image.position.file)
        text = file.read_text(encoding="utf-8")
        originals.setdefault(file, text)
        file.write_text(add_version(text, str(file), image.name, upstream.version), "utf-8")
        build = upstream.version
        added.append(
            f"{file}: image '{image.name}': added version {build.version} ({build.checksum}, "
            f"from {build.origin})"
        )
    try:
        load_catalog(paths, recursive=recursive)
    except GlanceCatalogError:
        for file, text in originals.items():
            file.write_text(text, "utf-8")
        raise
    return added
