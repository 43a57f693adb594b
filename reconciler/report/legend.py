"""The symbols reports put before what a plan does, their colours, and the one-line legend of
the symbols one plan uses."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.core.actions import ActionKind

REPLACE = "-/+"
CONFLICT = "!"
NOTE = "#"

# Every action kind has one symbol and one colour; a replacement block is REPLACE.
SYMBOLS: dict[ActionKind, tuple[str, str]] = {
    ActionKind.DISCARD: ("-", "red"),
    ActionKind.RESERVE: ("+", "green"),
    ActionKind.PREPARE: ("~", "yellow"),
    ActionKind.UPLOAD: ("^", "green"),
    ActionKind.IMPORT: ("^", "green"),
    ActionKind.REMOVE_MEMBER: ("-", "red"),
    ActionKind.UPDATE: ("~", "yellow"),
    ActionKind.REACTIVATE: ("~", "yellow"),
    ActionKind.COPY_TO_STORE: ("+", "green"),
    ActionKind.REMOVE_FROM_STORE: ("-", "red"),
    ActionKind.ADD_MEMBER: ("+", "green"),
    ActionKind.ACCEPT_MEMBER: ("~", "yellow"),
    ActionKind.RENAME: ("~", "yellow"),
    ActionKind.DEACTIVATE: ("~", "yellow"),
    ActionKind.DELETE: ("-", "red"),
    ActionKind.RETIRE: ("-", "red"),
}
REPLACE_COLOUR = "magenta"

# In the order the legend lists them.
MEANINGS = {
    "+": "create/add",
    "~": "update",
    "-": "delete/remove",
    REPLACE: "replace",
    "^": "data",
    CONFLICT: "conflict",
    NOTE: "note",
}


def legend(used: Iterable[str]) -> str | None:
    """``Legend: + create/add  ~ update ...`` for the symbols in ``used`` alone, always in the
    same order; None when none is used."""
    present = set(used)
    shown = [f"{symbol} {meaning}" for symbol, meaning in MEANINGS.items() if symbol in present]
    return "Legend: " + "  ".join(shown) if shown else None
