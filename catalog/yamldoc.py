"""Parse one YAML document into plain values plus the position of every key and value.

PyYAML's composed nodes carry start marks; we build the Python values ourselves so that
duplicate keys, alias bombs and stray documents become diagnostics instead of silent surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from catalog.diagnostics import Diagnostic

# JsonPath is defined by locate (which yamldoc uses) and given on here, as before.
from catalog.locate import JsonPath as JsonPath
from catalog.locate import diagnostic_at
from catalog.model import Position

# A document that expands to more nodes than this is almost certainly an alias bomb.
MAX_NODES = 200_000
_STR_TAG = "tag:yaml.org,2002:str"
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """libyaml's parser when PyYAML has it (the PyPI wheels do), about 10x faster than PyYAML's
    own, with the implicit-tag resolver memoized: manifests repeat the same keys and values
    thousands of times, and resolving each runs a few regular expressions in Python."""

    _resolved: ClassVar[dict[tuple[str, tuple[bool, bool]], str]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or not isinstance(value, str):
            return super().resolve(kind, value, implicit)
        key = (value, tuple(implicit))
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) < 100_000:
                self._resolved[key] = tag
        return tag


@dataclass
class ParsedDocument:
    """A document's value and the composed YAML nodes it was built from.

    Positions are looked up in the nodes only when a diagnostic needs one, so a valid document
    costs no position bookkeeping.
    """

    file: str
    value: Any = None
    root: yaml.Node | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    text: str = ""
    # Positions worked out ahead, so a document sent between processes without its nodes
    # (they are heavy to pickle) needs no second parse for them.
    known: dict[JsonPath, Position] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["root"] = None
        return state

    def _root(self) -> yaml.Node | None:
        if self.root is None and self.text:
            loader = _Loader(self.text)
            try:
                self.root = loader.get_single_node()
            except yaml.YAMLError:
                self.text = ""
            finally:
                loader.dispose()
        return self.root

    def _nodes(self, path: JsonPath) -> list[tuple[yaml.Node | None, yaml.Node]]:
        """(key node, value node) for each step of ``path`` that exists."""
        steps: list[tuple[yaml.Node | None, yaml.Node]] = []
        node = self._root()
        if node is None:
            return steps
        steps.append((None, node))
        for part in path:
            if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    break
                node = node.value[part]
                steps.append((None, node))
            elif isinstance(node, yaml.MappingNode):
                match = next(
                    ((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)),
                    None,
                )
                if match is None:
                    break
                steps.append(match)
                node = match[1]
            else:
                break
        return steps

    def position(self, path: JsonPath, *, key: bool = False) -> Position:
        """Where the value at ``path`` starts (its mapping key with ``key``), or the nearest
        ancestor that exists."""
        if not key and path in self.known:
            return self.known[path]
        steps = self._nodes(path)
        if not steps:
            return Position(self.file, 1, 1)
        key_node, value_node = steps[-1]
        complete = len(steps) == len(path) + 1
        node = key_node if key and complete and key_node is not None else value_node
        return _position(self.file, node.start_mark)

    def node(self, path: JsonPath) -> tuple[yaml.Node | None, yaml.Node] | None:
        """The (key node, value node) at ``path`` with their marks, or None when it does not
        exist: for tools that edit the text in place."""
        steps = self._nodes(path)
        return steps[-1] if len(steps) == len(path) + 1 else None

    def written(self, path: JsonPath) -> str | None:
        """The scalar at ``path`` as written in the file, or None if it is not a scalar."""
        steps = self._nodes(path)
        if len(steps) != len(path) + 1 or not isinstance(steps[-1][1], yaml.ScalarNode):
            return None
        return str(steps[-1][1].value)


def _position(file: str, mark: yaml.Mark | None) -> Position:
    if mark is None:
        return Position(file, 1, 1)
    return Position(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, loader: Any, document: ParsedDocument) -> None:
        self.loader = loader
        self.document = document
        self.nodes = 0
        # (mapping node, key node, message, hint): reported once the whole value is built, so
        # that each can name its image and path; no path is tracked while building, for speed.
        self.pending: list[tuple[yaml.Node, yaml.Node, str, str | None]] = []

    def build(self, node: yaml.Node) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge(_position(self.document.file, node.start_mark))
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR_TAG:
                return node.value
            return self.loader.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node)
        raise AssertionError(f"unknown YAML node {node!r}")

    def build_mapping(self, node: yaml.MappingNode) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                message = "a mapping key must be a plain value, not a list or map"
                self.pending.append((node, key_node, message, None))
                continue
            key = key_node.value
            if key in first_line:
                message = f"duplicate key '{key}' (first at line {first_line[key]})"
                hint = "YAML would silently keep only the last one; remove one of them"
                self.pending.append((node, key_node, message, hint))
                continue
            first_line[key] = key_node.start_mark.line + 1
            result[key] = self.build(value_node)
        return result

    def report(self) -> None:
        for mapping, key_node, message, hint in self.pending:
            path = _path_to(self.document.root, mapping, ())
            if path is not None and isinstance(key_node, yaml.ScalarNode):
                path = (*path, key_node.value)
            at = _position(self.document.file, key_node.start_mark)
            self.document.diagnostics.append(
                diagnostic_at(self.document, path or (), message, hint, at=at)
            )


def _path_to(node: yaml.Node | None, target: yaml.Node, path: JsonPath) -> JsonPath | None:
    """The path from ``node`` down to ``target`` (by identity), following first keys."""
    if node is target:
        return path
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found = _path_to(item, target, (*path, index))
            if found is not None:
                return found
    elif isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = getattr(key_node, "value", None)
            if not isinstance(key, str) or key in seen:
                continue
            seen.add(key)
            found = _path_to(value_node, target, (*path, key))
            if found is not None:
                return found
    return None


class _TooLarge(Exception):
    def __init__(self, position: Position) -> None:
        self.position = position


def parse_document(text: str, file: str) -> ParsedDocument:
    """Parse ``text`` as exactly one YAML document; problems become ``diagnostics``."""
    if not text.strip() or all(
        line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()
    ):
        empty = _document_problem(
            Position(file, 1, 1),
            "the file is empty",
            "a manifest needs version, catalog and images",
        )
        return ParsedDocument(file, diagnostics=[empty])
    parsed, syntax_error = _parse(text, file, _Loader)
    if syntax_error and _BaseLoader is not yaml.SafeLoader:
        # libyaml's messages and marks are terser than PyYAML's, and errors are rare: re-read.
        parsed, _ = _parse(text, file, yaml.SafeLoader)
    return parsed


def _parse(text: str, file: str, loader_class: Any) -> tuple[ParsedDocument, bool]:
    """The parsed document, and whether YAML itself (not our checks) rejected it."""
    document = ParsedDocument(file)
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as error:
        before = text[: error.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        message = f"character {error.character!r} is not allowed in YAML ({error.reason})"
        document.diagnostics.append(Diagnostic(file, line, column, None, "", message))
        return document, False
    try:
        node = loader.get_single_node()
        if node is None:
            document.diagnostics.append(Diagnostic(file, 1, 1, None, "", "the file is empty"))
            return document, False
        document.root = node
        document.text = text
        builder = _Builder(loader, document)
        document.value = builder.build(node)
        builder.report()
    except yaml.composer.ComposerError as error:
        if "single document" in (error.context or ""):
            document.diagnostics.append(
                _document_problem(
                    _position(file, error.problem_mark),
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
        document.root = None
        document.text = ""
        document.diagnostics.append(
            _document_problem(
                too_large.position,
                f"the document expands to more than {MAX_NODES} values",
                "anchors and aliases multiply; write the values out",
            )
        )
        return document, False
    else:
        return document, False
    finally:
        loader.dispose()
    return document, True


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
    return _document_problem(position, message, hint)


def _document_problem(position: Position, message: str, hint: str | None = None) -> Diagnostic:
    """A problem of the YAML document itself, at ``position``: of no image and no path."""
    return Diagnostic(position.file, position.line, position.column, None, "", message, hint)
