"""reconciler.executor: per-image isolation and id hand-over from reserve to later steps.

The writer here records calls; it tests the executor's own bookkeeping, not Glance (the
functional tests do that against the real server).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pytest

from catalog.errors import GlanceCatalogError
from catalog.model import ImageState, MemberSpec, Visibility
from reconciler.core.actions import FieldChange
from reconciler.core.plan import Conflict
from reconciler.core.planner import make_plan
from reconciler.core.results import Outcome
from reconciler.errors import CloudError
from reconciler.executor import apply_plan
from reconciler.image_data import ImageData
from tests.unit.builders import catalog, desired, observed_like, snapshot


class RecordingWriter:
    def __init__(self, fail_upload_of: str = "", fail_copy_of: str = "") -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_upload_of = fail_upload_of
        self.fail_copy_of = fail_copy_of

    def reserve(self, changes: Iterable[FieldChange]) -> str:
        name = next(c.after for c in changes if c.path == "name")
        self.calls.append(("reserve", name))
        return f"id-{name}"

    def upload(self, image_id: str, image: str, data: ImageData, store: str | None = None) -> int:
        self.calls.append(("upload", image_id if store is None else f"{image_id}@{store}"))
        if image == self.fail_upload_of:
            raise CloudError(f"image '{image}': upload failed")
        return 3

    def web_download(
        self, image_id: str, image: str, data: ImageData, store: str | None = None
    ) -> None:
        self.calls.append(("import", image_id if store is None else f"{image_id}@{store}"))

    def copy_to_stores(self, image_id: str, image: str, stores: tuple[str, ...]) -> None:
        self.calls.append(("copy_to_store", f"{image_id}@{','.join(stores)}"))
        if image == self.fail_copy_of:
            raise CloudError(f"image '{image}': Glance could not copy the data")

    def remove_from_store(self, image_id: str, image: str, store: str) -> None:
        self.calls.append(("remove_from_store", f"{image_id}@{store}"))

    def update(self, image_id: str, changes: Iterable[FieldChange]) -> None:
        self.calls.append(("update", image_id))

    def deactivate(self, image_id: str) -> None:
        self.calls.append(("deactivate", image_id))

    def reactivate(self, image_id: str) -> None:
        self.calls.append(("reactivate", image_id))

    def delete(self, image_id: str) -> None:
        self.calls.append(("delete", image_id))

    def add_member(self, image_id: str, member: str) -> None:
        self.calls.append(("add_member", f"{image_id}/{member}"))

    def remove_member(self, image_id: str, member: str) -> None:
        self.calls.append(("remove_member", f"{image_id}/{member}"))

    def accept_member(self, image_id: str, member: str, cloud: str) -> None:
        self.calls.append(("accept_member", f"{image_id}/{member}@{cloud}"))

    def recreate(self, image_id: str, image: str) -> str:
        self.calls.append(("recreate", image_id))
        return f"{image_id}-again"


def test_later_steps_use_the_id_the_reserve_produced() -> None:
    plan = make_plan(catalog(desired("a", state=ImageState.DEACTIVATED)), snapshot())
    writer = RecordingWriter()
    report = apply_plan(plan, writer)
    assert writer.calls == [("reserve", "a"), ("upload", "id-a"), ("deactivate", "id-a")]
    assert report.ok


def test_a_done_upload_reports_the_bytes_it_sent_and_no_other_step_does() -> None:
    plan = make_plan(catalog(desired("a")), snapshot())
    report = apply_plan(plan, RecordingWriter())
    sizes = {result.action.kind.value: result.size for result in report.results}
    assert sizes == {"reserve": None, "upload": 3}
    failed = apply_plan(plan, RecordingWriter(fail_upload_of="a"))
    assert [result.size for result in failed.results] == [None, None]


def test_a_failed_step_skips_that_image_only() -> None:
    plan = make_plan(catalog(desired("a", state=ImageState.DEACTIVATED), desired("b")), snapshot())
    writer = RecordingWriter(fail_upload_of="a")
    seen: list[Outcome] = []
    report = apply_plan(plan, writer, on_result=lambda result: seen.append(result.outcome))
    assert ("upload", "id-b") in writer.calls
    assert ("deactivate", "id-a") not in writer.calls
    outcomes = {(r.action.kind.value, r.action.image): r.outcome for r in report.results}
    assert outcomes[("upload", "a")] is Outcome.FAILED
    assert outcomes[("deactivate", "a")] is Outcome.SKIPPED
    assert outcomes[("upload", "b")] is Outcome.DONE
    assert not report.ok and len(report.failed) == 1
    assert len(seen) == len(report.results)


def test_a_plan_with_conflicts_changes_nothing() -> None:
    plan = make_plan(catalog(desired("a")), snapshot())
    conflicted = replace(plan, conflicts=(Conflict("a", "boom"),))
    writer = RecordingWriter()
    with pytest.raises(GlanceCatalogError, match="the plan has conflicts"):
        apply_plan(conflicted, writer)
    assert writer.calls == []


def test_member_steps_and_renames_reach_the_writer_with_the_new_id() -> None:
    image = desired("s", visibility=Visibility.SHARED, members=(MemberSpec("b", "cloud-b"),))
    plan = make_plan(catalog(image), replace(snapshot(), projects={"b": "pb"}))
    writer = RecordingWriter()
    assert apply_plan(plan, writer).ok
    assert writer.calls == [
        ("reserve", "s"),
        ("upload", "id-s"),
        ("add_member", "id-s/pb"),
        ("accept_member", "id-s/pb@cloud-b"),
    ]


def test_more_deletions_than_allowed_change_nothing() -> None:
    images = [desired(f"d{index}", state=ImageState.ABSENT) for index in range(3)]
    observed = [observed_like(desired(f"d{index}"), f"x{index}") for index in range(3)]
    plan = make_plan(catalog(*images), snapshot(*observed))
    writer = RecordingWriter()
    with pytest.raises(GlanceCatalogError, match="deletes 3 images, more than --max-delete 2"):
        apply_plan(plan, writer, max_delete=2)
    assert writer.calls == []
    assert apply_plan(plan, writer, max_delete=3).ok
    assert [call for call in writer.calls if call[0] == "delete"] == [
        ("delete", "x0"),
        ("delete", "x1"),
        ("delete", "x2"),
    ]


def test_parallel_images_keep_their_own_order_and_deletes_wait_for_everything() -> None:
    gone = [desired(f"gone{index}", state=ImageState.ABSENT) for index in range(3)]
    fresh = [desired(f"new{index}", state=ImageState.DEACTIVATED) for index in range(6)]
    observed = [observed_like(desired(f"gone{index}"), f"g{index}") for index in range(3)]
    plan = make_plan(catalog(*gone, *fresh), snapshot(*observed))
    writer = RecordingWriter()
    report = apply_plan(plan, writer, parallel=4)
    assert report.ok
    assert [r.action for r in report.results] == list(plan.actions)
    for index in range(6):
        mine = [call for call in writer.calls if call[1] in (f"new{index}", f"id-new{index}")]
        assert mine == [
            ("reserve", f"new{index}"),
            ("upload", f"id-new{index}"),
            ("deactivate", f"id-new{index}"),
        ]
    first_delete = min(i for i, call in enumerate(writer.calls) if call[0] == "delete")
    assert all(call[0] == "delete" for call in writer.calls[first_delete:])
    assert len(writer.calls) == 6 * 3 + 3


def test_a_failed_copy_skips_the_removals_of_its_image_only() -> None:
    images = [desired(name, stores=("archive",)) for name in ("a", "b")]
    observed = [observed_like(image, f"id-{image.name}", stores=("fast",)) for image in images]
    plan = make_plan(catalog(*images), snapshot(*observed, stores=("archive", "fast")))
    writer = RecordingWriter(fail_copy_of="a")
    report = apply_plan(plan, writer)
    assert writer.calls == [
        ("copy_to_store", "id-a@archive"),
        ("copy_to_store", "id-b@archive"),
        ("remove_from_store", "id-b@fast"),
    ]
    assert [result.outcome.value for result in report.results] == [
        "failed",
        "done",
        "skipped",
        "done",
    ]
    new = make_plan(
        catalog(desired("c", stores=("fast", "archive"))), snapshot(stores=("archive", "fast"))
    )
    writer = RecordingWriter()
    assert apply_plan(new, writer).ok
    assert writer.calls == [
        ("reserve", "c"),
        ("upload", "id-c@fast"),
        ("copy_to_store", "id-c@archive"),
    ]
