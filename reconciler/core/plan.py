"""The Plan: one change per Glance image plus what it was computed from; a stable JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from catalog.model import Checksum, Compression, ImageSource, TransferMethod
from catalog.secrets import redact_url
from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, ImageChange, execution_order
from reconciler.core.plan_legacy import legacy_changes
from reconciler.errors import GlanceCatalogError

FORMAT_VERSION = 5
# Version 5 added "changes": each change's kind, reason and replacement, and its steps as
# indexes into "actions" (a step no longer carries its replacement). Version 4 is a plan set
# (reconciler.core.plan_set), never one cloud's plan: saved files tell them apart by it.
# Version 3 added versioned images (retire, an action's version), stores and compressed or
# checksum-file sources; a version 2 plan holds none of them and reads as it was. Versions 2
# and 3 are read by grouping their actions into changes (reconciler.core.plan_legacy). A
# glance-download source adds "region" to its source (only there): older plans lack it.
READABLE_VERSIONS = (2, 3, 5)


@dataclass(frozen=True)
class Conflict:
    """Something the planner will not decide alone; a plan with conflicts must not be applied."""

    image: str
    message: str
    hint: str = ""
    position: str = ""  # file:line:column of the image in the manifest, when known

    def as_text(self) -> str:
        text = f"image '{self.image}': {self.message}"
        if self.position:
            text = f"{self.position}: {text}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def to_json(self) -> dict[str, str]:
        return {
            "image": self.image,
            "message": self.message,
            "hint": self.hint,
            "position": self.position,
        }


@dataclass(frozen=True)
class Note:
    """Something a person should know that the plan does not act on: drift glance-catalog may
    not correct (a pending membership, a property set by hand) or an image it keeps."""

    image: str
    message: str

    def as_text(self) -> str:
        return f"image '{self.image}': {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"image": self.image, "message": self.message}


@dataclass(frozen=True)
class ResolvedChecksum:
    """The checksum a plan was made with for an image whose manifest reads it from a checksum
    file: ``checksum`` as ``sha256:<hex>``, ``checksum_url`` redacted (for people only)."""

    image: str
    checksum: str
    checksum_url: str

    def to_json(self) -> dict[str, str]:
        return {"image": self.image, "checksum": self.checksum, "checksum_url": self.checksum_url}


@dataclass(frozen=True)
class Plan:
    """What apply will do, and what it was computed from.

    ``changes`` are one per Glance image, in the order they were planned; ``steps`` (and
    ``actions``) are every step of every change in execution order. ``observed_fingerprint``
    is the Snapshot fingerprint and ``catalog_digest`` the Catalog digest the plan was made
    from; the same inputs give a byte-identical ``to_json()``. ``manifests`` are the files the
    catalog was read from, as given, so that a saved plan can be checked against them before
    it is applied.
    ``checksums`` holds, sorted by image, every checksum read from a checksum file (what the
    manifests' digest does not pin down): a saved plan is stale when one reads differently.
    """

    cloud: str
    project_id: str
    catalog: str
    catalog_digest: str
    observed_fingerprint: str
    changes: tuple[ImageChange, ...]
    conflicts: tuple[Conflict, ...] = ()
    notes: tuple[Note, ...] = ()
    manifests: tuple[str, ...] = ()
    checksums: tuple[ResolvedChecksum, ...] = ()
    format_version: int = FORMAT_VERSION

    @cached_property
    def steps(self) -> tuple[tuple[ImageChange, Action], ...]:
        """Every step, with its change, in execution order."""
        return execution_order(self.changes)

    @property
    def actions(self) -> tuple[Action, ...]:
        """Every step in execution order: the flat view results and the JSON list use."""
        return tuple(step for _, step in self.steps)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def deletions(self) -> tuple[Action, ...]:
        """The steps that delete a Glance image (a replacement deletes the image it replaces,
        unless it keeps it): what --max-delete counts."""
        return tuple(action for action in self.actions if action.kind.deletes)

    def to_json(self) -> str:
        document = {
            "format_version": self.format_version,
            "cloud": self.cloud,
            "project_id": self.project_id,
            "catalog": self.catalog,
            "catalog_digest": self.catalog_digest,
            "manifests": list(self.manifests),
            "observed_fingerprint": self.observed_fingerprint,
            "actions": [_action_to_json(action) for action in self.actions],
            "changes": _changes_to_json(self.steps, self.changes),
            "conflicts": [conflict.to_json() for conflict in self.conflicts],
            "notes": [note.to_json() for note in self.notes],
        }
        if self.checksums:
            # Only then: a plan of a catalog without checksum files reads as it always did.
            document["checksums"] = [checksum.to_json() for checksum in self.checksums]
        return json.dumps(document, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Plan:
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or "format_version" not in document:
                raise GlanceCatalogError("not a glance-catalog plan file (no format_version)")
            version = document["format_version"]
            if version not in READABLE_VERSIONS:
                raise GlanceCatalogError(
                    f"plan format version {version!r} is not supported (this tool reads "
                    f"{', '.join(map(str, READABLE_VERSIONS))}); re-run plan"
                )
            actions = [_action_from_json(item) for item in document["actions"]]
            if version < FORMAT_VERSION:
                changes = legacy_changes(
                    [
                        (action, _replacement_from_json(item))
                        for action, item in zip(actions, document["actions"], strict=True)
                    ]
                )
            else:
                changes = _changes_from_json(document["changes"], actions)
            return cls(
                cloud=document["cloud"],
                project_id=document["project_id"],
                catalog=document["catalog"],
                catalog_digest=document["catalog_digest"],
                observed_fingerprint=document["observed_fingerprint"],
                changes=changes,
                conflicts=tuple(Conflict(**item) for item in document.get("conflicts", [])),
                notes=tuple(Note(**item) for item in document.get("notes", [])),
                manifests=tuple(str(path) for path in document.get("manifests", [])),
                checksums=tuple(ResolvedChecksum(**item) for item in document.get("checksums", [])),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise GlanceCatalogError(f"not a glance-catalog plan file: {error}") from error


def _source_to_json(source: ImageSource | None) -> dict[str, Any] | None:
    """The source as plan JSON shows it: the url as written, its userinfo and query redacted,
    since saved plans and ``--json`` output end up in CI logs and artefacts. Such a url cannot
    be fetched: apply takes the sources from the manifests."""
    if source is None:
        return None
    document: dict[str, Any] = {
        "url": redact_url(source.url) if source.url is not None else None,
        "file": str(source.file) if source.file is not None else None,
        "checksum": str(source.checksum) if source.checksum is not None else None,
        "method": source.method.value,
        "decompress": source.compression.value,
    }
    if source.checksum_url is not None:
        signature = source.checksum_signature_url
        document["checksum_from"] = {
            "url": redact_url(source.checksum_url),
            "name": source.checksum_name,
            "signature_url": redact_url(signature) if signature is not None else None,
            "signing_key": str(source.signing_key) if source.signing_key is not None else None,
        }
    if source.region is not None:
        # Only then (a glance-download): other plans read as they always did.
        document["region"] = source.region
    return document


def _source_from_json(document: dict[str, Any] | None) -> ImageSource | None:
    """The source a plan file records, its url redacted (see ``_source_to_json``)."""
    if document is None:
        return None
    origin = document.get("checksum_from") or {}
    key = origin.get("signing_key")
    return ImageSource(
        url=document["url"],
        file=Path(document["file"]) if document["file"] is not None else None,
        checksum=Checksum.parse(document["checksum"]) if document["checksum"] else None,
        method=TransferMethod(document["method"]),
        checksum_url=origin.get("url"),
        checksum_signature_url=origin.get("signature_url"),
        signing_key=Path(key) if key is not None else None,
        checksum_name=origin.get("name"),
        # Plans saved before sources could be compressed have no "decompress".
        compression=Compression(document.get("decompress", "none")),
        region=document.get("region"),
    )


def _action_to_json(action: Action) -> dict[str, Any]:
    document: dict[str, Any] = {
        "action": action.kind.value,
        "image": action.image,
        "image_id": action.image_id,
        "changes": [change.to_json() for change in action.changes],
        "source": _source_to_json(action.source),
        "member": action.member,
        "accept_with": action.accept_with,
        "recreatable": action.recreatable,
        "version": action.version,
        "stores": list(action.stores),
        "reason": action.reason,
    }
    return document


def _action_from_json(document: dict[str, Any]) -> Action:
    return Action(
        kind=ActionKind(document["action"]),
        image=document["image"],
        image_id=document["image_id"],
        changes=tuple(FieldChange(c["path"], c["before"], c["after"]) for c in document["changes"]),
        source=_source_from_json(document.get("source")),
        reason=document.get("reason", ""),
        member=document.get("member"),
        accept_with=document.get("accept_with"),
        recreatable=bool(document.get("recreatable", False)),
        version=document.get("version"),
        # Absent from plans saved before multi-store.
        stores=tuple(str(store) for store in document.get("stores", ())),
    )


def _replacement_from_json(document: dict[str, Any]) -> Replacement | None:
    """A step's replacement, in plans before version 5: absent from plans saved before
    replacements were marked (they render ungrouped)."""
    replaced = document.get("replacement")
    return Replacement(**replaced) if replaced else None


def _changes_to_json(
    steps: tuple[tuple[ImageChange, Action], ...], changes: tuple[ImageChange, ...]
) -> list[dict[str, Any]]:
    """Each change with its steps as indexes into the plan's "actions" (execution order)."""
    indexes: dict[int, list[int]] = {id(change): [] for change in changes}
    for index, (change, _) in enumerate(steps):
        indexes[id(change)].append(index)
    found = []
    for change in changes:
        document: dict[str, Any] = {
            "change": change.kind.value,
            "image": change.image,
            "version": change.version,
            "reason": change.reason,
            "steps": indexes[id(change)],
        }
        if change.replacement is not None:
            document["replacement"] = change.replacement.to_json()
        found.append(document)
    return found


def _changes_from_json(
    documents: list[dict[str, Any]], actions: list[Action]
) -> tuple[ImageChange, ...]:
    """The changes of a version 5 plan; every action belongs to exactly one change."""
    taken = [index for document in documents for index in document["steps"]]
    if sorted(taken) != list(range(len(actions))):
        raise ValueError("each action must belong to exactly one change")
    changes = []
    for document in documents:
        replaced = document.get("replacement")
        changes.append(
            ImageChange(
                ChangeKind(document["change"]),
                document["image"],
                document["version"],
                document["reason"],
                tuple(actions[index] for index in document["steps"]),
                Replacement(**replaced) if replaced else None,
            )
        )
    return tuple(changes)
