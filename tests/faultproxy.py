"""A seeded, fault-injecting HTTP/1.1 reverse proxy for the test suite (stdlib only).

Put it between a client and Glance (or Keystone) and point the client at ``proxy.url``::

    with FaultProxy(upstream=glance_url, seed=7, rate=0.1) as proxy:
        run_the_client(image_endpoint=proxy.url)
    print(proxy.summary())  # faults injected: 37 of 412 requests (503: 10, reset_after: 9, ...)
    assert proxy.injected > 0

Every request is classified (:func:`classify`: ``auth``, ``list``, ``upload``, ...) and a fault
is decided for it *before* anything is forwarded. With probability ``rate`` (a float, or a
mapping class -> rate where a missing class gets 0) and only for a class in ``classes`` (None:
all), the request gets one of ``faults``, chosen uniformly:

- ``503``: the request body is read and dropped, the answer is ``503 Service Unavailable`` with
  a small JSON body and ``Connection: close``; nothing reaches the upstream.
- ``reset_before``: the client connection is reset (SO_LINGER 0) before anything is forwarded.
- ``reset_after``: the whole request is forwarded and the whole answer read, then the client
  connection is reset without a byte of the answer: the change happened, the client cannot know.
- ``stall``: the request is read and never answered; the connection is closed after
  ``stall_seconds``, when the client goes away, or when the proxy stops.

What is deterministic. The decision for a request is a pure function (:func:`decide`) of
``seed``, the method, the request target with ids normalised away (:func:`normalise`: UUIDs and
32-hex ids become ``{id}``, in the path and in the query), and ``n``: how many earlier requests
with the same method and normalised target this proxy has seen. So a client that sends the same
sequence of requests gets the same faults, whatever ids it generates, whatever the timing, ports
or connection reuse; and since every (method, target) has its own counter, reordering requests
*with different targets* (threads, extra token requests) changes nothing for the others.
Raising the rate only adds faults: a request faulted at rate r gets the same fault at any rate
above r. The kind does not depend on the order of ``faults`` (a canonical order is used).

What is not. When concurrent requests share a normalised target (two threads showing two images
at once), which of them is the n-th is decided by arrival order. A target with other varying
parts (random names, timestamps, a marker that is not an id) gets a new key each run. And a
fault changes what the client does next (a retry is one more occurrence of its target).

HTTP. The client side speaks HTTP/1.1 with keep-alive (several requests per connection; a
response framed by "read until close" closes it). Request bodies with Content-Length or
``Transfer-Encoding: chunked`` are streamed through in 64 KiB pieces (chunked is forwarded as
chunked), never held whole in memory; ``Expect: 100-continue`` is answered by the proxy and not
forwarded. Each request gets its own upstream connection, with ``Host`` rewritten and
``Connection: close`` (gunicorn's sync workers, which serve the local Glance and Keystone, close
after every response anyway, so there is nothing to reuse). Responses (Content-Length, chunked,
until close; HEAD, 1xx, 204, 304 without body) pass through unchanged apart from hop-by-hop
headers; bodies are not rewritten, so a Keystone catalog still names the real endpoints. An
upstream that cannot be reached or that fails before its answer starts gives the client a 502;
one that fails in the middle of an answer makes the proxy reset the client connection.

Limits: plain http only (no TLS, no CONNECT, no Upgrade/101); interim 1xx answers from the
upstream are dropped; the upstream is ``http://host:port`` without a path; a chunked answer is
passed as chunked even to an HTTP/1.0 client; ids are recognised only as UUIDs or 32 hex digits.

Canned answers. ``answers`` (:class:`CannedAnswer`) makes the proxy answer some requests itself,
before any fault is decided and without forwarding them: e.g. a version document that lists an
older API, or a 404 for an endpoint an older server lacks. :attr:`FaultProxy.canned` counts the
requests so answered, per ``CannedAnswer.target``.

Every decision is recorded in :attr:`FaultProxy.log` (``Decision(cls, method, path, fault)``,
``fault`` None when forwarded); :meth:`FaultProxy.counts` counts them per class and outcome.
Leaving the ``with`` block (or :meth:`FaultProxy.close`) shuts every socket and joins every
thread within a few seconds; a thread that does not end is an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import http
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Final, NamedTuple, Self
from urllib.parse import urlsplit

FAULTS: Final = ("503", "reset_before", "reset_after", "stall")
CLASSES: Final = (
    "auth",
    "identity",
    "list",
    "show",
    "create",
    "update",
    "upload",
    "download",
    "import",
    "action",
    "delete",
    "members",
    "tasks",
    "other",
)
OK: Final = "ok"  # the outcome name of a forwarded request in counts()

_PIECE: Final = 64 * 1024
_MAX_LINE: Final = 64 * 1024
_MAX_HEAD: Final = 256 * 1024
_JOIN_SECONDS: Final = 10.0
_LINGER_SECONDS: Final = 1.0
_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "upgrade", "expect"}
)
_ID = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|[0-9a-fA-F]{32})(?![0-9A-Za-z])"
)


class CannedAnswer(NamedTuple):
    """The proxy's own answer, ``status`` with the JSON ``body``, to every request whose method
    is ``method`` and whose target (path and query) matches the regex ``target`` whole."""

    method: str
    target: str
    status: int
    body: object


class Decision(NamedTuple):
    """What the proxy did with one request: ``fault`` is None when it was forwarded."""

    cls: str
    method: str
    path: str
    fault: str | None


def normalise(target: str) -> str:
    """The request target with UUIDs and 32-hex ids (anywhere, query included) as ``{id}``."""
    return _ID.sub("{id}", target)


def classify(method: str, target: str) -> str:
    """The class of a Glance v2 or Keystone v3 request (see CLASSES), from method and path.

    The path may have a prefix before ``/v2``/``/v3``; the query is ignored.
    """
    method = method.upper()
    segments = [s for s in target.split("?", 1)[0].split("#", 1)[0].split("/") if s]
    api = next((i for i, s in enumerate(segments) if s in ("v2", "v3")), None)
    if api is None:
        return "other"
    rest = segments[api + 1 :]
    if segments[api] == "v3":
        return "auth" if method == "POST" and rest == ["auth", "tokens"] else "identity"
    if rest[:1] == ["tasks"]:
        return "tasks" if method == "GET" else "other"
    if rest[:1] != ["images"]:
        return "other"
    if len(rest) == 1:
        return {"GET": "list", "POST": "create"}.get(method, "other")
    if len(rest) == 2:
        return {"GET": "show", "PATCH": "update", "DELETE": "delete"}.get(method, "other")
    sub, depth = rest[2], len(rest)
    if sub == "members":
        return "members"
    if sub in ("file", "stage") and depth == 3 and method == "PUT":
        return "upload"
    if sub == "file" and depth == 3 and method == "GET":
        return "download"
    if sub == "import" and depth == 3 and method == "POST":
        return "import"
    if sub == "actions" and depth == 4 and method == "POST":
        return "action"
    if sub == "tasks" and depth == 3 and method == "GET":
        return "tasks"
    if sub == "tags" and depth == 4 and method in ("PUT", "DELETE"):
        return "update"
    return "other"


def decide(
    seed: int, method: str, target: str, n: int, rate: float, faults: Iterable[str]
) -> str | None:
    """The fault for the ``n``-th (from 0) request ``method target`` (normalised), or None."""
    wanted = set(faults)
    enabled = [f for f in FAULTS if f in wanted]
    if not enabled or rate <= 0:
        return None
    key = f"{seed}\0{method.upper()}\0{normalise(target)}\0{n}".encode()
    digest = hashlib.sha256(key).digest()
    # The draw and the pick use separate bits, so the kind does not depend on the rate.
    if int.from_bytes(digest[:8], "big") / 2**64 >= rate:
        return None
    return enabled[int.from_bytes(digest[8:16], "big") % len(enabled)]


class _Closed(Exception):
    """The peer closed the connection in the middle of a message."""


class _BadMessage(Exception):
    """Not HTTP/1.1 as this proxy understands it."""


class _Reader:
    """Buffered reads from a socket: lines for heads and chunk sizes, pieces for bodies."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()

    def readline(self) -> bytes:
        """One line with its end, b"" at a clean end of stream."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line
            if len(self._buf) > _MAX_LINE:
                raise _BadMessage("line too long")
            data = self._sock.recv(_PIECE)
            if not data:
                if self._buf:
                    raise _Closed
                return b""
            self._buf += data

    def read_some(self, limit: int) -> bytes:
        """Up to ``limit`` bytes, b"" at the end of the stream."""
        if self._buf:
            piece = bytes(self._buf[:limit])
            del self._buf[:limit]
            return piece
        return self._sock.recv(min(limit, _PIECE))


class _Writer:
    """Coalesces small writes (chunk sizes, heads) into fewer sends.

    With ``tolerant`` a failed send is remembered in ``error`` and later writes are dropped, so
    the request body can still be read to its end and the upstream's early answer be forwarded.
    """

    def __init__(self, sock: socket.socket, *, tolerant: bool = False) -> None:
        self._sock = sock
        self._buf = bytearray()
        self._tolerant = tolerant
        self.error: OSError | None = None

    def write(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) >= _PIECE:
            self.flush()

    def flush(self) -> None:
        if not self._buf:
            return
        data, self._buf = bytes(self._buf), bytearray()
        if self.error is not None:
            return
        try:
            self._sock.sendall(data)
        except OSError as exc:
            if not self._tolerant:
                raise
            self.error = exc


def _discard(_data: bytes) -> None:
    pass


class _Head(NamedTuple):
    start: str
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None

    def tokens(self, name: str) -> list[str]:
        value = self.get(name) or ""
        return [t.strip().lower() for t in value.split(",") if t.strip()]


class _Request(NamedTuple):
    head: _Head
    method: str
    target: str
    framing: str
    length: int
    expect: bool
    keep_alive: bool


def _read_head(reader: _Reader) -> _Head | None:
    line = reader.readline()
    while line in (b"\r\n", b"\n"):
        line = reader.readline()
    if not line:
        return None
    start = line.rstrip(b"\r\n").decode("latin-1")
    headers: list[tuple[str, str]] = []
    size = len(line)
    while True:
        line = reader.readline()
        if not line:
            raise _Closed
        size += len(line)
        if size > _MAX_HEAD:
            raise _BadMessage("head too large")
        text = line.rstrip(b"\r\n").decode("latin-1")
        if not text:
            return _Head(start, headers)
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            raise _BadMessage(f"bad header line {text!r}")
        headers.append((name, value.strip()))


def _body_framing(head: _Head) -> tuple[str, int]:
    """("chunked", 0), ("length", n), ("close", 0) or ("none", 0) from the message's headers."""
    codings = head.tokens("transfer-encoding")
    if codings:
        return ("chunked", 0) if codings[-1] == "chunked" else ("close", 0)
    length = head.get("content-length")
    if length is None:
        return "none", 0
    values = {v.strip() for v in length.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise _BadMessage(f"bad Content-Length {length!r}")
    return "length", int(values.pop())


def _copy_exact(reader: _Reader, size: int, write: Callable[[bytes], None]) -> None:
    while size:
        piece = reader.read_some(min(size, _PIECE))
        if not piece:
            raise _Closed
        write(piece)
        size -= len(piece)


def _copy_body(reader: _Reader, framing: str, length: int, write: Callable[[bytes], None]) -> None:
    """Streams one message body from ``reader`` to ``write``, keeping its framing."""
    if framing == "length":
        _copy_exact(reader, length, write)
    elif framing == "close":
        while piece := reader.read_some(_PIECE):
            write(piece)
    elif framing == "chunked":
        while True:
            line = reader.readline()
            if not line:
                raise _Closed
            write(line)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadMessage(f"bad chunk size {line!r}") from None
            if size == 0:
                while (trailer := reader.readline()) not in (b"\r\n", b"\n"):
                    if not trailer:
                        raise _Closed
                    write(trailer)
                write(trailer)
                return
            _copy_exact(reader, size, write)
            end = reader.readline()
            if end not in (b"\r\n", b"\n"):
                raise _BadMessage("chunk without CRLF")
            write(end)


def _encode_head(start: str, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [start, *(f"{k}: {v}" for k, v in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _strip_hop_by_hop(head: _Head) -> list[tuple[str, str]]:
    named = set(head.tokens("connection"))
    return [(k, v) for k, v in head.headers if k.lower() not in _HOP_BY_HOP | named]


def _error_response(status: int, reason: str, message: str) -> bytes:
    return _json_response(
        status, reason, {"error": {"code": status, "title": reason, "message": message}}
    )


def _json_response(status: int, reason: str, document: object) -> bytes:
    body = json.dumps(document).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    return _encode_head(f"HTTP/1.1 {status} {reason}", headers) + body


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    """A reverse proxy on 127.0.0.1 that injects seeded faults; see the module docstring."""

    def __init__(
        self,
        upstream: str = "http://127.0.0.1:19292",
        seed: int = 1,
        rate: float | Mapping[str, float] = 0.1,
        faults: Iterable[str] = FAULTS,
        classes: Iterable[str] | None = None,
        stall_seconds: float = 30.0,
        upstream_timeout: float = 300.0,
        answers: Iterable[CannedAnswer] = (),
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self.upstream = upstream
        self.upstream_address = (parts.hostname, parts.port or 80)
        self._upstream_host = parts.netloc
        self.seed = seed
        wanted = set(faults)
        if unknown := wanted - set(FAULTS):
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        self.faults = tuple(f for f in FAULTS if f in wanted)
        self.classes = frozenset(CLASSES if classes is None else classes)
        named = set(self.classes) | (set(rate) if isinstance(rate, Mapping) else set())
        if unknown := named - set(CLASSES):
            raise ValueError(f"unknown classes {sorted(unknown)}; known: {CLASSES}")
        self.rates = (
            {c: float(rate.get(c, 0.0)) for c in CLASSES}
            if isinstance(rate, Mapping)
            else dict.fromkeys(CLASSES, float(rate))
        )
        if any(not 0.0 <= r <= 1.0 for r in self.rates.values()):
            raise ValueError(f"rates must be within [0, 1]: {rate!r}")
        self.stall_seconds = stall_seconds
        self.upstream_timeout = upstream_timeout
        self.connections = 0  # client connections accepted so far
        self.answers = tuple(answers)
        self._answer_patterns = [re.compile(answer.target) for answer in self.answers]
        # requests answered by the proxy itself, per CannedAnswer.target
        self.canned: Counter[str] = Counter()

        self._lock = threading.Lock()
        self._log: list[Decision] = []
        self._seen: Counter[tuple[str, str]] = Counter()
        self._stopped = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> list[Decision]:
        """A copy of every decision so far, in the order the requests arrived."""
        with self._lock:
            return list(self._log)

    def counts(self) -> dict[str, Counter[str]]:
        """class -> Counter of outcomes (a fault name, or OK for forwarded); seen classes only."""
        result: dict[str, Counter[str]] = {}
        for entry in self.log:
            result.setdefault(entry.cls, Counter())[entry.fault or OK] += 1
        return result

    def fault_counts(self) -> Counter[str]:
        """fault name -> how many requests got it, over all classes."""
        return Counter(entry.fault for entry in self.log if entry.fault is not None)

    @property
    def injected(self) -> int:
        return sum(self.fault_counts().values())

    def summary(self) -> str:
        """E.g. ``faults injected: 37 of 412 requests (503: 10, reset_after: 9, ...)``."""
        by_fault = self.fault_counts()
        detail = ", ".join(f"{f}: {by_fault[f]}" for f in FAULTS if by_fault[f])
        text = f"faults injected: {sum(by_fault.values())} of {len(self.log)} requests"
        return f"{text} ({detail})" if detail else text

    def start(self) -> Self:
        if self._listener is not None:
            raise RuntimeError("FaultProxy already started")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        # accept() wakes up now and then to see the stop flag; shutdown() also wakes it on Linux.
        listener.settimeout(0.2)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"faultproxy-{self.port}-accept", daemon=True
        )
        self._acceptor.start()
        return self

    def close(self) -> None:
        """Stops accepting, shuts every connection and joins every thread (bounded)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            sockets = list(self._sockets)
        deadline = time.monotonic() + _JOIN_SECONDS
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            if self._acceptor is not None:
                self._acceptor.join(max(0.0, deadline - time.monotonic()))
            self._listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in [*threads, *filter(None, [self._acceptor])] if t.is_alive()]
        if alive:
            raise RuntimeError(f"FaultProxy threads still running after close: {alive}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopped.is_set():
                    return
                time.sleep(0.05)  # e.g. out of file descriptors: do not spin
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stopped.is_set():
                    sock.close()
                    return
                self.connections += 1
                self._sockets.add(sock)
                thread = threading.Thread(
                    target=self._serve,
                    args=(sock,),
                    name=f"faultproxy-{self.port}-conn-{self.connections}",
                    daemon=True,
                )
                self._threads.add(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        reader = _Reader(client)
        linger = True
        try:
            while not self._stopped.is_set():
                outcome = self._one_request(client, reader)
                if outcome != "keep":
                    linger = outcome == "close"
                    break
        except _BadMessage as exc:
            with contextlib.suppress(OSError):
                client.sendall(_error_response(400, "Bad Request", str(exc)))
        except (OSError, _Closed):
            linger = False
        finally:
            # Still registered while lingering, so that close() cuts the wait short.
            if linger and client.fileno() != -1:
                self._linger_close(client)
            else:
                client.close()
            with self._lock:
                self._sockets.discard(client)
                self._threads.discard(threading.current_thread())

    def _linger_close(self, client: socket.socket) -> None:
        # Closing with unread input makes the kernel send RST, which can destroy the answer
        # just sent before the client reads it: half-close, then read until the client closes.
        try:
            client.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_SECONDS
            while (remaining := deadline - time.monotonic()) > 0:
                client.settimeout(remaining)
                if not client.recv(_PIECE):
                    break
        except OSError:
            pass
        finally:
            client.close()

    def _decide(self, method: str, target: str) -> Decision:
        cls = classify(method, target)
        key = (method.upper(), normalise(target))
        with self._lock:
            n = self._seen[key]
            self._seen[key] = n + 1
            fault = None
            if cls in self.classes:
                fault = decide(self.seed, method, target, n, self.rates[cls], self.faults)
            decision = Decision(cls, method, target, fault)
            self._log.append(decision)
        return decision

    def _one_request(self, client: socket.socket, reader: _Reader) -> str:
        """Serves one request: "keep" the connection, "close" it gracefully, or "gone"."""
        head = _read_head(reader)
        if head is None:
            return "close"
        parts = head.start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadMessage(f"bad request line {head.start!r}")
        method, target, version = parts
        if target.startswith(("http://", "https://")):
            split = urlsplit(target)
            target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        framing, length = _body_framing(head)
        if framing == "close":
            raise _BadMessage("request Transfer-Encoding must end with chunked")
        expect = "100-continue" in head.tokens("expect")
        keep_alive = version == "HTTP/1.1" and "close" not in head.tokens("connection")

        request = _Request(head, method, target, framing, length, expect, keep_alive)
        for answer, pattern in zip(self.answers, self._answer_patterns, strict=True):
            if answer.method.upper() == method.upper() and pattern.fullmatch(target):
                with self._lock:
                    self.canned[answer.target] += 1
                if not expect:
                    _copy_body(reader, framing, length, _discard)
                reason = http.HTTPStatus(answer.status).phrase
                client.sendall(_json_response(answer.status, reason, answer.body))
                return "close"
        fault = self._decide(method, target).fault
        if fault == "reset_before":
            _reset(client)
            return "gone"
        if fault == "503":
            if not expect:  # with Expect the client waits for us, so its body is not sent
                _copy_body(reader, framing, length, _discard)
            client.sendall(_error_response(503, "Service Unavailable", "fault injected"))
            return "close"
        if fault == "stall":
            if expect:
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            _copy_body(reader, framing, length, _discard)
            self._stall(client)
            return "close"
        return self._forward(client, reader, request, reset_after=fault == "reset_after")

    def _stall(self, client: socket.socket) -> None:
        deadline = time.monotonic() + self.stall_seconds
        while not self._stopped.is_set() and (remaining := deadline - time.monotonic()) > 0:
            client.settimeout(remaining)
            try:
                if not client.recv(_PIECE):
                    return
            except TimeoutError:
                return

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.upstream_address, timeout=5.0)
        with self._lock:
            if self._stopped.is_set():
                sock.close()
                raise OSError("FaultProxy is closing")
            self._sockets.add(sock)
        sock.settimeout(self.upstream_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _forward(
        self,
        client: socket.socket,
        reader: _Reader,
        request: _Request,
        *,
        reset_after: bool,
    ) -> str:
        head, method, target, framing, length, expect, keep_alive = request
        try:
            upstream = self._connect()
        except OSError as exc:
            if not expect:
                _copy_body(reader, framing, length, _discard)
            client.sendall(_error_response(502, "Bad Gateway", f"upstream: {exc}"))
            return "close"
        try:
            headers = [(k, v) for k, v in _strip_hop_by_hop(head) if k.lower() != "host"]
            if framing == "chunked":
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers = [("Host", self._upstream_host), *headers, ("Connection", "close")]
            to_upstream = _Writer(upstream, tolerant=True)
            to_upstream.write(_encode_head(f"{method} {target} HTTP/1.1", headers))
            to_upstream.flush()
            if expect:
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            _copy_body(reader, framing, length, to_upstream.write)
            to_upstream.flush()

            from_upstream = _Reader(upstream)
            try:
                status, response = self._read_response_head(from_upstream)
                resp_framing, resp_length = _response_framing(method, status, response)
            except (OSError, _Closed, _BadMessage) as exc:
                if reset_after:
                    _reset(client)
                    return "gone"
                reason = str(exc) or type(exc).__name__
                client.sendall(_error_response(502, "Bad Gateway", f"upstream: {reason}"))
                return "close"
            if reset_after:
                with contextlib.suppress(OSError, _Closed, _BadMessage):
                    _copy_body(from_upstream, resp_framing, resp_length, _discard)
                _reset(client)
                return "gone"

            keep = keep_alive and resp_framing != "close" and to_upstream.error is None
            out = [*_strip_hop_by_hop(response), ("Connection", "keep-alive" if keep else "close")]
            to_client = _Writer(client)
            to_client.write(_encode_head(response.start, out))
            try:
                _copy_body(from_upstream, resp_framing, resp_length, to_client.write)
            except (OSError, _Closed, _BadMessage):
                # The answer is cut short: the client must see a broken connection, not an end.
                to_client.flush()
                _reset(client)
                return "gone"
            to_client.flush()
            return "keep" if keep else "close"
        finally:
            with self._lock:
                self._sockets.discard(upstream)
            upstream.close()

    @staticmethod
    def _read_response_head(reader: _Reader) -> tuple[int, _Head]:
        while True:
            response = _read_head(reader)
            if response is None:
                raise _Closed
            parts = response.start.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise _BadMessage(f"bad status line {response.start!r}")
            status = int(parts[1])
            # Interim answers (100, 103) are the upstream's business; 101 is not supported.
            if 100 <= status < 200 and status != 101:
                continue
            return status, response


def _response_framing(method: str, status: int, head: _Head) -> tuple[str, int]:
    if method.upper() == "HEAD" or 100 <= status < 200 or status in (204, 304):
        return "none", 0
    framing, length = _body_framing(head)
    return ("close", 0) if framing == "none" else (framing, length)
