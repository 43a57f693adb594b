"""The words reports use for one action, and for one field change. Pure."""

from __future__ import annotations

import json
import re
from typing import assert_never

from catalog.model import Compression
from catalog.secrets import redact_url
from reconciler.core.actions import Action, ActionKind, FieldChange
from reconciler.core.changes import ChangeKind
from reconciler.report.blocks import Block

MEMBER_VERBS = {
    ActionKind.ADD_MEMBER: "will be added as a member",
    ActionKind.REMOVE_MEMBER: "will be removed as a member",
    ActionKind.ACCEPT_MEMBER: "will accept its membership",
}
_DIGEST = re.compile(r"\b(sha256|sha512):([0-9a-f]{8})[0-9a-f]{8,}")


def human_bytes(count: float) -> str:
    """``512 B``, ``3.0 MiB``: binary units, one decimal past bytes, GiB at most."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def short_digests(text: str) -> str:
    """``text`` with each checksum cut to its first 8 hex digits and an ellipsis."""
    return _DIGEST.sub(lambda found: f"{found[1]}:{found[2]}…", text)


def value(item: object) -> str:
    """A field value as JSON (strings quoted, lists one line)."""
    if isinstance(item, list):
        return "[" + ", ".join(json.dumps(entry) for entry in item) + "]"
    return json.dumps(item)


def change_line(change: FieldChange) -> tuple[str, str, str]:
    """(symbol, colour, text) of one field change: ``+ path: after``, ``- path: before`` or
    ``~ path: before -> after``."""
    if change.before is None:
        return "+", "green", f"{change.path}: {value(change.after)}"
    if change.after is None:
        return "-", "red", f"{change.path}: {value(change.before)}"
    return "~", "yellow", f"{change.path}: {value(change.before)} -> {value(change.after)}"


def _member(action: Action) -> str:
    """'project-b (4c33...)' when the manifest names the project, else its id."""
    reference = action.changes[0].path.removeprefix("members.") if action.changes else ""
    if reference and reference != action.member:
        return f"project {reference} ({action.member})"
    return f"project {action.member}"


def headline(action: Action, *, in_block: bool = False) -> str:
    """What ``action`` will do, for people. ``in_block``: it is shown under its replacement's
    headline, which already says why."""
    target = f" ({action.image_id})" if action.image_id else ""
    match action.kind:
        case ActionKind.ACCEPT_MEMBER:
            cloud = f"(cloud '{action.accept_with}')"
            return f"{_member(action)} will accept its membership {cloud}{target}"
        case ActionKind.RESERVE:
            # A replacement saved before steps were marked still says why on its own line.
            if action.reason.startswith("replacement") and not in_block:
                return f"will be created ({action.reason})"
            return "will be created"
        case ActionKind.UPLOAD | ActionKind.IMPORT:
            return _data(action)
        case ActionKind.COPY_TO_STORE:
            plural = "s" if len(action.stores) > 1 else ""
            return f"data will be copied to store{plural} {', '.join(action.stores)}{target}"
        case ActionKind.REMOVE_FROM_STORE:
            return f"data will be removed from store {', '.join(action.stores)}{target}"
        case ActionKind.UPDATE:
            return f"will be updated in place{target}"
        case ActionKind.PREPARE:
            return f"will get new formats before its data{target}"
        case ActionKind.DISCARD:
            why = action.reason.removeprefix("will be recreated: ")
            return f"will be deleted and made again{target}" + ("" if in_block else f" ({why})")
        case ActionKind.RENAME:
            return f"will be renamed{target} ({action.reason})"
        case ActionKind.ADD_MEMBER | ActionKind.REMOVE_MEMBER:
            return f"{_member(action)} {MEMBER_VERBS[action.kind]}{target}"
        case ActionKind.RETIRE:
            return f"will be deleted{target} ({action.reason}; hidden instead if Glance refuses)"
        case ActionKind.REACTIVATE | ActionKind.DEACTIVATE | ActionKind.DELETE:
            return f"will be {action.kind.value}d{target}"
        case unhandled:
            assert_never(unhandled)


def _data(action: Action) -> str:
    source = action.source
    assert source is not None
    how = "uploaded from" if action.kind is ActionKind.UPLOAD else "imported by Glance from"
    where = source.location
    if source.region is not None:
        where = f"{where} (image {action.image} there)"
    details = [str(source.checksum)] if source.checksum else []
    if source.checksum_url is not None:
        details = []  # on a line of its own, with where it was read (checksum_line)
    if source.compression is not Compression.NONE and source.region is None:
        details.append(f"{source.compression}, decompressed while uploading")
    shown = f" ({'; '.join(details)})" if details else ""
    into = f" into store {action.stores[0]}" if action.stores else ""
    return f"data will be {how} {where}{shown}{into}"


def block_headline(block: Block) -> str:
    """``must be replaced (what changed)`` for a replacement (``must be made again (why)``
    when the old image is broken and deleted first); a single action's own headline."""
    if block.replacement is None:
        return headline(block.actions[0])
    verb = "must be made again" if block.kind is ChangeKind.REMAKE else "must be replaced"
    return f"{verb} ({short_digests(block.replacement.why)})"


def checksum_line(action: Action) -> str | None:
    """``checksum: sha256:… (from <checksum file>, signature verified)`` for a data step whose
    checksum was read from a checksum file; None for any other action."""
    source = action.source
    if source is None or source.checksum_url is None or source.checksum is None:
        return None
    verified = ", signature verified" if source.signing_key is not None else ""
    return f"checksum: {source.checksum} (from {redact_url(source.checksum_url)}{verified})"
