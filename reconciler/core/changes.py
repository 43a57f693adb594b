"""A plan's unit: one change to one Glance image (Terraform's resource change), with its kind,
why, and its steps in the order they run. Pure data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from reconciler.core.actions import Action, ActionKind, Replacement


class ChangeKind(StrEnum):
    """What one change does to one Glance image."""

    CREATE = "create"  # a new image: a reserve, then its data, members and state
    UPDATE = "update"  # an image that stays: its fields, data, stores, state or name
    MEMBERS = "members"  # an image that stays, of which only memberships change
    REPLACE = "replace"  # a new image takes the name of one whose data cannot serve
    REMAKE = "remake"  # a broken image without data is deleted and made again
    DELETE = "delete"  # an image is deleted (unprotected first when protected)
    RETIRE = "retire"  # a version rotated out is deleted (hidden if Glance refuses)

    @property
    def replaces(self) -> bool:
        """A new image takes the place of an old one: the change carries a Replacement."""
        return self in (ChangeKind.REPLACE, ChangeKind.REMAKE)


@dataclass(frozen=True)
class ImageChange:
    """One change to one Glance image (or to a version of a versioned image), made of its
    ``steps`` in the order they run among themselves. Every step shares ``image`` and
    ``version``; ``replacement`` is set exactly for REPLACE and REMAKE (whose steps make the new
    image and retire the old one). ``reason`` is for people; it never steers apply.

    Steps after a RESERVE carry no image id: they work on the image that RESERVE made, which
    is the one of their change."""

    kind: ChangeKind
    image: str
    version: str | None
    reason: str
    steps: tuple[Action, ...]
    replacement: Replacement | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"{self.kind.value} of image '{self.image}': a change has steps")
        if any((step.image, step.version) != (self.image, self.version) for step in self.steps):
            raise ValueError(
                f"{self.kind.value} of image '{self.image}': its steps are of another image"
            )
        if (self.replacement is not None) != self.kind.replaces:
            raise ValueError(
                f"{self.kind.value} of image '{self.image}': a replacement belongs to replace "
                "and remake, and only to them"
            )

    @property
    def label(self) -> str:
        """The image's name, with its version in brackets."""
        return f"{self.image} [{self.version}]" if self.version else self.image

    @property
    def member_steps(self) -> int:
        return sum(1 for step in self.steps if step.kind.is_member_change)


def change_of(
    kind: ChangeKind,
    steps: Iterable[Action],
    replacement: Replacement | None = None,
    reason: str | None = None,
) -> ImageChange:
    """The change of ``kind`` made of ``steps`` (all of one image and version), put in the order
    they run; its reason, unless given, is what a replacement replaces, or the first step's."""
    steps = tuple(sorted(steps, key=lambda step: (step.kind.phase, _gives_up_name(step))))
    first = steps[0]
    if reason is None:
        reason = replacement.why if replacement is not None else first.reason
    return ImageChange(kind, first.image, first.version, reason, steps, replacement)


def update_kind(steps: Iterable[Action]) -> ChangeKind:
    """UPDATE, or MEMBERS when every step of an image that stays is a member step."""
    return (
        ChangeKind.MEMBERS
        if all(step.kind.is_member_change for step in steps)
        else ChangeKind.UPDATE
    )


def _gives_up_name(step: Action) -> bool:
    """A rename that takes another name than its image's: it runs after the rename that
    gives its image's name to another Glance image, so that the name never points at nothing."""
    return step.kind is ActionKind.RENAME and step.changes[0].after != step.image


def execution_order(changes: Iterable[ImageChange]) -> tuple[tuple[ImageChange, Action], ...]:
    """Every step of ``changes``, each with its change, in the order apply runs them: by
    STEP_ORDER, then by image name; among steps of one kind and one image, a rename that takes
    the image's name before one that gives it up, then the changes in their order and each
    change's steps in theirs. Deterministic."""
    numbered = [
        (step.kind.phase, step.image, _gives_up_name(step), position, index, change, step)
        for position, change in enumerate(changes)
        for index, step in enumerate(change.steps)
    ]
    numbered.sort(key=lambda entry: entry[:5])
    return tuple((change, step) for *_, change, step in numbered)
