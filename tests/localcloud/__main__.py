"""CLI: python -m tests.localcloud up [--fresh] [--db sqlite|postgresql] | down | status.

Run from the repo root.  ``--db`` defaults to ``$GLANCE_DB``, else sqlite.
"""

from __future__ import annotations

import argparse
import sys

from .harness import ensure_up, env_line, status, stop
from .postgres import DB_MODES
from .procs import LocalCloudError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.localcloud",
        description="Run a real Keystone + Glance on 127.0.0.1 for glance-catalog.",
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="install (once) and start; no-op if already up")
    up.add_argument("--fresh", action="store_true", help="wipe dbs and image store first")
    up.add_argument(
        "--db",
        choices=DB_MODES,
        help="Glance's database (default: $GLANCE_DB, else sqlite); "
        "postgresql runs a private PostgreSQL and 4 Glance workers",
    )
    sub.add_parser("down", help="stop both servers (and postgres)")
    sub.add_parser("status", help="show whether each server is up (exit 1 if not both)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "up":
            cloud = ensure_up(fresh=args.fresh, db=args.db)
            state = "started" if cloud.started_here else "already running"
            print(
                f"# keystone {cloud.keystone_url}/v3, glance {cloud.glance_url} "
                f"on {cloud.db} ({state})",
                file=sys.stderr,
            )
            print(env_line())
            return 0
        if args.cmd == "down":
            stop()
            return 0
        all_up = True
        for name, st in status().items():
            db = f" (db {st['db']})" if "db" in st else ""
            if st["healthy"]:
                print(f"{name}: up (pid {st['pid']}) {st['url']}{db}")
            elif st["pid"]:
                all_up = False
                print(f"{name}: running but NOT healthy (pid {st['pid']}) {st['url']}{db}")
            else:
                all_up = False
                print(f"{name}: down{db}")
        return 0 if all_up else 1
    except LocalCloudError as exc:
        print(f"localcloud: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
