"""WSGI entry point for Glance on sqlite under gunicorn (runs inside the SERVICE venv).

What must hold: no API request and no import task of the sqlite Glance ever fails with sqlite's
"database is locked", however many requests and import tasks overlap.

Why it fails without this module: Glance serves requests in the gunicorn worker's one thread
but runs import tasks in threads of the same process (``[wsgi] task_pool_threads``, 16), each
on its own sqlite connection (oslo.db gives sqlite file databases a NullPool). oslo.db opens
every transaction with a plain, deferred ``BEGIN`` (``oslo_db/sqlalchemy/engines.py``,
``_init_events`` for sqlite), and Glance's writes read first (e.g. ``task_update`` and
``image_update`` in ``glance/db/sqlalchemy/api.py`` select the row, then update it): the
transaction holds sqlite's SHARED lock and must upgrade it to RESERVED. When another
connection already holds RESERVED and waits to commit, sqlite refuses the upgrade at once
with SQLITE_BUSY instead of calling the busy handler (waiting could never end), so no busy
timeout helps, and WAL mode fails the same upgrade with SQLITE_BUSY_SNAPSHOT. Glance answers
HTTP 500 to the request; in an import task thread the error is lost in a discarded future
(``glance/api/v2/images.py``, ``pool.spawn(import_task.run, ...)``), and when it hits the
task's first save (``glance/async_/__init__.py``, ``TaskExecutor.begin_processing``) the task
stays ``pending`` forever and its image keeps the import lock.

The fix: every transaction starts with ``BEGIN IMMEDIATE``, which takes the RESERVED lock up
front (there is no upgrade left to refuse), and a connection that finds the lock taken waits
for it (busy timeout) instead of failing. Transactions are short (no Glance code holds one
across data transfer), so the wait is milliseconds; it only serialises transactions, which
sqlite's single writer did anyway.

One exception: a transaction that a thread begins while the same thread holds the write lock
in another transaction (Glance 28, on SQLAlchemy 1.4, reads an image's members on a second
connection inside the session that reads the image) begins deferred, with a plain ``BEGIN``:
an immediate one would wait for a lock its own thread holds until the busy timeout ran out.
Such a nested transaction only reads (it takes sqlite's SHARED lock, which the write lock
allows), and the outer transaction still holds the write lock from its start.

The module checks at import that all this holds and refuses to start otherwise, so a change in
oslo.db or SQLAlchemy cannot silently bring the errors back.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

# How long a transaction waits for sqlite's write lock before "database is locked". Waits are
# milliseconds in practice; the bound only ends a wait that would never end, and is as long as
# glance-catalog's default --timeout, after which nobody waits for the answer anyway.
BUSY_TIMEOUT_MS = 60_000


class _Held(threading.local):
    """The sqlite connections on which this thread began a transaction with the write lock."""

    def __init__(self) -> None:
        self.connections: list[sqlite3.Connection] = []


_held = _Held()


def _holds_the_write_lock(connection: sqlite3.Connection) -> bool:
    try:
        return connection.in_transaction
    except sqlite3.ProgrammingError:  # closed
        return False


@event.listens_for(Engine, "connect")
def _wait_for_the_write_lock(dbapi_connection: Any, connection_record: Any) -> None:
    """Every sqlite connection waits up to BUSY_TIMEOUT_MS for a lock (pysqlite's default: 5 s)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


# Registered on the Engine class, so it runs before the listener oslo.db adds to Glance's engine
# (SQLAlchemy calls class-level listeners first). oslo.db's listener emits BEGIN only when
# ``conn.info`` lacks "in_transaction" and its commit/rollback listeners remove the key: setting
# it here makes this the one BEGIN of the transaction.
@event.listens_for(Engine, "begin")
def _begin_immediate(conn: Connection) -> None:
    """A sqlite transaction takes the write lock when it begins, never by upgrading a read lock."""
    if conn.dialect.name != "sqlite" or "in_transaction" in conn.info:
        return
    dbapi_connection = conn.connection.dbapi_connection
    _held.connections = [
        held
        for held in _held.connections
        if held is not dbapi_connection and _holds_the_write_lock(held)
    ]
    if _held.connections:
        conn.exec_driver_sql("BEGIN")  # nested in this thread's own write transaction
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        if isinstance(dbapi_connection, sqlite3.Connection):
            _held.connections.append(dbapi_connection)
    conn.info["in_transaction"] = True


def _check_transactions_take_the_write_lock() -> None:
    """Raise unless a read-only transaction on an oslo.db engine (configured as Glance configures
    it) holds sqlite's write lock and waits BUSY_TIMEOUT_MS for locks: the proof that the
    listeners above are in effect."""
    from oslo_db.sqlalchemy import engines

    with tempfile.TemporaryDirectory(prefix="gc-sqlite-check-") as folder:
        path = Path(folder) / "check.sqlite"
        engine = engines.create_engine(f"sqlite:///{path}", sqlite_fk=True, max_retries=0)
        try:
            with engine.connect() as conn, conn.begin():
                waits = conn.execute(text("PRAGMA busy_timeout")).scalar()
                if waits != BUSY_TIMEOUT_MS:
                    raise RuntimeError(
                        f"wsgi_glance: sqlite waits {waits} ms for a lock, not {BUSY_TIMEOUT_MS}"
                    )
                other = sqlite3.connect(path, timeout=0, isolation_level=None)
                try:
                    other.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError:
                    pass  # locked: the transaction above holds the write lock, as it must
                else:
                    other.rollback()
                    raise RuntimeError(
                        "wsgi_glance: sqlite transactions do not begin with BEGIN IMMEDIATE "
                        "(did oslo.db change how it begins them?); Glance would answer "
                        "'database is locked' under concurrent requests and import tasks"
                    )
                finally:
                    other.close()
                # A transaction nested in this thread's own must not wait for its lock.
                with engine.connect() as nested, nested.begin():
                    started = time.monotonic()
                    nested.execute(text("SELECT count(*) FROM sqlite_master")).scalar()
                    if time.monotonic() - started > 5:
                        raise RuntimeError("wsgi_glance: a nested transaction waited for its lock")
        finally:
            engine.dispose()


_check_transactions_take_the_write_lock()

from glance_app import application  # type: ignore[import-not-found]  # noqa: E402

__all__ = ["application"]
