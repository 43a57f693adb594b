"""The one choice the CLI makes about output: which format (reconciler.report.registry),
colour or not, bookkeeping shown or not. The commands hand it a run's plans and results; it
gives back what to print, or an ApplyOutput that prints it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler.core.targets import TargetPlan
from reconciler.report.format_types import ApplyOutput, DocumentFormat, LogFormat
from reconciler.report.registry import FORMAT_BY_NAME, LOG_FORMAT_BY_NAME
from reconciler.report.run_text import conflict_lines
from reconciler.report.style import Style, style_for, wants_colour


@dataclass(frozen=True)
class Reporter:
    """The output one command run prints: ``output`` names a --format, ``log`` a --log-format
    (both keys of the registry). ``colour`` holds only when both are for people (never in
    JSON or Markdown); ``verbose`` shows glance-catalog's bookkeeping changes in text and
    Markdown plans. A log format not for people replaces the output of apply and drift."""

    output: str = "text"
    log: str = "text"
    colour: bool = False
    verbose: bool = False

    @classmethod
    def choose(
        cls,
        *,
        output: str = "text",
        log: str = "text",
        no_color: bool = False,
        verbose: bool = False,
        terminal: bool,
        environ: Mapping[str, str],
    ) -> Reporter:
        """The reporter for these options; ``terminal``: stdout is a terminal."""
        human = FORMAT_BY_NAME[output].for_people and LOG_FORMAT_BY_NAME[log].for_people
        colour = human and wants_colour(terminal=terminal, no_color=no_color, environ=environ)
        return cls(output, log, colour, verbose)

    @property
    def style(self) -> Style:
        return style_for(self.colour)

    @property
    def document(self) -> DocumentFormat:
        return FORMAT_BY_NAME[self.output](style=self.style, verbose=self.verbose)

    @property
    def running_log(self) -> LogFormat:
        return LOG_FORMAT_BY_NAME[self.log](
            style=self.style, colour=self.colour, verbose=self.verbose
        )

    @property
    def asks(self) -> bool:
        """Whether apply may ask a person (its output is for people)."""
        return self.running_log.for_people

    def plans(self, targets: Sequence[TargetPlan]) -> str:
        """What ``plan`` prints for a run's plans."""
        return self.document.plans(targets)

    def drifts(self, targets: Sequence[TargetPlan], at: datetime | None = None) -> str:
        """What ``drift`` prints for a run's plans (``at``: the time of log events)."""
        logged = self.running_log.drifts(targets, at)
        return logged if logged is not None else self.document.drifts(targets)

    def saved(self, out: str) -> str | None:
        """What ``plan`` says once it saved the plan to ``out``, if anything."""
        if not self.document.for_people:
            return None
        return f"Saved the plan to {out}; apply it with: glance-catalog apply {out}"

    def stderr_conflicts(self, targets: Sequence[TargetPlan], *, terminal: bool) -> list[str]:
        """The lines to print on stderr for a run whose plans have conflicts (or failed), so
        that the reason for exit 1 is the last thing printed; none when stdout is a
        terminal showing the text plan, whose last lines already repeat them."""
        if terminal and self.document.for_people and self.running_log.for_people:
            return []
        return conflict_lines(targets)

    def apply_output(
        self, write: Callable[[str], None], targets: Sequence[TargetPlan], *, quiet: bool
    ) -> ApplyOutput:
        """Apply's output for a run (``write`` prints one text, thread-safe)."""
        return self.running_log.apply_output(write, targets, quiet=quiet)

    def errors(self, write: Callable[[str], None]) -> contextlib.AbstractContextManager[None]:
        """Around a command: an error that ends it is also reported in the log format."""
        return self.running_log.errors(write)
