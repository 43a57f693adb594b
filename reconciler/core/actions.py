"""The closed set of things a plan can do to Glance. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from catalog.model import ImageSource

JsonValue = Any


class ActionKind(StrEnum):
    """What one action does. Declaration order means nothing: STEP_ORDER says when each kind
    runs. RETIRE deletes a version rotated out by its retire policy, and hides it instead when
    Glance refuses the delete."""

    DISCARD = "discard"
    RESERVE = "reserve"
    PREPARE = "prepare"
    UPLOAD = "upload"
    IMPORT = "import"
    REMOVE_MEMBER = "remove_member"
    UPDATE = "update"
    REACTIVATE = "reactivate"
    COPY_TO_STORE = "copy_to_store"
    REMOVE_FROM_STORE = "remove_from_store"
    ADD_MEMBER = "add_member"
    ACCEPT_MEMBER = "accept_member"
    RENAME = "rename"
    DEACTIVATE = "deactivate"
    DELETE = "delete"
    RETIRE = "retire"

    @property
    def phase(self) -> int:
        """When this kind runs among the steps of one image (and across images): STEP_ORDER."""
        return STEP_ORDER.index(self)

    @property
    def deletes(self) -> bool:
        """Deletes a Glance image (REMOVE_FROM_STORE deletes one copy of its data, not the
        image: it does not count toward --max-delete)."""
        return self in (ActionKind.DISCARD, ActionKind.DELETE, ActionKind.RETIRE)

    @property
    def late(self) -> bool:
        """Runs only once every other step of every image has finished."""
        return self in (ActionKind.DELETE, ActionKind.RETIRE)

    @property
    def is_member_change(self) -> bool:
        return self in MEMBER_KINDS

    @property
    def moves_data(self) -> bool:
        """Sends data into the image (UPLOAD) or has Glance fetch it (IMPORT)."""
        return self in DATA_KINDS


# Execution order: a broken image is discarded before the image that takes its place is made;
# data first (an image without data gets new formats before it, as Glance freezes them with
# the data), members removed before an update can take an image out of shared, members added
# and accepted after it became shared, names swapped once a replacement is complete (or a new
# version takes the name), deletes last.
#
# Store changes come once the image is active (Glance copies and removes the data of active
# images only): after the data steps and after a reactivate, before a deactivate. So a
# replacement is in all its stores before it takes over the name. Copies precede removals,
# so that an image always keeps a copy: a failed copy skips the removals of its image.
STEP_ORDER: tuple[ActionKind, ...] = (
    ActionKind.DISCARD,
    ActionKind.RESERVE,
    ActionKind.PREPARE,
    ActionKind.UPLOAD,
    ActionKind.IMPORT,
    ActionKind.REMOVE_MEMBER,
    ActionKind.UPDATE,
    ActionKind.REACTIVATE,
    ActionKind.COPY_TO_STORE,
    ActionKind.REMOVE_FROM_STORE,
    ActionKind.ADD_MEMBER,
    ActionKind.ACCEPT_MEMBER,
    ActionKind.RENAME,
    ActionKind.DEACTIVATE,
    ActionKind.DELETE,
    ActionKind.RETIRE,
)
MEMBER_KINDS = frozenset(
    {ActionKind.ADD_MEMBER, ActionKind.REMOVE_MEMBER, ActionKind.ACCEPT_MEMBER}
)
DATA_KINDS = frozenset({ActionKind.UPLOAD, ActionKind.IMPORT})


@dataclass(frozen=True)
class FieldChange:
    """One field of one image, from ``before`` to ``after``; None on a side means absent.

    ``path`` is ``visibility``, ``hidden``, ``tags``, ``properties.<key>``, ...: as people read it.
    """

    path: str
    before: JsonValue
    after: JsonValue

    def to_json(self) -> dict[str, JsonValue]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Replacement:
    """What a REPLACE or REMAKE change replaces: a new image takes the place of the Glance image
    ``old_id`` (a replacement proper, or a broken image deleted and made again). ``why`` says
    what changed, for people; it never steers apply."""

    old_id: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"old_id": self.old_id, "why": self.why}


@dataclass(frozen=True)
class Action:
    """One step of a plan on one image; ``__post_init__`` refuses a step whose fields do not fit
    its kind.

    ``image`` is the manifest image the step is filed under (a versioned image's steps, of all
    its versions, share its name), ``version`` the version label of a versioned image's step.
    ``image_id`` is None for RESERVE and for the steps of the same change that follow it (they
    work on the image the RESERVE made). ``reason`` is for people; it never steers apply.

    Per kind:
    - UPLOAD and IMPORT: ``source`` is set; ``stores`` is the one store the data goes to, or
      empty for Glance's default; ``recreatable`` says the image holds no verified data and
      glance-catalog may delete it and make it again when Glance cannot take data into it
      (never for a fixed id or an adopted image).
    - ADD_MEMBER, REMOVE_MEMBER, ACCEPT_MEMBER: ``member`` is the project id; ACCEPT_MEMBER's
      ``accept_with`` is a clouds.yaml entry of the member project.
    - COPY_TO_STORE: ``stores`` are the stores to copy to (one or more, none of which holds the
      data yet). REMOVE_FROM_STORE: exactly the one store to remove the data from, planned only
      where another store keeps a copy (a plan saved before stores were recorded has none).
    - RESERVE: no ``image_id``. RENAME: its first change is the name's.
    - Every other field is empty for every other kind.
    """

    kind: ActionKind
    image: str
    image_id: str | None
    changes: tuple[FieldChange, ...] = ()
    source: ImageSource | None = None
    reason: str = ""
    member: str | None = None
    accept_with: str | None = None
    recreatable: bool = False
    version: str | None = None
    stores: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if problem := self._misfit():
            raise ValueError(f"{self.kind.value} step of image '{self.image}': {problem}")

    def _misfit(self) -> str:
        """What in this step does not fit its kind ("" when it all does)."""
        kind = self.kind
        if (self.source is not None) != kind.moves_data:
            return "a source belongs to upload and import steps, and only to them"
        if self.recreatable and not kind.moves_data:
            return "only an upload or import step may recreate its image"
        if (self.member is not None) != kind.is_member_change:
            return "a member belongs to member steps, and only to them"
        if (self.accept_with is not None) != (kind is ActionKind.ACCEPT_MEMBER):
            return "accept_with belongs to accept_member steps, and only to them"
        if kind is ActionKind.RESERVE and self.image_id is not None:
            return "a reserve makes a new image: it has no image id"
        if kind is ActionKind.RENAME and (not self.changes or self.changes[0].path != "name"):
            return "a rename's first change is the name's"
        return _misfit_stores(kind, self.stores)


def _misfit_stores(kind: ActionKind, stores: tuple[str, ...]) -> str:
    # A plan saved before stores were recorded reads its store steps with none: not refused.
    match kind:
        case ActionKind.UPLOAD | ActionKind.IMPORT | ActionKind.REMOVE_FROM_STORE:
            return "" if len(stores) <= 1 else "one store at most"
        case ActionKind.COPY_TO_STORE:
            return ""
        case _:
            return "" if not stores else "only data and store steps name stores"
