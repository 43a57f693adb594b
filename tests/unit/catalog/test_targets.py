"""catalog.targets: a target's overrides laid over an image's merged fields: scalars and
lists replace, tags are united, properties merged key by key, a source override reaches every
version's source."""

from __future__ import annotations

from catalog.targets import overridden, target_fields


def test_scalars_and_lists_replace_tags_unite_and_properties_merge() -> None:
    fields = {"visibility": "public", "members": ["a"], "tags": ["x"], "properties": {"k": "1"}}
    layer = {"visibility": "private", "members": ["b"], "tags": ["y"], "properties": {"j": "2"}}
    assert overridden(fields, layer) == {
        "visibility": "private",
        "members": ["b"],
        "tags": ["x", "y"],
        "properties": {"k": "1", "j": "2"},
    }


def test_a_source_override_reaches_the_source_and_every_versions_source() -> None:
    fields = {
        "source": {"url": "https://a/x.img", "checksum": "sha256:1"},
        "versions": [{"version": "1", "source": {"url": "https://a/1.img"}}],
    }
    result = overridden(fields, {"source": {"method": "web-download"}})
    assert result["source"] == {
        "url": "https://a/x.img",
        "checksum": "sha256:1",
        "method": "web-download",
    }
    assert result["versions"][0]["source"] == {"url": "https://a/1.img", "method": "web-download"}


def test_layers_apply_in_turn_and_what_is_not_a_mapping_is_skipped() -> None:
    assert overridden({"min_disk": 1}, None, {"min_disk": 2}, {"min_disk": 3}) == {"min_disk": 3}


def test_a_targets_own_entry_for_the_image_lies_over_its_overrides() -> None:
    target = {"overrides": {"visibility": "shared"}, "images": {"a": {"visibility": "private"}}}
    assert target_fields({}, {"name": "a"}, target)["visibility"] == "private"
    assert target_fields({}, {"name": "b"}, target)["visibility"] == "shared"
