"""Layout errors that point at the YAML source: file:line:column, field path, expected vs found."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayoutIssue:
    """One problem in a layout, located in its source file."""

    file: str
    line: int | None  # 1-based
    column: int | None  # 1-based
    path: str  # dotted field path, e.g. "stations.saw.process_time.mean"
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class LayoutError(ValueError):
    """A layout that cannot be used; ``issues`` lists every problem found, in source order."""

    def __init__(self, issues: list[LayoutIssue]):
        self.issues = sorted(issues, key=lambda i: (i.file, i.line or 0, i.column or 0))
        super().__init__("\n".join(str(i) for i in self.issues))


def format_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
