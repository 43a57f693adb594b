"""Glance's multi-store: the stores it offers, copying an image's data to more stores
(copy-image imports, followed to completion) and removing it from one, never the last copy.

Glance copies and removes the data of active images only; copy-image is an import method the
Glance config must enable (``enabled_import_methods``), and both it and the removal need
Glance's admin policy by default.
"""

from __future__ import annotations

from typing import Any

from reconciler.core.observed import store_ids
from reconciler.errors import CloudError
from reconciler.gateway.imports import (
    IMPORT_ATTEMPTS,
    RUNNING_TASK,
    ImportFollower,
    enabled_methods,
    show,
)
from reconciler.gateway.session import CloudSession

COPY_METHOD = "copy-image"


def offered_stores(session: CloudSession) -> tuple[str, ...]:
    """The ids of the stores Glance offers (``GET /v2/info/stores``), sorted; () for a Glance
    without multi-store backends, which answers 404."""
    what = "reading Glance's stores"
    response = session.glance("GET", "/info/stores", expect=(200, 404), what=what)
    if response.status_code == 404:
        return ()
    body = session.json(response, what)
    listed = body.get("stores") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        raise CloudError(f"{what}: Glance answered JSON without a store list")
    return tuple(sorted(str(store["id"]) for store in listed if isinstance(store, dict)))


def copy_problem(session: CloudSession) -> str | None:
    """Why Glance cannot copy data between its stores (its import methods, ``GET
    /v2/info/import``, lack copy-image), or None if it can."""
    methods = enabled_methods(session)
    if COPY_METHOD in methods:
        return None
    enabled = ", ".join(methods) or "none"
    return (
        f"stores: this Glance does not enable the {COPY_METHOD} import method (enabled: "
        f"{enabled}), so it cannot copy the data to another store"
    )


def copy_to_stores(
    session: CloudSession, image_id: str, image: str, stores: tuple[str, ...], timeout: float
) -> None:
    """Copy the image's data to ``stores`` (one copy-image import), and wait until Glance
    shows it in every one of them (at most ``timeout`` seconds over every try). A failed copy
    leaves the image as it was (Glance removes what it copied) and is tried again; a copy an
    earlier run started is followed, not started twice."""
    follower = CopyToStores(session, image_id, image, timeout, stores)
    session.retrier.run(follower.attempt, attempts=IMPORT_ATTEMPTS)


def remove_from_store(session: CloudSession, image_id: str, image: str, store: str) -> None:
    """Delete the image's data from ``store``. Each try reads the image first: data no longer
    in ``store`` is done (a retried delete), and the only copy of the image's data is never
    removed (Glance refuses that too, with 403)."""
    what = f"image '{image}': removing its data from store {store}"

    def once() -> None:
        held = store_ids(show(session, image_id, what).get("stores"))
        if store not in held:
            return
        if held == (store,):
            raise CloudError(
                f"{what}: refused: it is the image's only copy of its data (stores: {store})",
                "copy the data to another store first, or delete the image",
            )
        session.glance(
            "DELETE",
            f"/stores/{store}/{image_id}",
            expect=(204,),
            what=what,
            retry=False,
        )

    session.retrier.run(once)


class CopyToStores(ImportFollower):
    """A copy-image import: the image stays active throughout; Glance lists the stores being
    copied to in ``os_glance_importing_to_stores`` and adds each one to ``stores`` once its
    copy is complete (a failed copy names them in ``os_glance_failed_import``, which the task
    says too)."""

    def __init__(
        self,
        session: CloudSession,
        image_id: str,
        image: str,
        timeout: float,
        stores: tuple[str, ...],
    ) -> None:
        self._stores = stores
        super().__init__(session, image_id, image, timeout)

    @property
    def what(self) -> str:
        return f"copy to {'stores' if len(self._stores) > 1 else 'store'} {', '.join(self._stores)}"

    def _importing(self, stored: dict[str, Any]) -> set[str]:
        return set(store_ids(stored.get("os_glance_importing_to_stores"))) & set(self._stores)

    def body(self, stored: dict[str, Any]) -> dict[str, Any]:
        held = store_ids(stored.get("stores"))
        return {
            "method": {"name": COPY_METHOD},
            # Glance refuses (400) a copy to a store that holds the data already.
            "stores": [store for store in self._stores if store not in held],
            # One store failing undoes the others: the image is then as it was.
            "all_stores_must_succeed": True,
        }

    def done(self, stored: dict[str, Any]) -> bool:
        held = set(store_ids(stored.get("stores")))
        return held >= set(self._stores) and not self._importing(stored)

    def started_before(self, stored: dict[str, Any]) -> bool:
        # Glance lists the stores of a copy a Glance crash cut short for good: only a running
        # copy task counts.
        return bool(self._importing(stored)) and any(
            task.get("status") in RUNNING_TASK and _method(task) == COPY_METHOD
            for task in self.tasks()
        )

    def idle(self, stored: dict[str, Any]) -> bool:
        return not self._importing(stored)

    def failed(self, stored: dict[str, Any], reason: str) -> CloudError:
        failed = store_ids(stored.get("os_glance_failed_import"))
        where = ", ".join(store for store in self._stores if store in failed) or ", ".join(
            self._stores
        )
        return CloudError(
            f"image '{self.image}': Glance could not copy its data to {where}: {reason}",
            transient=True,
        )

    def ended(self, stored: dict[str, Any]) -> CloudError | None:
        status = stored.get("status")
        if status != "active":
            return CloudError(f"image '{self.image}': {self.what} ended with status {status}")
        return None

    def stale_lock(self, message: str) -> CloudError:
        return CloudError(message, "run again later: Glance lifts a stale lock after a while")


def _method(task: dict[str, Any]) -> object:
    """The import method a task of Glance's runs (its input's import_req), or None."""
    found: object = task
    for key in ("input", "import_req", "method", "name"):
        found = found.get(key) if isinstance(found, dict) else None
    return found
