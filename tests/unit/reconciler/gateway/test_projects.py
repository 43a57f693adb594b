"""reconciler.gateway.projects: member projects by name or id, through Keystone.
(Against the real Keystone: tests/functional/test_reconcile.py's members.)"""

from __future__ import annotations

from typing import Any, cast

import pytest

from reconciler.errors import UnresolvedProject
from reconciler.gateway.projects import find_project_id, lookup_projects
from tests.unit.reconciler.gateway.scripted import ScriptedSession, answer

ID = "a" * 32


def test_a_name_one_project_has_is_its_id() -> None:
    session = ScriptedSession([answer(200, {"projects": [{"id": ID}]})])
    assert find_project_id(cast(Any, session), "alpha") == ID
    assert session.asked == [("GET", "/projects", {"params": {"name": "alpha"}})]


def test_an_id_is_taken_as_it_is_when_names_may_not_be_looked_up() -> None:
    session = ScriptedSession([answer(403)])
    assert find_project_id(cast(Any, session), ID) == ID


def test_a_name_when_names_may_not_be_looked_up_asks_for_the_id() -> None:
    session = ScriptedSession([answer(403)])
    with pytest.raises(UnresolvedProject, match="give the project id instead"):
        find_project_id(cast(Any, session), "alpha")


def test_unknown_and_ambiguous_names_are_unresolved_with_the_reason() -> None:
    session = ScriptedSession(
        [
            answer(200, {"projects": []}),
            answer(200, {"projects": [{"id": "2" * 32}, {"id": "1" * 32}]}),
        ]
    )
    resolved, unresolved = lookup_projects(cast(Any, session), ["twins", "ghost", "twins"])
    assert resolved == {}
    assert unresolved == {
        "ghost": "member project 'ghost' does not exist in Keystone",
        "twins": f"member project 'twins': 2 projects have this name ({'1' * 32}, {'2' * 32}); "
        "give the id",
    }
