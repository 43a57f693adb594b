"""Reports of runs over several targets: each target under its own header, then the totals."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.render import Style, drift_report, plain, render_drift, render_plan, render_report
from reconciler.targets import TargetApply, TargetPlan


def _header(entry: TargetPlan | TargetApply, style: Style) -> str:
    return style(f"== Target {entry.target.label} ==", "cyan") + "\n"


def _errors(lines: Sequence[str], style: Style) -> str:
    return "".join(style(f"  error: {line}", "red") + "\n" for line in lines)


def render_target_plans(entries: Sequence[TargetPlan], style: Style = plain) -> str:
    """Each target's plan under its header, then how many targets change or failed."""
    parts: list[str] = []
    for entry in entries:
        parts.append(_header(entry, style))
        if entry.plan is None:
            parts.append(_errors(entry.error, style))
        else:
            parts.append(render_plan(entry.plan, style))
        parts.append("\n")
    parts.append(_totals(entries) + "\n")
    return "".join(parts)


def render_target_drift(entries: Sequence[TargetPlan], style: Style = plain) -> str:
    parts: list[str] = []
    for entry in entries:
        parts.append(_header(entry, style))
        if entry.plan is None:
            parts.append(_errors(entry.error, style))
        else:
            parts.append(render_drift(entry.plan, style))
        parts.append("\n")
    parts.append(_totals(entries) + "\n")
    return "".join(parts)


def _totals(entries: Sequence[TargetPlan]) -> str:
    failed = [entry.target.name for entry in entries if entry.failed]
    changed = [
        entry.target.name
        for entry in entries
        if entry.plan is not None and not entry.failed and entry.plan.actions
    ]
    text = f"{len(entries)} targets: {len(changed)} with changes"
    text += f" ({', '.join(changed)})" if changed else ""
    text += f", {len(failed)} failed ({', '.join(failed)})" if failed else ", none failed"
    return text + "."


def target_drift_json(catalog: str, entries: Sequence[TargetPlan]) -> str:
    """The drift of every target as one JSON document (each target's as ``drift --json``)."""
    document = {
        "catalog": catalog,
        "in_sync": all(
            entry.plan is not None and not entry.plan.actions and not entry.plan.conflicts
            for entry in entries
        ),
        "targets": [
            {
                "target": {
                    "name": entry.target.name,
                    "cloud": entry.target.cloud,
                    "region": entry.target.region,
                },
                "drift": json.loads(drift_report(entry.plan)) if entry.plan else None,
                "error": list(entry.error),
            }
            for entry in entries
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def render_target_applies(applies: Sequence[TargetApply], style: Style = plain) -> str:
    """One outcome line per target, then the totals."""
    lines: list[str] = []
    for entry in applies:
        if entry.report is not None:
            outcome = render_report(entry.report)
        elif entry.error:
            outcome = "not applied: " + " ".join(entry.error)
        else:
            outcome = "not applied"
        colour = "red" if entry.failed else "green"
        lines.append(style(f"{entry.target.label}: {outcome}", colour))
    failed = [entry.target.name for entry in applies if entry.failed]
    total = f"{len(applies)} targets: {len(applies) - len(failed)} applied"
    total += f", {len(failed)} failed ({', '.join(failed)})." if failed else ", none failed."
    return "\n".join([*lines, total]) + "\n"
