"""reconciler.report.markdown: the pull-request comment of a plan or a drift check."""

from __future__ import annotations

from dataclasses import replace

from reconciler.core.plan import Note
from reconciler.core.targets import Target, TargetPlan
from reconciler.report.markdown import markdown_plan, markdown_target_plans, marker
from tests.unit.report_plans import conflicted, mixed_plan, replaced_plan


def test_the_comment_is_stable_and_starts_with_the_marker_a_bot_finds() -> None:
    text = markdown_plan(mixed_plan())
    assert text == markdown_plan(mixed_plan())  # a plan made again: byte-identical
    lines = text.splitlines()
    assert lines[0] == "<!-- glance-catalog plan: prod -->" == marker("prod")
    assert lines[1] == "### glance-catalog plan: catalog `prod`"
    assert markdown_plan(mixed_plan(), drift=True).startswith(
        "<!-- glance-catalog drift: prod -->\n### glance-catalog drift: catalog `prod`\n"
    )


def test_the_table_counts_each_target_by_image() -> None:
    lines = markdown_plan(mixed_plan()).splitlines()
    header = lines.index("| target | create | update | replace | delete | members | conflicts |")
    assert lines[header + 1] == "| :-- | --: | --: | --: | --: | --: | --: |"
    assert lines[header + 2] == "| `local` | 1 | 1 | 1 | 1 | 2 | 0 |"


def test_conflicts_come_first_in_a_visible_block() -> None:
    text = markdown_plan(conflicted(mixed_plan()))
    caution = text.index("> [!CAUTION]\n> **1 conflict: the plan cannot be applied")
    assert "> - m.yaml:3:5: image 'x': boom (hint: fix it)\n" in text
    assert caution < text.index("<details>")
    assert "> [!CAUTION]" not in markdown_plan(mixed_plan())


def test_each_image_is_a_collapsible_block_of_its_steps_as_a_diff() -> None:
    text = markdown_plan(replaced_plan())
    start = text.index("<details><summary>")
    block = text[start : text.index("</details>", start) + len("</details>")]
    lines = block.splitlines()
    assert lines[0] == (
        "<details><summary><code>-/+</code> <b>ubuntu-24.04</b>: must be replaced (source "
        "checksum sha256:cdcdcdcd… -&gt; sha256:abababab…) (5 steps)</summary>"
    )
    fence = lines.index("```diff")
    assert lines[fence + 1].startswith("-/+ ubuntu-24.04: must be replaced (source checksum")
    assert lines[fence + 2] == "+     will be created"
    assert lines[fence + 3] == '+         name: "ubuntu-24.04 (replacement)"'
    assert "-     will be deleted (old)" in lines
    assert lines[-3:] == ["```", "", "</details>"]


def test_bookkeeping_is_hidden_unless_verbose() -> None:
    hidden = markdown_plan(mixed_plan())
    assert 'glance-catalog:prod"' not in hidden and "glance_catalog_managed" not in hidden
    assert "<sub>Hidden: glance-catalog's own bookkeeping (glance\\_catalog\\_\\* " in hidden
    shown = markdown_plan(mixed_plan(), verbose=True)
    assert '"glance-catalog:prod"' in shown and "Hidden:" not in shown


def test_text_is_escaped_and_a_fence_outlasts_the_backticks_it_holds() -> None:
    plan = replaced_plan("odd```name")
    plan = replace(plan, notes=(Note("odd```name", "set *by hand* <b>"),))
    text = markdown_plan(plan)
    assert "````diff" in text and "-/+ odd```name: must be replaced" in text
    assert "<b>odd```name</b>" in text
    assert "- image 'odd\\`\\`\\`name': set \\*by hand\\* \\<b\\>" in text
    assert "<details><summary>Notes (1)</summary>" in text


def test_several_targets_get_a_row_and_a_section_each_and_a_failed_one_shows_why() -> None:
    ok = TargetPlan(Target("prod-a", "cloud-a", "RegionOne"), mixed_plan())
    down = TargetPlan(Target("prod-b", "cloud-b"), error=("cloud-b: Keystone refused",))
    text = markdown_target_plans([ok, down], catalog="prod")
    assert "| `prod-a (cloud-a, region RegionOne)` | 1 | 1 | 1 | 1 | 2 | 0 |" in text
    assert "| `prod-b (cloud-b)` | - | - | - | - | - | failed |" in text
    assert "> **1 target not planned: the plan cannot be applied" in text
    assert "> - `prod-b (cloud-b)`: cloud-b: Keystone refused" in text
    assert "#### `prod-a (cloud-a, region RegionOne)`" in text
    assert "#### `prod-b" not in text
    assert text == markdown_target_plans([ok, down], catalog="prod")


def test_an_empty_plan_and_an_in_sync_drift_say_so() -> None:
    empty = replace(mixed_plan(), changes=())
    assert markdown_plan(empty).endswith("No changes. Glance matches the catalog.\n")
    assert markdown_plan(empty, drift=True).endswith("In sync.\n")
    drifted = markdown_plan(mixed_plan(), drift=True)
    assert "\nDrift: 4 image(s) differ from the manifest.\n" in drifted
