"""reconciler.report.format_types: what every output format provides, whatever it looks like:
the abstract methods a format must write, the defaults a log format inherits, and the
promises the registered formats keep (a log format not for people replaces drift's document;
whether a run over one cloud reads as before is the format's decision, from the targets)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence

import pytest

from reconciler.core.plan import Plan
from reconciler.core.targets import Target, TargetApply, TargetPlan
from reconciler.report.format_types import ApplyOutput, DocumentFormat, LiveApply, LogFormat
from reconciler.report.registry import FORMAT_BY_NAME, LOG_FORMAT_BY_NAME
from reconciler.report.style import ansi, plain
from tests.unit.report_plans import mixed_plan

CLOUD = Target("local", "local")
DECLARED = Target("staging", "local", declared=True)


class Listing(DocumentFormat):
    """A document format that lists the targets it is given."""

    def plans(self, targets: Sequence[TargetPlan]) -> str:
        return " ".join(entry.target.name for entry in targets)

    def drifts(self, targets: Sequence[TargetPlan]) -> str:
        return "drift " + self.plans(targets)


class Writing(ApplyOutput):
    """An apply output that writes what it is asked."""

    def plans(self, *, asking: bool) -> None:
        self.write(f"plans asking={asking}")

    def nothing_to_apply(self) -> None:
        self.write("nothing")

    @contextlib.contextmanager
    def live(self, *, terminal: bool) -> Iterator[LiveApply]:
        raise NotImplementedError
        yield

    def outcome(self, applies: Sequence[TargetApply]) -> None:
        self.write(f"{len(applies)} applied")


class Logging(LogFormat):
    """A log format that overrides only what it must."""

    def apply_output(
        self, write: Callable[[str], None], targets: Sequence[TargetPlan], *, quiet: bool
    ) -> ApplyOutput:
        return Writing(write, targets, quiet=quiet, style=self.style, verbose=self.verbose)


def test_a_format_that_leaves_out_a_method_of_its_base_cannot_be_made() -> None:
    class NoDrift(DocumentFormat):
        def plans(self, targets: Sequence[TargetPlan]) -> str:
            return ""

    class NoOutcome(ApplyOutput):
        def plans(self, *, asking: bool) -> None: ...

        def nothing_to_apply(self) -> None: ...

        def live(self, *, terminal: bool) -> contextlib.AbstractContextManager[LiveApply]:
            raise NotImplementedError

    class NoApplyOutput(LogFormat):
        pass

    with pytest.raises(TypeError, match="drifts"):
        NoDrift()  # type: ignore[abstract]
    with pytest.raises(TypeError, match="outcome"):
        NoOutcome(print, [], quiet=False)  # type: ignore[abstract]
    with pytest.raises(TypeError, match="apply_output"):
        NoApplyOutput()  # type: ignore[abstract]


def test_a_document_format_is_plain_and_not_for_people_unless_it_says_so() -> None:
    made = Listing()
    assert made.style is plain and made.verbose is False
    assert Listing.for_people is False and Listing.described == ""
    assert Listing(style=ansi, verbose=True).style is ansi
    plans = [TargetPlan(CLOUD, plan=mixed_plan()), TargetPlan(DECLARED, error=("down",))]
    assert made.plans(plans) == "local staging"


def test_a_log_format_prints_drifts_document_and_lets_errors_through_by_default() -> None:
    written: list[str] = []
    log = Logging()
    assert Logging.for_people is False and (Logging.prints, Logging.described) == ("", "")
    assert log.drifts([TargetPlan(CLOUD, plan=mixed_plan())], None) is None
    with pytest.raises(RuntimeError, match="boom"), log.errors(written.append):
        raise RuntimeError("boom")
    assert written == []


def test_an_apply_output_keeps_the_targets_it_was_made_for() -> None:
    written: list[str] = []
    targets = [TargetPlan(CLOUD, plan=mixed_plan())]
    output = Logging(verbose=True).apply_output(written.append, targets, quiet=True)
    targets.append(TargetPlan(DECLARED, error=("down",)))
    assert output.targets == (TargetPlan(CLOUD, plan=mixed_plan()),)
    assert output.quiet is True and output.verbose is True and output.colour is False
    output.plans(asking=False)
    output.outcome([])
    assert written == ["plans asking=False", "0 applied"]


def test_a_registered_log_format_not_for_people_replaces_drifts_document() -> None:
    targets = [TargetPlan(CLOUD, plan=mixed_plan())]
    for name, kind in LOG_FORMAT_BY_NAME.items():
        drifted = kind().drifts(targets, None)
        if kind.for_people:
            assert drifted is None, name
        else:
            # It prints something of its own, and says what for the message refusing it.
            assert drifted and kind.prints, name
    assert {kind.for_people for kind in LOG_FORMAT_BY_NAME.values()} == {True, False}


def test_the_json_format_reads_a_run_over_one_cloud_as_the_plan_itself() -> None:
    plan = mixed_plan()
    alone = FORMAT_BY_NAME["json"]().plans([TargetPlan(CLOUD, plan=plan)])
    assert Plan.from_json(alone).changes == plan.changes
    declared = json.loads(FORMAT_BY_NAME["json"]().plans([TargetPlan(DECLARED, plan=plan)]))
    assert [entry["target"]["name"] for entry in declared["targets"]] == ["staging"]
    assert "changes" not in declared
