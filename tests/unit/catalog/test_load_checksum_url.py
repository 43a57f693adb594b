"""Manifests with checksum files: checksum_url, checksum_name, checksum_signature_url and
signing_key reach the model, their rules are errors at file:line:column, and validate reads
the key file but never the network."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from catalog.load import check_catalog, load_catalog
from catalog.schema import is_valid, validator
from reconciler import cli
from tests.signing import SigningKey

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the system gpg")

SHA = "sha256:" + "ab" * 32
HEADER = "version: 1\ncatalog: c\ndefaults: {disk_format: raw}\nimages:\n"


@pytest.fixture
def folder(tmp_path: Path, key: SigningKey) -> Path:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "release.asc").write_bytes(key.public())
    (tmp_path / "keys" / "release.gpg").write_bytes(key.public(armored=False))
    (tmp_path / "keys" / "secret.gpg").write_bytes(key.secret())
    (tmp_path / "keys" / "not-a-key.asc").write_text("hello\n")
    (tmp_path / "disk.raw").write_bytes(b"x")
    return tmp_path


def errors(folder: Path, body: str) -> list[str]:
    (folder / "m.yaml").write_text(HEADER + body)
    result = check_catalog([folder / "m.yaml"])
    assert result.catalog is None
    return [d.as_text().removeprefix(f"{folder}/") for d in result.diagnostics]


def test_the_checksum_file_fields_reach_the_model(folder: Path) -> None:
    (folder / "m.yaml").write_text(
        HEADER
        + "  - name: signed\n"
        + "    source:\n"
        + "      url: https://mirror.example/noble/disk.img\n"
        + "      checksum_url: https://mirror.example/noble/SHA256SUMS\n"
        + "      checksum_signature_url: https://mirror.example/noble/SHA256SUMS.gpg\n"
        + "      signing_key: keys/release.gpg\n"
        + "  - name: named\n"
        + "    source: {file: disk.raw, checksum_url: 'http://m/SUMS', checksum_name: x.raw}\n"
        + "  - name: clear-signed\n"
        + "    source: {url: 'http://m/x', checksum_url: 'http://m/C',\n"
        + "             signing_key: keys/release.asc}\n"
    )
    signed, named, clear = load_catalog([folder / "m.yaml"]).images
    assert signed.source is not None and signed.source.checksum is None
    assert signed.source.checksum_url == "https://mirror.example/noble/SHA256SUMS"
    assert signed.source.checksum_signature_url == "https://mirror.example/noble/SHA256SUMS.gpg"
    assert signed.source.signing_key == (folder / "keys" / "release.gpg").resolve()
    assert signed.source.checksum_name is None
    assert named.source is not None and named.source.checksum_name == "x.raw"
    assert named.source.signing_key is None
    assert clear.source is not None and clear.source.checksum_signature_url is None
    assert clear.source.signing_key == (folder / "keys" / "release.asc").resolve()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "{url: 'http://m/x'}",
            "m.yaml:6:13: image 'a': source: a url source needs a checksum or a checksum_url",
        ),
        (
            f"{{url: 'http://m/x', checksum: '{SHA}', checksum_url: 'http://m/S'}}",
            "m.yaml:6:118: image 'a': source.checksum_url: give one of checksum and "
            "checksum_url, not both",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'ftp://m/S'}",
            "m.yaml:6:47: image 'a': source.checksum_url: 'ftp://m/S': the URL scheme must be "
            "http or https",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S', checksum_signature_url: 'ftp://m/S'}",
            "m.yaml:6:85: image 'a': source.checksum_signature_url: 'ftp://m/S': the URL scheme",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S', checksum_signature_url: 'http://m/G'}",
            "m.yaml:6:61: image 'a': source.checksum_signature_url: checksum_signature_url needs "
            "signing_key (hint: add signing_key: the OpenPGP public key file",
        ),
        (
            f"{{url: 'http://m/x', checksum: '{SHA}', checksum_signature_url: 'http://m/G', "
            "signing_key: keys/release.asc}",
            "m.yaml:6:118: image 'a': source.checksum_signature_url: checksum_signature_url "
            "needs checksum_url",
        ),
        (
            f"{{url: 'http://m/x', checksum: '{SHA}', signing_key: keys/release.asc}}",
            "m.yaml:6:118: image 'a': source.signing_key: signing_key needs checksum_url",
        ),
        (
            f"{{url: 'http://m/x', checksum: '{SHA}', checksum_name: x}}",
            "m.yaml:6:118: image 'a': source.checksum_name: checksum_name needs checksum_url",
        ),
        (
            "{url: 'http://m/dir/', checksum_url: 'http://m/S'}",
            "m.yaml:6:19: image 'a': source.url: the url names no file to look up in the "
            "checksum file (hint: add checksum_name",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S?${NOT_SET_ANYWHERE}'}",
            "m.yaml:6:47: image 'a': source.checksum_url: environment variable "
            "'NOT_SET_ANYWHERE' is not set",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S', signing_key: keys/none.asc}",
            "m.yaml:6:74: image 'a': source.signing_key: no such file: ",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S', signing_key: keys}",
            "m.yaml:6:74: image 'a': source.signing_key: no such file: ",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S', signing_key: keys/secret.gpg}",
            "m.yaml:6:74: image 'a': source.signing_key: ",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S', signing_key: keys/not-a-key.asc}",
            "m.yaml:6:74: image 'a': source.signing_key: ",
        ),
        (
            "{url: 'http://m/x', checksum_url: 'http://m/S', checksum_nam: x}",
            "m.yaml:6:61: image 'a': source.checksum_nam: unknown key 'checksum_nam' (hint: did "
            "you mean 'checksum_name'?)",
        ),
    ],
)
def test_each_checksum_file_rule_is_an_error_at_its_position(
    folder: Path, source: str, expected: str
) -> None:
    found = errors(folder, f"  - name: a\n    source: {source}\n")
    assert any(line.startswith(expected) for line in found), found


def test_a_key_another_needs_is_reported_once_by_both_validators(folder: Path) -> None:
    document = {
        "version": 1,
        "catalog": "c",
        "images": [{"name": "a", "source": {"url": "http://m/x", "signing_key": "k"}}],
    }
    assert not is_valid(document) and list(validator().iter_errors(document))
    found = errors(
        folder,
        f"  - name: a\n    source: {{url: 'http://m/x', checksum: '{SHA}', signing_key: k}}\n",
    )
    assert [line for line in found if "checksum_url" in line] == [
        "m.yaml:6:118: image 'a': source.signing_key: signing_key needs checksum_url (hint: it "
        "verifies a checksum file; a written checksum needs none)"
    ]


def test_a_secret_key_or_a_non_key_says_why(folder: Path) -> None:
    body = "  - name: a\n    source: {url: 'http://m/x', checksum_url: 'http://m/S', "
    secret = errors(folder, body + "signing_key: keys/secret.gpg}\n")
    assert any(
        "is not an OpenPGP public key: it holds a secret key, which has no place in a "
        "repository (hint: export the public key alone (gpg --export --armor KEYID)" in line
        for line in secret
    ), secret
    other = errors(folder, body + "signing_key: keys/not-a-key.asc}\n")
    assert any("is not an OpenPGP public key: not OpenPGP data" in line for line in other), other


def test_credentials_in_a_refused_checksum_url_are_not_shown(folder: Path) -> None:
    found = errors(
        folder, "  - name: a\n    source: {url: 'http://m/x', checksum_url: 'htps://u:pw@m/S'}\n"
    )
    assert any("'htps://***@m/S': the URL scheme must be http or https" in f for f in found)
    assert not any("pw" in line for line in found)


class CountingHandler(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_error(500)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_validate_reads_no_checksum_file_nor_signature(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        (folder / "m.yaml").write_text(
            HEADER + f"  - name: a\n    source: {{url: '{base}/x', checksum_url: '{base}/S', "
            f"checksum_signature_url: '{base}/S.gpg', signing_key: keys/release.asc}}\n"
        )
        with pytest.raises(SystemExit) as exited:
            cli.main(["validate", str(folder / "m.yaml")])
    finally:
        server.shutdown()
        server.server_close()
    assert exited.value.code == 0, capsys.readouterr()
    assert CountingHandler.seen == []
