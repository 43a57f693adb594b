"""Parse one YAML document into plain values plus the position of every key and value.

PyYAML's composed nodes carry start marks; we build the Python values ourselves so that
duplicate keys, alias bombs and stray documents become diagnostics instead of silent surprises.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

from catalog.diagnostics import Diagnostic
from catalog.model import Position

JsonPath = tuple[str | int, ...]

# A document that expands to more nodes than this is almost certainly an alias bomb.
MAX_NODES = 200_000


@dataclass
class ParsedDocument:
    """A document's value with positions: ``values[path]`` is where the value at ``path`` starts,
    ``keys[path]`` where its mapping key starts, ``scalars[path]`` its text as written."""

    file: str
    value: Any = None
    values: dict[JsonPath, Position] = field(default_factory=dict)
    keys: dict[JsonPath, Position] = field(default_factory=dict)
    scalars: dict[JsonPath, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def position(self, path: JsonPath, *, key: bool = False) -> Position:
        """The position of ``path``, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        probe = path
        while True:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return Position(self.file, 1, 1)
            probe = probe[:-1]


def _position(file: str, mark: yaml.Mark | None) -> Position:
    if mark is None:
        return Position(file, 1, 1)
    return Position(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, document: ParsedDocument) -> None:
        self.loader = loader
        self.document = document
        self.nodes = 0

    def error(self, position: Position, message: str, hint: str | None = None) -> None:
        self.document.diagnostics.append(
            Diagnostic(position.file, position.line, position.column, None, "", message, hint)
        )

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge(_position(self.document.file, node.start_mark))
        self.document.values[path] = _position(self.document.file, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            self.document.scalars[path] = node.value
            return self.loader.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path)
        raise AssertionError(f"unknown YAML node {node!r}")

    def build_mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            key_position = _position(self.document.file, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_position, "a mapping key must be a plain value, not a list or map")
                continue
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                self.error(key_position, "a mapping key must be a plain value")
                continue
            if not isinstance(key, str):
                key = str(key_node.value)
            if key in first_seen:
                earlier = first_seen[key]
                self.error(
                    key_position,
                    f"duplicate key '{key}' (first at line {earlier.line})",
                    "YAML would silently keep only the last one; remove one of them",
                )
                continue
            first_seen[key] = key_position
            self.document.keys[(*path, key)] = key_position
            result[key] = self.build(value_node, (*path, key))
        return result


class _TooLarge(Exception):
    def __init__(self, position: Position) -> None:
        self.position = position


def parse_document(text: str, file: str) -> ParsedDocument:
    """Parse ``text`` as exactly one YAML document; problems become ``diagnostics``."""
    document = ParsedDocument(file)
    if not text.strip() or all(
        line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()
    ):
        document.diagnostics.append(
            Diagnostic(
                file,
                1,
                1,
                None,
                "",
                "the file is empty",
                "a manifest needs version, catalog and images",
            )
        )
        return document
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            document.diagnostics.append(Diagnostic(file, 1, 1, None, "", "the file is empty"))
            return document
        document.value = _Builder(loader, document).build(node, ())
    except yaml.composer.ComposerError as error:
        if "single document" in (error.context or ""):
            position = _position(file, error.problem_mark)
            document.diagnostics.append(
                Diagnostic(
                    file,
                    position.line,
                    position.column,
                    None,
                    "",
                    "more than one YAML document in the file",
                    "a manifest is one document: remove the '---' separator or split the files",
                )
            )
        else:
            document.diagnostics.append(_yaml_error(file, error))
    except yaml.MarkedYAMLError as error:
        document.diagnostics.append(_yaml_error(file, error))
    except yaml.YAMLError as error:
        document.diagnostics.append(Diagnostic(file, 1, 1, None, "", f"invalid YAML: {error}"))
    except _TooLarge as too_large:
        position = too_large.position
        document.diagnostics.append(
            Diagnostic(
                file,
                position.line,
                position.column,
                None,
                "",
                f"the document expands to more than {MAX_NODES} values",
                "anchors and aliases multiply; write the values out",
            )
        )
    finally:
        loader.dispose()
    return document


def _yaml_error(file: str, error: yaml.MarkedYAMLError) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    position = _position(file, mark)
    problem = error.problem or "invalid YAML"
    message = f"invalid YAML: {problem}"
    if error.context:
        message += f" ({error.context})"
    hint = None
    if "\\t" in problem or "tab" in problem:
        hint = "YAML does not allow tabs for indentation; use spaces"
    return Diagnostic(position.file, position.line, position.column, None, "", message, hint)
