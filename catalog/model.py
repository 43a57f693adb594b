"""Frozen dataclasses of the desired state. No I/O."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from catalog.secrets import (
    env_references,
    expand_env,
    redact_url,
    register_url_secrets,
    register_value_secret,
)

MARKER_PREFIX = "glance-catalog:"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    SHARED = "shared"
    COMMUNITY = "community"


class ImageState(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    ABSENT = "absent"


class TransferMethod(StrEnum):
    """How an image's data gets into Glance: streamed by glance-catalog (upload), pulled by
    Glance from the source url (web-download), or pulled by Glance from the Glance of another
    region that already holds the image (glance-download)."""

    UPLOAD = "upload"
    WEB_DOWNLOAD = "web-download"
    GLANCE_DOWNLOAD = "glance-download"

    @property
    def imports(self) -> bool:
        """Glance fetches the data itself, in an import task."""
        return self is not TransferMethod.UPLOAD


class Compression(StrEnum):
    """How a source's bytes are compressed as published; undone while they stream to Glance."""

    NONE = "none"
    XZ = "xz"
    GZ = "gz"
    BZ2 = "bz2"
    ZST = "zst"

    @classmethod
    def resolve(cls, decompress: str, name: str, container_format: str) -> Compression:
        """What ``source.decompress`` (auto, none or a compression) means for a source whose url
        path or file name is ``name``: auto is the compression its suffix names (.xz, .gz,
        .bz2, .zst, in any letter case), or none; with ``container_format: compressed`` auto
        is none, since Glance's compressed container holds the compressed bytes on purpose."""
        if decompress != "auto":
            return cls(decompress)
        if container_format == "compressed":
            return cls.NONE
        suffix = PurePosixPath(name).suffix.lower().removeprefix(".")
        return cls(suffix) if suffix in _SUFFIXES else cls.NONE


_SUFFIXES = frozenset(member.value for member in Compression if member is not Compression.NONE)


def source_name(url: str | None, file: str | None) -> str:
    """The name whose suffix ``Compression.resolve`` reads: the url's path (its query and
    fragment left out), or the file as written."""
    if url is not None:
        return urlsplit(url).path
    return file or ""


class HashAlgorithm(StrEnum):
    SHA256 = "sha256"
    SHA512 = "sha512"


@dataclass(frozen=True)
class Position:
    """Where something stands in a manifest: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Checksum:
    """A digest of the source bytes; ``hexdigest`` is lower-case hex of the algorithm's length."""

    algorithm: HashAlgorithm
    hexdigest: str

    def __str__(self) -> str:
        return f"{self.algorithm.value}:{self.hexdigest}"

    @classmethod
    def parse(cls, text: str) -> Checksum:
        algorithm, _, hexdigest = text.partition(":")
        return cls(HashAlgorithm(algorithm.lower()), hexdigest.lower())


@dataclass(frozen=True)
class ImageSource:
    """Where an image's bytes come from: for upload and web-download exactly one of ``url``
    and ``file`` is set (a url for web-download), and ``region`` is None.

    With ``method`` glance-download the bytes come from the Glance of ``region`` (set, and
    never for another method), from the image of the same name that this catalog put there:
    ``checksum`` (or ``checksum_url``) is given, and ``url`` and ``file`` may be set or not
    (a manifest used in several regions keeps the source the first region reads).

    ``url`` is the text as the manifest writes it, ``${VAR}`` references included: it is
    what the catalog compares and hashes, never what is fetched (``fetch_url``) nor what is
    shown (``location``). ``file`` is absolute (resolved against the manifest's folder at
    load time).

    A url source gives exactly one of ``checksum`` and ``checksum_url`` (a file source at
    most one). With ``checksum_url`` (written like ``url``) the checksum is the entry named
    ``checksum_name`` (default: the last segment of the url's path, or the file's name) of that
    checksum file: None in a loaded catalog, filled in by reconciler.sources.checksum_source before
    planning. ``signing_key`` (absolute, an OpenPGP public key file) is set exactly when the
    checksum file is to be verified: by the detached signature at ``checksum_signature_url``,
    or, without one, by the signature the checksum file carries (clear-signed).

    ``checksum`` is of the bytes as published, compressed or not. ``compression`` is the
    resolved ``decompress``: what is undone while uploading, so that Glance stores (and hashes)
    the decompressed bytes; it is NONE for a web-download, whose bytes Glance fetches itself.
    For a glance-download it says how the bytes the checksum is of were compressed: the image
    in ``region`` holds them decompressed, and the data is then verified against it.
    """

    url: str | None
    file: Path | None
    checksum: Checksum | None
    method: TransferMethod = TransferMethod.UPLOAD
    checksum_url: str | None = None
    checksum_signature_url: str | None = None
    signing_key: Path | None = None
    checksum_name: str | None = None
    compression: Compression = Compression.NONE
    region: str | None = None

    def __post_init__(self) -> None:
        if self.method is TransferMethod.WEB_DOWNLOAD and self.compression is not Compression.NONE:
            raise ValueError("a web-download cannot decompress: Glance fetches the bytes itself")
        if (self.method is TransferMethod.GLANCE_DOWNLOAD) != (self.region is not None):
            raise ValueError("a glance-download names its region, and only a glance-download")

    @property
    def location(self) -> str:
        """The source for messages: the url as written with its userinfo and query shown as
        ``***`` (so never a credential, written or expanded), or the file path; for a
        glance-download ``region NAME``."""
        if self.region is not None:
            return f"region {self.region}"
        return redact_url(self.url) if self.url is not None else str(self.file)

    def fetch_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The URL to fetch: ``url`` with its ``${VAR}`` references expanded from ``environ``
        (``os.environ`` when None).

        Before it returns, the value of every referenced variable and the userinfo, password
        and query of the expanded URL are registered as secrets (catalog.secrets), so that
        ``redact_text`` hides them wherever a library quotes the URL. Raises EnvVariableNotSet
        or EnvReferenceMalformed; a file source has no URL (ValueError).
        """
        if self.url is None:
            raise ValueError(f"a file source has no URL to fetch: {self.file}")
        return expand_url(self.url, environ)


def expand_url(url: str, environ: Mapping[str, str] | None = None) -> str:
    """``url`` (as a manifest writes it) with its ``${VAR}`` references expanded from
    ``environ`` (``os.environ`` when None), each value and the expanded URL's credentials
    registered as secrets first (see ``ImageSource.fetch_url``)."""
    values = os.environ if environ is None else environ
    expanded = expand_env(url, values)
    for name, _ in env_references(url):
        register_value_secret(values[name])
    register_url_secrets(expanded)
    return expanded


@dataclass(frozen=True)
class MemberSpec:
    """A project that should be a member of a shared image; ``project`` is a name or an id.

    With ``accept_with`` (a clouds.yaml entry scoped to that project) the membership is also
    accepted, which only the member project itself may do. ``position`` is where the entry
    stands in the manifest (in ``defaults:`` when the image inherits its members), when known.
    """

    project: str
    accept_with: str | None = None
    position: Position | None = field(default=None, compare=False)


class SupersededAction(StrEnum):
    """What happens at once to a version that no longer holds the image's name."""

    KEEP = "keep"
    HIDE = "hide"
    DEACTIVATE = "deactivate"


class RetireAction(StrEnum):
    """What happens to a version older than the ``keep`` newest."""

    HIDE = "hide"
    DEACTIVATE = "deactivate"
    DELETE = "delete"


DEFAULT_VERSION_NAME = "{name} {version}"


@dataclass(frozen=True)
class RetirePolicy:
    """How a versioned image rotates. ``keep`` (None: every declared version) counts the
    versions kept usable in Glance, the current one included; ``keep`` is at least 1."""

    keep: int | None = None
    superseded: SupersededAction = SupersededAction.KEEP
    beyond_keep: RetireAction = RetireAction.HIDE


@dataclass(frozen=True)
class TrackSpec:
    """Where an image's upstream lists its builds (catalog.track). ``{version}`` is in
    ``file`` (one checksum file lists every build) or in ``checksum_url`` (one folder per
    build; then ``index_url`` is set). Urls are as written (``${VAR}`` references kept);
    ``signing_key`` is absolute, and set exactly when ``checksum_signature_url`` is."""

    checksum_url: str
    file: str
    index_url: str | None = None
    url: str | None = None
    checksum_signature_url: str | None = None
    signing_key: Path | None = None
    method: TransferMethod = TransferMethod.UPLOAD


@dataclass(frozen=True)
class ImageVersion:
    """One declared build of a versioned image; ``version`` is unique within its image."""

    version: str
    source: ImageSource
    position: Position = field(compare=False)


@dataclass(frozen=True)
class DesiredImage:
    """One image as the manifest declares it, with defaults already merged.

    ``properties`` holds string values only; ``tags`` never contains the catalog marker;
    ``members`` is non-empty only when ``visibility`` is shared; ``image_id`` is a canonical
    lower-case UUID when set. ``stores`` are distinct non-empty Glance store ids, the first one
    where a new image's data goes; empty when the image's stores are not managed (the data
    stays where Glance put it).

    A versioned image has ``versions`` (oldest first, labels unique) or ``track`` (or both)
    and no ``source``: each version is its own Glance image with these fields; ``current``
    (when set) names one of them; every versioned name is at most 255 characters.
    """

    name: str
    source: ImageSource | None
    disk_format: str
    container_format: str
    visibility: Visibility
    protected: bool
    hidden: bool
    min_disk: int
    min_ram: int
    tags: frozenset[str]
    properties: Mapping[str, str]
    members: tuple[MemberSpec, ...]
    state: ImageState
    position: Position = field(compare=False)
    image_id: str | None = None
    adopt: bool = False
    keep_previous: bool = False
    versions: tuple[ImageVersion, ...] = ()
    current: str | None = None
    version_name: str = DEFAULT_VERSION_NAME
    retire: RetirePolicy = RetirePolicy()
    track: TrackSpec | None = None
    # Properties the planner records on one version's Glance image (glance_catalog_version,
    # ...): compared like properties, never listed among the declared ones.
    bookkeeping: Mapping[str, str] = field(default_factory=dict)

    @property
    def current_version(self) -> ImageVersion | None:
        """The version that holds ``name``: the one ``current`` pins, else the newest (last)."""
        if not self.versions:
            return None
        pinned = [v for v in self.versions if v.version == self.current]
        return pinned[0] if pinned else self.versions[-1]

    def keyed_sources(self) -> list[tuple[str, ImageSource]]:
        """Every source of the image with the key that names it in messages and plan files:
        the image's name, or ``name [version]`` for each version."""
        keyed = [(self.name, self.source)] if self.source is not None else []
        return keyed + [(self.source_key(v.version), v.source) for v in self.versions]

    def source_key(self, version: str | None = None) -> str:
        return self.name if version is None else f"{self.name} [{version}]"

    def versioned_name(self, version: str) -> str:
        """The name a version carries while it does not hold ``name``."""
        return self.version_name.replace("{name}", self.name).replace("{version}", version)

    stores: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogTarget:
    """A target the manifests name: the clouds.yaml entry ``cloud`` (in ``region``, else the
    entry's own), and ``images``, the catalog's images as this target gets them (its overrides
    applied): the same names in the same order as the catalog's."""

    name: str
    cloud: str
    region: str | None
    images: tuple[DesiredImage, ...]
    position: Position | None = None


@dataclass(frozen=True)
class Catalog:
    """A whole validated catalog: image names are unique; ``digest`` hashes the manifests' bytes.

    With ``prune`` the catalog's managed images that no manifest names any more are deleted.
    ``targets`` are where it goes when the manifests say (names unique); none: the one cloud
    the run is given.
    """

    name: str
    images: tuple[DesiredImage, ...]
    files: tuple[Path, ...]
    digest: str
    prune: bool = False
    targets: tuple[CatalogTarget, ...] = ()

    def for_target(self, target: CatalogTarget) -> Catalog:
        """The catalog as ``target`` gets it: its images, no further targets."""
        return Catalog(self.name, target.images, self.files, self.digest, self.prune)

    @property
    def marker(self) -> str:
        return marker_tag(self.name)

    def image(self, name: str) -> DesiredImage | None:
        return next((image for image in self.images if image.name == name), None)


def marker_tag(catalog_name: str) -> str:
    return f"{MARKER_PREFIX}{catalog_name}"
