"""The model built from manifests that passed every check: desired images with their
positions, and each target's images with its overrides laid over. No checks here: what
reaches this module is valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.fields import MANIFEST_FIELDS
from catalog.merge import catalog_defaults, merged_fields
from catalog.model import (
    DEFAULT_VERSION_NAME,
    CatalogTarget,
    Checksum,
    Compression,
    DesiredImage,
    ImageSource,
    ImageState,
    ImageVersion,
    MemberSpec,
    RetireAction,
    RetirePolicy,
    SupersededAction,
    TrackSpec,
    TransferMethod,
    source_name,
)
from catalog.targets import target_entries, target_fields, targets_document
from catalog.yamldoc import JsonPath, ParsedDocument


def build_images(documents: list[ParsedDocument]) -> list[DesiredImage]:
    """DesiredImages from documents that passed every check."""
    defaults = catalog_defaults(documents)
    return [
        _desired(
            merged_fields(defaults, image),
            image,
            defaults,
            document,
            index,
            _members_at(documents, document, index, image),
        )
        for document in documents
        for index, image in enumerate(document.value.get("images") or [])
    ]


def build_targets(documents: list[ParsedDocument]) -> tuple[CatalogTarget, ...]:
    """The targets of documents that passed every check, each with its images overridden."""
    defaults = catalog_defaults(documents)
    given = targets_document(documents)
    return tuple(
        CatalogTarget(
            name=target["name"],
            cloud=target["cloud"],
            region=target.get("region"),
            images=tuple(
                _desired(
                    target_fields(defaults, image, target),
                    image,
                    defaults,
                    document,
                    index,
                    _target_members_at(given, number, target, image)
                    or _members_at(documents, document, index, image),
                )
                for document in documents
                for index, image in enumerate(document.value.get("images") or [])
            ),
            position=given.position(("targets", number)) if given is not None else None,
        )
        for number, target in target_entries(given)
    )


def _desired(
    fields: dict[str, Any],
    image: dict[str, Any],
    defaults: dict[str, Any],
    document: ParsedDocument,
    index: int,
    members_at: tuple[ParsedDocument, JsonPath],
) -> DesiredImage:
    manifest_dir = Path(document.file).resolve().parent
    return DesiredImage(
        **{
            field.manifest_key: field.desired(fields.get(field.manifest_key, field.default))
            for field in MANIFEST_FIELDS
        },
        source=_source(fields.get("source"), manifest_dir, fields["container_format"]),
        properties=dict(sorted(fields["properties"].items())),
        members=_members(fields["members"], members_at),
        state=ImageState(fields["state"]),
        position=document.position(("images", index)),
        image_id=fields["id"].lower() if "id" in fields else None,
        adopt=fields["adopt"],
        keep_previous=fields["keep_previous"],
        versions=tuple(
            ImageVersion(
                entry["version"],
                source,
                document.position(("images", index, "versions", number)),
            )
            for number, entry in enumerate(fields.get("versions") or [])
            if (source := _source(entry["source"], manifest_dir, fields["container_format"]))
            is not None
        ),
        current=fields.get("current"),
        version_name=fields.get("version_name", DEFAULT_VERSION_NAME),
        retire=_retire(defaults.get("retire"), image.get("retire")),
        track=_track(fields.get("track"), manifest_dir),
        stores=tuple(fields.get("stores", ())),
    )


def _track(track: dict[str, Any] | None, manifest_dir: Path) -> TrackSpec | None:
    if track is None:
        return None
    key = track.get("signing_key")
    return TrackSpec(
        checksum_url=track["checksum_url"],
        file=track["file"],
        index_url=track.get("index_url"),
        url=track.get("url"),
        checksum_signature_url=track.get("checksum_signature_url"),
        signing_key=(manifest_dir / key).resolve() if key is not None else None,
        method=TransferMethod(track.get("method", "upload")),
    )


def _retire(*layers: dict[str, Any] | None) -> RetirePolicy:
    """The retire policy of the defaults under the image's, merged key by key."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer or {})
    policy = RetirePolicy()
    return RetirePolicy(
        keep=merged.get("keep", policy.keep),
        superseded=SupersededAction(merged.get("superseded", policy.superseded)),
        beyond_keep=RetireAction(merged.get("beyond_keep", policy.beyond_keep)),
    )


def _members_at(
    documents: list[ParsedDocument], document: ParsedDocument, index: int, image: dict[str, Any]
) -> tuple[ParsedDocument, JsonPath]:
    """Where the image's members are written: its own, else the defaults' (in the first
    document that has defaults, as catalog_defaults reads them)."""
    if "members" in image:
        return document, ("images", index, "members")
    where = next((d for d in documents if isinstance(d.value.get("defaults"), dict)), document)
    return where, ("defaults", "members")


def _target_members_at(
    given: ParsedDocument | None, number: int, target: dict[str, Any], image: dict[str, Any]
) -> tuple[ParsedDocument, JsonPath] | None:
    """Where a target writes the image's members, when it overrides them."""
    own = (target.get("images") or {}).get(image.get("name")) or {}
    if given is None:
        return None
    if "members" in own:
        return given, ("targets", number, "images", image["name"], "members")
    if "members" in (target.get("overrides") or {}):
        return given, ("targets", number, "overrides", "members")
    return None


def _members(
    entries: list[str | dict[str, str]], at: tuple[ParsedDocument, JsonPath]
) -> tuple[MemberSpec, ...]:
    """The image's members, each with the position of its entry."""
    where, path = at
    found = []
    for number, entry in enumerate(entries):
        position = where.position((*path, number))
        if isinstance(entry, str):
            found.append(MemberSpec(entry, position=position))
        else:
            found.append(MemberSpec(entry["project"], entry.get("accept_with"), position))
    return tuple(found)


def _source(
    source: dict[str, Any] | None, manifest_dir: Path, container_format: str
) -> ImageSource | None:
    if source is None:
        return None
    checksum = source.get("checksum")
    url, file = source.get("url"), source.get("file")
    key = source.get("signing_key")
    return ImageSource(
        url=url,
        file=(manifest_dir / file).resolve() if file is not None else None,
        checksum=Checksum.parse(checksum) if checksum is not None else None,
        method=TransferMethod(source.get("method", "upload")),
        checksum_url=source.get("checksum_url"),
        checksum_signature_url=source.get("checksum_signature_url"),
        signing_key=(manifest_dir / key).resolve() if key is not None else None,
        checksum_name=source.get("checksum_name"),
        compression=Compression.resolve(
            source.get("decompress", "auto"), source_name(url, file), container_format
        ),
        region=source.get("region"),
    )
