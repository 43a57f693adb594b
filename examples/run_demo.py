"""make demo: plan and apply examples/catalog against a throwaway local Glance.

Starts a fresh local Keystone + Glance (tests/localcloud), serves examples/images over http on
127.0.0.1 for the url sources, runs validate, plan, apply and a second plan that must be empty,
then stops what it started. Set KEEP_CLOUD=1 to leave the servers running afterwards.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.localcloud import ensure_up, stop  # noqa: E402

SOURCE_PORT = 18080


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def step(title: str, *args: str, env: dict[str, str], expect: int = 0) -> None:
    print(f"\n$ glance-catalog {' '.join(args)}    # {title}", flush=True)
    code = subprocess.run([sys.executable, "-m", "reconciler", *args], env=env, cwd=REPO).returncode
    if code != expect:
        raise SystemExit(f"demo: '{' '.join(args)}' exited {code}, expected {expect}")


def main() -> None:
    started = time.monotonic()
    cloud = ensure_up(fresh=True)
    print(
        f"local Glance {cloud.glance_url}, Keystone {cloud.keystone_url} "
        f"({time.monotonic() - started:.1f} s)"
    )
    handler = functools.partial(QuietHandler, directory=str(REPO / "examples" / "images"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", SOURCE_PORT), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml), "OS_CLOUD": "local"}
    catalog = "examples/catalog"
    try:
        step("check the manifests", "validate", catalog, env=env)
        step("what would change", "plan", catalog, env=env)
        step("make it so", "apply", catalog, "--auto-approve", env=env)
        step("converged: nothing left to do", "plan", catalog, "--detailed-exitcode", env=env)
        step("what a scheduled job checks", "drift", catalog, env=env)
    finally:
        server.shutdown()
        server.server_close()
        if cloud.started_here and not os.environ.get("KEEP_CLOUD"):
            stop()
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
