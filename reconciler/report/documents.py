"""The JSON documents plan and drift print. The plan's is ``Plan.to_json``, the saved-plan
format, unchanged; a run over targets wraps one document per target. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.core.plan import Plan
from reconciler.core.targets import TargetPlan, reads_as_one_cloud
from reconciler.report.format_types import DocumentFormat


def drift_document(plan: Plan) -> dict[str, Any]:
    """The drift of every image: each planned action with the fields it changes (before is
    what Glance has, after what the manifest wants), plus conflicts and notes."""
    images: dict[str, list[dict[str, object]]] = {}
    for change, action in plan.steps:
        entry: dict[str, object] = {
            "action": action.kind.value,
            "image_id": action.image_id,
            "member": action.member,
            "reason": action.reason,
            "changes": [change.to_json() for change in action.changes],
        }
        if change.replacement is not None:
            entry["replacement"] = change.replacement.to_json()
        images.setdefault(action.image, []).append(entry)
    return {
        "in_sync": not plan.actions and not plan.conflicts,
        "cloud": plan.cloud,
        "project_id": plan.project_id,
        "catalog": plan.catalog,
        "drifted_images": len(images),
        "images": [{"image": name, "drift": drift} for name, drift in sorted(images.items())],
        "conflicts": [conflict.to_json() for conflict in plan.conflicts],
        "notes": [note.to_json() for note in plan.notes],
    }


def drift_report(plan: Plan) -> str:
    """``drift --json`` for one cloud."""
    return json.dumps(drift_document(plan), indent=2) + "\n"


def plans_json(targets: Sequence[TargetPlan]) -> str:
    """``plan --json`` of a run: over one cloud ``Plan.to_json`` as it is (the saved-plan
    format); over targets the plan set (format 4, also what ``plan -o`` saves)."""
    from reconciler.core.plan_set import saved_json

    return saved_json(targets)


def drifts_json(targets: Sequence[TargetPlan]) -> str:
    """``drift --json`` of a run: over one cloud its drift document; over targets
    ``{"catalog", "in_sync", "targets": [{"target": {name, cloud, region}, "drift", "error"}]}``
    with each target's drift document (None for a target that failed, with ``error``)."""
    if reads_as_one_cloud([entry.target for entry in targets]) and targets[0].plan is not None:
        return drift_report(targets[0].plan)
    document = {
        "catalog": next((entry.plan.catalog for entry in targets if entry.plan is not None), ""),
        "in_sync": all(
            entry.plan is not None and not entry.plan.actions and not entry.plan.conflicts
            for entry in targets
        ),
        "targets": [
            {
                "target": {
                    "name": entry.target.name,
                    "cloud": entry.target.cloud,
                    "region": entry.target.region,
                },
                "drift": drift_document(entry.plan) if entry.plan is not None else None,
                "error": list(entry.error),
            }
            for entry in targets
        ],
    }
    return json.dumps(document, indent=2) + "\n"


class JsonFormat(DocumentFormat):
    """``--format json``: the plan (or plan set) and drift documents."""

    def plans(self, targets: Sequence[TargetPlan]) -> str:
        return plans_json(targets)

    def drifts(self, targets: Sequence[TargetPlan]) -> str:
        return drifts_json(targets)
