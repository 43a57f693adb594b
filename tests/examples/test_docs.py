"""docs/ and README.md stay true to the code: the manifest reference documents exactly the
properties of the JSON Schema, every YAML example passes (or, marked invalid, fails) the
catalog's validator, and every glance-catalog command shown is one the CLI accepts.

A YAML block is checked by the kind named in an ``<!-- example: KIND -->`` comment on the line
above it (docs/contributing.md): ``manifest`` (the default for a mapping with ``version``),
``invalid``, ``source``, ``targets`` or ``not-a-manifest``. A table of the manifest reference
covers the schema paths named in the ``<!-- schema: PATH... -->`` comment above it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from catalog.load import check_catalog
from reconciler.cli import cli

# The shell-command checker of the CI examples, so that the docs and the examples are held to
# one reading of a command line.
from tests.examples.commands import check_command_line, shell_commands
from tests.signing import SigningKey

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md"))
READABLE = [REPO / "README.md", *PAGES]
SCHEMA = REPO / "schemas" / "catalog-v1.json"
REFERENCE = DOCS / "manifest.md"

_FENCE = re.compile(r"^```(\S*)\s*$")
_EXAMPLE = re.compile(r"^<!-- example: ([a-z-]+)(.*?)-->$")
_SCHEMA_COMMENT = re.compile(r"^<!-- schema: (.+?) -->$")
_TABLE_KEY = re.compile(r"^\| `([^`]+)` \|")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
KINDS = frozenset({"manifest", "invalid", "source", "targets", "not-a-manifest"})


@dataclass(frozen=True)
class Block:
    """A fenced code block: its page, the line of its opening fence, its language, its text,
    and the ``<!-- example: ... -->`` comment right above it (kind and the rest), if any."""

    page: Path
    line: int
    language: str
    text: str
    kind: str | None
    detail: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> Iterator[Block]:
    lines = page.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start = index
        body: list[str] = []
        index += 1
        while not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        above = lines[start - 1].strip() if start else ""
        marker = _EXAMPLE.match(above)
        yield Block(
            page,
            start + 1,
            opening.group(1),
            "\n".join(body) + "\n",
            marker.group(1) if marker else None,
            marker.group(2).strip() if marker else "",
        )
        index += 1


def yaml_blocks() -> list[Block]:
    return [b for page in READABLE for b in blocks(page) if b.language in ("yaml", "yml")]


def shell_blocks() -> list[Block]:
    return [b for page in READABLE for b in blocks(page) if b.language in ("sh", "bash", "shell")]


def commands_in(block: Block) -> list[tuple[str, ...]]:
    """The glance-catalog command lines of a shell block; a line that sets
    ``_GLANCE_CATALOG_COMPLETE`` asks click for a completion script, with no subcommand."""
    lines = [line for line in block.text.splitlines() if "_GLANCE_CATALOG_COMPLETE=" not in line]
    return shell_commands("\n".join(lines))


# The manifest reference against the schema


def _deref(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def schema_paths(schema: dict[str, Any]) -> set[str]:
    """Every property of the schema as a path: ``images[].source.url``; a mapping keyed by
    free names (a target's ``images``) as ``<name>``. Conditions (if/then) add no property."""
    paths: set[str] = set()

    def walk(node: dict[str, Any], path: str) -> None:
        node = _deref(schema, node)
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(key, []):
                walk(branch, path)
        for name, child in node.get("properties", {}).items():
            child_path = f"{path}.{name}" if path else name
            paths.add(child_path)
            walk(child, child_path)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.<name>")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]")

    walk(schema, "")
    return paths


def documented_paths(text: str) -> dict[str, int]:
    """The paths the reference's tables document, each with its line: the first-column keys
    of the table right after a ``<!-- schema: ... -->`` comment, under every prefix the comment
    names (``$``: the top level)."""
    found: dict[str, int] = {}
    prefixes: list[str] | None = None
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        comment = _SCHEMA_COMMENT.match(line.strip())
        if comment:
            prefixes, in_table = comment.group(1).split(), False
        elif not line.startswith("|"):
            if in_table:  # the table ended: the next one needs its own comment
                prefixes, in_table = None, False
        elif prefixes is not None:
            in_table = True
            key = _TABLE_KEY.match(line)
            for prefix in prefixes if key else ():
                found[key.group(1) if prefix == "$" else f"{prefix}.{key.group(1)}"] = number
    return found


def test_every_schema_property_is_documented_and_nothing_else() -> None:
    in_schema = schema_paths(json.loads(SCHEMA.read_text()))
    documented = documented_paths(REFERENCE.read_text())
    assert len(in_schema) > 100  # the walk reached the nested definitions
    missing = sorted(in_schema - set(documented))
    unknown = sorted(f"{path} (line {documented[path]})" for path in set(documented) - in_schema)
    assert not missing, f"schema properties without a row in {REFERENCE.name}: {missing}"
    assert not unknown, f"rows in {REFERENCE.name} the schema does not have: {unknown}"


def test_the_reference_check_sees_a_missing_and_an_unknown_row() -> None:
    text = (
        "<!-- schema: images[].retire -->\n| Key | Meaning |\n| --- | --- |\n"
        "| `keep` | k |\n| `superseded` | s |\n| `forever` | f |\n\nprose\n\n| `stray` | x |\n"
    )
    documented = set(documented_paths(text))
    assert documented == {
        "images[].retire.keep",
        "images[].retire.superseded",
        "images[].retire.forever",
    }
    schema = json.loads(SCHEMA.read_text())
    paths = {p for p in schema_paths(schema) if p.startswith("images[].retire.")}
    assert paths - documented == {"images[].retire.beyond_keep"}
    assert documented - paths == {"images[].retire.forever"}


# YAML examples against the validator


@pytest.fixture
def public_key(key: SigningKey) -> bytes:
    return key.public()


def _environ(text: str) -> dict[str, str]:
    """Every ``${VAR}`` the example names, set: the docs show references, not values."""
    return {name: "set-for-the-docs" for name in _VARIABLE.findall(text)}


def _manifest_for(block: Block, value: Any) -> dict[str, Any]:
    """The whole manifest a block is checked as: itself, or a fragment placed in one."""
    if block.kind == "source":
        assert isinstance(value, dict) and set(value) == {"source"}, f"{block}: not a source"
        image = {"name": "example", "disk_format": "qcow2", "source": value["source"]}
        return {"version": 1, "catalog": "docs", "images": [image]}
    if block.kind == "targets":
        assert isinstance(value, dict) and set(value) == {"targets"}, f"{block}: not targets"
        names = sorted({name for t in value["targets"] for name in t.get("images", {})})
        source = {"url": "https://mirror.example/disk.qcow2", "checksum": "sha256:" + "ab" * 32}
        images = [
            {"name": name, "disk_format": "qcow2", "source": source} for name in names or ["one"]
        ]
        return {"version": 1, "catalog": "docs", "targets": value["targets"], "images": images}
    assert isinstance(value, dict) and "version" in value, (
        f"{block}: a YAML block that is not a whole manifest needs an <!-- example: KIND --> "
        f"comment above it (one of {', '.join(sorted(KINDS))})"
    )
    return value


def _check(block: Block, folder: Path, public_key: bytes) -> list[str]:
    """The validator's diagnostics for the block as a manifest file in ``folder``."""
    value = yaml.safe_load(block.text)
    if block.kind in ("manifest", "invalid", None) and isinstance(value, dict):
        text = block.text  # as written: positions, comments and all
        _manifest_for(block, value)
    else:
        text = yaml.safe_dump(_manifest_for(block, value), sort_keys=False)
    for name in re.findall(r"files: (.+)$", block.detail):
        for relative in name.split():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(public_key if relative.endswith(".asc") else b"docs\n")
    manifest = folder / "catalog.yaml"
    manifest.write_text(text)
    result = check_catalog([manifest], environ=_environ(block.text))
    return [d.as_text() for d in result.diagnostics]


@pytest.mark.parametrize("block", yaml_blocks(), ids=str)
def test_every_yaml_example_is_what_its_marker_says(
    block: Block, tmp_path: Path, public_key: bytes
) -> None:
    assert block.kind is None or block.kind in KINDS, f"{block}: unknown kind {block.kind!r}"
    if block.kind == "not-a-manifest":
        yaml.safe_load(block.text)  # still YAML a reader can copy
        return
    problems = _check(block, tmp_path, public_key)
    if block.kind == "invalid":
        assert problems, f"{block}: marked invalid, but the validator accepts it"
    else:
        assert not problems, f"{block}: " + "\n".join(problems)


def test_there_are_yaml_examples_of_every_checked_kind() -> None:
    kinds = {block.kind or "manifest" for block in yaml_blocks()}
    assert {"manifest", "source", "targets", "not-a-manifest"} <= kinds


def test_an_invalid_example_is_caught(tmp_path: Path, public_key: bytes) -> None:
    text = (
        "version: 1\ncatalog: docs\nimages:\n"
        "  - name: x\n    disk_format: qcow2\n    visibility: publc\n"
    )
    block = Block(REFERENCE, 1, "yaml", text, None, "")
    assert any("visibility" in problem for problem in _check(block, tmp_path, public_key))


# Shell commands and the synopsis against the CLI


@pytest.mark.parametrize("block", shell_blocks(), ids=str)
def test_every_glance_catalog_command_in_the_docs_is_one_the_cli_accepts(block: Block) -> None:
    assert isinstance(cli, click.Group)
    problems = [
        f"{block}: glance-catalog {' '.join(argv)}: {problem}"
        for argv in commands_in(block)
        for problem in check_command_line(cli, argv)
    ]
    assert not problems, "\n".join(problems)


def test_the_shell_examples_run_glance_catalog() -> None:
    commands = [argv for block in shell_blocks() for argv in commands_in(block)]
    assert len(commands) >= 10
    assert {argv[0] for argv in commands} >= {"validate", "plan", "apply", "drift", "export"}


_SYNOPSIS_FLAG = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")
# Synopsis lines that list options several commands share.
_SHARED = {
    "TARGETS:": ("plan", "apply", "drift"),
    "plan, apply and drift also take:": ("plan", "apply", "drift"),
}


def synopsis_options() -> dict[str, set[str]]:
    """The options the synopsis block of docs/operations.md gives each command."""
    (synopsis,) = [
        b.text
        for b in blocks(DOCS / "operations.md")
        if b.language == "" and "glance-catalog" in b.text
    ]
    given: dict[str, set[str]] = {}
    current: tuple[str, ...] = ()
    for line in synopsis.splitlines():
        line = line.partition("#")[0]
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("glance-catalog "):
            current = (stripped.split()[1],)
            flags = stripped.split(None, 2)[2] if len(stripped.split()) > 2 else ""
        elif not line.startswith(" "):
            shared = next(s for s in _SHARED if stripped.startswith(s))
            current = _SHARED[shared]
            flags = stripped.removeprefix(shared)
        else:
            flags = stripped
        for command in current:
            given.setdefault(command, set()).update(_SYNOPSIS_FLAG.findall(flags))
    return given


def test_every_option_of_the_synopsis_is_one_its_command_has() -> None:
    assert isinstance(cli, click.Group)
    given = synopsis_options()
    assert set(given) == set(cli.commands), "the synopsis names every command, and only those"
    problems = []
    for name, flags in given.items():
        command = cli.commands[name]
        known = {
            opt
            for param in command.params
            if isinstance(param, click.Option)
            for opt in (*param.opts, *param.secondary_opts)
        }
        problems.extend(f"{name} {flag}" for flag in sorted(flags - known))
    assert not problems, f"options in the synopsis the CLI does not have: {problems}"


def test_the_readme_links_to_files_that_exist() -> None:
    """The README is read on GitHub, outside the docs build that checks the pages' links."""
    readme = (REPO / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert len(targets) >= 10
    missing = [t for t in targets if "://" not in t and not (REPO / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
    linked = {t for t in targets if t.startswith("docs/")}
    assert linked >= {f"docs/{page.name}" for page in PAGES}, "the README links every page"
