"""Every product module in catalog/ and reconciler/ is imported by name by at least one test
(a ``test_*.py`` anywhere under tests/), so that each has a test to read and to extend. A
package ``__init__`` with nothing but its docstring, and ``__main__``, hold no code to test.

A module a test runs only through others (a gateway module through the CLI against the real
Glance) is named by a test that imports what it exercises: a unit test of its pure parts, or
the functional test of its capability."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("catalog", "reconciler")


def _holds_code(tree: ast.Module) -> bool:
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (docstring or future):
            return True
    return False


def product_modules() -> dict[str, Path]:
    """Dotted name -> file of every product module that holds code."""
    modules = {}
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
                if not _holds_code(ast.parse(path.read_text(encoding="utf-8"))):
                    continue
            modules[".".join(parts)] = path
    return modules


def imported_names(path: Path) -> Iterator[str]:
    """Every dotted name ``path`` imports: ``import a.b`` gives a.b; ``from a.b import c``
    gives a.b and a.b.c (c may be a module of package a.b)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def names_tests_import() -> set[str]:
    return {name for path in (REPO / "tests").rglob("test_*.py") for name in imported_names(path)}


def test_the_walk_finds_the_product_modules_and_the_test_imports() -> None:
    modules = product_modules()
    assert "catalog.load" in modules and "reconciler.core.planner" in modules
    assert "reconciler.__main__" not in modules
    assert "catalog.load" in set(imported_names(REPO / "tests/unit/catalog/test_load.py"))


def test_every_product_module_is_imported_by_a_test() -> None:
    untested = sorted(set(product_modules()) - names_tests_import())
    assert untested == [], (
        f"{len(untested)} product modules no test imports by name; give each a test in "
        "tests/unit/<package>/test_<module>.py (or import what a functional test exercises "
        "from it): " + ", ".join(untested)
    )
