"""reconciler.gateway.clouds and request_failures: the clouds.yaml files openstacksdk would read
are checked (a broken one is an error naming it, never skipped for another), and failures to
reach Keystone or Glance are described in one line, from real exceptions of real sockets."""

from __future__ import annotations

import http.server
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import keystoneauth1.session
import pytest
import requests

from reconciler.errors import CloudError
from reconciler.gateway.clouds import (
    ConfigSearch,
    config_search,
    load_cloud_region,
    open_cloud,
)
from reconciler.gateway.request_failures import describe_failure
from reconciler.retry import RetryBudget

VALID = """\
clouds:
  {name}:
    auth_type: password
    auth:
      auth_url: {auth_url}
      username: admin
      password: not-a-real-secret
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
"""


def valid(name: str = "local", auth_url: str = "http://127.0.0.1:9/v3") -> str:
    return VALID.format(name=name, auth_url=auth_url)


@pytest.fixture(autouse=True)
def no_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """openstacksdk also reads these variables itself: each test sets what it needs."""
    for name in ("OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_CLOUD", "OS_CLOUD_NAME"):
        monkeypatch.delenv(name, raising=False)


def search_in(*folders: Path) -> ConfigSearch:
    """openstacksdk's search, over ``folders`` instead of the machine's directories."""
    return config_search(directories=[str(folder) for folder in folders])


def config_error(cloud: str, search: ConfigSearch) -> str:
    with pytest.raises(CloudError) as raised:
        load_cloud_region(cloud, timeout=5, search=search)
    (line,) = raised.value.lines
    return line


# The configuration files


def test_a_valid_entry_gives_a_region_whose_session_times_out_after_timeout(
    tmp_path: Path,
) -> None:
    (tmp_path / "clouds.yaml").write_text(valid())
    region = load_cloud_region("local", timeout=7.5, search=search_in(tmp_path))
    assert float(region.config["api_timeout"]) == 7.5
    # keystoneauth applies the session's timeout to every request, the token request too.
    assert region.get_session().timeout == 7.5


def test_a_region_the_entry_does_not_list_is_the_entry_in_that_region(tmp_path: Path) -> None:
    """openstacksdk takes only the regions an entry lists (regions:, else its region_name); a
    glance-download reads another region with the same entry."""
    (tmp_path / "clouds.yaml").write_text(valid())
    search = search_in(tmp_path)
    assert load_cloud_region("local", timeout=5, search=search).get_region_name() == "RegionOne"
    other = load_cloud_region("local", timeout=5, search=search, region="RegionTwo")
    assert other.get_region_name("image") == "RegionTwo"
    assert other.config["auth"]["username"] == "admin"
    listed = valid().replace("region_name: RegionOne", "regions: [RegionOne, RegionTwo]")
    (tmp_path / "clouds.yaml").write_text(listed)
    assert load_cloud_region("local", timeout=5, search=search).get_region_name() == "RegionOne"
    chosen = load_cloud_region("local", timeout=5, search=search, region="RegionTwo")
    assert chosen.get_region_name() == "RegionTwo"


def test_invalid_yaml_is_an_error_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds:\n  local:\n    auth: {\n  x: y: z\n")
    assert config_error("local", search_in(tmp_path)) == (
        f"cloud 'local': {path}:4:7: invalid YAML: expected ',' or '}}', but got ':'; fix the file"
    )


def test_invalid_json_is_an_error_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "clouds.json"
    path.write_text('{"clouds":\n  {"local": }\n}\n')
    assert config_error("local", search_in(tmp_path)) == (
        f"cloud 'local': {path}:2:13: invalid JSON: Expecting value; fix the file"
    )


@pytest.mark.parametrize(
    ("value", "kind", "column"),
    [("5", "the number 5", 17), ("null", "empty", 17), ("[1]", "a list", 17)],
)
def test_an_entry_that_is_not_a_mapping_is_an_error_at_its_line(
    tmp_path: Path, value: str, kind: str, column: int
) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(f"clouds: {{local: {value}}}\n")
    assert config_error("local", search_in(tmp_path)) == (
        f"cloud 'local': {path}:1:{column}: the entry 'local' is {kind}, not a mapping of "
        "settings (auth:, region_name:, ...); fix the file"
    )


def test_an_entry_in_block_style_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("# comment\nclouds:\n  other: {}\n  local: 5\n")
    assert config_error("local", search_in(tmp_path)).startswith(
        f"cloud 'local': {path}:4:10: the entry 'local' is the number 5,"
    )


def test_clouds_and_auth_of_the_wrong_shape_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds: [local]\n")
    assert config_error("local", search_in(tmp_path)) == (
        f"cloud 'local': {path}:1:9: 'clouds' is a list, not a mapping of cloud names to "
        "settings; fix the file"
    )
    path.write_text("clouds:\n  local:\n    auth: admin\n")
    assert config_error("local", search_in(tmp_path)) == (
        f"cloud 'local': {path}:3:11: 'auth' is the text 'admin', not a mapping (auth_url:, "
        "username:, password:, ...); fix the file"
    )


def test_a_password_that_is_a_number_is_an_error_that_does_not_show_it(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(valid().replace("not-a-real-secret", "918273645"))
    line = config_error("local", search_in(tmp_path))
    assert line == f"cloud 'local': {path}:7:17: auth.password is a number; quote it in the file"
    assert "918273645" not in line


def test_an_unknown_cloud_lists_the_known_names_and_the_files_searched(tmp_path: Path) -> None:
    first, second = tmp_path / "here", tmp_path / "home"
    first.mkdir()
    second.mkdir()
    (second / "clouds.yaml").write_text(valid("local") + valid("other").split("\n", 1)[1])
    assert config_error("nope", search_in(first, second)) == (
        f"cloud 'nope': no such entry in {second}/clouds.yaml (known clouds: local, other; "
        f"searched in order, the first found is used: {first}/clouds.{{yaml,yml,json}}, "
        f"{second}/clouds.{{yaml,yml,json}})"
    )


def test_no_clouds_yaml_at_all_says_where_it_was_looked_for(tmp_path: Path) -> None:
    assert config_error("local", search_in(tmp_path)) == (
        "cloud 'local': no clouds.yaml found (searched in order, the first found is used: "
        f"{tmp_path}/clouds.{{yaml,yml,json}}); create one or set OS_CLIENT_CONFIG_FILE"
    )


def test_a_broken_os_client_config_file_is_not_skipped_for_the_one_in_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openstacksdk alone would log a warning and use ~/.config/openstack/clouds.yaml: another
    # project's images.
    home_config = tmp_path / "home" / ".config" / "openstack"
    home_config.mkdir(parents=True)
    (home_config / "clouds.yaml").write_text(valid())
    broken = tmp_path / "broken.yaml"
    broken.write_text("clouds:\n  local:\n   auth_url: x\n  - y\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(broken))
    search = search_in(home_config)
    assert search.clouds[0] == str(broken)
    assert config_error("local", search) == (
        f"cloud 'local': {broken}:4:3: invalid YAML: expected <block end>, but found '-'; "
        "fix the file"
    )


def test_an_os_client_config_file_that_does_not_exist_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clouds.yaml").write_text(valid())
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "missing.yaml"))
    assert config_error("local", search_in(tmp_path)) == (
        f"cloud 'local': OS_CLIENT_CONFIG_FILE names {tmp_path}/missing.yaml, which does not "
        "exist; fix or unset it"
    )


def test_a_clouds_yaml_that_cannot_be_read_is_an_error_not_skipped(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "clouds.yaml").mkdir(parents=True)
    second.mkdir()
    (second / "clouds.yaml").write_text(valid())
    assert config_error("local", search_in(first, second)) == (
        f"cloud 'local': cannot read {first}/clouds.yaml: Is a directory"
    )


def test_a_broken_secure_yaml_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "clouds.yaml").write_text(valid())
    secure = tmp_path / "secure.yaml"
    secure.write_text("clouds:\n  local:\n    auth: {password: [}\n")
    assert config_error("local", search_in(tmp_path)).startswith(
        f"cloud 'local': {secure}:3:23: invalid YAML:"
    )
    secure.write_text("clouds:\n  local: 5\n")
    assert config_error("local", search_in(tmp_path)).startswith(
        f"cloud 'local': {secure}:2:10: the entry 'local' is the number 5,"
    )


def test_only_the_first_file_found_is_read_as_openstacksdk_does(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "clouds.yml").write_text(valid())
    (second / "clouds.yaml").write_text("not: [valid\n")
    region = load_cloud_region("local", timeout=5, search=search_in(first, second))
    assert region.config["auth"]["auth_url"] == "http://127.0.0.1:9/v3"


def test_a_missing_password_and_an_unknown_auth_type_say_so(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(
        valid()
        .replace("auth_type: password", "auth_type: v3password")
        .replace("      password: not-a-real-secret\n", "")
    )
    assert config_error("local", search_in(tmp_path)) == (
        "cloud 'local': its clouds.yaml entry lacks auth.password; add it"
    )
    path.write_text(valid().replace("auth_type: password", "auth_type: kerberos-ish"))
    assert config_error("local", search_in(tmp_path)) == (
        "cloud 'local': unknown auth_type 'kerberos-ish' in its clouds.yaml entry"
    )


# Real sockets


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A server that accepts connections and never answers; yields its URL and the
    connections it accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop_listening(listener, thread)
        for connection in accepted:
            connection.close()


@contextmanager
def resetting_server() -> Iterator[str]:
    """A server that reads a request and resets the connection (RST, no answer)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop_listening(listener, thread)


def stop_listening(listener: socket.socket, thread: threading.Thread) -> None:
    """Close ``listener`` and wait for ``thread``, blocked in its accept(): on Linux a close
    alone does not wake it, and it would outlive the test (a later fork would copy it)."""
    with suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    thread.join(timeout=5)
    assert not thread.is_alive(), "the server thread did not end"


def failure_of(url: str, timeout: float = 5.0) -> BaseException:
    """The exception keystoneauth (what openstacksdk requests go through) raises for a GET."""
    with pytest.raises(Exception) as raised:
        keystoneauth1.session.Session(timeout=timeout).get(url, authenticated=False)
    return raised.value


def test_a_closed_port_is_connection_refused() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v3"
    error = failure_of(url)
    assert describe_failure(error, "Keystone", url, 5) == (
        f"cannot reach Keystone at {url}: connection refused"
    )
    with pytest.raises(requests.ConnectionError) as raised:
        requests.get(url, timeout=5)
    assert describe_failure(raised.value, "Glance", url, 5) == (
        f"cannot reach Glance at {url}: connection refused"
    )


def test_a_server_that_never_answers_did_not_answer_within_the_timeout() -> None:
    with silent_server() as (url, _):
        started = time.monotonic()
        error = failure_of(url, timeout=0.3)
        assert time.monotonic() - started < 3
        assert describe_failure(error, "Keystone", url, 0.3) == (
            f"Keystone at {url} did not answer within 0.3 s"
        )
        with pytest.raises(requests.Timeout) as raised:
            requests.get(url, timeout=0.3)
        assert describe_failure(raised.value, "Glance", url, 60) == (
            f"Glance at {url} did not answer within 60 s"
        )


def test_a_reset_connection_is_connection_reset() -> None:
    with resetting_server() as url:
        error = failure_of(url)
        assert describe_failure(error, "Glance", url, 5) == (
            f"cannot reach Glance at {url}: connection reset"
        )


def test_tls_to_a_plain_http_server_is_a_tls_error() -> None:
    with Keystone([]) as keystone:
        url = keystone.url.replace("http://", "https://")
        error = failure_of(url)
        # OpenSSL words the reason ("wrong version number" with OpenSSL 3).
        assert describe_failure(error, "Keystone", url, 5).startswith(
            f"cannot reach Keystone at {url}: TLS error: "
        )


def test_an_error_answer_is_its_status_and_message() -> None:
    with Keystone(["503"] * 3) as keystone:
        error = failure_of(keystone.url + "/v3")
        assert describe_failure(error, "Keystone", keystone.url, 5) == (
            f"Keystone at {keystone.url} answered HTTP 503: Keystone is restarting"
        )
        response = requests.get(keystone.url + "/v3", timeout=5)
        with pytest.raises(requests.HTTPError) as raised:
            response.raise_for_status()
        assert describe_failure(raised.value, "Glance", keystone.url, 5) == (
            f"Glance at {keystone.url} answered HTTP 503: Keystone is restarting"
        )


# Authentication against a Keystone on a real socket (an imitation: the version document and
# a token with a catalog, with faults on request)


class KeystoneHandler(http.server.BaseHTTPRequestHandler):
    server: KeystoneServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any], **headers: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(f"{self.command} {self.path}")
        fault = self.server.faults.pop(0) if self.server.faults else ""
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if fault == "hang":
            self.server.release.wait(30)
            return
        if fault in ("401", "503"):
            message = "Keystone is restarting" if fault == "503" else "Unauthorized"
            self._answer(int(fault), {"error": {"code": int(fault), "message": message}})
            return
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.command == "GET":
            self._answer(200, version_document(base))
        else:
            self._answer(201, token_body(), **{"X-Subject-Token": "a-token"})

    do_GET = do_POST = _handle


class KeystoneServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, faults: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), KeystoneHandler)
        self.faults = faults
        self.seen: list[str] = []
        self.release = threading.Event()


class Keystone:
    """A Keystone imitation on 127.0.0.1: one fault of ``faults`` per request, in order
    (``reset``, ``hang``, ``401``, ``503``, or ``""`` for a real answer), then real answers."""

    def __init__(self, faults: list[str]) -> None:
        self.server = KeystoneServer(list(faults))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Keystone:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def seen(self) -> list[str]:
        return self.server.seen


def version_document(base: str) -> dict[str, Any]:
    return {
        "version": {
            "id": "v3.14",
            "status": "stable",
            "links": [{"rel": "self", "href": f"{base}/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }
    }


def token_body() -> dict[str, Any]:
    domain = {"id": "default", "name": "Default"}
    return {
        "token": {
            "methods": ["password"],
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "issued_at": "2024-01-01T00:00:00.000000Z",
            "user": {"id": "u" * 32, "name": "admin", "domain": domain},
            "project": {"id": "p" * 32, "name": "admin", "domain": domain},
            "roles": [{"id": "r" * 32, "name": "admin"}],
            "catalog": [
                {
                    "type": "image",
                    "name": "glance",
                    "id": "s" * 32,
                    "endpoints": [
                        {
                            "id": "e" * 32,
                            "interface": "public",
                            "region": "RegionOne",
                            "region_id": "RegionOne",
                            "url": "http://127.0.0.1:9/image",
                        }
                    ],
                }
            ],
        }
    }


def open_against(
    keystone_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timeout: float = 5.0
) -> Any:
    (tmp_path / "clouds.yaml").write_text(valid(auth_url=f"{keystone_url}/v3"))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    return open_cloud("local", timeout=timeout)


def auth_error(
    keystone_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timeout: float = 5.0
) -> str:
    with pytest.raises(CloudError) as raised:
        open_against(keystone_url, tmp_path, monkeypatch, timeout)
    (line,) = raised.value.lines
    return line


def test_authentication_discovers_once_and_takes_the_project_and_glance_from_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Keystone([]) as keystone:
        opened = open_against(keystone.url, tmp_path, monkeypatch)
        assert opened.project_id == "p" * 32
        assert opened.glance_endpoint == "http://127.0.0.1:9/image/v2"
        assert keystone.seen == ["GET /v3", "POST /v3/auth/tokens"]
        opened.connection.close()


def test_a_reset_and_a_503_are_tried_again_with_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Keystone(["reset", "", "503"]) as keystone:
        started = time.monotonic()
        opened = open_against(keystone.url, tmp_path, monkeypatch)
        # Waits of 0.25-0.5 s then 0.5-1 s.
        assert 0.75 <= time.monotonic() - started < 5
        assert opened.project_id == "p" * 32
        assert keystone.seen == [
            "GET /v3",
            "GET /v3",
            "POST /v3/auth/tokens",
            "POST /v3/auth/tokens",
        ]
        opened.connection.close()


def test_a_keystone_that_keeps_failing_gets_four_tries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Keystone(["503"] * 10) as keystone:
        started = time.monotonic()
        line = auth_error(keystone.url, tmp_path, monkeypatch)
        assert 1.75 <= time.monotonic() - started < 6
        assert line == (
            f"cloud 'local': Keystone at {keystone.url}/v3 answered HTTP 503: Keystone is "
            "restarting"
        )
        assert len(keystone.seen) == 4


def test_authentication_retries_are_taken_from_the_runs_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = RetryBudget(1)
    with Keystone(["503"] * 10) as keystone:
        (tmp_path / "clouds.yaml").write_text(valid(auth_url=f"{keystone.url}/v3"))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
        with pytest.raises(CloudError):
            open_cloud("local", timeout=5.0, budget=budget)
        # One retry, the budget's last, instead of AUTH_RETRY's three.
        assert len(keystone.seen) == 2
    assert budget.spent == 1 and not budget.take()


def test_refused_credentials_are_not_tried_again_and_the_password_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Keystone(["", "401"]) as keystone:
        line = auth_error(keystone.url, tmp_path, monkeypatch)
        assert line == (
            "cloud 'local': Keystone refused the credentials (HTTP 401): check "
            "username/password/project in clouds.yaml"
        )
        assert "not-a-real-secret" not in line
        assert keystone.seen == ["GET /v3", "POST /v3/auth/tokens"]


def test_a_token_request_that_gets_no_answer_is_bounded_and_tried_once_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Keystone(["", "hang", "hang"]) as keystone:
        started = time.monotonic()
        line = auth_error(keystone.url, tmp_path, monkeypatch, timeout=0.5)
        # Two tries of one timeout each (the token POST is bounded too), one wait between.
        assert 1.0 <= time.monotonic() - started < 4
        assert line == f"cloud 'local': Keystone at {keystone.url}/v3 did not answer within 0.5 s"
        assert keystone.seen == ["GET /v3", "POST /v3/auth/tokens", "POST /v3/auth/tokens"]


def test_a_keystone_that_accepts_and_never_answers_costs_two_timeouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with silent_server() as (url, accepted):
        started = time.monotonic()
        line = auth_error(url, tmp_path, monkeypatch, timeout=0.5)
        # keystoneauth alone would wait for the discovery and then for the token: 4 timeouts.
        assert time.monotonic() - started < 2.5
        assert line == f"cloud 'local': Keystone at {url}/v3 did not answer within 0.5 s"
        assert len(accepted) == 2


def test_keystone_down_is_connection_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert auth_error(url, tmp_path, monkeypatch) == (
        f"cloud 'local': cannot reach Keystone at {url}/v3: connection refused"
    )
