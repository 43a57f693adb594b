"""reconciler.gateway.stores: the stores Glance offers and whether it can copy between them.
(Copies and removals against a real multi-store Glance: tests/functional/test_stores.py.)"""

from __future__ import annotations

from typing import Any, cast

from reconciler.gateway.stores import COPY_METHOD, copy_problem, offered_stores
from tests.unit.reconciler.gateway.scripted import ScriptedSession, answer


def test_the_offered_stores_are_sorted_ids_and_none_without_multi_store() -> None:
    listed = {"stores": [{"id": "fast", "default": True}, {"id": "archive"}]}
    assert offered_stores(cast(Any, ScriptedSession([answer(200, listed)]))) == ("archive", "fast")
    assert offered_stores(cast(Any, ScriptedSession([answer(404)]))) == ()


def test_a_glance_without_copy_image_cannot_copy_and_says_what_it_enables() -> None:
    methods = {"import-methods": {"value": ["glance-direct", "web-download"]}}
    problem = copy_problem(cast(Any, ScriptedSession([answer(200, methods)])))
    assert problem == (
        f"stores: this Glance does not enable the {COPY_METHOD} import method (enabled: "
        "glance-direct, web-download), so it cannot copy the data to another store"
    )
    enabled = {"import-methods": {"value": ["glance-direct", COPY_METHOD]}}
    assert copy_problem(cast(Any, ScriptedSession([answer(200, enabled)]))) is None
