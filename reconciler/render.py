"""Plans and apply reports as text for people. Pure: returns strings; the CLI prints them."""

from __future__ import annotations

import json
from collections.abc import Callable

from reconciler.actions import Action, ActionKind
from reconciler.executor import ActionResult, ApplyReport, Outcome
from reconciler.plan import Plan

Style = Callable[[str, str], str]

SYMBOLS = {
    ActionKind.RESERVE: ("+", "green"),
    ActionKind.UPLOAD: ("^", "green"),
    ActionKind.IMPORT: ("^", "green"),
    ActionKind.UPDATE: ("~", "yellow"),
    ActionKind.REACTIVATE: ("~", "yellow"),
    ActionKind.DEACTIVATE: ("~", "yellow"),
    ActionKind.DELETE: ("-", "red"),
}


def plain(text: str, _colour: str) -> str:
    return text


def _value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    return json.dumps(value)


def _headline(action: Action) -> str:
    target = f" ({action.image_id})" if action.image_id else ""
    if action.kind is ActionKind.RESERVE:
        return "will be created"
    if action.kind in (ActionKind.UPLOAD, ActionKind.IMPORT):
        assert action.source is not None
        how = "uploaded from" if action.kind is ActionKind.UPLOAD else "imported by Glance from"
        checksum = f" ({action.source.checksum})" if action.source.checksum else ""
        return f"data will be {how} {action.source.location}{checksum}"
    if action.kind is ActionKind.UPDATE:
        return f"will be updated in place{target}"
    return f"will be {action.kind.value}d{target}"


def render_plan(plan: Plan, style: Style = plain) -> str:
    lines = [f"Cloud '{plan.cloud}', project {plan.project_id}, catalog '{plan.catalog}'.", ""]
    for conflict in plan.conflicts:
        lines.append(style(f"  ! {conflict.as_text()}", "red"))
    if plan.conflicts:
        lines.append("")
    if not plan.actions:
        lines.append("No changes. Glance matches the catalog.")
        return "\n".join(lines) + "\n"
    order: list[str] = []
    for action in plan.actions:
        if action.image not in order:
            order.append(action.image)
    for image in order:
        for action in (a for a in plan.actions if a.image == image):
            symbol, colour = SYMBOLS[action.kind]
            lines.append(style(f"  {symbol} {image}: {_headline(action)}", colour))
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
    lines.append(summary(plan))
    return "\n".join(lines) + "\n"


def summary(plan: Plan) -> str:
    kinds: dict[str, set[ActionKind]] = {}
    for action in plan.actions:
        kinds.setdefault(action.image, set()).add(action.kind)
    add = sum(1 for k in kinds.values() if ActionKind.RESERVE in k)
    delete = sum(1 for k in kinds.values() if ActionKind.DELETE in k)
    change = len(kinds) - add - delete
    return f"Plan: {add} to add, {change} to change, {delete} to delete."


def render_result(result: ActionResult, style: Style = plain) -> str:
    action = result.action
    colour = {Outcome.DONE: "green", Outcome.FAILED: "red", Outcome.SKIPPED: "yellow"}
    where = f" {result.image_id}" if result.image_id else ""
    return style(
        f"{action.image}: {action.kind.value}{where}: {result.outcome.value} "
        f"({result.detail}, {result.seconds:.1f} s)",
        colour[result.outcome],
    )


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
