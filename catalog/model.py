"""Frozen dataclasses of the desired state. No I/O."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

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
    UPLOAD = "upload"
    WEB_DOWNLOAD = "web-download"


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
    """Where an image's bytes come from: exactly one of ``url`` and ``file`` is set.

    ``url`` is the text as the manifest writes it, ``${VAR}`` references included: it is
    what the catalog compares and hashes, never what is fetched (``fetch_url``) nor what is
    shown (``location``). ``file`` is absolute (resolved against the manifest's folder at
    load time). ``checksum`` is required for a url and optional for a file.
    """

    url: str | None
    file: Path | None
    checksum: Checksum | None
    method: TransferMethod = TransferMethod.UPLOAD

    @property
    def location(self) -> str:
        """The source for messages: the url as written with its userinfo and query shown as
        ``***`` (so never a credential, written or expanded), or the file path."""
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
        values = os.environ if environ is None else environ
        expanded = expand_env(self.url, values)
        for name, _ in env_references(self.url):
            register_value_secret(values[name])
        register_url_secrets(expanded)
        return expanded


@dataclass(frozen=True)
class MemberSpec:
    """A project that should be a member of a shared image; ``project`` is a name or an id.

    With ``accept_with`` (a clouds.yaml entry scoped to that project) the membership is also
    accepted, which only the member project itself may do.
    """

    project: str
    accept_with: str | None = None


@dataclass(frozen=True)
class DesiredImage:
    """One image as the manifest declares it, with defaults already merged.

    ``properties`` holds string values only; ``tags`` never contains the catalog marker;
    ``members`` is non-empty only when ``visibility`` is shared; ``image_id`` is a canonical
    lower-case UUID when set. ``stores`` are distinct non-empty Glance store ids, the first one
    where a new image's data goes; empty when the image's stores are not managed (the data
    stays where Glance put it).
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
    stores: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """A whole validated catalog: image names are unique; ``digest`` hashes the manifests' bytes.

    With ``prune`` the catalog's managed images that no manifest names any more are deleted.
    """

    name: str
    images: tuple[DesiredImage, ...]
    files: tuple[Path, ...]
    digest: str
    prune: bool = False

    @property
    def marker(self) -> str:
        return marker_tag(self.name)

    def image(self, name: str) -> DesiredImage | None:
        return next((image for image in self.images if image.name == name), None)


def marker_tag(catalog_name: str) -> str:
    return f"{MARKER_PREFIX}{catalog_name}"
