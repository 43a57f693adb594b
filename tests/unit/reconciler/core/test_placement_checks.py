"""reconciler.core.placement on its own: which stores an image may name, where its data goes
first and what is copied after. (test_placement.py: the store steps through the planner.)"""

from __future__ import annotations

from catalog.model import ImageState
from reconciler.core.actions import ActionKind
from reconciler.core.placement import checked_stores, copies_after_data, first_store
from tests.unit.builders import desired, snapshot


def test_stores_glance_offers_are_kept_and_need_no_conflict() -> None:
    image = desired(stores=("fast", "archive"))
    assert checked_stores(image, snapshot(stores=("archive", "fast"))) == (image, None)


def test_an_unknown_store_drops_the_stores_and_is_a_conflict_naming_it() -> None:
    image = desired(stores=("fast", "cold"))
    kept, conflict = checked_stores(image, snapshot(stores=("fast",)))
    assert kept.stores == ()
    assert conflict is not None
    assert conflict.message == "stores: store 'cold' unknown to this Glance, which offers fast"


def test_a_glance_without_multi_store_is_a_conflict_unless_the_image_goes() -> None:
    image = desired(stores=("fast",))
    kept, conflict = checked_stores(image, snapshot())
    assert kept.stores == () and conflict is not None
    assert "no multi-store backends" in conflict.message
    absent = desired(stores=("fast",), state=ImageState.ABSENT)
    assert checked_stores(absent, snapshot()) == (absent, None)


def test_data_goes_to_the_first_store_and_is_copied_to_the_rest_in_one_step() -> None:
    image = desired(stores=("fast", "archive", "cold"))
    assert first_store(image) == ("fast",)
    (copy,) = copies_after_data(image, "id-1")
    assert copy.kind is ActionKind.COPY_TO_STORE
    assert copy.stores == ("archive", "cold")
    assert copies_after_data(desired(stores=("fast",)), "id-1") == []
    assert first_store(desired()) == ()
