"""The clouds.yaml files openstacksdk would read, checked before it reads them.

openstacksdk reads the first clouds.yaml (and secure.yaml) of its search path that exists, and
silently skips one it cannot read or parse, falling through to the next: a broken file named by
OS_CLIENT_CONFIG_FILE would make a run act on whatever project ~/.config/openstack/clouds.yaml
names. So the files are checked here first (the first existing one of each list must be
readable, valid and hold a sane entry for the cloud), and openstacksdk is then given exactly
those files.
"""

from __future__ import annotations

import json
import locale
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.errors import CloudError

# Finding and checking the configuration files


@dataclass(frozen=True)
class ConfigSearch:
    """The files openstacksdk may read a cloud's settings from, each list in its search
    order (it reads the first file of a list that exists): clouds.yaml, secure.yaml (merged
    over it), and clouds-public.yaml (only for an entry with a ``profile``). ``clouds_override``
    and ``secure_override`` are OS_CLIENT_CONFIG_FILE and OS_CLIENT_SECURE_FILE, already
    first in their lists."""

    clouds: tuple[str, ...]
    secure: tuple[str, ...]
    vendor: tuple[str, ...]
    clouds_override: str | None = None
    secure_override: str | None = None


def _searched(paths: Sequence[str]) -> str:
    """The search path in short, in order, each file once: ``dir/clouds.{yaml,yml,json}``
    for the files of one directory."""
    # dict: insertion-ordered, and a directory listed twice (the user's config directory is
    # in openstacksdk's list under two names) is shown once.
    groups: dict[str, list[str]] = {}
    for path in paths:
        stem, suffix = os.path.splitext(path)
        suffixes = groups.setdefault(stem, [])
        if suffix not in suffixes:
            suffixes.append(suffix)
    shown = []
    for stem, suffixes in groups.items():
        if len(suffixes) == 1:
            shown.append(stem + suffixes[0])
        else:
            shown.append(stem + ".{" + ",".join(s.lstrip(".") for s in suffixes) + "}")
    return ", ".join(shown)


def _first_existing(paths: Sequence[str]) -> str | None:
    # os.path.exists, as openstacksdk tests it: a directory "exists" too, and fails to read.
    return next((path for path in paths if os.path.exists(path)), None)


def _read_config_file(cloud: str, path: str) -> Any:
    """The parsed content of one configuration file; a CloudError naming the file (and the
    line of a syntax error) when it cannot be read or parsed."""
    try:
        # The encoding openstacksdk reads it with (open() without one).
        with open(path, encoding=locale.getpreferredencoding(False)) as handle:
            text = handle.read()
    except OSError as error:
        raise CloudError(
            f"cloud '{cloud}': cannot read {path}: {error.strerror or error}"
        ) from error
    except UnicodeDecodeError as error:
        raise CloudError(
            f"cloud '{cloud}': cannot read {path}: not text ({error.reason} at byte "
            f"{error.start}); fix the file"
        ) from error
    if path.endswith("json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise CloudError(
                f"cloud '{cloud}': {path}:{error.lineno}:{error.colno}: invalid JSON: "
                f"{error.msg}; fix the file"
            ) from error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise CloudError(
            f"cloud '{cloud}': {where}: invalid YAML: {problem}; fix the file"
        ) from error


def _yaml_positions(path: str) -> dict[tuple[str, ...], str]:
    """``path:line:column`` of the values under ``clouds:`` (two levels deep, then the keys of
    ``auth``), for messages about a YAML file's entries; empty for JSON."""
    if path.endswith("json"):
        return {}
    try:
        with open(path, encoding=locale.getpreferredencoding(False)) as handle:
            root = yaml.compose(handle)
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    positions: dict[tuple[str, ...], str] = {}

    def walk(node: Any, keys: tuple[str, ...], depth: int) -> None:
        if not isinstance(node, yaml.MappingNode) or depth > 3:
            return
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                here = (*keys, str(key.value))
                positions[here] = (
                    f"{path}:{value.start_mark.line + 1}:{value.start_mark.column + 1}"
                )
                walk(value, here, depth + 1)

    walk(root, (), 0)
    return positions


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _check_config_data(cloud: str, path: str, data: Any) -> Any:
    """The entry for ``cloud`` in one parsed file (None if it has none); a CloudError when the
    file, its ``clouds`` or that entry has a shape openstacksdk cannot use (it would fail with
    an AttributeError or TypeError)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise CloudError(
            f"cloud '{cloud}': {path}: the file is {_kind(data)}, not a mapping with a "
            "'clouds:' key; fix the file"
        )
    clouds = data.get("clouds")
    if clouds is None:
        return None
    where = _yaml_positions(path)
    if not isinstance(clouds, dict):
        raise CloudError(
            f"cloud '{cloud}': {where.get(('clouds',), path)}: 'clouds' is {_kind(clouds)}, "
            "not a mapping of cloud names to settings; fix the file"
        )
    if cloud not in clouds:
        return None
    entry = clouds[cloud]
    if not isinstance(entry, dict):
        raise CloudError(
            f"cloud '{cloud}': {where.get(('clouds', cloud), path)}: the entry '{cloud}' is "
            f"{_kind(entry)}, not a mapping of settings (auth:, region_name:, ...); fix the file"
        )
    auth = entry.get("auth")
    if auth is not None and not isinstance(auth, dict):
        raise CloudError(
            f"cloud '{cloud}': {where.get(('clouds', cloud, 'auth'), path)}: 'auth' is "
            f"{_kind(auth)}, not a mapping (auth_url:, username:, password:, ...); fix the file"
        )
    for key, value in (auth or {}).items():
        # An unquoted number (a password such as 1234) loads as an int, which keystoneauth
        # sends as a JSON number or fails to format; never show the value, it may be secret.
        if isinstance(value, int | float) and not isinstance(value, bool):
            at = where.get(("clouds", cloud, "auth", str(key)), path)
            raise CloudError(f"cloud '{cloud}': {at}: auth.{key} is a number; quote it in the file")
    return entry


@dataclass(frozen=True)
class ConfigFiles:
    """The files openstacksdk is to read (None: none exists), and the cloud names in them."""

    clouds: str | None
    secure: str | None
    vendor: str | None
    names: frozenset[str]


def check_config_files(cloud: str, search: ConfigSearch) -> ConfigFiles:
    """The files openstacksdk will read for ``cloud``, each checked: a file named by
    OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE exists, and the first existing file of
    each list is readable, parses, and has a usable entry for ``cloud``."""
    for variable, override in (
        ("OS_CLIENT_CONFIG_FILE", search.clouds_override),
        ("OS_CLIENT_SECURE_FILE", search.secure_override),
    ):
        if override and not os.path.exists(override):
            raise CloudError(
                f"cloud '{cloud}': {variable} names {override}, which does not exist; fix or "
                "unset it"
            )
    clouds_file = _first_existing(search.clouds)
    secure_file = _first_existing(search.secure)
    entries = []
    names: set[str] = set()
    for path in (clouds_file, secure_file):
        if path is not None:
            data = _read_config_file(cloud, path)
            entries.append(_check_config_data(cloud, path, data))
            names.update(str(name) for name in data.get("clouds") or {} if data)
    profile = next((e.get("profile", e.get("cloud")) for e in entries if isinstance(e, dict)), None)
    vendor_file = _first_existing(search.vendor) if profile else None
    if vendor_file is not None:
        vendor = _read_config_file(cloud, vendor_file)
        if vendor is not None and not isinstance(vendor, dict):
            raise CloudError(
                f"cloud '{cloud}': {vendor_file}: the file is {_kind(vendor)}, not a mapping "
                "with a 'public-clouds:' key; fix the file"
            )
    return ConfigFiles(clouds_file, secure_file, vendor_file, frozenset(names))


def unknown_cloud(cloud: str, search: ConfigSearch, used: str | None, known: list[str]) -> str:
    searched = f"searched in order, the first found is used: {_searched(search.clouds)}"
    if used is None and not known:
        return (
            f"cloud '{cloud}': no clouds.yaml found ({searched}); create one or set "
            "OS_CLIENT_CONFIG_FILE"
        )
    names = ", ".join(known) if known else "none"
    where = f"in {used}" if used is not None else "anywhere"
    return f"cloud '{cloud}': no such entry {where} (known clouds: {names}; {searched})"
