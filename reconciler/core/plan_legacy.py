"""Reading plans of formats 2 and 3, which list steps only: their steps grouped into the
changes the planner made them as. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.core.actions import Action, ActionKind, Replacement
from reconciler.core.changes import ChangeKind, ImageChange, change_of, update_kind

# A Glance image a change is about: a replacement's steps share their mark; other steps their
# image id (None after a reserve: the image it made).
_Key = tuple[str, str | None, str | None, Replacement | None]


def legacy_changes(
    steps: Sequence[tuple[Action, Replacement | None]],
) -> tuple[ImageChange, ...]:
    """The changes of an older plan's ``steps`` (in execution order, each with the replacement
    it was marked with), in the order their first step runs. A plan saved before replacements
    were marked reads a replacement as the creation of the new image and the update or
    deletion of the old one, as its reports showed it."""
    grouped: dict[_Key, list[Action]] = {}
    marks: dict[_Key, Replacement | None] = {}
    for action, mark in steps:
        key = (action.image, action.version, None if mark is not None else action.image_id, mark)
        grouped.setdefault(key, []).append(action)
        marks[key] = mark
    return tuple(
        change_of(_kind(actions, marks[key]), actions, marks[key])
        for key, actions in grouped.items()
    )


def _kind(actions: list[Action], mark: Replacement | None) -> ChangeKind:
    kinds = {action.kind for action in actions}
    if mark is not None:
        return ChangeKind.REMAKE if ActionKind.DISCARD in kinds else ChangeKind.REPLACE
    if ActionKind.RESERVE in kinds:
        return ChangeKind.CREATE
    if ActionKind.RETIRE in kinds:
        return ChangeKind.RETIRE
    if any(kind.deletes for kind in kinds):
        return ChangeKind.DELETE
    return update_kind(actions)
