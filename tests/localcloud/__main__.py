"""CLI: python -m tests.localcloud up [--fresh] [--db sqlite|postgresql] [--stores S,S]
[--regions 1|2] | down [--all] | status.

The release pair is ``$GLANCE_RELEASE``'s (see releases.py), else the newest; ``down --all``
stops the servers of every release.

Run from the repo root.  ``--db`` defaults to ``$GLANCE_DB``, else sqlite.  ``--stores``
(or ``GC_GLANCE_STORES``) also starts a multi-store Glance with these file stores on
``GC_GLANCE_STORES_PORT`` (see multistore.py); the default Glance stays as it is.
``--regions 2`` (or ``GC_GLANCE_REGIONS=2``) also starts RegionTwo's Glance on
``GC_GLANCE_R2_PORT`` (cloud ``local-r2``, see regions.py).
"""

from __future__ import annotations

import argparse
import os
import sys

from .harness import ensure_up, env_line, status, stop, stop_every_release
from .multistore import ensure_glance, env_stores
from .postgres import DB_MODES
from .procs import LocalCloudError
from .regions import ensure_region_two, region_two_status
from .releases import selected


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
    up.add_argument(
        "--stores",
        help="also start a multi-store Glance with these comma-separated file stores "
        "(default: $GC_GLANCE_STORES, else none; fast,archive when given empty)",
    )
    up.add_argument(
        "--regions",
        type=int,
        choices=(1, 2),
        default=int(os.environ.get("GC_GLANCE_REGIONS") or 1),
        help="2: also start RegionTwo's Glance, cloud local-r2 (default: $GC_GLANCE_REGIONS, "
        "else 1)",
    )
    down = sub.add_parser("down", help="stop both servers (and postgres, and further Glances)")
    down.add_argument("--all", action="store_true", help="of every release, not only this one")
    sub.add_parser("status", help="show whether each server is up (exit 1 if not both)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "up":
            release = selected()
            cloud = ensure_up(fresh=args.fresh, db=args.db)
            state = "started" if cloud.started_here else "already running"
            print(
                f"# {release.name}: keystone {release.keystone} {cloud.keystone_url}/v3, "
                f"glance {release.glance} {cloud.glance_url} on {cloud.db} ({state})",
                file=sys.stderr,
            )
            print(env_line())
            stores = args.stores if args.stores is not None else os.environ.get("GC_GLANCE_STORES")
            if stores is not None:
                extra = ensure_glance(env_stores(stores), db=args.db)
                state = "started" if extra.started_here else "already running"
                print(
                    f"# {extra.name} {extra.url} with stores {', '.join(extra.stores)} "
                    f"({state}); its clouds: OS_CLIENT_CONFIG_FILE={extra.clouds_yaml}",
                    file=sys.stderr,
                )
            if args.regions == 2:
                two = ensure_region_two(db=args.db)
                state = "started" if two.started_here else "already running"
                print(
                    f"# RegionTwo: {two.name} {two.url} ({state}); cloud local-r2", file=sys.stderr
                )
            return 0
        if args.cmd == "down":
            if args.all:
                stop_every_release()
            else:
                stop()
            return 0
        all_up = True
        found = status()
        if (two := region_two_status()) is not None:
            found["glance-r2 (RegionTwo)"] = two
        for name, st in found.items():
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
