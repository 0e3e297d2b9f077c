"""Errors in an event log or its column mapping, located by file, row and column."""

from __future__ import annotations


class LogError(ValueError):
    """A log (or mapping) that cannot be used: names the file, the row (1-based line) and column."""

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None):
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        where = self.file + (f":{row}" if row is not None else "")
        col = f" column {column!r}:" if column is not None else ""
        super().__init__(f"{where}:{col} {message}")
