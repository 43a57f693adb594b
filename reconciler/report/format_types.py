"""What an output format provides, whatever it looks like: the base classes of the formats
``--format`` and ``--log-format`` choose (reconciler.report.registry lists them by name).

Every format renders a run: its targets (reconciler.core.targets), a run over one cloud being
a run over one target. Whether such a run reads as one cloud did before targets existed (no
target labels, plan JSON the plan itself) is each format's decision, from the targets alone
(``reads_as_one_cloud``)."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol

from reconciler.core.targets import Target, TargetApply, TargetPlan
from reconciler.report.style import Style, plain

if TYPE_CHECKING:
    from reconciler.core.results import ActionResult
    from reconciler.image_data import ProgressFactory


class DocumentFormat(ABC):
    """What ``plan`` and ``drift`` print (--format): one text for a run's plans or drift
    checks. ``for_people``: coloured on a terminal, its last lines repeat the conflicts, and
    plan says where it saved the plan; bookkeeping changes are shown with ``verbose``."""

    for_people: ClassVar[bool] = False
    # What --help says of the format after its name (nothing: the name says it).
    described: ClassVar[str] = ""

    def __init__(self, *, style: Style = plain, verbose: bool = False) -> None:
        self.style = style
        self.verbose = verbose

    @abstractmethod
    def plans(self, targets: Sequence[TargetPlan]) -> str:
        """The plans of a run (``targets`` non-empty, in the order to show them)."""

    @abstractmethod
    def drifts(self, targets: Sequence[TargetPlan]) -> str:
        """The drift checks of a run."""


class LiveApply(Protocol):
    """Where step results and upload progress go while apply runs; every method is safe to
    call from the executor's worker threads."""

    def step(self, target: Target, result: ActionResult) -> None: ...

    def upload_progress(self, target: Target) -> ProgressFactory | None: ...


class ApplyOutput(ABC):
    """What apply prints for a run, in order: ``plans`` (before anything is asked),
    ``nothing_to_apply`` (when no plan has changes) or ``live`` (while it applies, a context
    manager) then ``outcome``. ``write`` prints one text (lines without the last newline) and
    must be safe to call from several threads; ``quiet`` keeps the plan, the step lines and
    progress back (not the outcome)."""

    def __init__(
        self,
        write: Callable[[str], None],
        targets: Sequence[TargetPlan],
        *,
        quiet: bool,
        style: Style = plain,
        colour: bool = False,
        verbose: bool = False,
    ) -> None:
        self.write = write
        self.targets = tuple(targets)
        self.quiet = quiet
        self.style = style
        self.colour = colour
        self.verbose = verbose

    @abstractmethod
    def plans(self, *, asking: bool) -> None:
        """The plans: always when one has conflicts (or failed) or a person is asked, unless
        quiet."""

    @abstractmethod
    def nothing_to_apply(self) -> None:
        """No plan has changes: nothing is applied."""

    @abstractmethod
    def live(self, *, terminal: bool) -> contextlib.AbstractContextManager[LiveApply]:
        """Where step results and upload progress go while apply runs (``terminal``: stdout
        is a terminal)."""

    @abstractmethod
    def outcome(self, applies: Sequence[TargetApply]) -> None:
        """The last output: what applying each target did."""


class LogFormat(ABC):
    """How ``apply`` and ``drift`` report as they run (--log-format). ``for_people``: apply's
    output is for people and drift prints the --format document; otherwise this format
    replaces both (and, as nobody reads it live, apply must not ask)."""

    for_people: ClassVar[bool] = False
    # What it prints, for the message refusing it with a --format other than text.
    prints: ClassVar[str] = ""
    # What --help says of the format after its name (nothing: not listed).
    described: ClassVar[str] = ""

    def __init__(
        self, *, style: Style = plain, colour: bool = False, verbose: bool = False
    ) -> None:
        self.style = style
        self.colour = colour
        self.verbose = verbose

    def drifts(self, targets: Sequence[TargetPlan], at: datetime | None) -> str | None:
        """What drift prints (``at``: the time of the events), or None: the --format's."""
        return None

    def errors(self, write: Callable[[str], None]) -> contextlib.AbstractContextManager[None]:
        """Around a command: an error that ends it is reported in this format too (it still
        reaches stderr, as the CLI prints every error)."""
        return contextlib.nullcontext()

    @abstractmethod
    def apply_output(
        self, write: Callable[[str], None], targets: Sequence[TargetPlan], *, quiet: bool
    ) -> ApplyOutput:
        """Apply's output for a run over ``targets``."""
