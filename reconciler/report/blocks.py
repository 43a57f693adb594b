"""How reports see a plan: its actions grouped into blocks per image (one action, or every
step of one replacement), counted per Glance image, with glance-catalog's own bookkeeping set
apart. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum

from catalog.model import marker_tag
from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.results import ApplyReport, Outcome

# Every property glance-catalog keeps for itself starts so (reconciler.core.observed's constants).
BOOKKEEPING_PREFIX = "glance_catalog_"


@dataclass(frozen=True)
class Block:
    """What a report shows as one item of an image: a single action, or (``replacement``
    set) every step of one replacement in plan order. ``actions`` is never empty, and all its
    actions share ``image`` and ``version``."""

    image: str
    version: str | None
    actions: tuple[Action, ...]
    replacement: Replacement | None = None

    @property
    def label(self) -> str:
        """The image's name, with its version in brackets."""
        return f"{self.image} [{self.version}]" if self.version else self.image


def image_blocks(actions: Sequence[Action]) -> list[tuple[str, list[Block]]]:
    """Each image's blocks, images in the order their first action runs, blocks in the order
    of their first action."""
    images: dict[str, list[Block]] = {}
    # Where each replacement's block stands in its image's list.
    placed: dict[tuple[str, str | None, Replacement], int] = {}
    for action in actions:
        blocks = images.setdefault(action.image, [])
        mark = action.replacement
        if mark is None:
            blocks.append(Block(action.image, action.version, (action,)))
            continue
        key = (action.image, action.version, mark)
        if key not in placed:
            placed[key] = len(blocks)
            blocks.append(Block(action.image, action.version, (), mark))
        block = blocks[placed[key]]
        blocks[placed[key]] = Block(block.image, block.version, (*block.actions, action), mark)
    return list(images.items())


class Change(StrEnum):
    """What a plan does to one Glance image, as summaries count it."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


@dataclass(frozen=True)
class Counts:
    """How many Glance images are created, updated, replaced and deleted, and how many member
    changes: a replacement counts once, under replace (though it deletes the old image too),
    member changes apart from the images they belong to. All counts are >= 0."""

    create: int = 0
    update: int = 0
    replace: int = 0
    delete: int = 0
    members: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def of(self, change: Change) -> int:
        count: int = getattr(self, change.value)
        return count


@dataclass(frozen=True)
class Unit:
    """The steps (member changes aside) that change one Glance image, or that make one
    replacement; ``change`` says which it is."""

    image: str
    version: str | None
    change: Change
    actions: tuple[Action, ...]


def units(actions: Iterable[Action]) -> list[Unit]:
    """The plan's actions as units, in the order of their first action. Steps that follow a
    reserve carry no image id, so they fall in the reserve's unit."""
    grouped: dict[tuple[str, str | None, str | None, Replacement | None], list[Action]] = {}
    for action in actions:
        if action.kind.is_member_change:
            continue
        mark = action.replacement
        image_id = None if mark is not None else action.image_id
        grouped.setdefault((action.image, action.version, image_id, mark), []).append(action)
    found = []
    for (image, version, _, mark), steps in grouped.items():
        kinds = {step.kind for step in steps}
        if mark is not None:
            change = Change.REPLACE
        elif ActionKind.RESERVE in kinds:
            change = Change.CREATE
        elif any(kind.deletes for kind in kinds):
            change = Change.DELETE
        else:
            change = Change.UPDATE
        found.append(Unit(image, version, change, tuple(steps)))
    return found


def _counted(found: Iterable[Unit], members: int) -> Counts:
    tally = {change: 0 for change in Change}
    for unit in found:
        tally[unit.change] += 1
    return Counts(
        create=tally[Change.CREATE],
        update=tally[Change.UPDATE],
        replace=tally[Change.REPLACE],
        delete=tally[Change.DELETE],
        members=members,
    )


def plan_counts(actions: Sequence[Action]) -> Counts:
    return _counted(units(actions), sum(1 for a in actions if a.kind.is_member_change))


def apply_counts(report: ApplyReport) -> tuple[Counts, tuple[str, ...]]:
    """What an apply completed, counted as its plan was (a unit counts once every one of its
    steps is done; member changes that were done), and the images (labels, sorted) with a
    step that failed or was skipped."""
    outcome = {id(result.action): result.outcome for result in report.results}
    actions = [result.action for result in report.results]
    done = [
        unit
        for unit in units(actions)
        if all(outcome[id(step)] is Outcome.DONE for step in unit.actions)
    ]
    members = sum(
        1 for r in report.results if r.action.kind.is_member_change and r.outcome is Outcome.DONE
    )
    failed = sorted({_label(r.action) for r in report.results if r.outcome is not Outcome.DONE})
    return _counted(done, members), tuple(failed)


def _label(action: Action) -> str:
    return f"{action.image} [{action.version}]" if action.version else action.image


def is_bookkeeping(change: FieldChange) -> bool:
    return change.path.startswith(f"properties.{BOOKKEEPING_PREFIX}")


def shown_changes(
    action: Action, catalog: str, verbose: bool
) -> tuple[tuple[FieldChange, ...], bool]:
    """The changes of ``action`` a report shows, and whether any was hidden: without
    ``verbose``, glance-catalog's bookkeeping (``glance_catalog_*`` properties, the catalog's
    marker tag ``glance-catalog:<catalog>``) is left out; a tags change that only adds or
    removes the marker disappears, any other loses the marker from both sides."""
    if verbose:
        return action.changes, False
    marker = marker_tag(catalog)
    shown: list[FieldChange] = []
    for change in action.changes:
        if is_bookkeeping(change):
            continue
        if change.path == "tags":
            before, after = _without(change.before, marker), _without(change.after, marker)
            if before == after or (before is None and after == []):
                continue
            change = FieldChange("tags", before, after)
        shown.append(change)
    return tuple(shown), shown != list(action.changes)


def _without(tags: object, marker: str) -> object:
    if isinstance(tags, list):
        return [tag for tag in tags if tag != marker]
    return tags
