"""reconciler.core.plan: the JSON form round-trips and refuses what it cannot read."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from catalog.errors import GlanceCatalogError
from catalog.model import Compression, ImageSource, MemberSpec, Visibility
from reconciler.core.plan import FORMAT_VERSION, Plan
from reconciler.core.planner import make_plan
from reconciler.report.documents import drift_report
from reconciler.report.text import render_drift, render_plan
from tests.unit.builders import SHA, catalog, desired, observed_like, snapshot


def test_a_plan_round_trips_through_json() -> None:
    plan = make_plan(
        catalog(desired("a"), desired("b", min_ram=9)),
        snapshot(observed_like(desired("b"), "b-id")),
    )
    text = plan.to_json()
    assert Plan.from_json(text) == plan
    assert Plan.from_json(text).to_json() == text
    document = json.loads(text)
    assert document["format_version"] == FORMAT_VERSION
    assert [a["action"] for a in document["actions"]] == ["reserve", "upload", "update"]
    assert document["actions"][2]["changes"] == [{"path": "min_ram", "before": 0, "after": 9}]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"format_version": 99}', "plan format version 99 is not supported"),
        ("not json", "not a glance-catalog plan file"),
        ('{"format_version": 2}', "not a glance-catalog plan file"),
    ],
)
def test_unreadable_plans_are_refused_clearly(text: str, fragment: str) -> None:
    with pytest.raises(GlanceCatalogError, match=fragment):
        Plan.from_json(text)


def test_members_notes_and_manifests_round_trip_too() -> None:
    image = desired(
        "s",
        visibility=Visibility.SHARED,
        members=(MemberSpec("project-a"), MemberSpec("project-b", "local-b")),
    )
    observed = observed_like(image, "s-id", members={"pa": "pending"})
    observed_by_hand = replace(observed, properties={**observed.properties, "by_hand": "x"})
    plan = make_plan(
        catalog(image),
        replace(snapshot(observed_by_hand), projects={"project-a": "pa", "project-b": "pb"}),
    )
    assert {a.kind.value for a in plan.actions} == {"add_member", "accept_member"}
    assert plan.notes and plan.manifests == ("m.yaml",)
    text = plan.to_json()
    assert Plan.from_json(text) == plan
    document = json.loads(text)
    accept = document["actions"][-1]
    assert (accept["member"], accept["accept_with"]) == ("pb", "local-b")
    assert document["notes"][0]["image"] == "s"


def test_plan_json_and_text_show_source_urls_redacted() -> None:
    literal = "https://bob:hunter22@mirror/a.img?X-Amz-Signature=s3cr3t"
    referenced = "https://${MIRROR_USER}:${MIRROR_TOKEN}@mirror/${RELEASE}/b.img?${SIGNED}"
    plan = make_plan(
        catalog(
            desired("a", source=ImageSource(url=literal, file=None, checksum=SHA)),
            desired("b", source=ImageSource(url=referenced, file=None, checksum=SHA)),
        ),
        snapshot(),
    )
    text = plan.to_json()
    sources = [a["source"] for a in json.loads(text)["actions"] if a["source"] is not None]
    assert [source["url"] for source in sources] == [
        "https://***@mirror/a.img?***",
        "https://***@mirror/${RELEASE}/b.img?***",
    ]
    rendered = render_plan(plan) + render_drift(plan) + drift_report(plan)
    for secret in ("bob", "hunter22", "s3cr3t", "MIRROR_TOKEN", "SIGNED"):
        assert secret not in text
        assert secret not in rendered
    assert "data will be uploaded from https://***@mirror/a.img?*** (sha256:" in rendered
    # What a saved plan gives back is the redacted url: apply takes sources from the manifest.
    again = Plan.from_json(text)
    assert [a.source.url for a in again.actions if a.source] == [
        "https://***@mirror/a.img?***",
        "https://***@mirror/${RELEASE}/b.img?***",
    ]
    assert again.to_json() == text


def test_a_compressed_source_round_trips_and_older_plans_read_as_uncompressed() -> None:
    source = ImageSource(
        url="https://mirror/u.qcow2.xz", file=None, checksum=SHA, compression=Compression.XZ
    )
    plan = make_plan(catalog(desired("a", source=source)), snapshot())
    text = plan.to_json()
    (upload,) = [a for a in json.loads(text)["actions"] if a["source"] is not None]
    assert upload["source"]["decompress"] == "xz"
    assert Plan.from_json(text) == plan
    assert "data will be uploaded from https://mirror/u.qcow2.xz (sha256:" in render_plan(plan)
    assert "; xz, decompressed while uploading)\n" in render_plan(plan)
    older = json.loads(text)
    for action in older["actions"]:
        if action["source"] is not None:
            del action["source"]["decompress"]
    (read,) = [a.source for a in Plan.from_json(json.dumps(older)).actions if a.source]
    assert read.compression is Compression.NONE
