"""Plans and apply reports as text for people. Pure: returns strings; the CLI prints them."""

from __future__ import annotations

import json
from collections.abc import Callable

from catalog.model import Compression
from catalog.secrets import redact_url
from reconciler.actions import Action, ActionKind
from reconciler.executor import ActionResult, ApplyReport, Outcome
from reconciler.plan import Plan

Style = Callable[[str, str], str]

SYMBOLS = {
    ActionKind.DISCARD: ("-", "red"),
    ActionKind.RESERVE: ("+", "green"),
    ActionKind.PREPARE: ("~", "yellow"),
    ActionKind.UPLOAD: ("^", "green"),
    ActionKind.IMPORT: ("^", "green"),
    ActionKind.REMOVE_MEMBER: ("-", "red"),
    ActionKind.UPDATE: ("~", "yellow"),
    ActionKind.REACTIVATE: ("~", "yellow"),
    ActionKind.COPY_TO_STORE: ("+", "green"),
    ActionKind.REMOVE_FROM_STORE: ("-", "red"),
    ActionKind.ADD_MEMBER: ("+", "green"),
    ActionKind.ACCEPT_MEMBER: ("~", "yellow"),
    ActionKind.RENAME: ("~", "yellow"),
    ActionKind.DEACTIVATE: ("~", "yellow"),
    ActionKind.DELETE: ("-", "red"),
    ActionKind.RETIRE: ("-", "red"),
}


def plain(text: str, _colour: str) -> str:
    return text


def _value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    return json.dumps(value)


MEMBER_VERBS = {
    ActionKind.ADD_MEMBER: "will be added as a member",
    ActionKind.REMOVE_MEMBER: "will be removed as a member",
    ActionKind.ACCEPT_MEMBER: "will accept its membership",
}


def _member(action: Action) -> str:
    """'project-b (4c33...)' when the manifest names the project, else its id."""
    reference = action.changes[0].path.removeprefix("members.") if action.changes else ""
    if reference and reference != action.member:
        return f"project {reference} ({action.member})"
    return f"project {action.member}"


def _headline(action: Action) -> str:
    if action.kind is ActionKind.ACCEPT_MEMBER:
        return (
            f"{_member(action)} will accept its membership (cloud '{action.accept_with}')"
            f"{f' ({action.image_id})' if action.image_id else ''}"
        )
    target = f" ({action.image_id})" if action.image_id else ""
    if action.kind is ActionKind.RESERVE:
        replacing = action.reason.startswith("replacement")
        return f"will be created ({action.reason})" if replacing else "will be created"
    if action.kind in (ActionKind.UPLOAD, ActionKind.IMPORT):
        assert action.source is not None
        how = "uploaded from" if action.kind is ActionKind.UPLOAD else "imported by Glance from"
        details = [str(action.source.checksum)] if action.source.checksum else []
        if action.source.checksum_url is not None:
            details = []  # on a line of its own, with where it was read (checksum_line)
        if action.source.compression is not Compression.NONE:
            details.append(f"{action.source.compression}, decompressed while uploading")
        shown = f" ({'; '.join(details)})" if details else ""
        into = f" into store {action.stores[0]}" if action.stores else ""
        return f"data will be {how} {action.source.location}{shown}{into}"
    if action.kind is ActionKind.COPY_TO_STORE:
        plural = "s" if len(action.stores) > 1 else ""
        return f"data will be copied to store{plural} {', '.join(action.stores)}{target}"
    if action.kind is ActionKind.REMOVE_FROM_STORE:
        return f"data will be removed from store {', '.join(action.stores)}{target}"
    if action.kind is ActionKind.UPDATE:
        return f"will be updated in place{target}"
    if action.kind is ActionKind.PREPARE:
        return f"will get new formats before its data{target}"
    if action.kind is ActionKind.DISCARD:
        why = action.reason.removeprefix("will be recreated: ")
        return f"will be deleted and made again{target} ({why})"
    if action.kind is ActionKind.RENAME:
        return f"will be renamed{target} ({action.reason})"
    if action.kind.is_member_change:
        return f"{_member(action)} {MEMBER_VERBS[action.kind]}{target}"
    if action.kind is ActionKind.RETIRE:
        return f"will be deleted{target} ({action.reason}; hidden instead if Glance refuses)"
    return f"will be {action.kind.value}d{target}"


def checksum_line(action: Action) -> str | None:
    """``checksum: sha256:… (from <checksum file>, signature verified)`` for a data step whose
    checksum was read from a checksum file; None for any other action."""
    source = action.source
    if source is None or source.checksum_url is None or source.checksum is None:
        return None
    verified = ", signature verified" if source.signing_key is not None else ""
    return f"checksum: {source.checksum} (from {redact_url(source.checksum_url)}{verified})"


def render_plan(plan: Plan, style: Style = plain) -> str:
    lines = [f"Cloud '{plan.cloud}', project {plan.project_id}, catalog '{plan.catalog}'.", ""]
    for conflict in plan.conflicts:
        lines.append(style(f"  ! {conflict.as_text()}", "red"))
    if plan.conflicts:
        lines.append("")
    for note in plan.notes:
        lines.append(style(f"  # {note.as_text()}", "cyan"))
    if plan.notes:
        lines.append("")
    if not plan.actions:
        lines.append(_closing(plan, "No changes. Glance matches the catalog."))
        return "\n".join(lines) + "\n"
    order: list[str] = []
    for action in plan.actions:
        if action.image not in order:
            order.append(action.image)
    for image in order:
        for action in (a for a in plan.actions if a.image == image):
            symbol, colour = SYMBOLS[action.kind]
            label = f"{image} [{action.version}]" if action.version else image
            lines.append(style(f"  {symbol} {label}: {_headline(action)}", colour))
            origin = checksum_line(action)
            if origin is not None:
                lines.append(f"      {origin}")
            for change in action.changes:
                if change.before is None:
                    lines.append(style(f"      + {change.path}: {_value(change.after)}", "green"))
                elif change.after is None:
                    lines.append(style(f"      - {change.path}: {_value(change.before)}", "red"))
                else:
                    lines.append(
                        style(
                            f"      ~ {change.path}: {_value(change.before)} -> "
                            f"{_value(change.after)}",
                            "yellow",
                        )
                    )
        lines.append("")
    lines.append(_closing(plan, summary(plan)))
    return "\n".join(lines) + "\n"


def _closing(plan: Plan, text: str) -> str:
    """The plan's last line, which must agree with the exit code: a plan with conflicts
    cannot be applied, whatever else it holds."""
    if not plan.conflicts:
        return text
    count = len(plan.conflicts)
    return (
        f"{count} conflict{'' if count == 1 else 's'} (marked !): the plan cannot be applied "
        "until they are resolved."
    )


def summary(plan: Plan) -> str:
    """Counts Glance images, not manifest entries: a replacement is one to add and one to
    delete (or to change, when the previous image is kept), as Terraform counts a replace."""
    kinds: dict[tuple[str, str | None, str | None], set[ActionKind]] = {}
    members = 0
    for action in plan.actions:
        if action.kind.is_member_change:
            members += 1
        else:
            key = (action.image, action.version, action.image_id)
            kinds.setdefault(key, set()).add(action.kind)
    add = sum(1 for k in kinds.values() if ActionKind.RESERVE in k)
    delete = sum(1 for k in kinds.values() if any(kind.deletes for kind in k))
    change = len(kinds) - add - delete
    return (
        f"Plan: {add} to add, {change} to change, {delete} to delete, "
        f"{members} member change{'' if members == 1 else 's'}."
    )


def render_result(result: ActionResult, style: Style = plain) -> str:
    action = result.action
    colour = {Outcome.DONE: "green", Outcome.FAILED: "red", Outcome.SKIPPED: "yellow"}
    where = f" {result.image_id}" if result.image_id else ""
    return style(
        f"{action.image}: {action.kind.value}{where}: {result.outcome.value} "
        f"({result.detail}, {result.seconds:.1f} s)",
        colour[result.outcome],
    )


def render_failures(report: ApplyReport, style: Style = plain) -> str:
    """The failed steps alone, for --quiet."""
    return "\n".join(render_result(result, style) for result in report.failed)


def render_report(report: ApplyReport) -> str:
    done = sum(1 for r in report.results if r.outcome is Outcome.DONE)
    failed = len(report.failed)
    skipped = sum(1 for r in report.results if r.outcome is Outcome.SKIPPED)
    text = f"Apply complete: {done} done, {failed} failed, {skipped} skipped."
    if failed:
        images = sorted({r.action.image for r in report.failed})
        text = (
            f"Apply incomplete: {done} done, {failed} failed ({', '.join(images)}), "
            f"{skipped} skipped."
        )
    return text


def drift_report(plan: Plan) -> str:
    """The drift of every image as JSON: each planned action with the fields it changes
    (before is what Glance has, after what the manifest wants), plus conflicts and notes."""
    images: dict[str, list[dict[str, object]]] = {}
    for action in plan.actions:
        images.setdefault(action.image, []).append(
            {
                "action": action.kind.value,
                "image_id": action.image_id,
                "member": action.member,
                "reason": action.reason,
                "changes": [change.to_json() for change in action.changes],
            }
        )
    document = {
        "in_sync": not plan.actions and not plan.conflicts,
        "cloud": plan.cloud,
        "project_id": plan.project_id,
        "catalog": plan.catalog,
        "drifted_images": len(images),
        "images": [{"image": name, "drift": drift} for name, drift in sorted(images.items())],
        "conflicts": [conflict.to_json() for conflict in plan.conflicts],
        "notes": [note.to_json() for note in plan.notes],
    }
    return json.dumps(document, indent=2) + "\n"


def render_drift(plan: Plan, style: Style = plain) -> str:
    text = render_plan(plan, style)
    if plan.conflicts:
        return text + style("Drift unknown: the plan has conflicts.", "red") + "\n"
    if not plan.actions:
        return text + "In sync.\n"
    drifted = len({action.image for action in plan.actions})
    return text + style(f"Drift: {drifted} image(s) differ from the manifest.", "yellow") + "\n"
