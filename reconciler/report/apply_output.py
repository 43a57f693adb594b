"""What apply prints for people (``--log-format text``): the plans, a line per step (with
progress bars on a terminal) and the outcome. A run over one cloud reads as it did before
targets existed: step lines without a target label, a nothing-to-apply outcome, and with
--quiet its failed steps before the outcome."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from reconciler.core.results import ApplyReport
from reconciler.core.targets import Target, TargetApply, TargetPlan, reads_as_one_cloud
from reconciler.report.apply_text import render_failures, render_report
from reconciler.report.format_types import ApplyOutput, LiveApply, LogFormat
from reconciler.report.run_text import render_target_applies, render_target_plans

if TYPE_CHECKING:
    from reconciler.core.results import ActionResult
    from reconciler.image_data import ProgressFactory
    from reconciler.report.console import ApplyConsole


class PeopleApplyOutput(ApplyOutput):
    """Apply's output for people; a run over one cloud reads as one cloud's."""

    @property
    def _one_cloud(self) -> bool:
        return reads_as_one_cloud([entry.target for entry in self.targets])

    def plans(self, *, asking: bool) -> None:
        if not self.quiet or asking or any(entry.failed for entry in self.targets):
            text = render_target_plans(self.targets, self.style, verbose=self.verbose)
            self.write(text.removesuffix("\n"))

    def nothing_to_apply(self) -> None:
        if self._one_cloud:
            self.write(render_report(ApplyReport(())))

    def live(self, *, terminal: bool) -> contextlib.AbstractContextManager[LiveApply]:
        # Imported here: rich is only needed once something is applied.
        from reconciler.report.console import ApplyConsole

        console = ApplyConsole(
            write=self.write,
            terminal=terminal,
            quiet=self.quiet,
            style=self.style,
            colour=self.colour,
        )
        return _LiveConsole(console, labelled=not self._one_cloud)

    def outcome(self, applies: Sequence[TargetApply]) -> None:
        if self._one_cloud:
            (only,) = applies
            if only.report is not None and self.quiet and not only.report.ok:
                self.write(render_failures(only.report, self.style))
        self.write(render_target_applies(applies, self.style).removesuffix("\n"))


class _LiveConsole:
    """The console, step lines and progress labelled with their target when ``labelled``."""

    def __init__(self, console: ApplyConsole, *, labelled: bool) -> None:
        self._console = console
        self._labelled = labelled

    def __enter__(self) -> _LiveConsole:
        self._console.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._console.__exit__(None, None, None)

    def step(self, target: Target, result: ActionResult) -> None:
        self._console.step(result, target=target.label if self._labelled else None)

    def upload_progress(self, target: Target) -> ProgressFactory | None:
        if not self._labelled:
            return self._console.upload_progress
        return lambda image: self._console.upload_progress(f"[{target.name}] {image}")


class TextLog(LogFormat):
    """Apply as it runs, for people; drift prints the --format document."""

    for_people: ClassVar[bool] = True

    def apply_output(
        self, write: Callable[[str], None], targets: Sequence[TargetPlan], *, quiet: bool
    ) -> ApplyOutput:
        return PeopleApplyOutput(
            write, targets, quiet=quiet, style=self.style, colour=self.colour, verbose=self.verbose
        )
