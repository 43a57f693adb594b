"""Every output format by the name the options take: ``--format`` (what plan and drift print)
and ``--log-format`` (how apply and drift report as they run). The options' choices are these
names; a new format is its module (a DocumentFormat or LogFormat) and one line here."""

from __future__ import annotations

from reconciler.report.apply_output import TextLog
from reconciler.report.documents import JsonFormat
from reconciler.report.format_types import DocumentFormat, LogFormat
from reconciler.report.jsonlog import JsonLines
from reconciler.report.markdown import MarkdownFormat
from reconciler.report.run_text import TextFormat

FORMAT_BY_NAME: dict[str, type[DocumentFormat]] = {
    "text": TextFormat,
    "json": JsonFormat,
    "markdown": MarkdownFormat,
}
LOG_FORMAT_BY_NAME: dict[str, type[LogFormat]] = {
    "text": TextLog,
    "json": JsonLines,
}


def format_help() -> str:
    """--format's help: every format by name, with what it is for."""
    items = [f"{name} {kind.described}".strip() for name, kind in FORMAT_BY_NAME.items()]
    return f"{', '.join(items[:-1])}, or {items[-1]}." if len(items) > 1 else f"{items[0]}."


def log_format_help() -> str:
    """--log-format's help: the formats that say what they are for."""
    return " ".join(
        f"{name}: {kind.described}." for name, kind in LOG_FORMAT_BY_NAME.items() if kind.described
    )
