"""Safe YAML reading that remembers where every value came from (line and column of each node)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import LayoutError, LayoutIssue

#: Refuse absurd documents before parsing them (an upload is a few kB; alias bombs are refused below).
MAX_LAYOUT_BYTES = 5_000_000


@dataclass
class Source:
    """Parsed YAML data plus a map from field paths (tuples) to 1-based (line, column)."""

    data: Any
    file: str
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)

    def locate(self, loc: tuple) -> tuple[int | None, int | None]:
        """Position of the deepest existing prefix of ``loc`` (a missing field points at its parent)."""
        for n in range(len(loc), -1, -1):
            pos = self.positions.get(tuple(loc[:n]))
            if pos:
                return pos
        return None, None

    def issue(self, loc: tuple, message: str) -> LayoutIssue:
        from .errors import format_path

        line, col = self.locate(loc)
        return LayoutIssue(self.file, line, col, format_path(loc), message)


def _walk(node: yaml.Node, path: tuple, positions: dict, issues: list[LayoutIssue], file: str):
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                issues.append(
                    LayoutIssue(
                        file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        ".".join(map(str, path + (key,))),
                        f"duplicate key {key!r} (first defined on line {seen[key]})",
                    )
                )
            seen[key] = key_node.start_mark.line + 1
            # the key's own position is more useful than the value's for "unknown key" messages
            positions[path + (key,)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            _walk(value_node, path + (key,), positions, issues, file)
            positions[path + (key,)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), positions, issues, file)


class _NoAliasSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases: layouts never need them and they enable YAML bombs."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in layouts", event.start_mark
            )
        return super().compose_node(parent, index)


def read_yaml(text: str, file: str) -> Source:
    """Parse ``text`` safely; raise LayoutError with file:line:column on syntax errors."""
    if len(text.encode("utf-8", "replace")) > MAX_LAYOUT_BYTES:
        raise LayoutError(
            [LayoutIssue(file, None, None, "", f"file larger than {MAX_LAYOUT_BYTES} bytes")]
        )
    try:
        loader = _NoAliasSafeLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        data = yaml.load(text, Loader=_NoAliasSafeLoader) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(str(m) for m in (exc.context, exc.problem) if m)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise LayoutError([LayoutIssue(file, line, col, "", f"YAML syntax error: {msg}")]) from None
    except yaml.YAMLError as exc:
        raise LayoutError([LayoutIssue(file, None, None, "", f"YAML error: {exc}")]) from None
    except RecursionError:
        raise LayoutError([LayoutIssue(file, None, None, "", "the YAML nests too deeply")]) from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise LayoutError([LayoutIssue(file, None, None, "", f"a value cannot be read: {exc}")]) from None
    positions: dict = {}
    issues: list[LayoutIssue] = []
    if node is not None:
        try:
            _walk(node, (), positions, issues, file)
        except RecursionError:
            raise LayoutError([LayoutIssue(file, None, None, "", "the YAML nests too deeply")]) from None
    if issues:
        raise LayoutError(issues)
    return Source(data=data, file=file, positions=positions)


def read_file(path: str | Path) -> Source:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise LayoutError([LayoutIssue(str(path), None, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise LayoutError(
            [LayoutIssue(str(path), None, None, "", "is a directory, expected a YAML file")]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LayoutError(
            [
                LayoutIssue(
                    str(path),
                    None,
                    None,
                    "",
                    f"not UTF-8 text (byte {exc.start}); expected a YAML file",
                )
            ]
        ) from None
    return read_yaml(text, str(path))
