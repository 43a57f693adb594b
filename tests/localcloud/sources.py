"""An http server for image sources, on 127.0.0.1 at a port the local Glance may web-download
from (uploads have no such limit)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .harness import SOURCE_PORTS
from .procs import LocalCloudError


@contextmanager
def serve_sources(handler: Callable[..., Any]) -> Iterator[str]:
    """Serve with ``handler`` (a request handler class or factory) on the first free port of
    SOURCE_PORTS, in a thread; yields the base URL and stops the server on exit."""
    server: http.server.ThreadingHTTPServer | None = None
    for port in SOURCE_PORTS:
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
            break
        except OSError:
            continue
    if server is None:
        raise LocalCloudError(
            f"ports {SOURCE_PORTS.start}-{SOURCE_PORTS.stop - 1} on 127.0.0.1 are all in use; "
            "the source server needs one of them (the local Glance web-downloads only from those)"
        )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
