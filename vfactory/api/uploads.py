"""Checks on uploaded files: safe names, zip extraction bounds, YAML shape (alias bombs).

Everything here raises ``UploadRejected(status, message)``; the service turns it into a 4xx answer.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

import yaml


class UploadRejected(Exception):
    """An upload the service refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._+-]")
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME = 128


def safe_name(name: str | None, what: str = "file") -> str:
    """A safe base name for an uploaded file, or UploadRejected.

    Refused outright (attempts, not accidents): empty names, path separators of either kind,
    ``..``, absolute or drive paths, hidden names (leading dot), NUL and control characters.
    Other odd characters become ``_``; the name is cut to 128 characters keeping the extension.
    """
    if name is None or name.strip() == "":
        raise UploadRejected(422, f"{what}: the upload has no file name")
    shown = name if len(name) <= 80 else name[:77] + "..."
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UploadRejected(422, f"{what}: file name {shown!r} contains control characters")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise UploadRejected(
            422, f"{what}: file name {shown!r} is an absolute path; send a bare name"
        )
    if "/" in name or "\\" in name:
        raise UploadRejected(
            422, f"{what}: file name {shown!r} contains a path; send a bare name like 'line.yaml'"
        )
    if name in (".", "..") or name.startswith("."):
        raise UploadRejected(422, f"{what}: file name {shown!r} is hidden or a path component")
    clean = _SAFE_CHARS.sub("_", name.strip())
    if len(clean) > MAX_NAME:
        stem, dot, ext = clean.rpartition(".")
        ext = ext[:16] if dot else ""
        clean = (stem if dot else clean)[: MAX_NAME - len(ext) - 1] + ("." + ext if ext else "")
    return clean


def safe_relative_path(name: str, max_depth: int, what: str) -> PurePosixPath:
    """A zip entry name as a safe relative path (each component checked like ``safe_name``)."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise UploadRejected(422, f"{what}: entry {name!r} is an absolute path")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("",)]
    if any(p == ".." for p in parts):
        raise UploadRejected(422, f"{what}: entry {name!r} climbs out of the archive ('..')")
    parts = [p for p in parts if p != "."]
    if not parts:
        raise UploadRejected(422, f"{what}: entry {name!r} has no name")
    if len(parts) > max_depth:
        raise UploadRejected(
            422, f"{what}: entry {name!r} is nested deeper than {max_depth} folders"
        )
    return PurePosixPath(*[safe_name(p, f"{what}: entry {name!r}") for p in parts])


def extract_zip(
    archive: Path,
    dest: Path,
    *,
    max_entries: int,
    max_total_bytes: int,
    max_ratio: float,
    max_depth: int,
) -> list[str]:
    """Extract a zip attachment into ``dest`` with bounds on entry count, total size, compression
    ratio and nesting; sizes are counted on the bytes actually inflated, not the headers' word.
    Nested archives are kept as files, never opened. Returns the extracted relative names."""
    what = f"attachment {archive.name!r}"
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UploadRejected(422, f"{what}: not a readable zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise UploadRejected(
                422, f"{what}: {len(infos)} entries, more than the limit of {max_entries}"
            )
        declared = sum(i.file_size for i in infos)
        if declared > max_total_bytes:
            raise UploadRejected(
                413,
                f"{what}: expands to {declared} bytes, more than the limit of {max_total_bytes}",
            )
        plans: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        seen: set[str] = set()
        for info in infos:
            mode = (info.external_attr >> 16) & 0xFFFF
            if stat.S_ISLNK(mode):
                raise UploadRejected(422, f"{what}: entry {info.filename!r} is a symbolic link")
            if info.flag_bits & 0x1:
                raise UploadRejected(422, f"{what}: entry {info.filename!r} is encrypted")
            rel = safe_relative_path(info.filename, max_depth, what)
            if info.is_dir():
                continue
            if str(rel).lower() in seen:
                raise UploadRejected(422, f"{what}: entry {info.filename!r} appears twice")
            seen.add(str(rel).lower())
            if info.compress_size > 0 and info.file_size / info.compress_size > max_ratio:
                raise UploadRejected(
                    422,
                    f"{what}: entry {info.filename!r} compresses {info.file_size / info.compress_size:.0f}:1,"
                    f" more than the limit of {max_ratio:.0f}:1 (zip bomb?)",
                )
            plans.append((info, rel))
        total = 0
        out_names: list[str] = []
        root = dest.resolve()
        for info, rel in plans:
            target = (dest / rel).resolve()
            if root not in target.parents:
                raise UploadRejected(422, f"{what}: entry {info.filename!r} leaves the job folder")
            if target.exists():
                raise UploadRejected(
                    422, f"{what}: entry {info.filename!r} clashes with another uploaded file"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 16):
                        written += len(chunk)
                        total += len(chunk)
                        # Headers can lie: enforce the bounds on what actually comes out.
                        if written > info.file_size or total > max_total_bytes:
                            raise UploadRejected(
                                413,
                                f"{what}: expands past its declared size or the limit"
                                f" of {max_total_bytes} bytes",
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise UploadRejected(
                    422, f"{what}: entry {info.filename!r} is corrupt ({exc})"
                ) from None
            except NotImplementedError as exc:
                raise UploadRejected(422, f"{what}: entry {info.filename!r}: {exc}") from None
            out_names.append(str(rel))
        return out_names


def check_yaml_shape(text: str, filename: str, max_nodes: int, max_depth: int) -> None:
    """Refuse YAML whose expanded size (aliases counted with their anchored subtree) or nesting
    exceeds the bounds, reading only the event stream so nothing is built. Syntax errors are left
    for the layout loader, which reports them with file:line."""
    sizes: dict[str, int] = {}
    # stack of [anchor, node count so far] for open collections
    stack: list[list] = []
    total = 0

    def add(n: int) -> None:
        nonlocal total
        total += n
        for frame in stack:
            frame[1] += n
        if total > max_nodes:
            raise UploadRejected(
                422,
                f"{filename}: the YAML expands to more than {max_nodes} nodes"
                " (aliases counted in full); refusing it",
            )

    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, yaml.AliasEvent):
                add(sizes.get(ev.anchor or "", 1))
            elif isinstance(ev, yaml.ScalarEvent):
                add(1)
                if ev.anchor:
                    sizes[ev.anchor] = 1
            elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                add(1)
                stack.append([ev.anchor, 1])
                if len(stack) > max_depth:
                    line = ev.start_mark.line + 1 if ev.start_mark else "?"
                    raise UploadRejected(
                        422, f"{filename}:{line}: the YAML nests deeper than {max_depth} levels"
                    )
            elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = stack.pop()
                if anchor:
                    sizes[anchor] = size
    except yaml.YAMLError:
        return
