"""What a Glance's version document says it serves, and so what glance-catalog may ask it."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import CloudError
from reconciler.gateway.features import GlanceApi, parse_versions, version_document_url


def document(*entries: tuple[str, str]) -> dict[str, Any]:
    return {"versions": [{"id": ident, "status": status, "links": []} for ident, status in entries]}


def test_the_highest_served_v2_version_counts_whatever_the_order() -> None:
    # Glance 28's own document: 2.16 CURRENT first, then a list that is not sorted.
    listed = document(
        ("v2.16", "CURRENT"), ("v2.15", "SUPPORTED"), ("v2.9", "SUPPORTED"), ("v2.0", "SUPPORTED")
    )
    assert parse_versions(listed, "http://glance/").version == (2, 16)
    assert parse_versions(document(("v2.9", "SUPPORTED"), ("v2.11", "CURRENT")), "u").label == (
        "2.11"
    )


def test_versions_not_served_and_other_majors_do_not_count() -> None:
    listed = document(("v3.0", "EXPERIMENTAL"), ("v2.17", "EXPERIMENTAL"), ("v1.1", "CURRENT"))
    assert parse_versions(listed, "u").version == (2, 0)
    assert parse_versions(document(("v2.13", "DEPRECATED")), "u").version == (2, 13)


@pytest.mark.parametrize(
    ("version", "imports", "tasks"),
    [((2, 5), False, False), ((2, 6), True, False), ((2, 11), True, False), ((2, 12), True, True)],
)
def test_features_arrive_with_their_api_version(
    version: tuple[int, int], imports: bool, tasks: bool
) -> None:
    api = GlanceApi(version)
    assert (api.interoperable_import, api.image_tasks) == (imports, tasks)


def test_a_document_without_a_version_list_is_an_error_naming_where() -> None:
    with pytest.raises(CloudError, match=r"http://x/ answered JSON without a version list"):
        parse_versions({"images": []}, "http://x/")


def test_the_version_document_is_at_glances_root() -> None:
    assert version_document_url("http://127.0.0.1:9292/v2") == "http://127.0.0.1:9292/"
    assert version_document_url("http://h/image/v2/") == "http://h/image/"
    assert version_document_url("http://h/image") == "http://h/image/"
