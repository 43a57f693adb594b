"""Property: however a valid manifest is broken, plan and apply exit 1 with positioned one-line
errors, no traceback, and no connection to the cloud."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from catalog.load import check_catalog
from catalog.schema import is_valid, validator
from reconciler.cli import main

BASE = {
    "version": 1,
    "catalog": "fuzz",
    "defaults": {"disk_format": "qcow2", "tags": ["base"], "properties": {"hw_disk_bus": "scsi"}},
    "images": [
        {
            "name": "ubuntu-24.04",
            "source": {"url": "http://127.0.0.1:9/u.img", "checksum": "sha256:" + "ab" * 32},
            "visibility": "public",
            "protected": True,
            "min_disk": 10,
            "min_ram": 512,
            "tags": ["lts"],
            "properties": {"os_distro": "ubuntu", "os_version": "24.04"},
        },
        {"name": "reserved", "hidden": True, "state": "active"},
    ],
}
POSITIONED = re.compile(r"^.+:\d+:\d+: \S")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["public", "sha256:00", "ftp://x", "24.04", "yes"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from paths(child, (*prefix, index))


@st.composite
def broken_manifests(draw: st.DrawFn) -> bytes:
    document = yaml.safe_load(yaml.safe_dump(BASE))
    kind = draw(st.sampled_from(["replace", "delete", "add", "truncate", "bytes", "inject"]))
    if kind in ("replace", "delete", "add"):
        path = draw(st.sampled_from([p for p in paths(document) if p]))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        if kind == "replace":
            parent[path[-1]] = draw(values)
        elif kind == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
        else:
            parent.append(draw(values))
        return yaml.safe_dump(document, sort_keys=False).encode()
    text = yaml.safe_dump(document, sort_keys=False).encode()
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text) - 1))]
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    offset = draw(st.integers(0, len(text)))
    return (
        text[:offset]
        + draw(
            st.sampled_from([b"\t", b"\n---\n", b": :", b"&a", b"*b", b"{", b"\xff", b"\n  - x"])
        )
        + text[offset:]
    )


@pytest.fixture(scope="module")
def trap() -> Iterator[tuple[Path, socket.socket]]:
    """A clouds.yaml whose only cloud points at a listening port nobody should connect to."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    with tempfile.TemporaryDirectory() as folder:
        clouds = Path(folder) / "clouds.yaml"
        clouds.write_text(
            "clouds:\n  trap:\n    auth_type: password\n    auth:\n"
            f"      auth_url: http://127.0.0.1:{server.getsockname()[1]}/v3\n"
            "      username: u\n      password: p\n      project_name: p\n"
            "      user_domain_name: Default\n      project_domain_name: Default\n"
        )
        yield clouds, server
    server.close()


def run_main(args: list[str]) -> tuple[int, str]:
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            main(args)
        except SystemExit as exited:
            return int(exited.code or 0), stderr.getvalue()
    raise AssertionError("main() did not exit")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(manifest=broken_manifests())
def test_a_broken_manifest_is_refused_before_any_connection(
    manifest: bytes, trap: tuple[Path, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    clouds, server = trap
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        path.write_bytes(manifest)
        result = check_catalog([path])
        if result.catalog is not None:
            event("the mutation kept the manifest valid")
            return
        event("the mutation broke the manifest")
        for command in (
            ["plan", str(path), "--cloud", "trap"],
            ["apply", str(path), "--cloud", "trap", "--auto-approve"],
        ):
            code, stderr = run_main(command)
            assert code == 1, stderr
            lines = stderr.splitlines()
            assert "Traceback" not in stderr
            assert lines[-1].endswith("in the manifest; nothing was changed")
            assert all(POSITIONED.match(line) for line in lines[:-1]), lines
            assert all(line.startswith(str(path)) for line in lines[:-1]), lines
    with pytest.raises(BlockingIOError):
        server.accept()


@settings(max_examples=200, deadline=None)
@given(manifest=broken_manifests())
def test_the_fast_and_the_full_schema_validator_agree(manifest: bytes) -> None:
    try:
        document = yaml.safe_load(manifest)
    except (yaml.YAMLError, ValueError):
        return
    assert is_valid(document) == (not list(validator().iter_errors(document)))
