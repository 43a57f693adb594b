"""Plans the report tests share: made by the real planner from small catalogs."""

from __future__ import annotations

from dataclasses import replace

from catalog.model import Checksum, ImageState, MemberSpec, Visibility
from reconciler.core.actions import Action
from reconciler.core.plan import Conflict, Plan
from reconciler.core.planner import make_plan
from reconciler.core.results import ActionResult, ApplyReport, Outcome
from tests.unit.builders import catalog, desired, observed_like, snapshot

NEW = Checksum.parse("sha256:" + "ab" * 32)


def replaced_plan(name: str = "ubuntu-24.04") -> Plan:
    """One image whose source checksum changed: a replacement (old image id ``old``)."""
    image = desired(name)
    assert image.source is not None
    return make_plan(
        catalog(replace(image, source=replace(image.source, checksum=NEW))),
        snapshot(observed_like(image, "old")),
    )


def mixed_plan() -> Plan:
    """s created (with a member added and accepted), c updated, g deleted, r replaced."""
    shared = desired("s", visibility=Visibility.SHARED, members=(MemberSpec("a", "cloud-a"),))
    replaced = desired("r")
    assert replaced.source is not None
    new_source = replace(replaced.source, checksum=NEW)
    return make_plan(
        catalog(
            shared,
            desired("c", min_ram=64),
            desired("g", state=ImageState.ABSENT),
            replace(replaced, source=new_source),
        ),
        replace(
            snapshot(
                observed_like(desired("c"), "c"),
                observed_like(desired("g"), "g"),
                observed_like(replaced, "r"),
            ),
            projects={"a": "pa"},
        ),
    )


def conflicted(plan: Plan) -> Plan:
    return replace(plan, conflicts=(Conflict("x", "boom", "fix it", "m.yaml:3:5"),))


def results(plan: Plan, failing: str | None = None) -> ApplyReport:
    """Every step done, but ``failing``'s first step, which fails (and the rest of that
    image's steps are skipped), as the executor reports them."""
    found: list[ActionResult] = []
    failed: set[str] = set()
    for action in plan.actions:
        found.append(_result(action, failing, failed))
    return ApplyReport(tuple(found), plan.changes)


def _result(action: Action, failing: str | None, failed: set[str]) -> ActionResult:
    if action.image in failed:
        return ActionResult(action, Outcome.SKIPPED, "skipped: an earlier step failed", 0.0, None)
    if action.image == failing:
        failed.add(action.image)
        detail = f"image '{action.image}': Glance said no"
        return ActionResult(action, Outcome.FAILED, detail, 0.5, action.image_id)
    size = 3 * 1024 * 1024 if action.kind.value == "upload" else None
    detail = f"uploaded {size} bytes" if size else "done"
    return ActionResult(action, Outcome.DONE, detail, 1.25, action.image_id or "new", size)
