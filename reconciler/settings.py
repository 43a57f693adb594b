"""What a run is asked to do, as plain data: the targets it goes to, how it behaves against a
cloud, and what export writes. The CLI makes these from its options (cli/options.py); the run
orchestration below it reads them and never sees click."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.retry import RetryPolicy


@dataclass(frozen=True)
class TargetChoice:
    """Which targets a run goes to (--cloud, --target) and how many are worked on at a time."""

    clouds: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    parallel: int = 4


@dataclass(frozen=True)
class RunSettings:
    """How a run against a cloud behaves: images worked on at a time, seconds to wait for an
    answer from Glance, Keystone or a source, the longest wait for one import, how long an
    image may stay saving or importing before it is taken for stuck and made again, and the
    retries the whole run may spend (every target, source and checksum file together)."""

    parallel: int = 4
    timeout: float = 60.0
    import_timeout: float = 600.0
    stuck_after: float = 3600.0
    retry_budget: int = RetryPolicy.budget


@dataclass(frozen=True)
class ExportRequest:
    """What export writes: the images of ``region`` (None: the cloud's own) whose names match
    one of the fnmatch ``include`` patterns (all when empty), as catalog ``catalog`` (None:
    named after the cloud), to the file ``out``, one file per family in ``out_dir``, or (both
    None; never both set) to standard output; ``force`` overwrites files that exist."""

    region: str | None = None
    catalog: str | None = None
    include: tuple[str, ...] = ()
    out: Path | None = None
    out_dir: Path | None = None
    force: bool = False
