"""The plans of a run over targets, as one JSON document: printed by ``plan --json`` and saved
by ``plan -o`` for ``apply FILE`` later, where each target's plan is checked on its own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from catalog.errors import GlanceCatalogError
from reconciler.core.plan import Plan
from reconciler.core.targets import Target, TargetPlan, reads_as_one_cloud

PLAN_SET_FORMAT = 4


@dataclass(frozen=True)
class PlanSet:
    """Every target's plan (or the errors that kept it from being made), in the order the run
    listed its targets; the same plans give a byte-identical ``to_json()``."""

    catalog: str
    entries: tuple[TargetPlan, ...]

    @property
    def complete(self) -> bool:
        """Every target has a plan without conflicts: only then may it be saved and applied."""
        return not any(entry.failed for entry in self.entries)

    def to_json(self) -> str:
        document = {
            "format_version": PLAN_SET_FORMAT,
            "catalog": self.catalog,
            "targets": [_entry_to_json(entry) for entry in self.entries],
            "summary": {
                "targets": len(self.entries),
                "failed": sum(1 for entry in self.entries if entry.failed),
                "changed": sum(
                    1 for entry in self.entries if entry.plan is not None and entry.plan.changes
                ),
            },
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> PlanSet:
        """A plan set from the parsed JSON of ``to_json``; every target must have a plan."""
        try:
            entries = []
            for item in document["targets"]:
                target = Target(**item["target"], declared=True)
                if item.get("plan") is None:
                    raise GlanceCatalogError(f"target '{target.name}' has no plan")
                plan = Plan.from_json(json.dumps(item["plan"]))
                entries.append(TargetPlan(target, plan))
            return cls(str(document["catalog"]), tuple(entries))
        except (KeyError, TypeError, ValueError) as error:
            raise GlanceCatalogError(f"not a glance-catalog plan file: {error}") from error


def _entry_to_json(entry: TargetPlan) -> dict[str, Any]:
    target = entry.target
    return {
        "target": {"name": target.name, "cloud": target.cloud, "region": target.region},
        "plan": json.loads(entry.plan.to_json()) if entry.plan is not None else None,
        "error": list(entry.error),
    }


def saved_json(targets: Sequence[TargetPlan]) -> str:
    """A run's plans as ``plan -o`` saves them and ``plan --json`` prints them: a run over one
    cloud its plan as it is (``Plan.to_json``, the format from before targets), any other run
    the plan set (``targets`` non-empty)."""
    if reads_as_one_cloud([entry.target for entry in targets]) and targets[0].plan is not None:
        return targets[0].plan.to_json()
    catalog = next((entry.plan.catalog for entry in targets if entry.plan is not None), "")
    return PlanSet(catalog, tuple(targets)).to_json()


def read_saved(text: str) -> PlanSet | Plan:
    """A saved plan file: a plan set (format 4) or one cloud's plan (formats 2, 3 and 5)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise GlanceCatalogError(f"not a glance-catalog plan file: {error}") from error
    if isinstance(document, dict) and document.get("format_version") == PLAN_SET_FORMAT:
        return PlanSet.from_document(document)
    return Plan.from_json(text)
