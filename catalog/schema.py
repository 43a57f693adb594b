"""Find the shipped JSON Schema (in a wheel or a checkout) and build its validator once."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

SCHEMA_FILE = "catalog-v1.json"


def schema_path() -> Path:
    """The schema file: inside the installed package, else the checkout's top-level schemas/."""
    packaged = resources.files("catalog") / "schemas" / SCHEMA_FILE
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "schemas" / SCHEMA_FILE


@cache
def load_schema() -> dict[str, Any]:
    with schema_path().open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def validator() -> Draft202012Validator:
    """The full validator that reports every error with its path (imported only when needed)."""
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def fast_check() -> Callable[[Any], Any]:
    """A compiled validator that stops at the first error: the fast path for valid documents.

    jsonschema's validator, which finds every error with its path, runs only when this one
    refuses a document.
    """
    check: Callable[[Any], Any] = fastjsonschema.compile(load_schema())
    return check


def is_valid(document: Any) -> bool:
    try:
        fast_check()(document)
    except fastjsonschema.JsonSchemaException:
        return False
    return True
