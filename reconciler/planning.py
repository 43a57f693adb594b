"""One target's part of a run: its gateway, its plan as the cloud is now, and a saved plan
checked against the manifests and the cloud before it is applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.errors import GlanceCatalogError
from catalog.load import load_catalog
from catalog.model import Catalog, ImageSource, Visibility
from reconciler.core.targets import Target
from reconciler.retry import Retrier, RetryPolicy
from reconciler.settings import RunSettings

if TYPE_CHECKING:
    from reconciler.core.observed import Snapshot
    from reconciler.core.plan import Plan
    from reconciler.gateway import GlanceGateway


def observe(catalog: Catalog, gateway: GlanceGateway) -> Snapshot:
    """What the catalog's plan depends on in Glance, read in one snapshot."""
    projects = {
        member.project
        for image in catalog.images
        if image.visibility is Visibility.SHARED
        for member in image.members
    }
    # Members of unmanaged namesakes too: adopt converges them in the same run.
    names = {image.name for image in catalog.images}
    ids = {image.image_id for image in catalog.images if image.image_id}
    stores = any(image.stores for image in catalog.images)
    return gateway.snapshot(catalog.marker, projects, names, ids, stores=stores)


def run_retrier(settings: RunSettings) -> Retrier:
    """The retry policy and budget of one run, made once per run and handed to every gateway,
    source and checksum fetch of it: the whole run spends at most ``settings.retry_budget``."""
    return Retrier(RetryPolicy(budget=settings.retry_budget))


def open_gateway(target: Target, settings: RunSettings, retrier: Retrier) -> GlanceGateway:
    """An authenticated gateway to the target's Glance, spending the run's ``retrier``."""
    # Imported here: validate needs neither openstack nor the planner, and starts faster.
    from reconciler.gateway import GlanceGateway

    return GlanceGateway(
        target.cloud,
        region=target.region,
        concurrency=settings.parallel,
        timeout=settings.timeout,
        import_timeout=settings.import_timeout,
        retrier=retrier,
    )


def plan_target(
    catalog: Catalog,
    target: Target,
    prune: bool,
    settings: RunSettings,
    fed_regions: frozenset[str] = frozenset(),
    *,
    retrier: Retrier,
) -> tuple[Plan, GlanceGateway]:
    """The plan for the target as it is now, with what preflight found as conflicts (the
    images glance-download takes from ``fed_regions``, which the run applies first, are
    looked for at apply); the caller closes the gateway."""
    from reconciler.core.planner import make_plan
    from reconciler.sources.resolve import resolve_sources

    catalog = resolve_sources(catalog, settings, retrier)

    def planned(gateway: GlanceGateway) -> Plan:
        snapshot = observe(catalog, gateway)
        return make_plan(catalog, snapshot, prune=prune, stuck_after=settings.stuck_after)

    return _preflighted(planned, catalog, target, settings, fed_regions, retrier)


def _preflighted(
    planned: Callable[[GlanceGateway], Plan],
    catalog: Catalog,
    target: Target,
    settings: RunSettings,
    fed_regions: frozenset[str],
    retrier: Retrier,
) -> tuple[Plan, GlanceGateway]:
    """The plan ``planned`` makes through a gateway opened to the target, with what preflight
    found as conflicts, and that gateway (closed here when either fails)."""
    from reconciler.preflight import RunChecks, preflight
    from reconciler.sources.stream import SourceProbe

    gateway = open_gateway(target, settings, retrier)
    try:
        plan = planned(gateway)
        checks = RunChecks(SourceProbe(gateway.retrier.run, settings.timeout), gateway)
        return preflight(plan, catalog, checks, settings.parallel, fed_regions), gateway
    except BaseException:
        gateway.close()
        raise


def load_saved_catalog(saved: Plan, where: str) -> Catalog:
    """The catalog of the manifests a saved plan was made from, refused when they changed."""
    catalog = load_catalog(tuple(Path(manifest) for manifest in saved.manifests))
    if catalog.digest != saved.catalog_digest:
        raise GlanceCatalogError(
            f"{where}: plan is stale: the manifests changed since it was made; re-run plan "
            "(nothing was changed)"
        )
    return catalog


def check_saved_plan(
    saved: Plan,
    catalog: Catalog,
    target: Target,
    where: str,
    settings: RunSettings,
    fed_regions: frozenset[str] = frozenset(),
    *,
    retrier: Retrier,
) -> tuple[Plan, GlanceGateway]:
    """``saved`` (made for ``target`` from ``catalog``, as the target gets it) checked against
    the cloud as it is now, with the manifests' sources in its actions; a plan made from
    anything else is stale and refused. The caller closes the gateway."""
    from reconciler.core.planner import observed_fingerprint
    from reconciler.sources.checksum_source import stale_checksums
    from reconciler.sources.resolve import resolve_sources

    catalog = resolve_sources(catalog, settings, retrier)
    if stale := [f"{where}: plan is stale: {why}" for why in stale_checksums(saved, catalog)]:
        raise GlanceCatalogError(*stale)

    def rechecked(gateway: GlanceGateway) -> Plan:
        if observed_fingerprint(catalog, observe(catalog, gateway)) != saved.observed_fingerprint:
            raise GlanceCatalogError(
                f"{where}: plan is stale: the images in {target.described} changed since it was "
                "made; re-run plan (nothing was changed)"
            )
        # Sources come from the manifests (unchanged, as the digest shows), not from the
        # file: the file holds them redacted.
        changes = tuple(
            replace(
                change,
                steps=tuple(
                    replace(action, source=_manifest_source(catalog, action.image, action.version))
                    if action.source is not None
                    else action
                    for action in change.steps
                ),
            )
            for change in saved.changes
        )
        return replace(saved, changes=changes)

    return _preflighted(rechecked, catalog, target, settings, fed_regions, retrier)


def _manifest_source(catalog: Catalog, image: str, version: str | None) -> ImageSource:
    desired = catalog.image(image)
    source = desired.source if desired is not None else None
    if desired is not None and version is not None:
        source = next((v.source for v in desired.versions if v.version == version), None)
    if source is None:
        raise GlanceCatalogError(
            f"image '{image}': the saved plan reads a source the manifests do not give; "
            "re-run plan (nothing was changed)"
        )
    return source
