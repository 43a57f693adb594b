"""catalog.checks: the semantic checks JSON Schema cannot express."""

from __future__ import annotations

import pytest

from catalog.checks import checksum_problem, reserved_property_hint


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("os_hidden", "use the image field 'hidden'"),
        ("os_hash_value", "Glance computes it from the data; give source.checksum instead"),
        ("glance_catalog_x", "glance-catalog keeps its own bookkeeping under this prefix"),
        ("owner_specified.openstack.md5", "openstacksdk manages it"),
        ("hw_disk_bus", None),
    ],
)
def test_reserved_properties_say_what_to_use_instead(key: str, hint: str | None) -> None:
    assert reserved_property_hint(key) == hint


def test_a_well_formed_checksum_has_no_problem() -> None:
    assert checksum_problem("sha256:" + "ab" * 32) is None
    assert checksum_problem("SHA512:" + "AB" * 64) is None


@pytest.mark.parametrize(
    ("checksum", "message"),
    [
        ("ab" * 32, "has no algorithm"),
        ("md5:" + "a" * 32, "algorithm 'md5' is not accepted"),
        ("sha256:" + "g" * 64, "non-hex character 'g'"),
        ("sha256:" + "a" * 40, "sha256 needs 64 hex digits, not 40"),
    ],
)
def test_a_bad_checksum_says_what_is_wrong(checksum: str, message: str) -> None:
    problem = checksum_problem(checksum)
    assert problem is not None
    assert message in problem[0]


def test_a_digest_of_another_algorithms_length_is_named_in_the_hint() -> None:
    problem = checksum_problem("sha256:" + "a" * 40)
    assert problem is not None
    assert problem[1] == "40 digits look like a sha1 digest"
