"""reconciler.sources.checksum_source against a real local HTTP server and real gpg keys: checksums
read from checksum files, each fetched once, verified before use, every failure one line."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from catalog.model import Catalog, Checksum, DesiredImage, HashAlgorithm, ImageSource, ImageState
from catalog.secrets import register_secret
from reconciler.core.planner import make_plan
from reconciler.retry import Retrier, RetryPolicy
from reconciler.sources.checksum_source import (
    ChecksumsUnresolved,
    resolve_checksums,
    stale_checksums,
)
from tests.signing import SigningKey
from tests.unit.builders import catalog, desired, snapshot

DISK = b"disk bytes\n"
SHA256 = hashlib.sha256(DISK).hexdigest()
SHA512 = hashlib.sha512(DISK).hexdigest()
FAST = RetryPolicy(base=0.01, cap=0.02)


class Files(http.server.BaseHTTPRequestHandler):
    """Serves ``files`` (path -> bytes), counting GETs: ``/flaky/...`` answers 503 the first
    time, ``/stall/...`` sends 10 bytes and then nothing for 3 s, ``/gzip/...`` sends the
    file gzip-compressed (Content-Encoding: gzip)."""

    files: ClassVar[dict[str, bytes]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.seen.append(path)
        if path.startswith("/flaky/") and self.seen.count(path) == 1:
            self.send_error(503)
            return
        body = self.files.get(
            path.removeprefix("/flaky").removeprefix("/stall").removeprefix("/gzip")
        )
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if path.startswith("/gzip/"):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if path.startswith("/stall/"):
            self.wfile.write(body[:10])
            self.wfile.flush()
            time.sleep(3)
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Files.files, Files.seen = {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the system gpg")


def reading(name: str, url: str | None, checksum_url: str, **fields: Any) -> DesiredImage:
    image = desired(name)
    assert image.source is not None
    source = replace(image.source, url=url, checksum=None, checksum_url=checksum_url, **fields)
    return replace(image, source=source)


def resolve(
    *images: DesiredImage, environ: dict[str, str] | None = None, timeout: float = 5
) -> Catalog:
    return resolve_checksums(
        catalog(*images),
        timeout=timeout,
        environ=environ or {},
        retrier=Retrier(FAST),
    )


def checksum_of(resolved: Catalog, name: str) -> Checksum | None:
    image = resolved.image(name)
    assert image is not None and image.source is not None
    return image.source.checksum


def test_gnu_and_bsd_files_fill_in_checksums_each_file_fetched_once(server: str) -> None:
    Files.files = {
        "/SHA256SUMS": f"{SHA256}  disk.img\n{SHA256} *other.img\n".encode(),
        "/SHA512SUMS": f"SHA512 (disk.img) = {SHA512}\n".encode(),
    }
    resolved = resolve(
        reading("a", f"{server}/a/disk.img", f"{server}/SHA256SUMS"),
        reading("b", f"{server}/b/other.img", f"{server}/SHA256SUMS"),
        reading("c", f"{server}/disk.img", f"{server}/SHA512SUMS"),
        desired("literal"),
    )
    assert checksum_of(resolved, "a") == Checksum(HashAlgorithm.SHA256, SHA256)
    assert checksum_of(resolved, "b") == Checksum(HashAlgorithm.SHA256, SHA256)
    assert checksum_of(resolved, "c") == Checksum(HashAlgorithm.SHA512, SHA512)
    assert checksum_of(resolved, "literal") == checksum_of(catalog(desired("literal")), "literal")
    assert sorted(Files.seen) == ["/SHA256SUMS", "/SHA512SUMS"]


def test_a_gzip_encoded_checksum_file_is_read_to_its_end(server: str) -> None:
    # Over 1 MiB once decoded: urllib3 2.0.0 and 2.0.1 ended such a body after its first
    # MiB (hence urllib3>=2.0.2).
    filler = "".join(f"{SHA512}  filler-{index}.img\n" for index in range(12000))
    Files.files = {"/SUMS": f"{filler}{SHA256}  disk.img\n".encode()}
    assert len(Files.files["/SUMS"]) > 1024 * 1024
    resolved = resolve(reading("a", f"{server}/disk.img", f"{server}/gzip/SUMS"))
    assert checksum_of(resolved, "a") == Checksum(HashAlgorithm.SHA256, SHA256)


def test_checksum_name_and_a_file_sources_name_choose_the_entry(
    server: str, tmp_path: Path
) -> None:
    Files.files = {"/SUMS": f"{SHA256}  listed-as.img\n{SHA512}  local.raw\n".encode()}
    image = desired("file")
    local = replace(
        image,
        source=ImageSource(None, tmp_path / "local.raw", None, checksum_url=f"{server}/SUMS"),
    )
    resolved = resolve(
        reading(
            "named", f"{server}/download?id=7", f"{server}/SUMS", checksum_name="listed-as.img"
        ),
        local,
    )
    assert checksum_of(resolved, "named") == Checksum(HashAlgorithm.SHA256, SHA256)
    assert checksum_of(resolved, "file") == Checksum(HashAlgorithm.SHA512, SHA512)


def test_a_transient_fault_is_tried_again_and_env_references_are_expanded(server: str) -> None:
    Files.files = {"/SUMS": f"{SHA256}  disk.img\n".encode()}
    resolved = resolve(
        reading("a", f"{server}/disk.img", "${MIRROR}/flaky/SUMS?${TOKEN}"),
        environ={"MIRROR": server, "TOKEN": "token-value-1"},
    )
    assert checksum_of(resolved, "a") == Checksum(HashAlgorithm.SHA256, SHA256)
    assert Files.seen == ["/flaky/SUMS", "/flaky/SUMS"]


def test_a_stalling_checksum_file_fails_within_one_timeout_and_is_not_tried_again(
    server: str,
) -> None:
    Files.files = {"/SUMS": f"{SHA256}  disk.img\n".encode()}
    started = time.monotonic()
    with pytest.raises(ChecksumsUnresolved) as raised:
        resolve(reading("a", f"{server}/disk.img", f"{server}/stall/SUMS"), timeout=1)
    assert time.monotonic() - started < 2.5
    assert raised.value.lines == (
        f"m.yaml:1:1: image 'a': reading checksum file {server}/stall/SUMS failed: no answer "
        "within 1 s; nothing was changed",
    )
    assert Files.seen == ["/stall/SUMS"]


def test_an_absent_image_reads_no_checksum_file(server: str) -> None:
    gone = replace(reading("gone", f"{server}/x.img", f"{server}/nowhere"), state=ImageState.ABSENT)
    assert resolve(gone).images == (gone,)
    assert Files.seen == []


def test_every_failure_is_one_line_naming_the_images_the_file_and_the_reason(server: str) -> None:
    Files.files = {"/SUMS": f"{SHA256}  disk.img\n".encode(), "/big": b"x" * (17 * 1024 * 1024)}
    with pytest.raises(ChecksumsUnresolved) as raised:
        resolve(
            reading("missing-a", f"{server}/disk.img", f"{server}/gone"),
            reading("missing-b", f"{server}/disk.img", f"{server}/gone"),
            reading("no-entry", f"{server}/other.img", f"{server}/SUMS"),
            reading("ok", f"{server}/disk.img", f"{server}/SUMS"),
            reading("too-big", f"{server}/disk.img", f"{server}/big"),
        )
    assert raised.value.lines == (
        f"m.yaml:1:1: image 'no-entry': checksum file {server}/SUMS has no sha256 or sha512 "
        "entry for 'other.img' (expected a line '<sha256 hex>  other.img' or 'SHA256 "
        "(other.img) = <hex>', or the same with sha512); it lists 'disk.img'; nothing was "
        "changed",
        f"m.yaml:1:1: image 'too-big': checksum file {server}/big is larger than 16 MiB: is "
        "that the URL of a checksum file?; nothing was changed",
        f"m.yaml:1:1: images 'missing-a', 'missing-b': checksum file {server}/gone answered "
        "HTTP 404; nothing was changed",
    )


def test_credentials_in_a_checksum_url_are_never_shown(server: str) -> None:
    register_secret("pa55word-x")
    with pytest.raises(ChecksumsUnresolved) as raised:
        resolve(
            reading("a", f"{server}/disk.img", "${BASE}/nothing?sig=s3cret-sig"),
            environ={"BASE": server.replace("http://", "http://user:pa55word-x@")},
        )
    (line,) = raised.value.lines
    assert "checksum file ${BASE}/nothing?*** answered HTTP 404" in line
    assert "s3cret" not in line and "pa55word" not in line


def test_a_plan_records_the_checksums_read_and_a_change_makes_a_saved_plan_stale(
    server: str,
) -> None:
    Files.files = {"/SUMS": f"{SHA256}  disk.img\n".encode()}
    images = [reading("a", f"{server}/disk.img", f"{server}/SUMS"), desired("literal")]
    plan = make_plan(resolve(*images), snapshot())
    assert [(c.image, c.checksum) for c in plan.checksums] == [("a", f"sha256:{SHA256}")]
    assert list(stale_checksums(plan, resolve(*images))) == []
    other = hashlib.sha256(b"new release").hexdigest()
    Files.files = {"/SUMS": f"{other}  disk.img\n".encode()}
    assert list(stale_checksums(plan, resolve(*images))) == [
        f"{server}/SUMS now gives sha256:{other} for image 'a', not sha256:{SHA256} as when "
        "the plan was made; re-run plan (nothing was changed)"
    ]
    older = replace(plan, checksums=())
    assert list(stale_checksums(older, resolve(*images))) == [
        f"image 'a' reads its checksum from {server}/SUMS, and the plan records none; re-run "
        "plan (nothing was changed)"
    ]


@needs_gpg
@pytest.mark.parametrize("armored", [False, True])
def test_a_good_detached_signature_lets_the_file_be_used(
    server: str, key: SigningKey, tmp_path: Path, armored: bool
) -> None:
    sums = f"{SHA256}  disk.img\n".encode()
    Files.files = {"/SUMS": sums, "/SUMS.gpg": key.detached(sums, armored=armored)}
    (tmp_path / "key.asc").write_bytes(key.public(armored=not armored))
    resolved = resolve(
        reading(
            "a",
            f"{server}/disk.img",
            f"{server}/SUMS",
            checksum_signature_url=f"{server}/SUMS.gpg",
            signing_key=tmp_path / "key.asc",
        )
    )
    assert checksum_of(resolved, "a") == Checksum(HashAlgorithm.SHA256, SHA256)


@needs_gpg
def test_bad_signatures_and_wrong_keys_are_one_line_each(
    server: str, key: SigningKey, stranger: SigningKey, tmp_path: Path
) -> None:
    sums = f"{SHA256}  disk.img\n".encode()
    tampered = f"{hashlib.sha256(b'evil').hexdigest()}  disk.img\n".encode()
    Files.files = {
        "/SUMS": sums,
        "/TAMPERED": tampered,
        "/SUMS.gpg": key.detached(sums),
        "/SUMS.stranger": stranger.detached(sums),
        "/PLAIN": sums,
    }
    (tmp_path / "key.asc").write_bytes(key.public())
    signed = {"signing_key": tmp_path / "key.asc"}
    with pytest.raises(ChecksumsUnresolved) as raised:
        resolve(
            reading(
                "bad",
                f"{server}/disk.img",
                f"{server}/TAMPERED",
                checksum_signature_url=f"{server}/SUMS.gpg",
                **signed,
            ),
            reading(
                "other-key",
                f"{server}/disk.img",
                f"{server}/SUMS",
                checksum_signature_url=f"{server}/SUMS.stranger",
                **signed,
            ),
            reading(
                "no-sig",
                f"{server}/disk.img",
                f"{server}/SUMS",
                checksum_signature_url=f"{server}/SUMS.none",
                **signed,
            ),
            reading("not-clear", f"{server}/disk.img", f"{server}/PLAIN", **signed),
        )
    trusted = f"trusted key {tmp_path / 'key.asc'}"
    assert raised.value.lines == (
        f"m.yaml:1:1: image 'bad': checksum file {server}/TAMPERED: bad signature by key "
        f"{key.fingerprint[-16:]}: the file was changed or damaged after it was signed "
        f"(signature {server}/SUMS.gpg, {trusted}); nothing was changed",
        f"m.yaml:1:1: image 'no-sig': signature {server}/SUMS.none answered HTTP 404; "
        "nothing was changed",
        f"m.yaml:1:1: image 'not-clear': checksum file {server}/PLAIN is not clear-signed, "
        "and signing_key without checksum_signature_url expects it to be; give "
        "checksum_signature_url for a detached signature; nothing was changed",
        f"m.yaml:1:1: image 'other-key': checksum file {server}/SUMS: signed by key "
        f"{stranger.fingerprint}, which is not the trusted key {key.fingerprint} "
        f"(signature {server}/SUMS.stranger, {trusted}); nothing was changed",
    )


@needs_gpg
def test_a_clear_signed_file_is_read_for_what_its_signature_covers(
    server: str, key: SigningKey, tmp_path: Path
) -> None:
    evil = hashlib.sha256(b"evil").hexdigest()
    signed = key.clearsigned(f"{SHA256}  disk.img\n".encode())
    # Unsigned lines after the signed block must not count, even for a name it lacks.
    Files.files = {"/CHECKSUM": signed + f"{evil}  disk.img\n{evil}  extra.img\n".encode()}
    (tmp_path / "key.gpg").write_bytes(key.public(armored=False))
    images = [
        reading("a", f"{server}/disk.img", f"{server}/CHECKSUM", signing_key=tmp_path / "key.gpg"),
        reading("x", f"{server}/extra.img", f"{server}/CHECKSUM", signing_key=tmp_path / "key.gpg"),
    ]
    with pytest.raises(ChecksumsUnresolved, match=r"no sha256 or sha512 entry for 'extra\.img'"):
        resolve(*images)
    assert checksum_of(resolve(images[0]), "a") == Checksum(HashAlgorithm.SHA256, SHA256)
