"""Readers for the standard benchmark text formats of the job shop and flexible job shop.

* JSP, OR-Library / SchedulingLab: header ``n_jobs n_machines``, then per job the pairs
  ``machine duration`` in route order; machines 0-based.
* FJSP, FJSPLIB (``.fjs``): header ``n_jobs n_machines avg_machines_per_op``; per job
  ``n_ops {k {machine duration}×k}×n_ops``; machines **1-based**.
* FJSP, SchedulingLab: the same body with a two-number header; machines **0-based**.

All readers name machines ``M0 … M{m-1}`` (0-based) so the two FJSP spellings of one instance give
the same :class:`Problem`.
"""

from __future__ import annotations

import os
from pathlib import Path

from vfactory.schedule.problem import Job, Operation, Problem, ProblemError

_REPO_ROOT = Path(__file__).resolve().parents[2]


def instance_dir() -> Path:
    """Folder of benchmark instances: ``$VFACTORY_JSP_DIR`` or ``<repo>/../shared/jsp_instances``."""
    env = os.environ.get("VFACTORY_JSP_DIR")
    return Path(env) if env else _REPO_ROOT.parent / "shared" / "jsp_instances"


def instance_path(name: str) -> Path:
    """Path of a named instance (``ft06``, ``mk01``, ``BrandimarteMk1.fjs``) in :func:`instance_dir`."""
    d = instance_dir()
    for candidate in (d / name, d / f"{name}.txt", d / f"{name}.fjs"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"instance {name!r} not found in {d} (set VFACTORY_JSP_DIR)")


def _tokens(path: Path) -> list[tuple[int, list[str]]]:
    """Non-empty, non-comment lines as (line number, tokens)."""
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        s = line.split("#", 1)[0].strip()
        if s:
            out.append((i + 1, s.split()))
    return out


def _ints(path: Path, line: int, toks: list[str]) -> list[int]:
    vals = []
    for t in toks:
        try:
            vals.append(int(t))
        except ValueError:
            try:
                f = float(t)
            except ValueError:
                raise ProblemError(f"{path}:{line}: expected an integer, found {t!r}") from None
            if not f.is_integer():
                raise ProblemError(f"{path}:{line}: expected an integer, found {t!r}") from None
            vals.append(int(f))
    return vals


def _machine_name(k: int) -> str:
    return f"M{k}"


def read_jsp(path: str | Path) -> Problem:
    """Read a classic job shop in the standard (OR-Library) format; machines 0-based."""
    path = Path(path)
    lines = _tokens(path)
    if not lines:
        raise ProblemError(f"{path}:1: empty instance file")
    hline, htoks = lines[0]
    header = _ints(path, hline, htoks)
    if len(header) < 2:
        raise ProblemError(f"{path}:{hline}: header must be 'n_jobs n_machines', found {htoks}")
    n, m = header[0], header[1]
    body = lines[1:]
    if len(body) != n:
        raise ProblemError(f"{path}: header says {n} jobs, found {len(body)} job lines")
    jobs = []
    for j, (line, toks) in enumerate(body):
        vals = _ints(path, line, toks)
        if len(vals) % 2:
            raise ProblemError(f"{path}:{line}: expected (machine, duration) pairs, found {len(vals)} numbers")
        ops = []
        for k in range(0, len(vals), 2):
            mach, dur = vals[k], vals[k + 1]
            if not 0 <= mach < m:
                raise ProblemError(f"{path}:{line}: machine {mach} outside 0..{m - 1}")
            ops.append(Operation(((_machine_name(mach), float(dur)),)))
        jobs.append(Job(id=f"J{j}", operations=tuple(ops)))
    return Problem(jobs=tuple(jobs), machines=tuple(_machine_name(k) for k in range(m)), name=path.stem)


def _parse_fjsp_body(path: Path, body, n: int, m: int, base: int) -> list[Job]:
    if len(body) != n:
        raise ProblemError(f"{path}: header says {n} jobs, found {len(body)} job lines")
    jobs = []
    for j, (line, toks) in enumerate(body):
        vals = _ints(path, line, toks)
        pos = 0

        def take(what: str, line=line, vals=vals) -> int:
            nonlocal pos
            if pos >= len(vals):
                raise ProblemError(f"{path}:{line}: line ends early, expected {what}")
            pos += 1
            return vals[pos - 1]

        n_ops = take("the number of operations")
        ops = []
        for _ in range(n_ops):
            k = take("the number of eligible machines")
            if k < 1:
                raise ProblemError(f"{path}:{line}: an operation with {k} eligible machines")
            alts = []
            for _ in range(k):
                mach = take("a machine") - base
                dur = take("a duration")
                if not 0 <= mach < m:
                    raise ProblemError(
                        f"{path}:{line}: machine {mach + base} outside {base}..{m - 1 + base}"
                    )
                alts.append((_machine_name(mach), float(dur)))
            ops.append(Operation(tuple(alts)))
        if pos != len(vals):
            raise ProblemError(f"{path}:{line}: {len(vals) - pos} extra numbers after {n_ops} operations")
        jobs.append(Job(id=f"J{j}", operations=tuple(ops)))
    return jobs


def read_fjsp(path: str | Path, *, one_based: bool | None = None) -> Problem:
    """Read a flexible job shop (FJSPLIB ``.fjs`` or SchedulingLab text).

    The machine numbering follows the header unless ``one_based`` is given: a three-number header
    (FJSPLIB) means 1-based machines, a two-number header (SchedulingLab) 0-based.  The numbers are
    then checked against the range, so a file that contradicts its header fails loudly.
    """
    path = Path(path)
    lines = _tokens(path)
    if not lines:
        raise ProblemError(f"{path}:1: empty instance file")
    hline, htoks = lines[0]
    header = _ints(path, hline, htoks) if all(_is_number(t) for t in htoks) else None
    if header is None or len(header) not in (2, 3):
        raise ProblemError(
            f"{path}:{hline}: header must be 'n_jobs n_machines [avg_machines_per_op]', found {htoks}"
        )
    n, m = header[0], header[1]
    if one_based is None:
        one_based = len(header) == 3
    jobs = _parse_fjsp_body(path, lines[1:], n, m, 1 if one_based else 0)
    return Problem(jobs=tuple(jobs), machines=tuple(_machine_name(k) for k in range(m)), name=path.stem)


def _is_number(t: str) -> bool:
    try:
        float(t)
    except ValueError:
        return False
    return True


def detect_format(path: str | Path) -> str:
    """Return ``"jsp"``, ``"fjsp"`` (0-based, SchedulingLab) or ``"fjs"`` (FJSPLIB, 1-based).

    A ``.fjs`` suffix or a three-number header means FJSPLIB.  With a two-number header, a file is
    JSP when every job line is exactly ``2·n_machines`` numbers of (machine < m, duration) pairs,
    and FJSP when every line parses as ``n_ops {k {machine time}×k}×n_ops`` with nothing left over.
    """
    path = Path(path)
    lines = _tokens(path)
    if not lines:
        raise ProblemError(f"{path}:1: empty instance file")
    header = lines[0][1]
    if path.suffix.lower() == ".fjs" or len(header) == 3:
        return "fjs"
    if len(header) != 2 or not all(_is_number(t) for t in header):
        raise ProblemError(f"{path}:{lines[0][0]}: header must be 'n_jobs n_machines', found {header}")
    n, m = int(float(header[0])), int(float(header[1]))
    body = lines[1:]

    def fits_jsp() -> bool:
        for _, toks in body:
            vals = [float(t) for t in toks]
            if len(vals) != 2 * m or any(not 0 <= vals[i] < m for i in range(0, len(vals), 2)):
                return False
        return True

    def fits_fjsp() -> bool:
        try:
            _parse_fjsp_body(path, body, n, m, 0)
        except ProblemError:
            return False
        return True

    jsp, fjsp = fits_jsp(), fits_fjsp()
    if jsp and not fjsp:
        return "jsp"
    if fjsp and not jsp:
        return "fjsp"
    if jsp and fjsp:
        # Both parse (possible for tiny files): the JSP layout is the common one.
        return "jsp"
    raise ProblemError(f"{path}: neither a JSP nor an FJSP instance (header {n} jobs, {m} machines)")


def read_instance(path: str | Path) -> Problem:
    """Read any of the supported instance formats, detected from the file."""
    fmt = detect_format(path)
    if fmt == "jsp":
        return read_jsp(path)
    return read_fjsp(path, one_based=(fmt == "fjs"))
