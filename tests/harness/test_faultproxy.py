"""tests.faultproxy against a real local HTTP server and a real requests client (no mocks)."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.faultproxy import (
    CLASSES,
    FAULTS,
    OK,
    CannedAnswer,
    Decision,
    FaultProxy,
    classify,
    decide,
    normalise,
)


@dataclass
class Seen:
    """What the upstream received, for the assertions."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    hits: Counter[tuple[str, str]] = field(default_factory=Counter)
    bodies: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    seen: Seen

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # truncated requests are part of the tests


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _record(self, body: bytes = b"") -> None:
        seen = self.server.seen
        with seen.lock:
            seen.hits[(self.command, self.path)] += 1
            seen.bodies[(self.command, self.path)] = (len(body), hashlib.sha256(body).hexdigest())
            seen.headers.append({k.lower(): v for k, v in self.headers.items()})

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if status not in (204, 304) and "Content_Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._record()
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"alpha ", b"beta ", b"gamma"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the end")
            self.close_connection = True
        elif self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), b"")
        else:
            body = json.dumps({"path": self.path, "host": self.headers["Host"]}).encode()
            self._send(200, body, Content_Type="application/json")

    def do_HEAD(self) -> None:
        self._record()
        self._send(200, b"", Content_Length="1234")

    def _with_body(self) -> None:
        body = self._body()
        self._record(body)
        if self.command == "PUT":
            self._send(204, b"")
        else:
            answer = {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            self._send(201, json.dumps(answer).encode(), Content_Type="application/json")

    do_POST = do_PUT = do_PATCH = do_DELETE = _with_body


@dataclass
class Upstream:
    url: str
    seen: Seen


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Server(("127.0.0.1", 0), Handler)
    server.seen = Seen()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Upstream(f"http://127.0.0.1:{server.server_address[1]}", server.seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def image_path(suffix: str = "") -> str:
    return f"/v2/images/{uuid.uuid4()}{suffix}"


def proxy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("faultproxy")]


def pieces(total: int, seed: int = 5) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(total // (64 * 1024)):
        yield rng.randbytes(64 * 1024)


def read_response(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize(
    ("method", "path", "cls"),
    [
        ("POST", "/v3/auth/tokens", "auth"),
        ("GET", "/v3/auth/tokens", "identity"),
        ("GET", "/v3", "identity"),
        ("GET", "/v3/projects?name=demo", "identity"),
        ("GET", "/v2/images", "list"),
        ("GET", "/v2/images?limit=1000&visibility=all", "list"),
        ("GET", "/v2/images/ID", "show"),
        ("POST", "/v2/images", "create"),
        ("PATCH", "/v2/images/ID", "update"),
        ("PUT", "/v2/images/ID/tags/web", "update"),
        ("PUT", "/v2/images/ID/file", "upload"),
        ("PUT", "/v2/images/ID/stage", "upload"),
        ("GET", "/v2/images/ID/file", "download"),
        ("POST", "/v2/images/ID/import", "import"),
        ("POST", "/v2/images/ID/actions/deactivate", "action"),
        ("POST", "/v2/images/ID/actions/reactivate", "action"),
        ("DELETE", "/v2/images/ID", "delete"),
        ("GET", "/v2/images/ID/members", "members"),
        ("POST", "/v2/images/ID/members", "members"),
        ("PUT", "/v2/images/ID/members/PROJECT", "members"),
        ("DELETE", "/v2/images/ID/members/PROJECT", "members"),
        ("GET", "/v2/images/ID/tasks", "tasks"),
        ("GET", "/v2/tasks/ID", "tasks"),
        ("GET", "/image/v2/images/ID", "show"),
        ("get", "/v2/images", "list"),
        ("GET", "/", "other"),
        ("GET", "/v2/schemas/image", "other"),
        ("GET", "/v2/info/import", "other"),
        ("PUT", "/v2/images", "other"),
        ("POST", "/v2/images/ID/file", "other"),
    ],
)
def test_requests_are_classified_from_method_and_path(method: str, path: str, cls: str) -> None:
    target = path.replace("ID", str(uuid.uuid4())).replace("PROJECT", uuid.uuid4().hex)
    assert classify(method, target) == cls
    assert cls in CLASSES


def test_ids_are_normalised_out_of_path_and_query() -> None:
    image, project = uuid.uuid4(), uuid.uuid4().hex
    assert normalise(f"/v2/images/{image}/members/{project}") == "/v2/images/{id}/members/{id}"
    assert normalise(f"/v2/images?marker={image}&limit=5") == "/v2/images?marker={id}&limit=5"
    assert normalise(f"/v2/images/{image.hex.upper()}") == "/v2/images/{id}"
    assert normalise("/v2/images?name=ubuntu-24.04") == "/v2/images?name=ubuntu-24.04"
    assert normalise(f"/v2/images/x{image.hex}") == f"/v2/images/x{image.hex}"


def test_decisions_are_a_pure_function_coupled_across_rates() -> None:
    draws = [decide(3, "GET", f"/v2/images/{uuid.uuid4()}", n, 1.0, FAULTS) for n in range(4000)]
    kinds = Counter(draws)
    assert set(kinds) == set(FAULTS)
    assert all(800 < count < 1200 for count in kinds.values()), kinds
    low = [decide(3, "GET", "/v2/images", n, 0.2, FAULTS) for n in range(2000)]
    high = [decide(3, "GET", "/v2/images", n, 0.5, FAULTS) for n in range(2000)]
    assert all(h == lo for lo, h in zip(low, high, strict=True) if lo is not None)
    assert 300 < sum(f is not None for f in low) < 500
    assert 900 < sum(f is not None for f in high) < 1100
    reordered = [decide(3, "GET", "/v2/images", n, 0.5, FAULTS[::-1]) for n in range(2000)]
    assert reordered == high
    assert decide(3, "GET", "/v2/images", 0, 0.0, FAULTS) is None
    assert decide(3, "GET", "/v2/images", 0, 1.0, ()) is None


def test_rate_zero_forwards_everything_unchanged(upstream: Upstream) -> None:
    data = b"".join(pieces(1024 * 1024))
    targets = ["/v2/images?limit=2", image_path(), "/chunked", "/status/204", "/status/304"]
    with FaultProxy(upstream.url, rate=0.0) as proxy, requests.Session() as session:
        for target in targets:
            direct = requests.get(upstream.url + target, timeout=5)
            proxied = session.get(proxy.url + target, timeout=5)
            assert (proxied.status_code, proxied.content) == (direct.status_code, direct.content)
            assert proxied.headers.get("Content-Type") == direct.headers.get("Content-Type")
            if target == targets[0]:
                assert proxied.json()["host"] == upstream.url.removeprefix("http://")
        head = session.head(proxy.url + image_path(), timeout=5)
        assert head.status_code == 200
        assert (head.headers["Content-Length"], head.content) == ("1234", b"")
        created = session.post(proxy.url + "/v2/images", json={"name": "x"}, timeout=5)
        assert created.status_code == 201
        assert created.json()["sha256"] == hashlib.sha256(b'{"name": "x"}').hexdigest()
        put = session.put(proxy.url + image_path("/file"), data=data, timeout=5)
        assert put.status_code == 204
        closed = session.get(proxy.url + "/close", timeout=5)
        assert (closed.status_code, closed.content) == (200, b"until the end")
    assert (len(data), hashlib.sha256(data).hexdigest()) in upstream.seen.bodies.values()
    assert all(entry.fault is None for entry in proxy.log)
    assert len(proxy.log) == len(targets) + 4
    assert proxy.injected == 0
    assert proxy.counts()["show"] == Counter({OK: 1})
    assert proxy.summary() == f"faults injected: 0 of {len(targets) + 4} requests"


def test_keep_alive_connections_carry_many_requests(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, rate=0.0) as proxy, requests.Session() as session:
        for _ in range(3):
            assert session.get(proxy.url + "/v2/images", timeout=5).status_code == 200
            assert session.head(proxy.url + image_path(), timeout=5).status_code == 200
            assert session.get(proxy.url + "/status/204", timeout=5).status_code == 204
            assert session.get(proxy.url + "/status/304", timeout=5).status_code == 304
            assert session.get(proxy.url + "/chunked", timeout=5).content == b"alpha beta gamma"
            assert session.patch(proxy.url + image_path(), data=b"[]", timeout=5).status_code == 201
        assert proxy.connections == 1
        # A response framed by the end of the connection ends it.
        assert session.get(proxy.url + "/close", timeout=5).content == b"until the end"
        assert session.get(proxy.url + "/v2/images", timeout=5).status_code == 200
        assert proxy.connections == 2
    assert upstream.seen.hits[("GET", "/v2/images")] == 4
    assert all(h["connection"] == "close" for h in upstream.seen.headers)


def test_chunked_upload_of_five_mib_arrives_intact(upstream: Upstream) -> None:
    expected = hashlib.sha256(b"".join(pieces(5 * 1024 * 1024))).hexdigest()
    target = image_path("/file")
    with FaultProxy(upstream.url, rate=0.0) as proxy:
        response = requests.put(proxy.url + target, data=pieces(5 * 1024 * 1024), timeout=10)
    assert response.status_code == 204
    assert upstream.seen.bodies[("PUT", target)] == (5 * 1024 * 1024, expected)
    assert upstream.seen.headers[-1]["transfer-encoding"] == "chunked"
    assert proxy.log == [Decision("upload", "PUT", target, None)]


def test_503_answers_without_forwarding(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, rate=1.0, faults=("503",)) as proxy:
        response = requests.get(proxy.url + "/v2/images", timeout=5)
        # The streamed body is read to its end, so the client sees the answer, not a reset.
        upload = requests.put(proxy.url + image_path("/file"), data=pieces(2**21), timeout=5)
    assert response.status_code == 503
    assert response.headers["Connection"] == "close"
    assert response.json()["error"]["code"] == 503
    assert upload.status_code == 503
    assert upstream.seen.hits == Counter()
    assert [entry.fault for entry in proxy.log] == ["503", "503"]


def test_canned_answers_are_given_by_the_proxy_and_the_rest_is_forwarded(
    upstream: Upstream,
) -> None:
    versions = {"versions": [{"id": "v2.11", "status": "CURRENT"}]}
    answers = [
        CannedAnswer("GET", r"/", 300, versions),
        CannedAnswer("GET", r"/v2/images/[^/]+/tasks", 404, {"message": "not here"}),
    ]
    with FaultProxy(upstream.url, rate=1.0, faults=("503",), answers=answers) as proxy:
        root = requests.get(proxy.url + "/", timeout=5)
        tasks = requests.get(proxy.url + image_path("/tasks"), timeout=5)
        posted = requests.post(proxy.url + "/", data=b"x", timeout=5)
    assert (root.status_code, root.json()) == (300, versions)
    assert (tasks.status_code, tasks.json()) == (404, {"message": "not here"})
    assert posted.status_code == 503  # another method: a fault was decided, as for any request
    assert upstream.seen.hits == Counter()
    assert proxy.canned == Counter({r"/": 1, r"/v2/images/[^/]+/tasks": 1})
    assert [entry.fault for entry in proxy.log] == ["503"]


def test_reset_before_loses_the_request(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, rate=1.0, faults=("reset_before",)) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.post(proxy.url + "/v2/images", json={"name": "x"}, timeout=5)
        with pytest.raises(requests.ConnectionError):
            requests.put(proxy.url + image_path("/file"), data=pieces(2**21), timeout=5)
    assert upstream.seen.hits == Counter()
    assert proxy.counts() == {"create": Counter(reset_before=1), "upload": Counter(reset_before=1)}


def test_reset_after_loses_only_the_answer(upstream: Upstream) -> None:
    target = image_path("/file")
    with FaultProxy(upstream.url, rate=1.0, faults=("reset_after",)) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.post(proxy.url + "/v2/images", json={"name": "x"}, timeout=5)
        with pytest.raises(requests.ConnectionError):
            requests.put(proxy.url + target, data=pieces(2**21), timeout=5)
    assert upstream.seen.hits[("POST", "/v2/images")] == 1
    assert upstream.seen.bodies[("PUT", target)][0] == 2**21
    assert proxy.fault_counts() == Counter(reset_after=2)


def test_stall_never_answers(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, rate=1.0, faults=("stall",), stall_seconds=0.5) as proxy:
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            requests.get(proxy.url + "/v2/images", timeout=(5, 0.25))
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"GET /v2/images HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock) == b""  # closed after stall_seconds, nothing said
        assert 0.5 <= time.monotonic() - started < 3
    assert upstream.seen.hits == Counter()
    assert proxy.summary() == "faults injected: 2 of 2 requests (stall: 2)"


def test_closing_the_proxy_ends_a_stall_at_once(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url, rate=1.0, faults=("stall",), stall_seconds=30).start()
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(b"GET /v2/images HTTP/1.1\r\nHost: x\r\n\r\n")
        while not proxy.log:
            time.sleep(0.01)
        started = time.monotonic()
        proxy.close()
        assert time.monotonic() - started < 2
        assert read_response(sock) == b""
    assert proxy_threads() == []


def test_expect_100_continue_is_answered_by_the_proxy(upstream: Upstream) -> None:
    target = image_path("/file")
    head = (
        f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    with (
        FaultProxy(upstream.url, rate=0.0) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        sock.sendall(head)
        sock.settimeout(5)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        assert read_response(sock).startswith(b"HTTP/1.1 204 ")
    with (
        FaultProxy(upstream.url, rate=1.0, faults=("503",)) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        sock.sendall(head)
        # Faulted before the body is sent: the client is not asked for it.
        assert read_response(sock).startswith(b"HTTP/1.1 503 ")
    assert upstream.seen.bodies[("PUT", target)] == (5, hashlib.sha256(b"hello").hexdigest())
    assert "expect" not in upstream.seen.headers[-1]
    assert upstream.seen.hits[("PUT", target)] == 1


def run_sequence(proxy: FaultProxy) -> None:
    """A fixed sequence of requests, with new random ids each time."""
    with requests.Session() as session:
        for _ in range(15):
            image = uuid.uuid4()
            for method, target in [
                ("POST", "/v3/auth/tokens"),
                ("GET", f"/v2/images?marker={image}"),
                ("POST", "/v2/images"),
                ("GET", f"/v2/images/{image}"),
                ("PATCH", f"/v2/images/{image}"),
                ("PUT", f"/v2/images/{image}/file"),
            ]:
                with contextlib.suppress(requests.ConnectionError):
                    session.request(method, proxy.url + target, data=b"{}", timeout=5)


def test_the_same_seed_and_requests_give_the_same_faults(upstream: Upstream) -> None:
    logs: list[list[Decision]] = []
    for seed in (11, 11, 12):
        with FaultProxy(upstream.url, seed=seed, rate=0.4, faults=("503", "reset_before")) as p:
            run_sequence(p)
        logs.append(p.log)
    first, again, other = (
        [(d.cls, d.method, normalise(d.path), d.fault) for d in log] for log in logs
    )
    assert first == again
    assert [e[:3] for e in first] == [e[:3] for e in other]
    assert first != other
    assert {e[3] for e in first} == {None, "503", "reset_before"}
    assert [d.path for d in logs[0]] != [d.path for d in logs[1]]  # other ids, same faults
    occurrences: Counter[tuple[str, str]] = Counter()
    for entry in logs[0]:
        key = (entry.method, normalise(entry.path))
        expected = decide(
            11, entry.method, entry.path, occurrences[key], 0.4, ("503", "reset_before")
        )
        assert entry.fault == expected
        occurrences[key] += 1


def test_classes_and_per_class_rates_limit_the_faults(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, rate={"upload": 1.0}, faults=("503",)) as proxy:
        assert requests.get(proxy.url + "/v2/images", timeout=5).status_code == 200
        assert (
            requests.put(proxy.url + image_path("/file"), data=b"x", timeout=5).status_code == 503
        )
    assert proxy.counts() == {"list": Counter({OK: 1}), "upload": Counter({"503": 1})}
    with FaultProxy(upstream.url, rate=1.0, faults=("503",), classes={"create"}) as proxy:
        assert requests.post(proxy.url + "/v2/images", data=b"{}", timeout=5).status_code == 503
        assert requests.get(proxy.url + image_path(), timeout=5).status_code == 200
    assert proxy.injected == 1
    with pytest.raises(ValueError, match="unknown classes"):
        FaultProxy(upstream.url, classes={"uploads"})
    with pytest.raises(ValueError, match="unknown classes"):
        FaultProxy(upstream.url, rate={"uploads": 1.0})
    with pytest.raises(ValueError, match="unknown faults"):
        FaultProxy(upstream.url, faults=("500",))
    with pytest.raises(ValueError, match="rates"):
        FaultProxy(upstream.url, rate=1.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_upstream_answers_502() -> None:
    with FaultProxy(f"http://127.0.0.1:{free_port()}", rate=0.0) as proxy:
        assert requests.get(proxy.url + "/v2/images", timeout=5).status_code == 502
        response = requests.put(proxy.url + image_path("/file"), data=pieces(2**20), timeout=5)
        assert response.status_code == 502
        assert "upstream" in response.json()["error"]["message"]
    assert proxy_threads() == []


def test_an_upstream_that_resets_answers_502() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def reset_everyone() -> None:
        for _ in range(2):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(10)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=reset_everyone, daemon=True)
    thread.start()
    try:
        with FaultProxy(f"http://127.0.0.1:{listener.getsockname()[1]}", rate=0.0) as proxy:
            assert requests.get(proxy.url + "/v2/images", timeout=5).status_code == 502
            response = requests.put(proxy.url + image_path("/file"), data=pieces(2**21), timeout=5)
            assert response.status_code == 502
    finally:
        listener.close()
        thread.join(5)
    assert not thread.is_alive()


def test_clients_that_go_away_or_talk_nonsense_do_not_hurt_it(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, rate=0.0) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"PUT /v2/images/x/file HTTP/1.1\r\nHost: x\r\n")
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(
                b"PUT /v2/images/x/file HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"10000\r\n" + b"x" * 1000
            )
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(
                b"PUT /v2/images/x/file HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\n\r\nab"
            )
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"HELLO\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 400 ")
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"POST /v2/images HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 400 ")
        assert requests.get(proxy.url + "/v2/images", timeout=5).status_code == 200
    assert proxy_threads() == []


def test_leaving_the_proxy_stops_every_thread_and_socket(upstream: Upstream) -> None:
    baseline = threading.active_count()
    with FaultProxy(upstream.url, rate=0.0) as proxy:
        session = requests.Session()
        assert session.get(proxy.url + "/v2/images", timeout=5).status_code == 200
        idle = socket.create_connection(("127.0.0.1", proxy.port))
        half = socket.create_connection(("127.0.0.1", proxy.port))
        half.sendall(b"GET /v2/images HTTP/1.1\r\n")
        while proxy.connections < 3:
            time.sleep(0.01)
        assert len(proxy_threads()) == 4  # the acceptor and one per connection
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert proxy_threads() == []
    deadline = time.monotonic() + 2
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)  # the upstream's own handler threads finish on their own
    assert threading.active_count() == baseline
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1)
    for sock in (idle, half):
        assert read_response(sock) == b""
        sock.close()
    session.close()
    proxy.close()  # a second close is harmless
