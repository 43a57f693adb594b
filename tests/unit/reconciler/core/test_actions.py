"""reconciler.core.actions: the step order table, and the fields each kind of step may have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.model import ImageSource
from reconciler.core.actions import STEP_ORDER, Action, ActionKind, FieldChange

SOURCE = ImageSource(None, Path("/disk.raw"), None)
NAME = (FieldChange("name", "a", "b"),)


def test_the_order_table_names_every_kind_once_and_sets_the_phase() -> None:
    assert sorted(STEP_ORDER) == sorted(ActionKind) and len(STEP_ORDER) == len(ActionKind)
    assert [kind.phase for kind in STEP_ORDER] == list(range(len(ActionKind)))
    before = [(ActionKind.DISCARD, ActionKind.RESERVE), (ActionKind.RESERVE, ActionKind.UPLOAD)]
    before += [
        (ActionKind.PREPARE, ActionKind.UPLOAD),
        (ActionKind.REMOVE_MEMBER, ActionKind.UPDATE),
    ]
    before += [(ActionKind.COPY_TO_STORE, ActionKind.REMOVE_FROM_STORE)]
    before += [(ActionKind.REACTIVATE, ActionKind.COPY_TO_STORE)]
    before += [(ActionKind.REMOVE_FROM_STORE, ActionKind.DEACTIVATE)]
    before += [
        (ActionKind.UPDATE, ActionKind.ADD_MEMBER),
        (ActionKind.ADD_MEMBER, ActionKind.ACCEPT_MEMBER),
    ]
    before += [(ActionKind.RENAME, ActionKind.DELETE), (ActionKind.DELETE, ActionKind.RETIRE)]
    assert all(first.phase < then.phase for first, then in before)
    assert {kind for kind in ActionKind if kind.late} == {ActionKind.DELETE, ActionKind.RETIRE}
    assert all(
        kind.phase > other.phase
        for kind in ActionKind
        if kind.late
        for other in ActionKind
        if not other.late
    )


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (ActionKind.UPLOAD, {"source": SOURCE, "stores": ("fast",), "recreatable": True}),
        (ActionKind.IMPORT, {"source": SOURCE}),
        (ActionKind.ADD_MEMBER, {"member": "p"}),
        (ActionKind.ACCEPT_MEMBER, {"member": "p", "accept_with": "cloud-p"}),
        (ActionKind.COPY_TO_STORE, {"stores": ("a", "b")}),
        (ActionKind.REMOVE_FROM_STORE, {"stores": ("a",)}),
        (ActionKind.RENAME, {"changes": NAME}),
        (ActionKind.DELETE, {}),
    ],
)
def test_a_step_with_the_fields_of_its_kind_is_made(
    kind: ActionKind, fields: dict[str, Any]
) -> None:
    assert Action(kind, "u", "id", **fields).kind is kind


@pytest.mark.parametrize(
    ("kind", "image_id", "fields", "refusal"),
    [
        (ActionKind.UPLOAD, "id", {}, "a source belongs to upload and import"),
        (ActionKind.UPDATE, "id", {"source": SOURCE}, "a source belongs to upload and import"),
        (ActionKind.DELETE, "id", {"recreatable": True}, "only an upload or import step"),
        (ActionKind.ADD_MEMBER, "id", {}, "a member belongs to member steps"),
        (ActionKind.UPDATE, "id", {"member": "p"}, "a member belongs to member steps"),
        (ActionKind.ACCEPT_MEMBER, "id", {"member": "p"}, "accept_with belongs to accept_member"),
        (ActionKind.ADD_MEMBER, "id", {"member": "p", "accept_with": "c"}, "accept_with belongs"),
        (ActionKind.RESERVE, "id", {}, "a reserve makes a new image: it has no image id"),
        (ActionKind.RENAME, "id", {}, "a rename's first change is the name's"),
        (
            ActionKind.RENAME,
            "id",
            {"changes": (FieldChange("hidden", True, False),)},
            "a rename.s first change",
        ),
        (ActionKind.UPLOAD, "id", {"source": SOURCE, "stores": ("a", "b")}, "one store at most"),
        (ActionKind.REMOVE_FROM_STORE, "id", {"stores": ("a", "b")}, "one store at most"),
        (ActionKind.DELETE, "id", {"stores": ("a",)}, "only data and store steps name stores"),
    ],
)
def test_a_step_with_fields_its_kind_does_not_have_is_refused(
    kind: ActionKind, image_id: str, fields: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(ValueError, match=f"{kind.value} step of image 'u': {refusal}"):
        Action(kind, "u", image_id, **fields)
