"""The schema of results.json: its version string and the JSON Schema that checks a file.

The version policy is in ``SCHEMA.md``: adding optional keys keeps ``vfactory.results/1``;
renaming, removing or changing the meaning or unit of a key bumps the number.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_VERSION = "vfactory.results/1"
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The JSON Schema (draft 2020-12) of results.json."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validate(results: dict) -> list[str]:
    """Every way ``results`` breaks the schema, as 'path: message' lines ([] when valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(results), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]
