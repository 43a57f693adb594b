"""How reports see a plan: its changes shown per image (a replacement as one block of all its
steps, every other step on its own), counted per Glance image, with glance-catalog's own
bookkeeping set apart. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import assert_never

from catalog.model import marker_tag
from reconciler.core.actions import Action, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, ImageChange
from reconciler.core.results import ApplyReport, Outcome

# Every property glance-catalog keeps for itself starts so (reconciler.core.observed's constants).
BOOKKEEPING_PREFIX = "glance_catalog_"


@dataclass(frozen=True)
class Block:
    """What a report shows as one item of an image: a single action, or (``replacement``
    set) every step of one replacement in plan order, ``kind`` saying which (REPLACE or
    REMAKE). ``actions`` is never empty, and all its actions share ``image`` and ``version``."""

    image: str
    version: str | None
    actions: tuple[Action, ...]
    replacement: Replacement | None = None
    kind: ChangeKind | None = None

    @property
    def label(self) -> str:
        """The image's name, with its version in brackets."""
        return f"{self.image} [{self.version}]" if self.version else self.image


def image_blocks(
    steps: Sequence[tuple[ImageChange, Action]],
) -> list[tuple[str, list[Block]]]:
    """Each image's blocks, from a plan's ``steps`` (``Plan.steps``): images in the order their
    first step runs, blocks in the order of their first step; a change that replaces an image
    is one block of all its steps."""
    images: dict[str, list[Block]] = {}
    # Where each replacement's block stands in its image's list.
    placed: dict[int, int] = {}
    for change, action in steps:
        blocks = images.setdefault(action.image, [])
        mark = change.replacement
        if mark is None:
            blocks.append(Block(action.image, action.version, (action,)))
            continue
        if id(change) not in placed:
            placed[id(change)] = len(blocks)
            blocks.append(Block(action.image, action.version, (), mark, change.kind))
        at = placed[id(change)]
        block = blocks[at]
        blocks[at] = replace(block, actions=(*block.actions, action))
    return list(images.items())


class Change(StrEnum):
    """What a plan does to one Glance image, as summaries count it."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


def counted(kind: ChangeKind) -> Change | None:
    """Under which count a change of ``kind`` falls: a replacement (or an image made again)
    once, under replace, though it deletes the old image too; a retired version under delete;
    a change of memberships only under none (member changes are counted apart)."""
    match kind:
        case ChangeKind.CREATE:
            return Change.CREATE
        case ChangeKind.UPDATE:
            return Change.UPDATE
        case ChangeKind.REPLACE | ChangeKind.REMAKE:
            return Change.REPLACE
        case ChangeKind.DELETE | ChangeKind.RETIRE:
            return Change.DELETE
        case ChangeKind.MEMBERS:
            return None
        case unhandled:
            assert_never(unhandled)


@dataclass(frozen=True)
class Counts:
    """How many Glance images are created, updated, replaced and deleted (see ``counted``), and
    how many member changes. All counts are >= 0."""

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

    def phrase(self, created: str, updated: str, replaced: str, deleted: str) -> str:
        """The counts in words, each image count with its word, member changes last:
        ``1 created, 0 updated, 0 replaced, 2 deleted, 1 member change``."""
        members = f"{self.members} member change{'' if self.members == 1 else 's'}"
        return (
            f"{self.create} {created}, {self.update} {updated}, {self.replace} {replaced}, "
            f"{self.delete} {deleted}, {members}"
        )


def _counted(changes: Iterable[ImageChange], members: int) -> Counts:
    tally = dict.fromkeys(Change, 0)
    for change in changes:
        if (under := counted(change.kind)) is not None:
            tally[under] += 1
    return Counts(
        create=tally[Change.CREATE],
        update=tally[Change.UPDATE],
        replace=tally[Change.REPLACE],
        delete=tally[Change.DELETE],
        members=members,
    )


def plan_counts(changes: Sequence[ImageChange]) -> Counts:
    return _counted(changes, sum(change.member_steps for change in changes))


def apply_counts(report: ApplyReport) -> tuple[Counts, tuple[str, ...]]:
    """What an apply completed, counted as its plan was (a change counts once each of its
    steps the report has a result for, member steps aside, is done; member changes that were
    done), and the images (labels, sorted) with a step that failed or was skipped."""
    outcome = {id(result.action): result.outcome for result in report.results}
    done = []
    for change in report.changes:
        ended = [
            outcome[id(step)]
            for step in change.steps
            if id(step) in outcome and not step.kind.is_member_change
        ]
        if ended and all(result is Outcome.DONE for result in ended):
            done.append(change)
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
