"""Plans and drift as text for people, for one cloud. Pure: returns strings; the CLI prints
them. Several targets: reconciler.report.run_text."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.plan import Plan
from reconciler.report.blocks import (
    BOOKKEEPING_PREFIX,
    Block,
    Counts,
    image_blocks,
    plan_counts,
    shown_changes,
)
from reconciler.report.headlines import block_headline, change_line, checksum_line, headline
from reconciler.report.legend import CONFLICT, NOTE, REPLACE, REPLACE_COLOUR, SYMBOLS, legend
from reconciler.report.style import Style, plain

NO_CHANGES = "No changes. Glance matches the catalog."


@dataclass(frozen=True)
class PlanText:
    """One plan as text in parts, so that a run over several targets can share one legend:
    ``header`` (cloud, project, catalog), ``body`` (conflicts, notes, then each image's
    blocks; it ends with an empty line when not empty), ``closing`` (the summary, or the
    conflicts repeated so that they come last), ``symbols`` the legend's symbols it uses and
    ``hidden`` whether bookkeeping was left out (then ``hint`` says so)."""

    header: str
    body: tuple[str, ...]
    closing: tuple[str, ...]
    symbols: frozenset[str]
    hidden: bool
    hint: str

    def lines(self, *, with_legend: bool = True, with_hint: bool = True) -> list[str]:
        shown = legend(self.symbols) if with_legend else None
        top = [self.header, *([shown] if shown else []), ""]
        hint = [self.hint] if self.hidden and with_hint else []
        return [*top, *self.body, *hint, *self.closing]


def bookkeeping_hint(catalog: str) -> str:
    return (
        f"Hidden: glance-catalog's own bookkeeping ({BOOKKEEPING_PREFIX}* properties, "
        f"tag glance-catalog:{catalog}); -v shows it."
    )


def plan_text(
    plan: Plan, style: Style = plain, *, verbose: bool = False, drift: bool = False
) -> PlanText:
    """``plan`` in parts; ``drift`` gives the closing of a drift check."""
    lines: list[str] = []
    symbols: set[str] = set()
    for conflict in plan.conflicts:
        lines.append(style(f"  {CONFLICT} {conflict.as_text()}", "red"))
        symbols.add(CONFLICT)
    lines += [""] if plan.conflicts else []
    for note in plan.notes:
        lines.append(style(f"  {NOTE} {note.as_text()}", "cyan"))
        symbols.add(NOTE)
    lines += [""] if plan.notes else []
    hidden = False
    for _, blocks in image_blocks(plan.steps):
        for block in blocks:
            shown, hid = _block(block, plan.catalog, style, verbose, symbols)
            lines += shown
            hidden = hidden or hid
        lines.append("")
    header = f"Cloud '{plan.cloud}', project {plan.project_id}, catalog '{plan.catalog}'."
    closing = _closing(plan, style, drift)
    hint = bookkeeping_hint(plan.catalog)
    return PlanText(header, tuple(lines), tuple(closing), frozenset(symbols), hidden, hint)


def _block(
    block: Block, catalog: str, style: Style, verbose: bool, symbols: set[str]
) -> tuple[list[str], bool]:
    """The lines of one block, and whether bookkeeping was hidden from them."""
    lines: list[str] = []
    hidden = False
    indent = "  "
    if block.replacement is not None:
        lines.append(style(f"  {REPLACE} {block.label}: {block_headline(block)}", REPLACE_COLOUR))
        symbols.add(REPLACE)
        indent = "      "
    for action in block.actions:
        symbol, colour = SYMBOLS[action.kind]
        symbols.add(symbol)
        changes, hid = shown_changes(action, catalog, verbose)
        hidden = hidden or hid
        only = " (bookkeeping only)" if action.changes and not changes else ""
        label = "" if block.replacement is not None else f"{block.label}: "
        words = headline(action, in_block=block.replacement is not None)
        lines.append(style(f"{indent}{symbol} {label}{words}{only}", colour))
        origin = checksum_line(action)
        if origin is not None:
            lines.append(f"{indent}    {origin}")
        for change in changes:
            mark, tint, text = change_line(change)
            symbols.add(mark)
            lines.append(style(f"{indent}    {mark} {text}", tint))
    return lines, hidden


def _closing(plan: Plan, style: Style, drift: bool) -> list[str]:
    """The plan's last lines, which must agree with the exit code: a plan with conflicts
    cannot be applied, whatever else it holds, and its conflicts are repeated last."""
    if not plan.conflicts:
        closing = [summary(plan) if plan.actions else NO_CHANGES]
        if drift and plan.actions:
            drifted = len({action.image for action in plan.actions})
            closing.append(style(f"Drift: {drifted} image(s) differ from the manifest.", "yellow"))
        elif drift:
            closing.append("In sync.")
        return closing
    count = len(plan.conflicts)
    many = f"{count} conflict{'' if count == 1 else 's'} (marked {CONFLICT})"
    heading = (
        f"Drift unknown: {many} in the plan:"
        if drift
        else f"{many}: the plan cannot be applied until they are resolved:"
    )
    repeated = [style(f"  {CONFLICT} {conflict.as_text()}", "red") for conflict in plan.conflicts]
    return [style(heading, "red"), *repeated]


def render_plan(plan: Plan, style: Style = plain, *, verbose: bool = False) -> str:
    """The plan for people: with ``verbose``, bookkeeping changes are shown too."""
    return "\n".join(plan_text(plan, style, verbose=verbose).lines()) + "\n"


def render_drift(plan: Plan, style: Style = plain, *, verbose: bool = False) -> str:
    """The plan, then whether Glance is in sync (or, with conflicts, that nobody knows)."""
    return "\n".join(plan_text(plan, style, verbose=verbose, drift=True).lines()) + "\n"


def counts_text(counts: Counts) -> str:
    """``1 to create, 0 to update, 0 to replace, 2 to delete, 1 member change``."""
    return counts.phrase("to create", "to update", "to replace", "to delete")


def summary(plan: Plan) -> str:
    """Counts Glance images, not actions: a replacement is one (though it creates one image
    and deletes another), member changes apart."""
    return f"Plan: {counts_text(plan_counts(plan.changes))}."
