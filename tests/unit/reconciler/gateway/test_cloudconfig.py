"""reconciler.gateway.cloudconfig: the clouds.yaml files openstacksdk would read, checked
first, so that a broken file is one line naming its place instead of openstacksdk's crash.
(The CLI's messages for them: tests/functional/test_cloud_errors.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import CloudError
from reconciler.gateway.cloudconfig import ConfigSearch, check_config_files, unknown_cloud


def search(*clouds: Path, override: Path | None = None) -> ConfigSearch:
    return ConfigSearch(
        clouds=tuple(str(path) for path in clouds),
        secure=(),
        vendor=(),
        clouds_override=str(override) if override else None,
    )


def test_the_first_existing_file_is_read_and_its_cloud_names_known(tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text("clouds:\n  prod: {auth: {auth_url: 'http://127.0.0.1:5000'}}\n  dev: {}\n")
    found = check_config_files("prod", search(tmp_path / "missing.yaml", first))
    assert (found.clouds, found.secure, found.vendor) == (str(first), None, None)
    assert found.names == frozenset({"prod", "dev"})


def test_a_missing_file_named_by_os_client_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CloudError, match=r"OS_CLIENT_CONFIG_FILE names .*nope\.yaml, which does"):
        check_config_files("prod", search(missing, override=missing))


def test_an_unquoted_numeric_password_is_placed_and_not_shown(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds:\n  prod:\n    auth:\n      password: 918273\n")
    with pytest.raises(CloudError) as raised:
        check_config_files("prod", search(path))
    message = " ".join(raised.value.lines)
    assert message == f"cloud 'prod': {path}:4:17: auth.password is a number; quote it in the file"


def test_invalid_yaml_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds:\n  prod: [unclosed\n")
    with pytest.raises(CloudError, match=r"clouds\.yaml:3:1: invalid YAML: .*; fix the file"):
        check_config_files("prod", search(path))


def test_an_unknown_cloud_lists_the_known_ones_and_where_it_looked(tmp_path: Path) -> None:
    used = str(tmp_path / "clouds.yaml")
    message = unknown_cloud("prod", search(tmp_path / "clouds.yaml"), used, ["dev", "test"])
    assert message.startswith(f"cloud 'prod': no such entry in {used} (known clouds: dev, test;")
    nothing = unknown_cloud("prod", search(tmp_path / "clouds.yaml"), None, [])
    assert nothing.startswith("cloud 'prod': no clouds.yaml found (searched in order")
