"""make demo: plan and apply examples/catalog against a throwaway local Glance.

Serves examples/images over http on 127.0.0.1 for the url sources, starts a fresh local
Keystone + Glance (tests/localcloud), runs validate, plan, apply, a second plan that must be
empty and drift, then stops what it started. Set KEEP_CLOUD=1 to leave the servers running.

The catalog's url sources name http://127.0.0.1:18080, the first of the ports the local Glance
may web-download from (tests/localcloud SOURCE_PORTS). When another process holds that port,
the image server takes the next free one of them and the demo runs a copy of examples/catalog
whose URLs name it: the example manifests stay the plain, real-looking files people read.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
sys.path.insert(0, str(REPO))

from tests.localcloud import LocalCloudError, ensure_up, serve_sources, stop  # noqa: E402

# The port, and the base URL, that every url source in examples/catalog names.
CATALOG_PORT = 18080
CATALOG_BASE_URL = f"http://127.0.0.1:{CATALOG_PORT}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder without a line per request, and without a traceback when a client hangs
    up before the end of a file."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def copyfile(self, source: Any, outputfile: Any) -> None:
        # The plan's preflight asks for one byte (Range: bytes=0-0), which this handler
        # ignores: it sends the whole file and the client closes after the first byte.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().copyfile(source, outputfile)


def step(title: str, *args: str, env: dict[str, str], expect: int = 0) -> None:
    print(f"\n$ glance-catalog {' '.join(args)}    # {title}", flush=True)
    code = subprocess.run([sys.executable, "-m", "reconciler", *args], env=env, cwd=REPO).returncode
    if code != expect:
        raise SystemExit(f"demo: '{' '.join(args)}' exited {code}, expected {expect}")


def catalog_for(base_url: str, scratch: Path) -> str:
    """The catalog folder to run against images served at ``base_url``: examples/catalog itself
    when that is the base URL its url sources name, else a copy under ``scratch`` with those
    URLs rewritten to ``base_url``, whose file sources (``../images/...``) resolve to the same
    files as the original's (through ``scratch/images``, a link to examples/images)."""
    if base_url == CATALOG_BASE_URL:
        return "examples/catalog"
    copy = scratch / "catalog"
    copy.mkdir()
    (scratch / "images").symlink_to(EXAMPLES / "images", target_is_directory=True)
    for manifest in sorted((EXAMPLES / "catalog").glob("*.yaml")):
        text = manifest.read_text().replace(f"{CATALOG_BASE_URL}/", f"{base_url}/")
        (copy / manifest.name).write_text(text)
    print(
        f"port {CATALOG_PORT} is busy: serving examples/images at "
        f"{base_url} and running a copy of examples/catalog with that URL ({copy})"
    )
    return str(copy)


def run() -> None:
    started = time.monotonic()
    handler = functools.partial(QuietHandler, directory=str(EXAMPLES / "images"))
    with contextlib.ExitStack() as cleanup:
        # The image server first: a port problem ends the demo before a cloud is started.
        base_url = cleanup.enter_context(serve_sources(handler))
        scratch = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="gc-demo-"))
        catalog = catalog_for(base_url, Path(scratch))
        cloud = ensure_up(fresh=True)
        if cloud.started_here and not os.environ.get("KEEP_CLOUD"):
            cleanup.callback(stop)
        print(
            f"local Glance {cloud.glance_url}, Keystone {cloud.keystone_url} "
            f"({time.monotonic() - started:.1f} s)"
        )
        env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml), "OS_CLOUD": "local"}
        step("check the manifests", "validate", catalog, env=env)
        step("what would change", "plan", catalog, env=env)
        step("make it so", "apply", catalog, "--auto-approve", env=env)
        step("converged: nothing left to do", "plan", catalog, "--detailed-exitcode", env=env)
        step("what a scheduled job checks", "drift", catalog, env=env)
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s")


def main() -> int:
    """Run the demo; a busy port or a local cloud that cannot start is a message, not a
    traceback (a busy port: one line)."""
    try:
        run()
    except LocalCloudError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
