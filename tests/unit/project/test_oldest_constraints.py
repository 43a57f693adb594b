"""tests/constraints-oldest.txt pins each runtime dependency of pyproject.toml at exactly its
declared lower bound, and tests/constraints.txt (the newest pins) still meets every bound: the
bounds cannot drift away from what the tests install."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[3]
OLDEST = REPO / "tests" / "constraints-oldest.txt"
NEWEST = REPO / "tests" / "constraints.txt"


def runtime_dependencies() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def lower_bound(requirement: Requirement) -> Version:
    """The version of the one ``>=`` of ``requirement``, its only specifier."""
    (specifier,) = requirement.specifier
    assert specifier.operator == ">=", f"{requirement}: the bound is not a plain >="
    return Version(specifier.version)


def pins(path: Path) -> dict[str, Version]:
    """The ``name==version`` lines of a constraints file (comments and blank lines skipped),
    by canonical name; each name once, and nothing but exact pins."""
    found: dict[str, Version] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.partition("#")[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        where = f"{path.name}:{number}: {line}"
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{where}: not a pin"
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{where}: {name} is pinned twice"
        found[name] = Version(specifiers[0].version)
    return found


def test_every_runtime_dependency_has_a_single_lower_bound() -> None:
    requirements = runtime_dependencies()
    assert requirements
    for requirement in requirements:
        lower_bound(requirement)


@pytest.mark.parametrize("requirement", runtime_dependencies(), ids=str)
def test_the_oldest_constraints_pin_each_runtime_dependency_at_its_lower_bound(
    requirement: Requirement,
) -> None:
    oldest = pins(OLDEST)
    name = canonicalize_name(requirement.name)
    assert name in oldest, f"{OLDEST.name} does not pin {requirement.name}"
    assert oldest[name] == lower_bound(requirement), (
        f"{OLDEST.name} pins {requirement.name}=={oldest[name]}, "
        f"pyproject.toml declares {requirement}"
    )


@pytest.mark.parametrize("requirement", runtime_dependencies(), ids=str)
def test_the_newest_constraints_meet_each_runtime_dependency(requirement: Requirement) -> None:
    newest = pins(NEWEST)
    name = canonicalize_name(requirement.name)
    assert name in newest, f"{NEWEST.name} does not pin {requirement.name}"
    assert requirement.specifier.contains(newest[name], prereleases=True), (
        f"{NEWEST.name} pins {requirement.name}=={newest[name]}, outside {requirement}"
    )


def test_pins_are_read_by_canonical_name(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("# a comment\n\nPyYAML==6.0  # why\nbackports.zstd==1.0.0\n")
    assert pins(path) == {"pyyaml": Version("6.0"), "backports-zstd": Version("1.0.0")}
    path.write_text("PyYAML==6.0\npyyaml==6.0.1\n")
    with pytest.raises(AssertionError, match="pinned twice"):
        pins(path)
    path.write_text("PyYAML>=6.0\n")
    with pytest.raises(AssertionError, match="not a pin"):
        pins(path)
