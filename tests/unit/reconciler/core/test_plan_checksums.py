"""Checksums read from checksum files in the plan: shown with their origin, kept in the plan JSON
(redacted), and older plan files still read."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from catalog.model import Checksum, DesiredImage
from reconciler.core.plan import Plan
from reconciler.core.planner import make_plan
from reconciler.report.text import render_plan
from tests.unit.builders import catalog, desired, snapshot

SHA = Checksum.parse("sha256:" + "ef" * 32)


def from_file(name: str, *, signed: bool) -> DesiredImage:
    """An image whose checksum was read (resolved) from a checksum file."""
    image = desired(name)
    assert image.source is not None
    source = replace(
        image.source,
        checksum=SHA,
        checksum_url="https://user:pw@mirror.example/noble/SHA256SUMS?token=t",
        checksum_signature_url="https://mirror.example/noble/SHA256SUMS.gpg" if signed else None,
        signing_key=Path("/repo/keys/ubuntu.asc") if signed else None,
        checksum_name="disk.img" if signed else None,
    )
    return replace(image, source=source)


def test_the_plan_shows_the_checksum_and_where_it_was_read() -> None:
    text = render_plan(
        make_plan(
            catalog(from_file("signed", signed=True), from_file("plain", signed=False)), snapshot()
        )
    )
    lines = text.splitlines()
    upload = lines.index("  ^ signed: data will be uploaded from http://127.0.0.1:1/u.img")
    assert lines[upload + 1] == (
        f"      checksum: {SHA} (from https://***@mirror.example/noble/SHA256SUMS?***, "
        "signature verified)"
    )
    plain = lines.index("  ^ plain: data will be uploaded from http://127.0.0.1:1/u.img")
    assert lines[plain + 1] == (
        f"      checksum: {SHA} (from https://***@mirror.example/noble/SHA256SUMS?***)"
    )
    literal = render_plan(make_plan(catalog(desired("literal")), snapshot()))
    assert "data will be uploaded from http://127.0.0.1:1/u.img (sha256:cdcd" in literal
    assert "checksum:" not in literal


def test_the_plan_json_keeps_checksums_and_origins_redacted_and_round_trips() -> None:
    plan = make_plan(catalog(from_file("signed", signed=True), desired("literal")), snapshot())
    text = plan.to_json()
    document = json.loads(text)
    assert document["checksums"] == [
        {
            "image": "signed",
            "checksum": str(SHA),
            "checksum_url": "https://***@mirror.example/noble/SHA256SUMS?***",
        }
    ]
    (upload,) = [
        a for a in document["actions"] if a["action"] == "upload" and a["image"] == "signed"
    ]
    assert upload["source"]["checksum"] == str(SHA)
    assert upload["source"]["checksum_from"] == {
        "url": "https://***@mirror.example/noble/SHA256SUMS?***",
        "name": "disk.img",
        "signature_url": "https://mirror.example/noble/SHA256SUMS.gpg",
        "signing_key": "/repo/keys/ubuntu.asc",
    }
    assert "pw" not in text and "token" not in text
    again = Plan.from_json(text)
    assert again.to_json() == text
    assert again.checksums == plan.checksums


def test_a_plan_without_checksum_files_reads_and_writes_as_before() -> None:
    plan = make_plan(catalog(desired("a")), snapshot())
    document = json.loads(plan.to_json())
    assert "checksums" not in document
    assert all("checksum_from" not in (a["source"] or {}) for a in document["actions"])
    assert Plan.from_json(plan.to_json()) == plan
