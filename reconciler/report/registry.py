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
