"""Upstream releases of tracked images (``track:``): read the release index and checksum
files, and offer the newest build as a new version. The I/O edge of catalog.track."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urljoin

from catalog.errors import GlanceCatalogError
from catalog.manifest_edit import NewVersion
from catalog.model import (
    Catalog,
    Checksum,
    Compression,
    DesiredImage,
    ImageSource,
    ImageVersion,
    TrackSpec,
    source_name,
)
from catalog.secrets import redact_url
from catalog.track import (
    VERSION_PLACEHOLDER,
    index_entries,
    newest,
    segment_with_version,
    version_key,
    versions_in,
)
from reconciler.retry import Retrier
from reconciler.sources.checksum_source import (
    ChecksumsUnresolved,
    fetch_bounded,
    fetch_checksum_file,
)
from reconciler.sources.reading import READ_TIMEOUT

MAX_INDEX = 4 * 1024 * 1024


@dataclass(frozen=True)
class UpstreamVersion:
    """The newest upstream build of ``image`` and the checksum file (and signature) it was read
    from, urls as written; find_upstream offers it only when it is newer than every version the
    image declares."""

    image: str
    version: NewVersion
    checksum_url: str
    signature_url: str | None


def _fill(template: str, label: str | None) -> str:
    return template if label is None else template.replace(VERSION_PLACEHOLDER, label)


def _checksum_urls(track: TrackSpec, label: str | None) -> tuple[str, str | None]:
    """The checksum file and signature of the build ``label`` (None: the one file that lists
    every build)."""
    signature = track.checksum_signature_url
    return _fill(track.checksum_url, label), _fill(signature, label) if signature else None


def newest_build(
    image: DesiredImage,
    track: TrackSpec,
    *,
    timeout: float = READ_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    retrier: Retrier,
) -> UpstreamVersion:
    """The newest build the track lists; raises ChecksumsUnresolved when none can be read."""
    where = f"{image.position}: image '{image.name}': track"
    segment = segment_with_version(track.checksum_url)
    label: str | None = None
    if segment is not None:
        assert track.index_url is not None
        page = fetch_bounded(
            track.index_url, "release index", MAX_INDEX, timeout, environ, retrier=retrier
        )
        if not isinstance(page, bytes):
            raise ChecksumsUnresolved(f"{where}: {page.reason}")
        label = newest(versions_in(index_entries(page.decode("utf-8", "replace")), segment))
        if label is None:
            raise ChecksumsUnresolved(
                f"{where}: the release index {redact_url(track.index_url)} lists no '{segment}'"
            )
    checksum_url, signature_url = _checksum_urls(track, label)
    try:
        sums = fetch_checksum_file(
            checksum_url,
            signature_url,
            track.signing_key,
            timeout=timeout,
            environ=environ,
            retrier=retrier,
        )
        if label is None:
            label = newest(versions_in(sums.names(), track.file))
            if label is None:
                raise ChecksumsUnresolved(
                    f"checksum file {redact_url(checksum_url)} lists no file like '{track.file}'"
                )
        file = _fill(track.file, label)
        checksum = sums.lookup(file)
    except GlanceCatalogError as error:
        raise ChecksumsUnresolved(f"{where}: {' '.join(error.lines)}") from error
    url = _fill(track.url, label) if track.url else urljoin(checksum_url, file)
    method = None if track.method.value == "upload" else track.method.value
    build = NewVersion(label, url, str(checksum), redact_url(checksum_url), method)
    return UpstreamVersion(image.name, build, checksum_url, signature_url)


def find_upstream(
    catalog: Catalog,
    *,
    timeout: float = READ_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    retrier: Retrier,
) -> tuple[UpstreamVersion, ...]:
    """For every tracked image, its newest upstream build when that is newer than its newest
    declared version (by version order), every fetch under the run's ``retrier``. Raises
    ChecksumsUnresolved with every problem."""
    found: list[UpstreamVersion] = []
    problems: list[str] = []
    for image in catalog.images:
        if image.track is None:
            continue
        try:
            upstream = newest_build(
                image, image.track, timeout=timeout, environ=environ, retrier=retrier
            )
        except ChecksumsUnresolved as error:
            problems += error.lines
            continue
        declared = [version.version for version in image.versions]
        latest = newest(declared)
        label = upstream.version.version
        if label in declared or (latest is not None and version_key(label) <= version_key(latest)):
            continue
        found.append(upstream)
    if problems:
        raise ChecksumsUnresolved(*problems, "nothing was changed")
    return tuple(found)


def with_upstream(catalog: Catalog, found: tuple[UpstreamVersion, ...]) -> Catalog:
    """``catalog`` with each upstream build appended to its image's versions (so it becomes
    the current one unless ``current`` pins another)."""
    by_image = {upstream.image: upstream for upstream in found}
    images = []
    for image in catalog.images:
        upstream = by_image.get(image.name)
        if upstream is None:
            images.append(image)
            continue
        assert image.track is not None
        build = upstream.version
        source = ImageSource(
            url=build.url,
            file=None,
            checksum=Checksum.parse(build.checksum),
            method=image.track.method,
            checksum_url=upstream.checksum_url,
            checksum_signature_url=upstream.signature_url,
            signing_key=image.track.signing_key,
            compression=Compression.resolve(
                "none" if image.track.method.value == "web-download" else "auto",
                source_name(build.url, None),
                image.container_format,
            ),
        )
        version = ImageVersion(build.version, source, image.position)
        images.append(replace(image, versions=(*image.versions, version)))
    return replace(catalog, images=tuple(images))
