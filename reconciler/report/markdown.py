"""A plan or a drift check as the body of a pull-request comment (GitHub-flavoured Markdown):
a hidden marker on the first line for a bot to find and update its own comment, a title, a
table per target, conflicts in a visible block, then each image's steps in a collapsible
``diff`` block. Pure and stable: the same plans give byte-identical text."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import ClassVar

from reconciler.core.plan import Plan
from reconciler.core.targets import Target, TargetPlan
from reconciler.report.blocks import Block, image_blocks, plan_counts, shown_changes
from reconciler.report.format_types import DocumentFormat
from reconciler.report.headlines import block_headline, change_line, checksum_line, headline
from reconciler.report.legend import CONFLICT, REPLACE, SYMBOLS, legend
from reconciler.report.text import NO_CHANGES, bookkeeping_hint

_MARKDOWN = re.compile(r"([\\`*_~\[\]<>|#])")
_TICKS = re.compile(r"`+")
COLUMNS = ("create", "update", "replace", "delete", "members")


def marker(catalog: str, *, drift: bool = False) -> str:
    """The first line, the same for every comment of this catalog and command."""
    return f"<!-- glance-catalog {'drift' if drift else 'plan'}: {html.escape(catalog)} -->"


def _text(text: str) -> str:
    """Plain text made safe in Markdown (nothing in it is taken for markup)."""
    return _MARKDOWN.sub(r"\\\1", text.replace("&", "&amp;"))


def _code(text: str) -> str:
    ticks = "`" * (max((len(run) for run in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _block_lines(block: Block, catalog: str, verbose: bool) -> tuple[list[str], bool]:
    """Diff lines: each starts with its symbol, so that GitHub colours it."""
    lines: list[str] = []
    hidden = False
    indent = ""
    if block.replacement is not None:
        lines.append(f"{REPLACE} {block.label}: {block_headline(block)}")
        indent = "    "
    for action in block.actions:
        symbol, _ = SYMBOLS[action.kind]
        changes, hid = shown_changes(action, catalog, verbose)
        hidden = hidden or hid
        only = " (bookkeeping only)" if action.changes and not changes else ""
        label = "" if block.replacement is not None else f"{block.label}: "
        words = headline(action, in_block=block.replacement is not None)
        lines.append(f"{symbol} {indent}{label}{words}{only}")
        origin = checksum_line(action)
        if origin is not None:
            lines.append(f"  {indent}    {origin}")
        for change in changes:
            mark, _, text = change_line(change)
            lines.append(f"{mark} {indent}    {text}")
    return lines, hidden


def _fence(lines: list[str]) -> list[str]:
    longest = max((len(run) for line in lines for run in _TICKS.findall(line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [f"{ticks}diff", *lines, ticks]


def _images(plan: Plan, verbose: bool) -> tuple[list[str], set[str], bool]:
    out: list[str] = []
    symbols: set[str] = set()
    hidden = False
    for _, blocks in image_blocks(plan.steps):
        lines: list[str] = []
        for block in blocks:
            shown, hid = _block_lines(block, plan.catalog, verbose)
            lines += shown
            hidden = hidden or hid
            symbols |= {line.split(" ", 1)[0] for line in shown if not line.startswith(" ")}
        first = blocks[0]
        symbol = REPLACE if first.replacement is not None else SYMBOLS[first.actions[0].kind][0]
        steps = sum(len(block.actions) for block in blocks)
        more = f" ({steps} steps)" if steps > 1 else ""
        summary = (
            f"<code>{html.escape(symbol)}</code> <b>{html.escape(first.label)}</b>: "
            f"{html.escape(block_headline(first))}{more}"
        )
        out += [f"<details><summary>{summary}</summary>", "", *_fence(lines), "", "</details>", ""]
    return out, symbols, hidden


def _conflicts(targets: Sequence[TargetPlan], several: bool) -> list[str]:
    items: list[str] = []
    for entry in targets:
        where = f"{_code(entry.target.label)}: " if several else ""
        items += [f"> - {where}{_text(line)}" for line in entry.error]
        if entry.plan is not None:
            items += [f"> - {where}{_text(c.as_text())}" for c in entry.plan.conflicts]
    if not items:
        return []
    count = sum(len(e.plan.conflicts) for e in targets if e.plan is not None)
    failed = sum(1 for entry in targets if entry.plan is None)
    what = [f"{count} conflict{'' if count == 1 else 's'}"] if count else []
    what += [f"{failed} target{'' if failed == 1 else 's'} not planned"] if failed else []
    title = f"{' and '.join(what)}: the plan cannot be applied until they are resolved."
    return ["> [!CAUTION]", f"> **{title}**", ">", *items, ""]


def _table(targets: Sequence[TargetPlan]) -> list[str]:
    rows = [
        "| target | " + " | ".join(COLUMNS) + " | conflicts |",
        "| :-- | " + " | ".join("--:" for _ in COLUMNS) + " | --: |",
    ]
    for entry in targets:
        if entry.plan is None:
            cells = ["-"] * len(COLUMNS) + ["failed"]
        else:
            counts = plan_counts(entry.plan.changes)
            cells = [str(getattr(counts, column)) for column in COLUMNS]
            cells.append(str(len(entry.plan.conflicts)))
        label = entry.target.label.replace("|", "\\|")
        rows.append(f"| {_code(label)} | " + " | ".join(cells) + " |")
    return [*rows, ""]


def _verdict(plan: Plan, drift: bool) -> str:
    if plan.conflicts:
        return "Drift unknown: the plan has conflicts." if drift else ""
    if not plan.actions:
        return "In sync." if drift else NO_CHANGES
    if drift:
        return f"Drift: {len({a.image for a in plan.actions})} image(s) differ from the manifest."
    return ""


def markdown_target_plans(
    targets: Sequence[TargetPlan], *, catalog: str, drift: bool = False, verbose: bool = False
) -> str:
    """The comment for a run's plans (``drift``: its drift checks) of ``catalog``;
    bookkeeping changes hidden unless ``verbose``."""
    several = len(targets) > 1
    what = "drift" if drift else "plan"
    lines = [marker(catalog, drift=drift), f"### glance-catalog {what}: catalog {_code(catalog)}"]
    lines += ["", *_table(targets), *_conflicts(targets, several)]
    sections: list[str] = []
    symbols: set[str] = set()
    hidden = False
    for entry in targets:
        if entry.plan is None:
            continue
        body, used, hid = _images(entry.plan, verbose)
        symbols |= used
        hidden = hidden or hid
        notes = [f"- {_text(note.as_text())}" for note in entry.plan.notes]
        verdict = _verdict(entry.plan, drift)
        if several:
            sections += [f"#### {_code(entry.target.label)}", ""]
        sections += body
        if notes:
            title = f"Notes ({len(notes)})"
            sections += [f"<details><summary>{title}</summary>", "", *notes, "", "</details>", ""]
        sections += [verdict, ""] if verdict else []
    if any(entry.plan is not None and entry.plan.conflicts for entry in targets):
        symbols.add(CONFLICT)
    shown = legend(symbols)
    lines += [f"<sub>{_text(shown)}</sub>", ""] if shown and symbols - {CONFLICT} else []
    lines += sections
    if hidden:
        lines += [f"<sub>{_text(bookkeeping_hint(catalog))}</sub>", ""]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def markdown_plan(plan: Plan, *, drift: bool = False, verbose: bool = False) -> str:
    """The comment for one cloud's plan (or drift check)."""
    only = TargetPlan(Target(plan.cloud, plan.cloud), plan)
    return markdown_target_plans([only], catalog=plan.catalog, drift=drift, verbose=verbose)


class MarkdownFormat(DocumentFormat):
    """``--format markdown``: a pull-request comment of a run's plans or drift checks."""

    described: ClassVar[str] = "for a pull-request comment"

    def plans(self, targets: Sequence[TargetPlan]) -> str:
        return markdown_target_plans(targets, catalog=_catalog(targets), verbose=self.verbose)

    def drifts(self, targets: Sequence[TargetPlan]) -> str:
        return markdown_target_plans(
            targets, catalog=_catalog(targets), drift=True, verbose=self.verbose
        )


def _catalog(targets: Sequence[TargetPlan]) -> str:
    return next((entry.plan.catalog for entry in targets if entry.plan is not None), "")
