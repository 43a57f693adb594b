"""What apply prints, in the reporter's format: for people the plan, a line per step (with
progress bars on a terminal) and the outcome; for log pipelines only JSON events."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from reconciler.core.plan import Plan
from reconciler.core.results import ApplyReport
from reconciler.report.apply_text import render_failures, render_report
from reconciler.report.console import ApplyConsole
from reconciler.report.jsonlog import JsonLog, logged_errors
from reconciler.report.style import Style, plain
from reconciler.report.text import render_plan


class ApplyOutput:
    """Apply's output. ``write`` prints one text (lines without the last newline) and must
    be safe to call from several threads. With ``log`` every output is a JSON event of the
    log; ``quiet`` keeps the plan, the step lines and progress back (not the outcome)."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        log: JsonLog | None,
        quiet: bool,
        style: Style = plain,
        colour: bool = False,
        verbose: bool = False,
    ) -> None:
        self._write = write
        self.log = log
        self._quiet = quiet
        self._style = style
        self._colour = colour
        self._verbose = verbose

    def errors(self) -> contextlib.AbstractContextManager[None]:
        """With a log, an error that ends the command is an event too."""
        return logged_errors(self.log)

    def plan(self, plan: Plan, *, asking: bool) -> None:
        """The plan: always when it has conflicts or a person is asked, unless quiet."""
        if self.log is not None:
            self.log.target = plan.cloud
            self.log.plan(plan)
        elif not self._quiet or plan.conflicts or asking:
            text = render_plan(plan, self._style, verbose=self._verbose)
            self._write(text.removesuffix("\n"))

    def live(self, *, terminal: bool) -> ApplyConsole | JsonLog:
        """Where step results and upload progress go while apply runs (a context manager)."""
        if self.log is not None:
            return self.log
        return ApplyConsole(
            terminal=terminal, quiet=self._quiet, style=self._style, colour=self._colour
        )

    def outcome(self, report: ApplyReport) -> None:
        """The last output: the summary (and, quiet, the failed steps first)."""
        if self.log is not None:
            self.log.summary(report)
            return
        if self._quiet and not report.ok:
            self._write(render_failures(report, self._style))
        self._write(render_report(report))
