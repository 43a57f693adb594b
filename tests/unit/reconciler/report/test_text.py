"""reconciler.report.text and documents: the human plan, its summary line, the drift report."""

from __future__ import annotations

import json
from dataclasses import replace

import click

from catalog.model import Checksum, ImageState, MemberSpec, Visibility
from reconciler.core.planner import make_plan
from reconciler.report.documents import drift_report
from reconciler.report.legend import legend
from reconciler.report.style import ansi
from reconciler.report.text import render_drift, render_plan, summary
from tests.unit.builders import MARKER, catalog, desired, observed_like, snapshot
from tests.unit.report_plans import conflicted, mixed_plan, replaced_plan


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
    # New: s. Replaced (one image, though it deletes the old r): r. Deleted: g. Changed: c.
    assert summary(plan) == (
        "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete, 2 member changes."
    )


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


def test_a_replacement_is_one_block_saying_what_changed_with_its_steps_indented() -> None:
    text = render_plan(replaced_plan())
    block = text.split("\n\n")[1]
    assert block.splitlines() == [
        "  -/+ ubuntu-24.04: must be replaced (source checksum sha256:cdcdcdcd… -> "
        "sha256:abababab…)",
        "      + will be created",
        '          + name: "ubuntu-24.04 (replacement)"',
        '          + disk_format: "qcow2"',
        '          + container_format: "bare"',
        '          + visibility: "private"',
        "          + protected: false",
        "          + hidden: true",
        "          + min_disk: 0",
        "          + min_ram: 0",
        '          + tags: ["lts"]',
        '          + properties.os_distro: "ubuntu"',
        f"      ^ data will be uploaded from http://127.0.0.1:1/u.img ({'sha256:' + 'ab' * 32})",
        "      ~ will be renamed (the replacement takes over the name)",
        '          ~ name: "ubuntu-24.04 (replacement)" -> "ubuntu-24.04"',
        "          ~ hidden: true -> false",
        "      ~ will be renamed (old) (replaced; deleted next)",
        '          ~ name: "ubuntu-24.04" -> "ubuntu-24.04 (previous old)"',
        "      - will be deleted (old)",
    ]
    assert text.endswith(
        "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete, 0 member changes.\n"
    )


def test_the_legend_names_only_the_symbols_the_plan_uses() -> None:
    lines = render_plan(replaced_plan()).splitlines()
    assert lines[1] == "Legend: + create/add  ~ update  - delete/remove  -/+ replace  ^ data"
    image = desired(min_ram=64)
    update = render_plan(make_plan(catalog(image), snapshot(observed_like(desired()))))
    assert update.splitlines()[1] == "Legend: ~ update"
    assert legend([]) is None
    assert legend(["#", "!", "+"]) == "Legend: + create/add  ! conflict  # note"
    empty = render_plan(make_plan(catalog(image), snapshot(observed_like(image))))
    assert "Legend" not in empty and empty.endswith("No changes. Glance matches the catalog.\n")


def test_bookkeeping_is_hidden_by_default_but_an_action_made_only_of_it_still_shows() -> None:
    image = desired(adopt=True)
    theirs = replace(observed_like(image, "theirs"), tags=frozenset({"lts"}))
    plan = make_plan(catalog(image), snapshot(theirs))
    text = render_plan(plan)
    assert "  ~ ubuntu: will be updated in place (theirs) (bookkeeping only)\n" in text
    assert MARKER not in text.replace(f"tag {MARKER});", "")
    assert "Hidden: glance-catalog's own bookkeeping (glance_catalog_* properties, tag " in text
    verbose = render_plan(plan, verbose=True)
    assert "(bookkeeping only)" not in verbose and "Hidden:" not in verbose
    assert f'      ~ tags: ["lts"] -> ["{MARKER}", "lts"]\n' in verbose


def test_conflicts_come_first_and_again_last_where_the_exit_code_is_explained() -> None:
    plan = conflicted(mixed_plan())
    lines = render_plan(plan).splitlines()
    assert lines[3] == "  ! m.yaml:3:5: image 'x': boom (hint: fix it)"
    assert lines[-2:] == [
        "1 conflict (marked !): the plan cannot be applied until they are resolved:",
        "  ! m.yaml:3:5: image 'x': boom (hint: fix it)",
    ]
    drift = render_drift(plan).splitlines()
    assert drift[-2:] == [
        "Drift unknown: 1 conflict (marked !) in the plan:",
        "  ! m.yaml:3:5: image 'x': boom (hint: fix it)",
    ]


def test_colour_is_the_styles_business_and_every_line_keeps_its_text() -> None:
    plan = replaced_plan()
    coloured = render_plan(plan, ansi)
    assert "\x1b[35m  -/+ ubuntu-24.04: must be replaced" in coloured
    assert "\x1b[32m      + will be created\x1b[0m" in coloured
    assert click.unstyle(coloured) == render_plan(plan)
