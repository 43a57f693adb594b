"""Checksums read from checksum files, against the real local Glance: GNU and BSD files served
on 127.0.0.1, detached and clear signatures by real gpg keys, failures that stop the run before
Glance is touched, and saved plans made stale by a new checksum file."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.support import (
    GlanceProbe,
    apply_local,
    assert_converged,
    make_disk,
    raw_catalog,
    run_cli,
    serve_folder,
)
from tests.signing import SigningKey

pytestmark = [
    pytest.mark.glance,
    pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the system gpg"),
]


class Mirror:
    """A served folder laid out as a distribution's: disk.raw, SHA256SUMS (GNU), SHA512SUMS
    (BSD tagged), SHA256SUMS.gpg (detached by ``key``) and CHECKSUM (clear-signed)."""

    def __init__(self, folder: Path, base: str, key: SigningKey) -> None:
        self.folder, self.base, self.key = folder, base, key
        self.release(7)

    def release(self, seed: int) -> None:
        """Publish a new disk.raw and signed checksum files for it."""
        data = make_disk(self.folder / "disk.raw", 1024 * 1024 + 3, seed).read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.sha512 = hashlib.sha512(data).hexdigest()
        self.write("SHA256SUMS", f"{self.sha256} *disk.raw\n")
        self.write("SHA512SUMS", f"SHA512 (disk.raw) = {self.sha512}\n")
        self.write(
            "CHECKSUM",
            "",
            clearsigned=f"# disk.raw: {len(data)} bytes\nSHA256 (disk.raw) = {self.sha256}\n",
        )

    def write(self, name: str, text: str, *, clearsigned: str | None = None) -> None:
        if clearsigned is not None:
            (self.folder / name).write_bytes(self.key.clearsigned(clearsigned.encode()))
            return
        (self.folder / name).write_text(text)
        if name == "SHA256SUMS":
            (self.folder / "SHA256SUMS.gpg").write_bytes(self.key.detached(text.encode()))


@pytest.fixture
def mirror(tmp_path: Path, key: SigningKey) -> Iterator[Mirror]:
    folder = tmp_path / "mirror"
    folder.mkdir()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "release.asc").write_bytes(key.public())
    with serve_folder(folder) as base:
        yield Mirror(folder, base, key)


def signed(mirror: Mirror, sums: str = "SHA256SUMS", signature: str = "SHA256SUMS.gpg") -> str:
    return (
        f'{{url: "{mirror.base}/disk.raw", checksum_url: "{mirror.base}/{sums}", '
        f'checksum_signature_url: "{mirror.base}/{signature}", signing_key: keys/release.asc}}'
    )


def manifest(tmp_path: Path, catalog: str, sources: dict[str, str]) -> Path:
    return raw_catalog(tmp_path, catalog, {name: f", source: {s}" for name, s in sources.items()})


def test_gnu_and_bsd_checksum_files_are_shown_uploaded_verified_and_converge(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: Mirror
) -> None:
    base = mirror.base
    path = manifest(
        tmp_path,
        catalog_name,
        {
            "gnu": f'{{url: "{base}/disk.raw", checksum_url: "{base}/SHA256SUMS"}}',
            "bsd": f'{{url: "{base}/disk.raw", checksum_url: "{base}/SHA512SUMS", '
            "method: web-download}",
        },
    )
    planned = run_cli("plan", str(path), "--cloud", "local")
    assert planned.code == 0, planned.output
    assert f"      checksum: sha256:{mirror.sha256} (from {base}/SHA256SUMS)\n" in planned.stdout
    assert f"      checksum: sha512:{mirror.sha512} (from {base}/SHA512SUMS)\n" in planned.stdout
    code, output = apply_local(path)
    assert code == 0, output
    gnu, bsd = probe.only(f"{catalog_name}-gnu"), probe.only(f"{catalog_name}-bsd")
    assert gnu["status"] == bsd["status"] == "active"
    assert gnu["glance_catalog_source_checksum"] == f"sha256:{mirror.sha256}"
    assert bsd["glance_catalog_source_checksum"] == f"sha512:{mirror.sha512}"
    assert gnu["os_hash_value"] == bsd["os_hash_value"] == mirror.sha512
    assert_converged(path)


def test_signed_checksum_files_detached_or_clear_signed_apply(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: Mirror
) -> None:
    path = manifest(
        tmp_path,
        catalog_name,
        {
            "detached": signed(mirror),
            "clear": f'{{url: "{mirror.base}/disk.raw", checksum_url: "{mirror.base}/CHECKSUM", '
            "signing_key: keys/release.asc}",
        },
    )
    planned = run_cli("plan", str(path), "--cloud", "local")
    assert planned.code == 0, planned.output
    for sums in ("SHA256SUMS", "CHECKSUM"):
        assert (
            f"      checksum: sha256:{mirror.sha256} (from {mirror.base}/{sums}, signature "
            "verified)\n" in planned.stdout
        )
    code, output = apply_local(path)
    assert code == 0, output
    for name in ("detached", "clear"):
        assert probe.only(f"{catalog_name}-{name}")["status"] == "active"
    assert_converged(path)


def test_a_bad_signature_or_an_untrusted_key_stops_plan_apply_and_drift_with_one_line(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: Mirror, stranger: SigningKey
) -> None:
    # The checksum file changed after it was signed: another disk's digest.
    (mirror.folder / "SHA256SUMS").write_text(f"{hashlib.sha256(b'evil').hexdigest()}  disk.raw\n")
    path = manifest(tmp_path, catalog_name, {"tampered": signed(mirror)})
    for command in ("plan", "drift", "apply"):
        extra = ["--auto-approve"] if command == "apply" else []
        result = run_cli(command, str(path), "--cloud", "local", *extra)
        assert result.code == 1, result.output
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"{path}:5:5: image '{catalog_name}-tampered': checksum file ")
        assert "bad signature by key" in line and line.endswith("; nothing was changed")
    assert probe.named(f"{catalog_name}-tampered") == []

    (mirror.folder / "OTHER.gpg").write_bytes(
        stranger.detached((mirror.folder / "SHA256SUMS").read_bytes())
    )
    path = manifest(tmp_path, catalog_name, {"stranger": signed(mirror, signature="OTHER.gpg")})
    code, output = apply_local(path)
    assert code == 1, output
    assert f"signed by key {stranger.fingerprint}, which is not the trusted key " in output
    assert mirror.key.fingerprint in output and "Traceback" not in output
    assert probe.named(f"{catalog_name}-stranger") == []


def test_a_missing_entry_or_an_unreachable_checksum_file_is_an_error_naming_the_file(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: Mirror
) -> None:
    base = mirror.base
    (mirror.folder / "OTHERSUMS").write_text(f"{mirror.sha256}  other.raw\n")
    path = manifest(
        tmp_path,
        catalog_name,
        {
            "no-entry": f'{{url: "{base}/disk.raw", checksum_url: "{base}/OTHERSUMS"}}',
            "gone": f'{{url: "{base}/disk.raw", checksum_url: "{base}/NOSUCHSUMS"}}',
        },
    )
    code, output = apply_local(path)
    assert code == 1, output
    assert output.splitlines() == [
        f"{path}:5:5: image '{catalog_name}-no-entry': checksum file {base}/OTHERSUMS has no "
        "sha256 or sha512 entry for 'disk.raw' (expected a line '<sha256 hex>  disk.raw' or "
        "'SHA256 (disk.raw) = <hex>', or the same with sha512); it lists 'other.raw'; nothing "
        "was changed",
        f"{path}:6:5: image '{catalog_name}-gone': checksum file {base}/NOSUCHSUMS answered "
        "HTTP 404; nothing was changed",
    ]
    for name in ("no-entry", "gone"):
        assert probe.named(f"{catalog_name}-{name}") == []


def test_a_saved_plan_is_stale_once_the_checksum_file_gives_another_checksum(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: Mirror
) -> None:
    path = manifest(tmp_path, catalog_name, {"img": signed(mirror)})
    saved = tmp_path / "plan.json"
    planned = run_cli("plan", str(path), "--cloud", "local", "-o", str(saved))
    assert planned.code == 0, planned.output
    document = json.loads(saved.read_text())
    assert document["checksums"] == [
        {
            "image": f"{catalog_name}-img",
            "checksum": f"sha256:{mirror.sha256}",
            "checksum_url": f"{mirror.base}/SHA256SUMS",
        }
    ]
    old = mirror.sha256
    mirror.release(8)  # a new release: new data, new signed checksum files
    refused = run_cli("apply", str(saved))
    assert refused.code == 1, refused.output
    assert refused.stderr.splitlines() == [
        f"{saved}: plan is stale: {mirror.base}/SHA256SUMS now gives sha256:{mirror.sha256} for "
        f"image '{catalog_name}-img', not sha256:{old} as when the plan was made; re-run plan "
        "(nothing was changed)"
    ]
    assert probe.named(f"{catalog_name}-img") == []

    # A new plan, then a checksum file that changes in another entry only: the plan holds.
    planned = run_cli("plan", str(path), "--cloud", "local", "-o", str(saved))
    assert planned.code == 0, planned.output
    sums = (mirror.folder / "SHA256SUMS").read_text() + f"{old}  older.raw\n"
    mirror.write("SHA256SUMS", sums)
    applied = run_cli("apply", str(saved))
    assert applied.code == 0, applied.output
    image = probe.only(f"{catalog_name}-img")
    assert image["glance_catalog_source_checksum"] == f"sha256:{mirror.sha256}"
    assert_converged(path)
