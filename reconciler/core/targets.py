"""One run over several targets: the clouds (and regions) a catalog goes to, each planned and
applied on its own, concurrently with a bound; one target failing never stops the others.

These are the shapes every command and reporter shares: every run is a run over targets. A run
over one cloud without ``targets:`` in its manifests is a run over one target named after the
cloud, which its reports render as one cloud's (``reads_as_one_cloud``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from catalog.errors import GlanceCatalogError
from catalog.model import Catalog
from reconciler.core.exit_codes import ExitCode

if TYPE_CHECKING:
    from reconciler.core.plan import Plan
    from reconciler.core.results import ApplyReport


@dataclass(frozen=True)
class Target:
    """Where a catalog goes: the clouds.yaml entry ``cloud`` and, when given, ``region``
    (otherwise the entry's own region_name). ``name`` is unique within a run. ``declared``:
    one of the manifests' ``targets:`` (or of a saved plan set), not a cloud chosen with
    --cloud or $OS_CLOUD; it says where the target came from, not where it goes, and two
    targets that go to the same place are equal whatever it is."""

    name: str
    cloud: str
    region: str | None = None
    declared: bool = field(default=False, compare=False)

    @property
    def label(self) -> str:
        """How reports name the target: its name, with cloud and region when they differ."""
        where = self.cloud if self.region is None else f"{self.cloud}, region {self.region}"
        return self.name if where == self.name else f"{self.name} ({where})"

    @property
    def described(self) -> str:
        """How messages name the target: ``cloud 'NAME'`` for a plain cloud."""
        if self.region is None and self.cloud == self.name:
            return f"cloud '{self.cloud}'"
        region = f", region {self.region}" if self.region else ""
        return f"target '{self.name}' (cloud '{self.cloud}'{region})"


@dataclass(frozen=True)
class TargetPlan:
    """A target's plan, or the one-line errors (``error``) that kept it from being made:
    exactly one of ``plan`` and ``error`` is set."""

    target: Target
    plan: Plan | None = None
    error: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.plan is None or bool(self.plan.conflicts)


@dataclass(frozen=True)
class TargetApply:
    """What applying a target's plan did (``report``), or the errors that stopped it before
    any step ran (``error``); ``plan`` is the plan it applied, when one was made."""

    target: Target
    plan: Plan | None = None
    report: ApplyReport | None = None
    error: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.error) or self.report is None or not self.report.ok


def reads_as_one_cloud(targets: Sequence[Target]) -> bool:
    """Whether a run over ``targets`` is a run over one cloud as there were before targets:
    one target that is a cloud, not one the manifests declare. Its reports read as they did
    then (no target labels, plan JSON the plan itself) and its target's error is the run's."""
    return len(targets) == 1 and not targets[0].declared


def combined_exit(failed: Sequence[bool], changed: Sequence[bool]) -> ExitCode:
    """1 if any target failed, else 2 if any changed (or drifted), else 0."""
    if any(failed):
        return ExitCode.ERROR
    return ExitCode.CHANGES if any(changed) else ExitCode.OK


def select_targets(
    catalog: Catalog,
    clouds: Sequence[str],
    names: Sequence[str],
    default_cloud: str | None,
) -> tuple[tuple[Target, Catalog], ...]:
    """The targets a run goes to, each with the catalog as it gets it.

    A catalog with ``targets:`` goes to every one of them, or to those ``names`` (--target)
    names and, with ``clouds`` (--cloud), to those going to one of those clouds. A catalog
    without goes to each of ``clouds``, else to ``default_cloud`` ($OS_CLOUD): one target per
    cloud, named after it. Anything else is an error that names the way out."""
    if not catalog.targets:
        if names:
            raise GlanceCatalogError(
                f"--target {names[0]}: catalog '{catalog.name}' declares no targets; choose "
                "clouds with --cloud, or add targets: to the manifest"
            )
        chosen = list(dict.fromkeys(clouds)) or ([default_cloud] if default_cloud else [])
        if not chosen:
            raise GlanceCatalogError(
                "no cloud selected: pass --cloud NAME or set OS_CLOUD (a clouds.yaml entry)"
            )
        return tuple((Target(cloud, cloud), catalog) for cloud in chosen)
    declared = {target.name: target for target in catalog.targets}
    for name in names:
        if name not in declared:
            raise GlanceCatalogError(
                f"--target {name}: catalog '{catalog.name}' has no such target (it has "
                f"{', '.join(declared)})"
            )
    going = {target.cloud for target in catalog.targets}
    for cloud in clouds:
        if cloud not in going:
            raise GlanceCatalogError(
                f"--cloud {cloud}: no target of catalog '{catalog.name}' goes to that cloud "
                f"(they go to {', '.join(sorted(going))}); use --target to choose targets"
            )
    return tuple(
        (Target(target.name, target.cloud, target.region, True), catalog.for_target(target))
        for target in catalog.targets
        if (not names or target.name in names) and (not clouds or target.cloud in clouds)
    )
