"""Colour: only on a terminal, never with ``--no-color`` or a non-empty ``NO_COLOR``
(https://no-color.org). A renderer takes a Style and never decides by itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import click

# (text, colour name) -> text as printed; colour names are click's (red, green, yellow, cyan).
Style = Callable[[str, str], str]


def plain(text: str, _colour: str) -> str:
    """No colour: the text as it is."""
    return text


def ansi(text: str, colour: str) -> str:
    """The text in ANSI colour."""
    return click.style(text, fg=colour)


def wants_colour(*, terminal: bool, no_color: bool, environ: Mapping[str, str]) -> bool:
    """Colour only when writing to a terminal, without ``--no-color``, and when NO_COLOR is
    unset or empty (no-color.org: any non-empty value turns colour off)."""
    return terminal and not no_color and not environ.get("NO_COLOR")


def style_for(colour: bool) -> Style:
    return ansi if colour else plain
