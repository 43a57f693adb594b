"""Which Glance stores hold an image's data: the store steps of one image. Pure.

An image whose manifest names ``stores`` gets its data copied (one copy-image import for all
the stores that lack it) and removed from every store not named. A removal is planned only
where a named store keeps the data, already or by a copy of the same plan, which runs first
(a failed copy skips the removals of its image): the last copy of an image's data is never
removed. A new image's data goes to the first store named, then is copied to the others.
"""

from __future__ import annotations

from dataclasses import replace

from catalog.model import DesiredImage, ImageState
from reconciler.core.actions import Action, ActionKind, FieldChange
from reconciler.core.observed import ObservedImage, Snapshot
from reconciler.core.plan import Conflict


def checked_stores(
    desired: DesiredImage, snapshot: Snapshot
) -> tuple[DesiredImage, Conflict | None]:
    """``desired`` and None when Glance offers every store it names; else ``desired`` without
    stores (so that no store step is planned for it) and the conflict that says why."""
    if not desired.stores or desired.state is ImageState.ABSENT:
        return desired, None
    position = str(desired.position)
    unmanaged = replace(desired, stores=())
    if not snapshot.stores:
        return unmanaged, Conflict(
            desired.name,
            f"stores: this Glance has no multi-store backends, so it cannot place the image in "
            f"{', '.join(desired.stores)}",
            "remove stores: from the manifest, or enable Glance's multi-store "
            "(enabled_backends); nothing was changed",
            position,
        )
    unknown = [store for store in desired.stores if store not in snapshot.stores]
    if unknown:
        names = ", ".join(f"'{store}'" for store in unknown)
        return unmanaged, Conflict(
            desired.name,
            f"stores: {'store' if len(unknown) == 1 else 'stores'} {names} unknown to this "
            f"Glance, which offers {', '.join(snapshot.stores)}",
            "name only stores that GET /v2/info/stores lists; nothing was changed",
            position,
        )
    return desired, None


def first_store(desired: DesiredImage) -> tuple[str, ...]:
    """Where the data of a new image goes: the first store named (empty: Glance's default)."""
    return desired.stores[:1]


def copies_after_data(desired: DesiredImage, image_id: str | None) -> list[Action]:
    """For an image whose data this plan sends to ``first_store``: the copy to the others."""
    rest = desired.stores[1:]
    if not rest:
        return []
    before = sorted(first_store(desired))
    return [
        Action(
            ActionKind.COPY_TO_STORE,
            desired.name,
            image_id,
            (FieldChange("stores", before, sorted(desired.stores)),),
            reason=f"the data goes to {desired.stores[0]} first",
            stores=rest,
        )
    ]


def store_steps(
    desired: DesiredImage, observed: ObservedImage
) -> tuple[list[Action], Conflict | None]:
    """The copies and removals that put the data of ``observed`` (an image that has data) in
    exactly the stores ``desired`` names; nothing when it names none."""
    if not desired.stores:
        return [], None
    missing = tuple(store for store in desired.stores if store not in observed.stores)
    extra = [store for store in observed.stores if store not in desired.stores]
    if not missing and not extra:
        return [], None
    if observed.status == "deactivated" and desired.state is ImageState.DEACTIVATED:
        return [], Conflict(
            desired.name,
            f"image {observed.id} is in stores {', '.join(observed.stores) or '(none)'}, not "
            f"{', '.join(desired.stores)}, and stays deactivated: Glance copies and removes "
            "the data of active images only",
            "set state: active for one apply, or move the data by hand",
            str(desired.position),
        )
    actions = []
    holding = set(observed.stores)
    if missing:
        after = holding | set(missing)
        actions.append(
            Action(
                ActionKind.COPY_TO_STORE,
                desired.name,
                observed.id,
                (FieldChange("stores", sorted(holding), sorted(after)),),
                reason="the manifest names stores that lack the data",
                stores=missing,
            )
        )
        holding = after
    # Never the last copy: only while a named store holds the data, or gets it from the copy
    # above (which runs first; when it fails, the removals of its image are skipped).
    kept = holding & set(desired.stores)
    for store in extra if kept else []:
        actions.append(
            Action(
                ActionKind.REMOVE_FROM_STORE,
                desired.name,
                observed.id,
                (FieldChange("stores", sorted(holding), sorted(holding - {store})),),
                reason="the manifest does not name this store",
                stores=(store,),
            )
        )
        holding = holding - {store}
    return actions, None
