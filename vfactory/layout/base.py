"""Base model for layout sections: frozen, strict about unknown keys, with did-you-mean hints."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


def suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class Section(BaseModel):
    # inf and nan are never a time, a rate or a size: refuse them at the field
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = set(cls.model_fields)
            allowed |= {f.alias for f in cls.model_fields.values() if f.alias}
            for key in data:
                if key not in allowed:
                    hint = suggest(key, allowed)
                    raise PydanticCustomError(
                        "unknown_key",
                        f"unknown key {key!r}{hint} (allowed: {', '.join(sorted(allowed))})",
                        {"key": key},
                    )
        return data
