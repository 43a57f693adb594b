"""The changes of one versioned image as its planning collects them: one per Glance image a
version holds (or is made into), in the order the versions are planned. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from reconciler.core.actions import Action, Replacement
from reconciler.core.changes import ChangeKind, ImageChange, change_of, update_kind


@dataclass
class Draft:
    """The steps one Glance image of a version gets, as they are found; a rename may join
    them once the version's place (current or not) is known."""

    kind: ChangeKind
    steps: list[Action] = field(default_factory=list)
    replacement: Replacement | None = None


@dataclass
class FamilyChanges:
    """Every draft of one versioned image, filed under its ``image`` name."""

    image: str
    drafts: list[Draft] = field(default_factory=list)

    def add(
        self,
        kind: ChangeKind,
        label: str | None,
        steps: list[Action],
        replacement: Replacement | None = None,
    ) -> Draft:
        """A new draft of ``steps``, filed under the image's name and version ``label``."""
        filed = [replace(step, image=self.image, version=label) for step in steps]
        draft = Draft(kind, filed, replacement)
        self.drafts.append(draft)
        return draft

    def take(self, label: str, changes: list[ImageChange]) -> Draft | None:
        """Drafts of the changes planned for version ``label``; the last one (None if none)."""
        drafts = [
            self.add(change.kind, label, list(change.steps), change.replacement)
            for change in changes
        ]
        return drafts[-1] if drafts else None

    def finished(self) -> list[ImageChange]:
        """The drafts that have steps, as changes; an image that stays is an UPDATE, or a
        MEMBERS change when only its memberships change."""
        found = []
        for draft in self.drafts:
            if not draft.steps:
                continue
            kind = draft.kind
            if kind in (ChangeKind.UPDATE, ChangeKind.MEMBERS):
                kind = update_kind(draft.steps)
            found.append(change_of(kind, draft.steps, draft.replacement))
        return found
