"""Colour: only on a terminal, never with ``--no-color`` or a non-empty ``NO_COLOR``
(https://no-color.org). A renderer takes a Style and never decides by itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping

# (text, colour name) -> text as printed; the colour names are those of ANSI_COLOURS.
Style = Callable[[str, str], str]


def plain(text: str, _colour: str) -> str:
    """No colour: the text as it is."""
    return text


# The SGR foreground code of each colour a renderer may ask for.
ANSI_COLOURS = {
    "black": 30,
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "white": 37,
}


def ansi(text: str, colour: str) -> str:
    """The text in ANSI colour (the colour, then a reset of every attribute)."""
    return f"\x1b[{ANSI_COLOURS[colour]}m{text}\x1b[0m"


def wants_colour(*, terminal: bool, no_color: bool, environ: Mapping[str, str]) -> bool:
    """Colour only when writing to a terminal, without ``--no-color``, and when NO_COLOR is
    unset or empty (no-color.org: any non-empty value turns colour off)."""
    return terminal and not no_color and not environ.get("NO_COLOR")


def style_for(colour: bool) -> Style:
    return ansi if colour else plain
