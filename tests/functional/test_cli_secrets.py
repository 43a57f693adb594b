"""The real CLI's validate, without a cloud: credentials in source urls never reach its output,
in text or JSON, and a ${VAR} that is not set is an error at the url's position (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.functional.support import run_cli, write_manifest

SHA = "sha256:" + "ab" * 32
SECRETS = ("bob", "hunter22", "s3cr3t")
# Written with credentials, and with an error of the schema and one of the semantic checks in
# the same image (and a scheme typo, whose error quotes the url).
CREDENTIALED = f"""
    version: 1
    catalog: c
    images:
      - name: leaky
        source:
          url: "https://bob:hunter22@mirror.invalid/x.img?X-Amz-Signature=s3cr3t"
          checksum: "md5:{"ab" * 16}"
        disk_format: raw
        visibility: publc
      - name: typo
        source:
          url: "htps://bob:hunter22@mirror.invalid/y.img?sig=s3cr3t"
          checksum: "{SHA}"
        disk_format: raw
"""
REFERENCES = f"""
    version: 1
    catalog: c
    images:
      - name: mirrored
        source:
          url: "https://${{GC_TEST_MIRROR_USER}}:${{GC_TEST_MIRROR_TOKEN}}@mirror.invalid/x.img"
          checksum: "{SHA}"
        disk_format: raw
      - name: signed
        source: {{checksum: "{SHA}", url: "https://mirror.invalid/y.img?${{GC_TEST_SIGNED}}"}}
        disk_format: raw
"""
HINT = "export it before running glance-catalog; the manifest keeps only the reference"


def test_validate_text_and_json_show_no_credential(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, CREDENTIALED)
    text = run_cli("validate", str(manifest))
    assert text.code == 1, text.output
    assert text.stderr.splitlines() == [
        f"{manifest}:7:17: image 'leaky': source.checksum: algorithm 'md5' is not accepted "
        "(hint: use sha256 or sha512; md5 and sha1 do not protect against tampering)",
        f"{manifest}:9:17: image 'leaky': visibility: 'publc' is not one of public, private, "
        "shared, community",
        f"{manifest}:12:12: image 'typo': source.url: 'htps://***@mirror.invalid/y.img?***': "
        "the URL scheme must be http or https",
        "3 errors in the manifest; nothing was changed",
    ]
    as_json = run_cli("validate", "--format", "json", str(manifest))
    assert as_json.code == 1, as_json.output
    errors = json.loads(as_json.stdout)["errors"]
    assert [(e["image"], e["line"], e["column"], e["path"]) for e in errors] == [
        ("leaky", 7, 17, "source.checksum"),
        ("leaky", 9, 17, "visibility"),
        ("typo", 12, 12, "source.url"),
    ]
    assert errors[2]["message"] == (
        "'htps://***@mirror.invalid/y.img?***': the URL scheme must be http or https"
    )
    for secret in SECRETS:
        assert secret not in text.output
        assert secret not in as_json.output


def test_an_unset_variable_is_reported_at_its_url_and_exits_1(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, REFERENCES)
    user = "gc-user-7d1e"  # set, and never shown: only names appear in the errors
    text = run_cli("validate", str(manifest), env={"GC_TEST_MIRROR_USER": user})
    assert text.code == 1, text.output
    assert text.stderr.splitlines() == [
        f"{manifest}:6:12: image 'mirrored': source.url: environment variable "
        f"'GC_TEST_MIRROR_TOKEN' is not set (hint: {HINT})",
        f"{manifest}:10:104: image 'signed': source.url: environment variable "
        f"'GC_TEST_SIGNED' is not set (hint: {HINT})",
        "2 errors in the manifest; nothing was changed",
    ]
    as_json = run_cli(
        "validate", "--format", "json", str(manifest), env={"GC_TEST_MIRROR_USER": user}
    )
    assert as_json.code == 1, as_json.output
    first = json.loads(as_json.stdout)["errors"][0]
    assert first == {
        "file": str(manifest),
        "line": 6,
        "column": 12,
        "image": "mirrored",
        "path": "source.url",
        "message": "environment variable 'GC_TEST_MIRROR_TOKEN' is not set",
        "hint": HINT,
    }
    assert user not in text.output + as_json.output


def test_with_every_variable_set_the_manifest_validates(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, REFERENCES)
    env = {
        "GC_TEST_MIRROR_USER": "gc-user-7d1e",
        "GC_TEST_MIRROR_TOKEN": "gc-token-9b2f",
        "GC_TEST_SIGNED": "sig=gc-sig-3c4a",
    }
    result = run_cli("validate", str(manifest), env=env)
    assert (result.code, result.stdout) == (0, "OK: catalog 'c', 2 images in 1 file(s).\n")
