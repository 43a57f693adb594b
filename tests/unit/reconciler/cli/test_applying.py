"""reconciler.cli.applying: apply asks before it changes anything (only 'yes' goes on, and
never without a terminal), and a saved plan file that cannot be read is refused naming it.
(Saved plans applied to the real Glance: tests/functional/test_reconcile.py.)"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any, cast

import click
import pytest

from catalog.errors import GlanceCatalogError
from reconciler.cli.applying import confirm, saved_fleet


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_apply_is_refused_and_asks_for_auto_approve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    with pytest.raises(GlanceCatalogError, match="standard input is not a terminal; pass --auto"):
        confirm()


@pytest.mark.parametrize(("answer", "goes_on"), [("yes", True), (" yes ", True), ("y", False)])
def test_only_yes_goes_on(monkeypatch: pytest.MonkeyPatch, answer: str, goes_on: bool) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal())
    asked: list[str] = []

    def prompt(text: str, **_kwargs: object) -> str:
        asked.append(text)
        return answer

    monkeypatch.setattr(click, "prompt", prompt)
    if goes_on:
        confirm()
    else:
        with pytest.raises(GlanceCatalogError, match="apply cancelled; nothing was changed"):
            confirm()
    assert asked == ["Apply these changes? Only 'yes' is accepted"]


def test_a_plan_file_that_cannot_be_read_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "plan.json"
    with pytest.raises(GlanceCatalogError, match=r"plan\.json: cannot read the plan: No such file"):
        saved_fleet(missing, cast(Any, None), cast(Any, None))
    missing.write_bytes(b"\xff\xfe")
    with pytest.raises(GlanceCatalogError, match=r"not a glance-catalog plan file \(not UTF-8\)"):
        saved_fleet(missing, cast(Any, None), cast(Any, None))
