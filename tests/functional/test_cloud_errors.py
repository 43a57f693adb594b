"""Cloud errors through the real CLI: each is exit 1 and one line that says what to fix, in
bounded time; never a traceback, a urllib3 dump, or the password."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.functional.support import REPO, CliResult, run_cli, write_manifest
from tests.localcloud import LocalCloud

CLOUD = """\
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
NEVER = ("Traceback", "Max retries", "NewConnectionError", "HTTPConnectionPool", "secret")


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A minimal valid manifest; these runs never get as far as reading Glance."""
    (tmp_path / "d.raw").write_bytes(b"\0" * 1024)
    return write_manifest(
        tmp_path,
        """
        version: 1
        catalog: cloud-errors
        images:
          - name: cloud-errors-a
            disk_format: raw
            source: {file: d.raw}
        """,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME: no clouds.yaml of the machine's user is found."""
    folder = tmp_path / "home"
    (folder / ".config").mkdir(parents=True)
    return folder


def plan(
    manifest: Path, home: Path, clouds_yaml: Path, *extra: str, cloud: str = "local"
) -> tuple[CliResult, float]:
    """glance-catalog plan MANIFEST --cloud CLOUD with only ``clouds_yaml`` and ``home``'s
    config directory to find clouds in; the result and the seconds it took."""
    env = {
        "OS_CLIENT_CONFIG_FILE": str(clouds_yaml),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CONFIG_DIRS": "/etc/xdg",
    }
    started = time.monotonic()
    result = run_cli("plan", str(manifest), "--cloud", cloud, *extra, env=env)
    return result, time.monotonic() - started


def assert_one_line(result: CliResult, expected: str) -> None:
    """Exit 1, nothing on stdout, and exactly ``expected`` on stderr."""
    assert result.code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == expected + "\n"
    for text in NEVER:
        assert text not in result.output


def write_cloud(path: Path, auth_url: str, name: str = "local") -> Path:
    path.write_text(CLOUD.format(name=name, auth_url=auth_url))
    return path


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


class PageHandler(http.server.BaseHTTPRequestHandler):
    """Every GET and POST gets the server's status and an HTML page (a web server that is
    not an OpenStack API)."""

    server: PageServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _page(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html><head><title>Hi</title></head><body><h1>Hi</h1><p>No such page</p></body>"
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page


class PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), PageHandler)
        self.status = status


@contextmanager
def html_server(status: int) -> Iterator[str]:
    server = PageServer(status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# The clouds.yaml files


def test_a_broken_os_client_config_file_is_an_error_not_the_clouds_yaml_in_home(
    tmp_path: Path, manifest: Path, home: Path
) -> None:
    # The same cloud name in ~/.config/openstack: openstacksdk alone would use it.
    (home / ".config" / "openstack").mkdir()
    write_cloud(home / ".config" / "openstack" / "clouds.yaml", "http://127.0.0.1:9/v3")
    broken = tmp_path / "clouds.yaml"
    broken.write_text("clouds:\n  local:\n    auth:\n      auth_url: [http://x\n")
    result, seconds = plan(manifest, home, broken)
    assert_one_line(
        result,
        f"cloud 'local': {broken}:5:1: invalid YAML: expected ',' or ']', but got "
        "'<stream end>'; fix the file",
    )
    assert seconds < 20


def test_an_os_client_config_file_that_does_not_exist_is_an_error(
    tmp_path: Path, manifest: Path, home: Path
) -> None:
    (home / ".config" / "openstack").mkdir()
    write_cloud(home / ".config" / "openstack" / "clouds.yaml", "http://127.0.0.1:9/v3")
    result, seconds = plan(manifest, home, tmp_path / "nothing.yaml")
    assert_one_line(
        result,
        f"cloud 'local': OS_CLIENT_CONFIG_FILE names {tmp_path}/nothing.yaml, which does not "
        "exist; fix or unset it",
    )
    assert seconds < 20


def test_an_entry_that_is_a_number_is_an_error_at_its_line(
    tmp_path: Path, manifest: Path, home: Path
) -> None:
    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text("clouds: {local: 5}\n")
    result, seconds = plan(manifest, home, clouds_yaml)
    assert_one_line(
        result,
        f"cloud 'local': {clouds_yaml}:1:17: the entry 'local' is the number 5, not a mapping "
        "of settings (auth:, region_name:, ...); fix the file",
    )
    assert seconds < 20


def test_an_unknown_cloud_lists_the_known_clouds_and_the_files_searched(
    tmp_path: Path, manifest: Path, home: Path
) -> None:
    clouds_yaml = write_cloud(tmp_path / "clouds.yaml", "http://127.0.0.1:9/v3", name="alpha")
    with clouds_yaml.open("a") as more:
        more.write(CLOUD.format(name="beta", auth_url="http://127.0.0.1:9/v3").split("\n", 1)[1])
    result, seconds = plan(manifest, home, clouds_yaml, cloud="gamma")
    assert_one_line(
        result,
        f"cloud 'gamma': no such entry in {clouds_yaml} (known clouds: alpha, beta; searched in "
        f"order, the first found is used: {clouds_yaml}, {REPO}/clouds.{{yaml,yml,json}}, "
        f"{home}/.config/openstack/clouds.{{yaml,yml,json}}, "
        "/etc/xdg/openstack/clouds.{yaml,yml,json}, /etc/openstack/clouds.{yaml,yml,json})",
    )
    assert seconds < 20


# Keystone


def test_keystone_down_is_connection_refused(tmp_path: Path, manifest: Path, home: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v3"
    result, seconds = plan(manifest, home, write_cloud(tmp_path / "clouds.yaml", url))
    assert_one_line(result, f"cloud 'local': cannot reach Keystone at {url}: connection refused")
    # Four tries, about 0.5 + 1 + 2 s apart at most.
    assert seconds < 20


def test_a_keystone_that_never_answers_did_not_answer_within_the_timeout(
    tmp_path: Path, manifest: Path, home: Path
) -> None:
    with silent_server() as base:
        url = f"{base}/v3"
        clouds_yaml = write_cloud(tmp_path / "clouds.yaml", url)
        result, seconds = plan(manifest, home, clouds_yaml, "--timeout", "1")
    assert_one_line(result, f"cloud 'local': Keystone at {url} did not answer within 1 s")
    # Two tries of one second each, and the start of the process.
    assert seconds < 10


@pytest.mark.parametrize(
    ("status", "answer"),
    [(200, "answered HTTP 200 with text/html, not JSON"), (404, "answered HTTP 404: No such page")],
)
def test_an_auth_url_that_is_not_keystone_says_to_check_it(
    tmp_path: Path, manifest: Path, home: Path, status: int, answer: str
) -> None:
    with html_server(status) as base:
        url = f"{base}/v3"
        result, seconds = plan(manifest, home, write_cloud(tmp_path / "clouds.yaml", url))
    assert_one_line(
        result, f"cloud 'local': Keystone at {url} {answer}; check auth_url in clouds.yaml"
    )
    assert seconds < 20


def local_yaml_with(local_cloud: LocalCloud, tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the local cloud's clouds.yaml with ``old`` replaced by ``new`` once."""
    text = local_cloud.clouds_yaml.read_text()
    assert old in text
    path = tmp_path / "clouds.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.glance
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('password: "admin-secret"', 'password: "wrong-secret-7"'),
        ('project_name: "admin"', 'project_name: "no-such-project"'),
        ("user_domain_name: Default", "user_domain_name: NoSuchDomain"),
    ],
    ids=["password", "project", "domain"],
)
def test_credentials_keystone_refuses_are_one_line_without_the_password(
    local_cloud: LocalCloud, tmp_path: Path, manifest: Path, home: Path, old: str, new: str
) -> None:
    clouds_yaml = local_yaml_with(local_cloud, tmp_path, old, new)
    result, seconds = plan(manifest, home, clouds_yaml)
    assert_one_line(
        result,
        "cloud 'local': Keystone refused the credentials (HTTP 401): check "
        "username/password/project in clouds.yaml",
    )
    assert "admin-secret" not in result.output
    assert "wrong-secret-7" not in result.output
    # Refused credentials are not tried again.
    assert seconds < 20


@pytest.mark.glance
def test_an_image_endpoint_that_answers_html_is_one_line(
    local_cloud: LocalCloud, tmp_path: Path, manifest: Path, home: Path
) -> None:
    with html_server(200) as base:
        clouds_yaml = local_yaml_with(
            local_cloud,
            tmp_path,
            "    interface: public\n",
            f"    interface: public\n    image_endpoint_override: {base}/v2\n",
        )
        result, seconds = plan(manifest, home, clouds_yaml)
    # The Glance side of the message is session.py's.
    assert_one_line(
        result,
        f"listing images: {base}/v2/images answered HTTP 200 with text/html, not the JSON of "
        "an OpenStack API (is the endpoint in clouds.yaml or the catalog right?)",
    )
    assert seconds < 20
