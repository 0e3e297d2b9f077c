"""Factory layouts: YAML → validated, immutable ``Factory``; JSON Schema; located errors."""

from __future__ import annotations

from .distribution import SECONDS_PER, Distribution
from .errors import LayoutError, LayoutIssue
from .loader import from_dict, load, load_study, loads, override, to_dict
from .model import Arrival, Factory, Failure, Product, Station


def json_schema() -> dict:
    """JSON Schema of the layout file (for editor completion, e.g. the YAML language server)."""
    schema = Factory.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "vfactory layout"
    return schema


__all__ = [
    "Arrival",
    "Distribution",
    "Factory",
    "Failure",
    "LayoutError",
    "LayoutIssue",
    "Product",
    "SECONDS_PER",
    "Station",
    "from_dict",
    "json_schema",
    "load",
    "load_study",
    "loads",
    "override",
    "to_dict",
]
