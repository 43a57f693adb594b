"""The closed set of things a plan can do to Glance. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from catalog.model import ImageSource

JsonValue = Any


class ActionKind(StrEnum):
    """What one action does. Declaration order is execution order across images: a broken
    image is discarded before the image that takes its place is made; data first
    (an image without data gets new formats before it, as Glance freezes them with the data),
    members removed before an update can take an image out of shared, members added and
    accepted after it became shared, names swapped once a replacement is complete (or a new
    version takes the name), deletes last. RETIRE deletes a version rotated out by its retire
    policy, and hides it instead when Glance refuses the delete.

    Store changes come once the image is active (Glance copies and removes the data of active
    images only): after the data steps and after a reactivate, before a deactivate. So a
    replacement is in all its stores before it takes over the name. Copies precede removals,
    so that an image always keeps a copy: a failed copy skips the removals of its image."""

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
        return list(ActionKind).index(self)

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
        return self in (ActionKind.ADD_MEMBER, ActionKind.REMOVE_MEMBER, ActionKind.ACCEPT_MEMBER)


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
    """Marks every step of one replacement: a new image takes the place of the Glance image
    ``old_id`` (a replacement proper, or a broken image deleted and made again). ``why`` says
    what changed, for people; it never steers apply. The steps of one replacement share
    ``image``, ``version`` and this value, which is how reports group them."""

    old_id: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"old_id": self.old_id, "why": self.why}


@dataclass(frozen=True)
class Action:
    """One step of a plan on one image.

    ``image_id`` is None only for RESERVE and for the steps that follow a RESERVE of the same
    image in the same plan (the executor uses the id the RESERVE produced). ``source`` is set
    exactly for UPLOAD and IMPORT; ``member`` (a project id) exactly for member actions, and
    ``accept_with`` (a clouds.yaml entry of the member project) for ACCEPT_MEMBER. ``reason``
    is for people; it never steers apply. ``recreatable`` (UPLOAD and IMPORT only) says the
    image holds no verified data and glance-catalog may delete it and make it again when
    Glance cannot take data into it (never for a fixed id or an adopted image). ``version``
    is the version label of a versioned image's step: the steps of all versions are filed
    under the image's name (so they share its fate), and an ``image_id`` of None refers to the
    image the RESERVE of the same version made.

    ``stores`` (Glance store ids) is: for UPLOAD and IMPORT the one store the data goes to, or
    empty for Glance's default; for COPY_TO_STORE the stores to copy to (one or more, none of
    which holds the data yet); for REMOVE_FROM_STORE exactly the one store to remove the data
    from, planned only where another store keeps a copy; empty for every other kind.

    ``replacement`` is set on each step of a replacement (see Replacement), None otherwise.
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
    replacement: Replacement | None = None
