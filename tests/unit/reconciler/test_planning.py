"""reconciler.planning: what one target's run reads from Glance, and a saved plan refused when
its manifests changed. (Against the real Glance, through the CLI: tests/functional/
test_reconcile.py's saved plans and tests/functional/test_targets.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from catalog.errors import GlanceCatalogError
from catalog.load import load_catalog
from catalog.model import MemberSpec, Visibility
from reconciler.core.planner import make_plan
from reconciler.planning import load_saved_catalog, observe
from tests.unit.builders import MARKER, catalog, desired, snapshot


class AskedGateway:
    """Records what a snapshot was asked for, and answers an empty one."""

    def __init__(self) -> None:
        self.asked: list[tuple[Any, ...]] = []

    def snapshot(self, *args: Any, stores: bool) -> Any:
        self.asked.append((*args, stores))
        return snapshot()


def test_observe_asks_for_the_catalogs_images_ids_members_and_stores_in_one_snapshot() -> None:
    shared = desired(
        "a", visibility=Visibility.SHARED, members=(MemberSpec("alpha"),), stores=("fast",)
    )
    private = desired("b", members=(MemberSpec("ignored"),), image_id="1" * 32)
    gateway = AskedGateway()
    observe(catalog(shared, private), cast(Any, gateway))
    assert gateway.asked == [(MARKER, {"alpha"}, {"a", "b"}, {"1" * 32}, True)]


def test_a_catalog_without_stores_does_not_ask_for_them() -> None:
    gateway = AskedGateway()
    observe(catalog(desired("a")), cast(Any, gateway))
    assert gateway.asked == [(MARKER, set(), {"a"}, set(), False)]


def test_a_saved_plan_loads_its_manifests_and_is_stale_once_they_change(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n")
    saved = make_plan(load_catalog([path]), snapshot())
    assert load_saved_catalog(saved, "plan.json").images[0].name == "a"
    path.write_text(path.read_text() + "  - {name: b, disk_format: raw}\n")
    with pytest.raises(GlanceCatalogError, match=r"^plan\.json: plan is stale: the manifests"):
        load_saved_catalog(saved, "plan.json")
