"""reconciler.render: the human plan, its summary line, and the drift report."""

from __future__ import annotations

import json
from dataclasses import replace

from catalog.model import Checksum, ImageState, MemberSpec, Visibility
from reconciler.planner import make_plan
from reconciler.render import drift_report, render_drift, render_plan, summary
from tests.unit.builders import catalog, desired, observed_like, snapshot


def test_the_summary_counts_glance_images_and_member_changes_apart() -> None:
    shared = desired("s", visibility=Visibility.SHARED, members=(MemberSpec("a", "cloud-a"),))
    changed = desired("c", min_ram=64)
    gone = desired("g", state=ImageState.ABSENT)
    replaced = desired("r")
    assert replaced.source is not None
    new_source = replace(replaced.source, checksum=Checksum.parse("sha256:" + "ab" * 32))
    plan = make_plan(
        catalog(shared, changed, gone, replace(replaced, source=new_source)),
        replace(
            snapshot(
                observed_like(desired("c"), "c"),
                observed_like(desired("g"), "g"),
                observed_like(replaced, "r"),
            ),
            projects={"a": "pa"},
        ),
    )
    # New: s and the replacement of r. Deleted: g and the old r. Changed: c.
    assert summary(plan) == "Plan: 2 to add, 1 to change, 2 to delete, 2 member changes."


def test_the_text_plan_groups_by_image_and_shows_notes_and_changes() -> None:
    image = desired(min_ram=64)
    observed = observed_like(desired())
    by_hand = replace(observed, properties={**observed.properties, "x_by_hand": "1"})
    text = render_plan(make_plan(catalog(image), snapshot(by_hand)))
    assert "  # image 'ubuntu': properties set outside the catalog are kept: x_by_hand" in text
    assert "  ~ ubuntu: will be updated in place (id-1)\n      ~ min_ram: 0 -> 64\n" in text
    assert "\x1b[" not in text
    drift = render_drift(make_plan(catalog(image), snapshot(by_hand)))
    assert drift.endswith("Drift: 1 image(s) differ from the manifest.\n")


def test_the_drift_report_lists_every_drifted_field_per_image() -> None:
    image = desired(min_ram=64, hidden=True)
    report = json.loads(drift_report(make_plan(catalog(image), snapshot(observed_like(desired())))))
    assert report["in_sync"] is False and report["drifted_images"] == 1
    (entry,) = report["images"]
    assert entry["image"] == "ubuntu"
    assert entry["drift"][0]["changes"] == [
        {"path": "hidden", "before": False, "after": True},
        {"path": "min_ram", "before": 0, "after": 64},
    ]
    in_sync = json.loads(drift_report(make_plan(catalog(image), snapshot(observed_like(image)))))
    assert in_sync["in_sync"] is True and in_sync["images"] == []
