"""reconciler.gateway.transfer: which digest of Glance's data is compared, and the import
request of a web-download. (Uploads, retries from byte 0 and verification against the real
Glance: tests/functional/test_transfer.py.)"""

from __future__ import annotations

from typing import Any, cast

import pytest

from catalog.model import ImageSource, TransferMethod
from reconciler.errors import CloudError, DataRefused
from reconciler.gateway.transfer import WebDownload, stored_digest
from tests.unit.builders import SHA
from tests.unit.reconciler.gateway.scripted import ScriptedSession, answer

SOURCE = ImageSource(
    url="http://127.0.0.1:1/u.img", file=None, checksum=SHA, method=TransferMethod.WEB_DOWNLOAD
)


def test_glances_own_hash_is_used_when_it_is_of_the_algorithm_asked() -> None:
    session = ScriptedSession([])
    stored = {"os_hash_algo": "sha512", "os_hash_value": "ff" * 64}
    assert stored_digest(cast(Any, session), "id-1", "img", "sha512", stored) == "ff" * 64
    assert session.asked == []


def web_download(store: str | None) -> WebDownload:
    """A follower of a web-download of a Glance that has run no import task on the image."""
    session = ScriptedSession([answer(200, {"tasks": []})])
    return WebDownload(cast(Any, session), "id-1", "img", 60.0, SOURCE, store)


def test_a_web_download_asks_glance_to_fetch_the_url_into_the_store_named() -> None:
    assert web_download("fast").body({}) == {
        "method": {"name": "web-download", "uri": "http://127.0.0.1:1/u.img"},
        "stores": ["fast"],
    }
    assert "stores" not in web_download(None).body({})


@pytest.mark.parametrize("status", ["killed", "deleted", "deactivated"])
def test_an_image_the_import_can_no_longer_end_well_on_is_data_refused(status: str) -> None:
    ended = web_download(None).ended({"status": status})
    assert isinstance(ended, DataRefused)
    assert web_download(None).ended({"status": "importing"}) is None


def test_a_failed_import_is_transient_only_when_the_image_went_back_to_queued() -> None:
    follower = web_download(None)
    assert follower.failed({"status": "queued"}, "404").transient
    failed = follower.failed({"status": "importing"}, "404")
    assert isinstance(failed, CloudError) and not failed.transient
    assert " ".join(failed.lines) == (
        "image 'img': Glance could not import http://127.0.0.1:1/u.img: 404"
    )
