"""Glance's interoperable imports (web-download, copy-image), followed across tries.

An import runs as a task inside Glance. One import is started only when none is under way for
the image (one a run cut short started is followed, never started twice), then followed through
what the image shows and through the tasks Glance records for it, until the image shows it
done, a task of ours failed, or the time is up. What is started, and what done means, is the
method's: see ``transfer.WebDownload`` and ``stores.CopyToStores``.

A Glance whose API predates the image tasks API (2.12, see features.py) says nothing of its
tasks: an import is then followed by Glance's import lock alone. Glance takes the lock before it
answers the import request and lets go of it when the task ends, so "lock held" is "under way",
and an import that let go of it without being done failed, for a reason that Glance does not say.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from reconciler.errors import CloudError, DataRefused, ImportTimedOut
from reconciler.gateway.session import CloudSession, glance_message

IMPORT_POLL_SECONDS = 0.5
# Each try of an import costs Glance a whole fetch or copy: fewer than the policy's attempts.
IMPORT_ATTEMPTS = 3
IMPORT_TIMEOUT_SECONDS = 600.0
RUNNING_TASK = frozenset({"pending", "processing"})
IMPORT_LOCK = "os_glance_import_task"


def show(session: CloudSession, image_id: str, what: str) -> dict[str, Any]:
    """The image as Glance shows it now."""
    response = session.glance("GET", f"/images/{image_id}", expect=(200,), what=what)
    body = session.json(response, what)
    if not isinstance(body, dict):
        raise CloudError(f"{what}: Glance answered JSON that is not an image")
    return body


def enabled_methods(session: CloudSession) -> list[str]:
    """The import methods this Glance enables (``GET /v2/info/import``); none for a Glance
    without interoperable import."""
    if not session.api().interoperable_import:
        return []
    what = "reading Glance's import methods"
    body = session.json(session.glance("GET", "/info/import", expect=(200,), what=what), what)
    listed = body.get("import-methods") if isinstance(body, dict) else None
    methods = listed.get("value") if isinstance(listed, dict) else None
    return [str(method) for method in methods] if isinstance(methods, list) else []


class ImportFollower:
    """One import of one image across its tries: ``attempt`` is what the run's retrier runs,
    every try within one ``timeout`` (seconds) from when the follower was made.

    Subclasses say what the import is (``what``, for messages), what starts it (``body``), and
    what the image shows: the import done (``done``), one started before this try still under
    way (``started_before``), no import under way at all (``idle``); and the errors for a
    failed task (``failed``), for an image the import can no longer end well on (``ended``,
    None while it can) and for Glance's import lock held by no running task (``stale_lock``).
    """

    def __init__(self, session: CloudSession, image_id: str, image: str, timeout: float) -> None:
        self.session = session
        self.image_id = image_id
        self.image = image
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._with_tasks = session.api().image_tasks
        # A failed import leaves os_glance_failed_import set for good, even across a new
        # import; the tasks of this run (those not seen before it) tell how ours ended.
        self._before = {str(task.get("id")) for task in self.tasks()}

    # What the method decides

    @property
    def what(self) -> str:
        raise NotImplementedError

    def body(self, stored: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def done(self, stored: dict[str, Any]) -> bool:
        raise NotImplementedError

    def started_before(self, stored: dict[str, Any]) -> bool:
        raise NotImplementedError

    def idle(self, stored: dict[str, Any]) -> bool:
        raise NotImplementedError

    def failed(self, stored: dict[str, Any], reason: str) -> CloudError:
        raise NotImplementedError

    def ended(self, stored: dict[str, Any]) -> CloudError | None:
        raise NotImplementedError

    def stale_lock(self, message: str) -> CloudError:
        raise NotImplementedError

    # Following

    def tasks(self) -> list[dict[str, Any]]:
        """Every import task Glance records for the image, earlier runs' included; none from a
        Glance without the image tasks API."""
        if not self._with_tasks:
            return []
        what = f"image '{self.image}': reading import tasks"
        response = self.session.glance(
            "GET", f"/images/{self.image_id}/tasks", expect=(200,), what=what
        )
        body = self.session.json(response, what)
        tasks = body.get("tasks", []) if isinstance(body, dict) else []
        return [task for task in tasks if isinstance(task, dict)]

    def _ours(self) -> list[dict[str, Any]]:
        return [task for task in self.tasks() if str(task.get("id")) not in self._before]

    def show(self) -> dict[str, Any]:
        return show(self.session, self.image_id, f"image '{self.image}': reading")

    def attempt(self) -> dict[str, Any]:
        """One try: the image as Glance shows it once the import is done."""
        stored = self.show()
        if self._finished(stored):
            return stored  # an earlier try whose answer was lost has finished
        running = [task for task in self._ours() if task.get("status") in RUNNING_TASK]
        if not running and not self.started_before(stored):
            self._start(stored)
        return self._follow()

    def locked(self, stored: dict[str, Any]) -> bool:
        """Whether Glance's import lock is on the image: an import (any method) under way, or
        the leftover of one a Glance that died was running."""
        return bool(stored.get(IMPORT_LOCK))

    def _finished(self, stored: dict[str, Any]) -> bool:
        """Done, and the task that did it no longer writes to the image."""
        if not self.done(stored):
            return False
        lock = stored.get(IMPORT_LOCK)
        if not lock:
            return True
        if not self._with_tasks:
            return False  # whether the lock's task still runs is not known: wait for it
        # Glance shows the image done before its task's last save of the whole image, which
        # drops any property written meanwhile (the verified checksum): wait for the task to
        # let go of its lock. A lock whose task no longer runs (Glance died) holds nothing.
        return not any(
            str(task.get("id")) == str(lock) and task.get("status") in RUNNING_TASK
            for task in self.tasks()
        )

    def _start(self, stored: dict[str, Any]) -> None:
        what = f"image '{self.image}': starting the {self.what}"
        response = self.session.raw(
            "POST", f"/images/{self.image_id}/import", what=what, json=self.body(stored)
        )
        if response.status_code == 202:
            return
        if response.status_code == 409 and not self._with_tasks:
            return  # Glance holds the lock of an import it still runs (it breaks stale ones)
        if response.status_code == 409 and not any(
            task.get("status") in RUNNING_TASK for task in self._ours()
        ):
            raise self.stale_lock(
                f"{what}: Glance answered HTTP 409: {glance_message(response)} (an import "
                "lock left by an earlier import that is not running)"
            )
        if response.status_code != 409:
            raise self.session.http_error(what, response)

    def _follow(self) -> dict[str, Any]:
        while True:
            stored = self.show()
            if self._finished(stored):
                return stored
            if self._with_tasks:
                self._check_tasks(stored)
            elif self.idle(stored) and not self.locked(stored):
                raise self.failed(
                    stored,
                    f"Glance does not say why (its image API, {self.session.api().label}, "
                    "has no image tasks)",
                )
            if (error := self.ended(stored)) is not None:
                raise error
            if time.monotonic() > self._deadline:
                raise ImportTimedOut(
                    f"image '{self.image}': {self.what} still {stored.get('status')} after "
                    f"{self._timeout:g} s (--import-timeout)"
                )
            time.sleep(IMPORT_POLL_SECONDS)

    def _check_tasks(self, stored: dict[str, Any]) -> None:
        """Raise if a task of ours failed, or if the import we followed (one started before
        this run) ended without success."""
        ours = self._ours()
        failed = [task for task in ours if task.get("status") == "failure"]
        if failed:
            self._before |= {str(task.get("id")) for task in failed}
            raise self.failed(stored, str(failed[0].get("message") or "no reason given"))
        if self.idle(stored) and not any(task.get("status") in RUNNING_TASK for task in ours):
            raise CloudError(
                f"image '{self.image}': the {self.what} under way ended unfinished",
                transient=True,
            )


def run_import(
    session: CloudSession, follower: ImportFollower, when_spent: Callable[[CloudError], None]
) -> dict[str, Any]:
    """The image once ``follower``'s import is done, over IMPORT_ATTEMPTS tries. When the
    tries end on a transient failure, ``when_spent`` may raise the error that says whose side
    it is on; otherwise it is DataRefused: Glance keeps failing to take the data."""
    try:
        return session.retrier.run(follower.attempt, attempts=IMPORT_ATTEMPTS)
    except ImportTimedOut:
        raise
    except CloudError as error:
        if not error.transient:
            raise
        when_spent(error)
        raise DataRefused(*error.lines) from error
