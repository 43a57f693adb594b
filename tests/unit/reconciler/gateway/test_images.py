"""reconciler.gateway.images: listing images page after page, and creates safe to repeat.
(Against the real Glance: every tests/functional test that plans or applies.)"""

from __future__ import annotations

from typing import Any, cast

import pytest

from reconciler.core.actions import FieldChange
from reconciler.errors import CloudError
from reconciler.gateway.images import PAGE_SIZE, list_images, reserve
from tests.unit.reconciler.gateway.scripted import ScriptedSession, answer


def test_images_are_listed_page_after_page_following_next() -> None:
    session = ScriptedSession(
        [
            answer(200, {"images": [{"id": "1"}], "next": "/v2/images?marker=1"}),
            answer(200, {"images": [{"id": "2"}]}),
        ]
    )
    listed = list(list_images(cast(Any, session), {"owner": "p"}))
    assert [image["id"] for image in listed] == ["1", "2"]
    assert [(url, kwargs["params"]) for _, url, kwargs in session.asked] == [
        ("/images", {"owner": "p", "limit": PAGE_SIZE}),
        ("/images?marker=1", None),
    ]


def test_an_answer_without_an_image_list_is_not_glance() -> None:
    session = ScriptedSession([answer(200, {"versions": []})])
    with pytest.raises(CloudError, match="answered JSON without an image list"):
        list(list_images(cast(Any, session), {}))


def test_a_create_repeated_after_the_first_made_the_image_is_success() -> None:
    changes = (FieldChange("name", None, "a"), FieldChange("tags", None, ["m"]))
    session = ScriptedSession([answer(409), answer(200, {"name": "a", "tags": ["m", "x"]})])
    image_id = reserve(cast(Any, session), changes)
    (_, _, create), (_, read, _) = session.asked
    assert create["json"]["id"] == image_id and read == f"/images/{image_id}"


def test_a_pinned_id_glance_refuses_says_to_choose_a_new_one() -> None:
    changes = (FieldChange("name", None, "a"), FieldChange("id", None, "1" * 32))
    session = ScriptedSession([answer(409), answer(404)])
    with pytest.raises(CloudError, match=r"Glance refuses id 1{32}: an image had it before"):
        reserve(cast(Any, session), changes)
