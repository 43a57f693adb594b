"""The one choice the CLI makes about output: which format, colour or not, bookkeeping shown
or not. The commands hand it plans and results; it gives back what to print."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reconciler.core.targets import TargetPlan
from reconciler.report.apply_output import ApplyOutput
from reconciler.report.documents import drifts_json, plans_json
from reconciler.report.jsonlog import JsonLog, drift_events, error_event, event_line, utc_now
from reconciler.report.markdown import markdown_target_plans
from reconciler.report.run_text import conflict_lines, render_target_drifts, render_target_plans
from reconciler.report.style import Style, style_for, wants_colour


class OutputFormat(StrEnum):
    """What ``plan`` and ``drift`` print: text for people, JSON, or a pull-request comment."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


class LogFormat(StrEnum):
    """How ``apply`` and ``drift`` report as they run: text for people, or JSON lines."""

    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True)
class Reporter:
    """The output one command run prints. ``colour`` holds only for text and text logs (never
    in JSON or Markdown); ``verbose`` shows glance-catalog's bookkeeping changes in text and
    Markdown plans. ``log`` JSON replaces the human output of apply and drift entirely."""

    output: OutputFormat = OutputFormat.TEXT
    log: LogFormat = LogFormat.TEXT
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
        chosen, logging = OutputFormat(output), LogFormat(log)
        human = chosen is OutputFormat.TEXT and logging is LogFormat.TEXT
        colour = human and wants_colour(terminal=terminal, no_color=no_color, environ=environ)
        return cls(chosen, logging, colour, verbose)

    @property
    def style(self) -> Style:
        return style_for(self.colour)

    @property
    def json_log(self) -> bool:
        return self.log is LogFormat.JSON

    def plans(self, targets: Sequence[TargetPlan], *, over_targets: bool = False) -> str:
        """What ``plan`` prints for a run's plans (``over_targets``: a run over the manifests'
        targets or several clouds, whose JSON is the plan set)."""
        if self.output is OutputFormat.JSON:
            return plans_json(targets, over_targets=over_targets)
        if self.output is OutputFormat.MARKDOWN:
            return markdown_target_plans(targets, catalog=_catalog(targets), verbose=self.verbose)
        return render_target_plans(targets, self.style, verbose=self.verbose)

    def drifts(
        self,
        targets: Sequence[TargetPlan],
        at: datetime | None = None,
        *,
        over_targets: bool = False,
    ) -> str:
        """What ``drift`` prints for a run's plans (``at``: the time of JSON log events)."""
        if self.json_log:
            moment = at or utc_now()
            return "".join(
                event_line(event) + "\n"
                for entry in targets
                for event in (
                    drift_events(entry.plan, entry.target.name, moment)
                    if entry.plan is not None
                    else [error_event(entry.error, entry.target.name, moment)]
                )
            )
        if self.output is OutputFormat.JSON:
            return drifts_json(targets, over_targets=over_targets)
        if self.output is OutputFormat.MARKDOWN:
            return markdown_target_plans(
                targets, catalog=_catalog(targets), drift=True, verbose=self.verbose
            )
        return render_target_drifts(targets, self.style, verbose=self.verbose)

    def stderr_conflicts(self, targets: Sequence[TargetPlan], *, terminal: bool) -> list[str]:
        """The lines to print on stderr for a run whose plans have conflicts (or failed), so
        that the reason for exit 1 is the last thing printed; none when stdout is a
        terminal showing the text plan, whose last lines already repeat them."""
        if terminal and self.output is OutputFormat.TEXT and not self.json_log:
            return []
        return conflict_lines(targets)

    def apply_output(
        self, write: Callable[[str], None], *, quiet: bool, target: str = ""
    ) -> ApplyOutput:
        """Apply's output for one target (``write`` prints one text, thread-safe)."""
        log = JsonLog(write, target, quiet=quiet) if self.json_log else None
        return ApplyOutput(
            write,
            log=log,
            quiet=quiet,
            style=self.style,
            colour=self.colour,
            verbose=self.verbose,
        )

    def drift_log(self, write: Callable[[str], None], target: str = "") -> JsonLog | None:
        """With JSON logs, where drift's errors go as events."""
        return JsonLog(write, target) if self.json_log else None


def _catalog(targets: Sequence[TargetPlan]) -> str:
    return next((entry.plan.catalog for entry in targets if entry.plan is not None), "")
