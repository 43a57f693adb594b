"""reconciler.report.blocks: grouping a plan's actions, counting images, hiding bookkeeping."""

from __future__ import annotations

from dataclasses import replace

from reconciler.core import observed
from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, ImageChange, execution_order
from reconciler.report.blocks import (
    BOOKKEEPING_PREFIX,
    Change,
    Counts,
    apply_counts,
    counted,
    image_blocks,
    plan_counts,
    shown_changes,
)
from tests.unit.builders import MARKER
from tests.unit.report_plans import mixed_plan, replaced_plan, results


def test_a_replacement_is_one_block_of_all_its_steps_in_plan_order() -> None:
    plan = replaced_plan()
    ((image, blocks),) = image_blocks(plan.steps)
    (block,) = blocks
    assert image == "ubuntu-24.04" and block.replacement is not None
    assert block.replacement.old_id == "old"
    assert block.actions == plan.actions
    assert [a.kind.value for a in block.actions] == [
        "reserve",
        "upload",
        "rename",
        "rename",
        "delete",
    ]


def test_other_actions_are_blocks_of_one_in_the_order_images_first_act() -> None:
    plan = mixed_plan()
    grouped = image_blocks(plan.steps)
    assert [image for image, _ in grouped] == ["r", "s", "c", "g"]  # reserves first, by name
    s_blocks = dict(grouped)["s"]
    assert [len(block.actions) for block in s_blocks] == [1, 1, 1, 1]
    assert all(block.replacement is None for block in s_blocks)
    assert len(dict(grouped)["r"]) == 1  # the replacement, as one block


def test_two_replacements_of_one_image_stay_apart_and_versions_are_labelled() -> None:
    first, second = Replacement("a", "why a"), Replacement("b", "why b")
    one = (
        Action(ActionKind.RESERVE, "x", None, version="1"),
        Action(ActionKind.DELETE, "x", "a", version="1"),
    )
    changes = [
        ImageChange(ChangeKind.REPLACE, "x", "1", "why a", one, first),
        ImageChange(
            ChangeKind.REPLACE,
            "x",
            "2",
            "why b",
            (Action(ActionKind.RESERVE, "x", None, version="2"),),
            second,
        ),
    ]
    ((_, blocks),) = image_blocks(execution_order(changes))
    assert [(b.label, len(b.actions)) for b in blocks] == [("x [1]", 2), ("x [2]", 1)]


def test_counts_are_by_image_a_replacement_once_member_changes_apart() -> None:
    plan = mixed_plan()
    assert plan_counts(plan.changes) == Counts(create=1, update=1, replace=1, delete=1, members=2)
    changes = {change.image: counted(change.kind) for change in plan.changes}
    assert changes == {
        "s": Change.CREATE,
        "r": Change.REPLACE,
        "c": Change.UPDATE,
        "g": Change.DELETE,
    }
    assert Counts(1, 2) + Counts(create=1, members=3) == Counts(2, 2, 0, 0, 3)
    assert Counts(replace=4).of(Change.REPLACE) == 4


def test_an_apply_counts_the_images_whose_every_step_was_done() -> None:
    plan = mixed_plan()
    counts, failed = apply_counts(results(plan))
    assert counts == plan_counts(plan.changes) and failed == ()
    counts, failed = apply_counts(results(plan, failing="r"))
    assert counts == Counts(create=1, update=1, replace=0, delete=1, members=2)
    assert failed == ("r",)


def test_bookkeeping_properties_and_the_marker_tag_are_hidden_unless_verbose() -> None:
    action = Action(
        ActionKind.UPDATE,
        "u",
        "id",
        (
            FieldChange("min_ram", 0, 64),
            FieldChange(f"properties.{observed.SOURCE_PROPERTY}", None, "sha256:ab"),
            FieldChange("tags", ["lts"], [MARKER, "lts", "new"]),
        ),
    )
    shown, hidden = shown_changes(action, "prod", verbose=False)
    assert hidden
    assert shown == (FieldChange("min_ram", 0, 64), FieldChange("tags", ["lts"], ["lts", "new"]))
    assert shown_changes(action, "prod", verbose=True) == (action.changes, False)
    # Adopting adds only the marker: the tags change disappears, as does a new image's lone tag.
    adopt = replace(action, changes=(FieldChange("tags", ["lts"], [MARKER, "lts"]),))
    assert shown_changes(adopt, "prod", verbose=False) == ((), True)
    new = replace(action, changes=(FieldChange("tags", None, [MARKER]),))
    assert shown_changes(new, "prod", verbose=False) == ((), True)
    plain = replace(action, changes=(FieldChange("min_ram", 0, 64),))
    assert shown_changes(plain, "prod", verbose=False) == (plain.changes, False)


def test_every_bookkeeping_property_has_the_hidden_prefix() -> None:
    names = [value for key, value in vars(observed).items() if key.endswith("_PROPERTY")]
    assert len(names) >= 6
    assert all(name.startswith(BOOKKEEPING_PREFIX) for name in names), names
