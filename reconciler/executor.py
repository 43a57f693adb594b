"""Run a Plan through an ImageWriter, image by image isolated: a failed step skips the rest of
that image's steps and never stops the other images. Images run concurrently (``parallel``);
one image's steps always run in plan order. The changes filed under one manifest image (a
versioned image's versions, a replaced version deleted) run in one pipeline: they share its
fate, and a name passes between them in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Protocol, assert_never

from catalog.errors import GlanceCatalogError
from catalog.model import ImageSource, marker_tag
from reconciler.core.actions import Action, ActionKind, FieldChange
from reconciler.core.changes import ImageChange
from reconciler.core.plan import Plan
from reconciler.core.results import ActionResult, ApplyReport, Outcome
from reconciler.errors import DataRefused, ImportTimedOut
from reconciler.image_data import ImageData, ProgressFactory
from reconciler.sources.reading import READ_TIMEOUT
from reconciler.sources.stream import SourceData

DEFAULT_MAX_DELETE = 5


class ImageWriter(Protocol):
    """The write side of the gateway: one method per action kind (IMPORT: web_download, or
    glance_download for a source in another region, which finds the image there by the
    catalog's ``marker``). The data an upload sends and a web-download has Glance fetch is an
    ImageData the executor makes from the source. ``store`` is the Glance store new data goes
    to (None: Glance's default)."""

    def reserve(self, changes: Iterable[FieldChange]) -> str: ...
    def upload(
        self, image_id: str, image: str, data: ImageData, store: str | None = None
    ) -> int: ...
    def web_download(
        self, image_id: str, image: str, data: ImageData, store: str | None = None
    ) -> None: ...
    def glance_download(
        self, image_id: str, image: str, source: ImageSource, marker: str, store: str | None = None
    ) -> None: ...
    def copy_to_stores(self, image_id: str, image: str, stores: tuple[str, ...]) -> None: ...
    def remove_from_store(self, image_id: str, image: str, store: str) -> None: ...
    def update(self, image_id: str, changes: Iterable[FieldChange]) -> None: ...
    def deactivate(self, image_id: str) -> None: ...
    def reactivate(self, image_id: str) -> None: ...
    def delete(self, image_id: str) -> None: ...
    def retire(self, image_id: str) -> str | None: ...
    def add_member(self, image_id: str, member: str) -> None: ...
    def remove_member(self, image_id: str, member: str) -> None: ...
    def accept_member(self, image_id: str, member: str, cloud: str) -> None: ...
    def recreate(self, image_id: str, image: str) -> str: ...


class _Done(NamedTuple):
    """What a step that succeeded produced: its detail, the id it leaves the image with, and
    the bytes it sent (an upload only)."""

    detail: str
    image_id: str | None
    size: int | None = None


def check_applicable(plan: Plan, max_delete: int) -> None:
    """Refuse, before any change, a plan with conflicts or with more deletions than allowed."""
    if plan.conflicts:
        raise GlanceCatalogError(
            *(conflict.as_text() for conflict in plan.conflicts),
            "the plan has conflicts; nothing was changed",
        )
    deletions = len(plan.deletions)
    if deletions > max_delete:
        raise GlanceCatalogError(
            f"the plan deletes {deletions} images, more than --max-delete {max_delete} allows; "
            "nothing was changed (raise --max-delete if this is intended)"
        )


class ImagePipeline:
    """The steps of the changes filed under one manifest image, in plan order, with the id
    each change's reserve produced, the ids of images that were made again (old id -> new id),
    and whether a step failed (which skips the rest of these steps, and only these). ``marker``
    is the plan's catalog marker; sources are read with ``read_timeout`` (--timeout)."""

    def __init__(self, marker: str, read_timeout: float = READ_TIMEOUT) -> None:
        self.marker = marker
        self.read_timeout = read_timeout
        self.steps: list[tuple[int, ImageChange, Action]] = []
        self.created: dict[int, str] = {}
        self.remade: dict[str, str] = {}
        self.failure: str | None = None

    def stage(self, deletes: bool) -> list[tuple[int, ImageChange, Action]]:
        """This image's deletes, or all its other steps, with their plan indexes."""
        return [step for step in self.steps if step[2].kind.late == deletes]

    def target(self, change: ImageChange, action: Action) -> str | None:
        """The id the action works on now: the plan's, or the one that took its place (the
        RESERVE of its change made it, or it was made again)."""
        if action.image_id is None:
            return self.created.get(id(change))
        return self.remade.get(action.image_id, action.image_id)

    def take_new_id(self, old: str, new: str) -> None:
        for change, created in self.created.items():
            if created == old:
                self.created[change] = new
        self.remade[old] = new

    def run(
        self,
        steps: list[tuple[int, ImageChange, Action]],
        writer: ImageWriter,
        progress: ProgressFactory | None,
        record: Callable[[int, ActionResult], None],
        interrupted: threading.Event,
    ) -> None:
        for index, change, action in steps:
            image_id = self.target(change, action)
            started = time.monotonic()
            if interrupted.is_set() and self.failure is None:
                self.failure = "apply was interrupted"
            if self.failure is not None:
                record(
                    index,
                    ActionResult(
                        action,
                        Outcome.SKIPPED,
                        f"skipped: an earlier step failed ({self.failure})",
                        0.0,
                        image_id,
                    ),
                )
                continue
            size = None
            try:
                if action.kind.moves_data:
                    detail, image_id, size = self._data(action, image_id, writer, progress)
                else:
                    detail, image_id, size = _run(
                        action, image_id, writer, progress, self.marker, self.read_timeout
                    )
            except GlanceCatalogError as error:
                self.failure = " ".join(error.lines)
                outcome, detail = Outcome.FAILED, self.failure
            else:
                outcome = Outcome.DONE
                if action.kind is ActionKind.RESERVE and image_id is not None:
                    self.created[id(change)] = image_id
            seconds = time.monotonic() - started
            record(index, ActionResult(action, outcome, detail, seconds, image_id, size))

    def _data(
        self,
        action: Action,
        image_id: str | None,
        writer: ImageWriter,
        progress: ProgressFactory | None,
    ) -> _Done:
        """A data step; when Glance cannot take data into the image and the plan allows it,
        the image is made again (once) and the data sent to the new one."""
        try:
            return _run(action, image_id, writer, progress, self.marker, self.read_timeout)
        except DataRefused as error:
            if image_id is None:
                raise
            if not action.recreatable:
                raise DataRefused(
                    *error.lines,
                    f"image '{action.image}': not recreated: it has a fixed id or was adopted; "
                    "delete it by hand (and for a fixed id choose a new id:)",
                ) from error
            new_id = writer.recreate(image_id, action.image)
            self.take_new_id(image_id, new_id)
            detail, _, size = _run(action, new_id, writer, progress, self.marker, self.read_timeout)
            why = " ".join(error.lines)
            return _Done(f"{detail} after recreating the image as {new_id} ({why})", new_id, size)
        except ImportTimedOut as error:
            if image_id is None or not action.recreatable:
                raise
            writer.delete(image_id)
            raise ImportTimedOut(
                *error.lines,
                f"image '{action.image}': deleted, so that the next run starts it afresh",
            ) from error


def apply_plan(
    plan: Plan,
    writer: ImageWriter,
    on_result: Callable[[ActionResult], None] | None = None,
    *,
    max_delete: int = DEFAULT_MAX_DELETE,
    parallel: int = 1,
    progress: ProgressFactory | None = None,
    read_timeout: float = READ_TIMEOUT,
) -> ApplyReport:
    """Run every image's steps in plan order, up to ``parallel`` images at a time; deletes run
    only once every other step of every image has finished. ``on_result`` is called (from the
    worker threads, one call at a time) as each step ends; the report lists results in plan
    order. Sources are read with ``read_timeout`` (--timeout)."""
    check_applicable(plan, max_delete)
    pipelines: dict[str, ImagePipeline] = {}
    for index, (change, action) in enumerate(plan.steps):
        pipeline = pipelines.setdefault(
            change.image, ImagePipeline(marker_tag(plan.catalog), read_timeout)
        )
        pipeline.steps.append((index, change, action))
    results: dict[int, ActionResult] = {}
    lock = threading.Lock()
    interrupted = threading.Event()

    def record(index: int, result: ActionResult) -> None:
        with lock:
            results[index] = result
            if on_result is not None:
                on_result(result)

    for deleting in (False, True):
        stage = [(pipeline, pipeline.stage(deleting)) for pipeline in pipelines.values()]
        pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="image")
        try:
            for done in [
                pool.submit(pipeline.run, steps, writer, progress, record, interrupted)
                for pipeline, steps in stage
                if steps
            ]:
                done.result()
        except KeyboardInterrupt:
            # Steps already running finish (an upload is not cut in half); nothing new starts.
            interrupted.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return ApplyReport(tuple(results[index] for index in sorted(results)), plan.changes)


def _run(
    action: Action,
    image_id: str | None,
    writer: ImageWriter,
    progress: ProgressFactory | None,
    marker: str,
    read_timeout: float,
) -> _Done:
    if action.kind is ActionKind.RESERVE:
        new_id = writer.reserve(action.changes)
        return _Done(f"created {new_id}", new_id)
    if image_id is None:
        raise GlanceCatalogError(f"image '{action.image}': no image id for {action.kind.value}")
    match action.kind:
        case ActionKind.RESERVE:
            raise AssertionError("a reserve runs above")
        case ActionKind.UPLOAD:
            return _upload(action, image_id, writer, progress, read_timeout)
        case ActionKind.IMPORT:
            return _import(action, image_id, writer, marker, read_timeout)
        case ActionKind.COPY_TO_STORE:
            writer.copy_to_stores(image_id, action.image, action.stores)
            return _Done(f"copied to {', '.join(action.stores)}", image_id)
        case ActionKind.REMOVE_FROM_STORE:
            (store,) = action.stores
            writer.remove_from_store(image_id, action.image, store)
            return _Done(f"removed from {store}", image_id)
        case ActionKind.UPDATE | ActionKind.PREPARE:
            writer.update(image_id, action.changes)
            return _Done(f"updated {len(action.changes)} field(s)", image_id)
        case ActionKind.RENAME:
            writer.update(image_id, action.changes)
            return _Done(f"renamed to {action.changes[0].after}", image_id)
        case ActionKind.ADD_MEMBER | ActionKind.REMOVE_MEMBER | ActionKind.ACCEPT_MEMBER:
            return _Done(_run_member(action, image_id, writer), image_id)
        case ActionKind.DEACTIVATE:
            writer.deactivate(image_id)
            return _Done("deactivated", image_id)
        case ActionKind.REACTIVATE:
            writer.reactivate(image_id)
            return _Done("reactivated", image_id)
        case ActionKind.DELETE:
            writer.delete(image_id)
            return _Done("deleted", image_id)
        case ActionKind.RETIRE:
            refused = writer.retire(image_id)
            if refused is None:
                return _Done("deleted", image_id)
            return _Done(f"Glance refused the delete ({refused}); hidden instead", image_id)
        case ActionKind.DISCARD:
            if action.changes:
                writer.update(image_id, action.changes)
            writer.delete(image_id)
            return _Done("deleted; it is made again next", image_id)
        case unhandled:
            assert_never(unhandled)


def _upload(
    action: Action,
    image_id: str,
    writer: ImageWriter,
    progress: ProgressFactory | None,
    read_timeout: float,
) -> _Done:
    assert action.source is not None
    bar = progress(action.image) if progress is not None else None
    ok = False
    try:
        data = SourceData(action.source, action.image, bar, read_timeout)
        size = writer.upload(image_id, action.image, data, _store(action))
        ok = True
    finally:
        if bar is not None:
            bar.finish(ok)
    return _Done(f"uploaded {size} bytes", image_id, size)


def _import(
    action: Action, image_id: str, writer: ImageWriter, marker: str, read_timeout: float
) -> _Done:
    assert action.source is not None
    if action.source.region is not None:
        writer.glance_download(image_id, action.image, action.source, marker, _store(action))
        return _Done(f"pulled by Glance from region {action.source.region}", image_id)
    data = SourceData(action.source, action.image, timeout=read_timeout)
    writer.web_download(image_id, action.image, data, _store(action))
    return _Done("imported by Glance", image_id)


def _store(action: Action) -> str | None:
    return action.stores[0] if action.stores else None


def _run_member(action: Action, image_id: str, writer: ImageWriter) -> str:
    member = action.member
    assert member is not None  # Action's invariant: every member step names its member
    match action.kind:
        case ActionKind.ADD_MEMBER:
            writer.add_member(image_id, member)
            return f"added member {member}"
        case ActionKind.REMOVE_MEMBER:
            writer.remove_member(image_id, member)
            return f"removed member {member}"
        case ActionKind.ACCEPT_MEMBER:
            assert action.accept_with is not None
            writer.accept_member(image_id, member, action.accept_with)
            return f"accepted for {member} with cloud '{action.accept_with}'"
        case other:
            raise AssertionError(f"{other.value} is not a member step")
