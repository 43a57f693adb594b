"""When an import counts as finished: Glance shows the image done before its task's last save."""

from __future__ import annotations

from typing import Any, cast

from reconciler.gateway.features import GlanceApi
from reconciler.gateway.imports import IMPORT_LOCK, ImportFollower
from reconciler.gateway.session import CloudSession


class VersionOnly:
    """The one thing a follower asks its session when it is made: the image API it serves."""

    def __init__(self, version: tuple[int, int]) -> None:
        self.version = version

    def api(self) -> GlanceApi:
        return GlanceApi(self.version)


class ShownImport(ImportFollower):
    """A follower reading the image and tasks it is given instead of asking Glance."""

    def __init__(self, tasks: list[dict[str, Any]], version: tuple[int, int] = (2, 16)) -> None:
        self._tasks = tasks
        super().__init__(cast(CloudSession, VersionOnly(version)), "id-1", "img", 60.0)

    def tasks(self) -> list[dict[str, Any]]:
        return self._tasks if self._with_tasks else []

    def done(self, stored: dict[str, Any]) -> bool:
        return stored.get("status") == "active"


def test_an_active_image_whose_task_still_holds_the_lock_is_not_finished() -> None:
    follower = ShownImport([{"id": "t-1", "status": "processing"}])
    assert not follower._finished({"status": "active", IMPORT_LOCK: "t-1"})


def test_an_active_image_without_the_lock_is_finished() -> None:
    follower = ShownImport([{"id": "t-1", "status": "success"}])
    assert follower._finished({"status": "active"})


def test_a_lock_left_by_a_task_that_no_longer_runs_does_not_hold_the_import() -> None:
    follower = ShownImport([{"id": "t-1", "status": "failure"}])
    assert follower._finished({"status": "active", IMPORT_LOCK: "t-1"})


def test_an_image_not_done_is_not_finished_whatever_the_lock() -> None:
    follower = ShownImport([])
    assert not follower._finished({"status": "importing"})


def test_without_the_image_tasks_api_a_held_lock_is_waited_for_whatever_the_tasks() -> None:
    follower = ShownImport([{"id": "t-1", "status": "failure"}], version=(2, 11))
    assert not follower._finished({"status": "active", IMPORT_LOCK: "t-1"})
    assert follower._finished({"status": "active"})
