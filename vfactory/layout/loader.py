"""Layout loading: YAML text → validated ``Factory``, with every problem located in the source."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .base import suggest
from .errors import LayoutError, LayoutIssue
from .model import Factory
from .source import Source, read_file, read_yaml

MAX_EMPIRICAL_ROWS = 1_000_000


def _found(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _data_loc(data: Any, loc: tuple) -> tuple:
    """Keep the parts of a pydantic error location that are keys of the data (drop union tags)."""
    out: list = []
    node = data
    for i, part in enumerate(loc):
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and 0 <= part < len(node)
        ):
            out.append(part)
            node = node[part]
        elif (
            i == len(loc) - 1
            and isinstance(node, dict)
            and isinstance(part, str)
            and not part[:1].isupper()
            and not any(c in part for c in "<[(")
        ):
            out.append(part)  # a missing field: name it
    return tuple(out)


def _pydantic_issues(exc: ValidationError, src: Source, data: Any) -> list[LayoutIssue]:
    issues = []
    for err in exc.errors():
        loc = _data_loc(data, tuple(err["loc"]))
        kind = err["type"]
        msg = err["msg"]
        if kind == "string_pattern_mismatch" and loc[:1] == ("physics",):
            msg = f"a physics solve name is used in expressions (name.output): letters, digits and '_', starting with a letter; found {_found(err['input'])}"
        elif kind == "string_pattern_mismatch":
            msg = f"a name may contain only letters, digits, '_' and '-' (no spaces or dots); found {_found(err['input'])}"
        elif kind == "unknown_key":
            loc = loc + (err["ctx"]["key"],)
        elif kind == "missing":
            msg = f"required field {loc[-1]!r} is missing"
        elif "input" in err and kind not in ("unknown_key",) and not isinstance(err["input"], dict):
            msg = f"{msg}; found {_found(err['input'])}"
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        issues.append(src.issue(loc, msg))
    # one message per location is enough (unions repeat themselves)
    seen, unique = set(), []
    for i in issues:
        if (i.path, i.message) not in seen:
            seen.add((i.path, i.message))
            unique.append(i)
    return unique


def _reference_issues(f: Factory, src: Source) -> list[LayoutIssue]:
    """Names that must refer to something defined elsewhere in the layout."""
    issues = []
    stations, products, crews = f.stations, f.products, f.repair_crews
    for pname, product in products.items():
        for i, sname in enumerate(product.route):
            if sname not in stations:
                issues.append(
                    src.issue(
                        ("products", pname, "route", i),
                        f"unknown station {sname!r}{suggest(sname, stations)} (stations: {', '.join(stations)})",
                    )
                )
        if len(set(product.route)) != len(product.route):
            issues.append(
                src.issue(("products", pname, "route"), "a route visits each station at most once")
            )
    routed: dict[str, list[str]] = {s: [] for s in stations}
    for pname, product in products.items():
        for sname in product.route:
            routed.setdefault(sname, []).append(pname)
    saturated_at: dict[str, str] = {}
    for pname, product in products.items():
        if product.arrival == "saturated":
            first = product.route[0]
            if first in saturated_at:
                issues.append(
                    src.issue(
                        ("products", pname, "arrival"),
                        f"station {first!r} already has saturated supply of {saturated_at[first]!r}; "
                        "one saturated product per first station",
                    )
                )
            saturated_at[first] = pname
    for sname, st in stations.items():
        if not isinstance(st.process_time, dict):
            pass
        else:
            for p in st.process_time:
                if p not in products:
                    issues.append(
                        src.issue(
                            ("stations", sname, "process_time", p),
                            f"unknown product {p!r}{suggest(p, products)}",
                        )
                    )
            for p in routed.get(sname, []):
                if p not in st.process_time:
                    issues.append(
                        src.issue(
                            ("stations", sname, "process_time"),
                            f"no process time for product {p!r}, which is routed through {sname!r}",
                        )
                    )
        if isinstance(st.load_time, dict):
            for p in st.load_time:
                if p not in products:
                    issues.append(
                        src.issue(
                            ("stations", sname, "load_time", p),
                            f"unknown product {p!r}{suggest(p, products)}",
                        )
                    )
        for i, fl in enumerate(st.failures):
            if fl.crew is not None and fl.crew not in crews:
                issues.append(
                    src.issue(
                        ("stations", sname, "failures", i, "crew"),
                        f"unknown repair crew {fl.crew!r}{suggest(fl.crew, crews)}"
                        + (
                            f" (crews: {', '.join(crews)})"
                            if crews
                            else " (no repair_crews defined)"
                        ),
                    )
                )
        names = [fl.name for fl in st.failures]
        if len(set(names)) != len(names):
            issues.append(
                src.issue(("stations", sname, "failures"), "failure modes need distinct names")
            )
        if st.setup is not None:
            for a, row in st.setup.changeover.items():
                for p, loc in [(a, ("stations", sname, "setup", "changeover", a))] + [
                    (b, ("stations", sname, "setup", "changeover", a, b)) for b in row
                ]:
                    if p not in products:
                        issues.append(
                            src.issue(loc, f"unknown product {p!r}{suggest(p, products)}")
                        )
        if not routed.get(sname):
            issues.append(
                src.issue(("stations", sname), f"station {sname!r} is on no product's route")
            )
    if f.study is not None:
        issues += study_issues(f, f.study, src, ("study",))
    return issues


def _walk_path(data: Any, parts: list[str]) -> tuple[bool, Any, str]:
    node = data
    for i, key in enumerate(parts):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, (list, tuple)) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            where = ".".join(parts[:i]) or "the layout"
            choices = list(node) if isinstance(node, dict) else []
            return False, None, f"{where} has no {key!r}{suggest(key, choices)}"
    return True, node, ""


def _override_problem(base: dict, path: str, value: Any) -> str | None:
    data = copy.deepcopy(base)
    node: Any = data
    parts = path.split(".")
    for key in parts[:-1]:
        if not isinstance(node, dict) or key not in node:
            return None  # reported as a missing path elsewhere
        node = node[key]
    if isinstance(node, dict):
        node[parts[-1]] = value
    try:
        Factory.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        return f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
    return None


def study_issues(f: Factory, study, src: Source, prefix: tuple) -> list[LayoutIssue]:
    """Decision variables must be numeric layout fields; objectives and constraints known KPIs."""
    from .kpis import kpi_names

    issues = []
    data = f.model_dump(mode="json")
    for path in study.variables:
        ok, value, why = _walk_path(data, path.split("."))
        if not ok:
            issues.append(src.issue(prefix + ("variables", path), f"not a layout path: {why}"))
        elif not (value is None or isinstance(value, (int, float))) or isinstance(value, bool):
            issues.append(
                src.issue(prefix + ("variables", path), f"{path} is not a number (found {_found(value)})")
            )
    base = f.model_dump(mode="json", exclude_none=True)
    base.pop("study", None)
    for path, var in study.variables.items():
        # every value the search may try must make a valid layout (types and ranges of the field)
        trial_values = list(var.choices) if var.choices is not None else [var.low, var.high]
        if var.choices is None and var.type == "int":
            trial_values = [int(v) for v in trial_values]
        for value in trial_values:
            bad = _override_problem(base, path, value)
            if bad:
                issues.append(src.issue(prefix + ("variables", path), f"the value {value!r} gives an invalid layout: {bad}"))
                break
    names = kpi_names(f.stations)
    for kind in ("objectives", "constraints"):
        for i, item in enumerate(getattr(study, kind)):
            if item.kpi not in names:
                issues.append(
                    src.issue(prefix + (kind, i, "kpi"), f"unknown KPI {item.kpi!r}{suggest(item.kpi, names)}")
                )
    return issues


def _load_empirical(data: Any, src: Source, base_dir: Path | None) -> list[LayoutIssue]:
    """Fill ``values`` of empirical distributions from their CSV files (in place)."""
    issues: list[LayoutIssue] = []
    cache: dict[Path, list[dict]] = {}

    def visit(node: Any, loc: tuple):
        if isinstance(node, dict):
            if (
                node.get("dist") == "empirical"
                and node.get("values") is None
                and isinstance(node.get("file"), str)
            ):
                _fill(node, loc)
            for k, v in node.items():
                visit(v, loc + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, loc + (i,))

    def _fill(node: dict, loc: tuple):
        name = node["file"]
        column = node.get("column")
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            issues.append(
                src.issue(
                    loc + ("file",), f"file {name!r} must be a relative path inside the job folder"
                )
            )
            return
        path = (base_dir or Path(".")) / rel
        if path not in cache:
            try:
                with open(path, newline="", encoding="utf-8-sig") as fh:
                    cache[path] = list(csv.DictReader(fh))
            except FileNotFoundError:
                issues.append(
                    src.issue(loc + ("file",), f"file {name!r} not found (looked in {path.parent})")
                )
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                issues.append(src.issue(loc + ("file",), f"cannot read {name!r} as CSV: {exc}"))
                return
        rows = cache[path]
        if len(rows) > MAX_EMPIRICAL_ROWS:
            issues.append(
                src.issue(loc + ("file",), f"{name}: more than {MAX_EMPIRICAL_ROWS} rows")
            )
            return
        if not isinstance(column, str):
            return  # the model reports the missing column
        header = list(rows[0].keys()) if rows else []
        if column not in header:
            issues.append(
                src.issue(
                    loc + ("column",),
                    f"{name} has no column {column!r}{suggest(column, header)} (columns: {', '.join(header) or 'none'})",
                )
            )
            return
        values = []
        for i, row in enumerate(rows):
            cell = (row.get(column) or "").strip()
            if cell == "":
                continue
            try:
                x = float(cell)
            except ValueError:
                issues.append(
                    src.issue(
                        loc + ("column",), f"{name}:{i + 2}: {column}={cell!r} is not a number"
                    )
                )
                return
            if not x >= 0:
                issues.append(
                    src.issue(loc + ("column",), f"{name}:{i + 2}: {column}={cell!r} must be >= 0")
                )
                return
            values.append(x)
        if not values:
            issues.append(
                src.issue(loc + ("column",), f"{name}: column {column!r} holds no values")
            )
            return
        node["values"] = values

    visit(data, ())
    return issues


def _validate(src: Source, base_dir: Path | None) -> Factory:
    data = src.data
    if data is None:
        raise LayoutError(
            [
                LayoutIssue(
                    src.file,
                    1,
                    1,
                    "",
                    "the layout is empty; expected a mapping with factory, products, stations",
                )
            ]
        )
    if not isinstance(data, dict):
        raise LayoutError(
            [
                src.issue(
                    (),
                    f"expected a mapping with factory, products, stations; found {type(data).__name__}",
                )
            ]
        )
    data = copy.deepcopy(data)
    issues = _load_empirical(data, src, base_dir)
    issues += _physics_files(data, src, base_dir)
    if issues:
        raise LayoutError(issues)
    try:
        factory = Factory.model_validate(data)
    except ValidationError as exc:
        raise LayoutError(_pydantic_issues(exc, src, data)) from None
    issues = _reference_issues(factory, src)
    if issues:
        raise LayoutError(issues)
    if factory.physics or factory.bindings:
        from vfactory.physics.binding import layout_problems  # solver registry, never dolfinx

        issues = [src.issue(loc, msg) for loc, msg in layout_problems(factory)]
        if issues:
            raise LayoutError(issues)
    return factory


def _physics_files(data: Any, src: Source, base_dir: Path | None) -> list[LayoutIssue]:
    """Make ``file`` paths in physics parameters (meshes) absolute, relative to the layout (in place)."""
    issues: list[LayoutIssue] = []
    physics = data.get("physics") if isinstance(data, dict) else None
    if base_dir is None or not isinstance(physics, dict):
        return issues

    def visit(node: Any, loc: tuple) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            if k == "file" and isinstance(v, str) and isinstance(node, dict):
                rel = Path(v)
                if not rel.is_absolute() and ".." in rel.parts:
                    issues.append(
                        src.issue(loc + (k,), f"file {v!r} must be a path inside the job folder")
                    )
                elif not rel.is_absolute():
                    node[k] = str((base_dir / rel).resolve())
            elif isinstance(v, dict | list):
                visit(v, loc + (k,))

    for name, solve in physics.items():
        if isinstance(solve, dict) and isinstance(solve.get("params"), dict):
            visit(solve["params"], ("physics", name, "params"))
    return issues


def loads(text: str, filename: str = "<string>", base_dir: str | Path | None = None) -> Factory:
    """Validate layout YAML text; relative data files are resolved against ``base_dir``."""
    return _validate(read_yaml(text, filename), Path(base_dir) if base_dir is not None else None)


def load(path: str | Path) -> Factory:
    """Read and validate a layout file; raise ``LayoutError`` listing every problem with its location."""
    src = read_file(path)
    return _validate(src, Path(path).parent)


def from_dict(data: dict, filename: str = "<dict>") -> Factory:
    """Validate an in-memory layout (e.g. a scenario built by code)."""
    return _validate(Source(data=data, file=filename), None)


def to_dict(factory: Factory) -> dict:
    """Plain-data form of a validated layout (round-trips through ``from_dict``)."""
    return factory.model_dump(mode="json", exclude_none=True)


def override(factory: Factory, changes: dict[str, Any]) -> Factory:
    """A scenario: the layout with dotted-path values replaced, e.g. {"stations.saw.servers": 2}."""
    data = to_dict(factory)
    for path, value in changes.items():
        parts = path.split(".")
        node: Any = data
        for i, key in enumerate(parts[:-1]):
            if isinstance(node, list):
                key = int(key)
            elif key not in node:
                raise LayoutError(
                    [
                        LayoutIssue(
                            "<override>",
                            None,
                            None,
                            path,
                            f"no field {'.'.join(parts[: i + 1])!r}{suggest(key, node)}",
                        )
                    ]
                )
            node = node[key]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return from_dict(data, filename="<override>")


def load_study(path: str | Path, factory: Factory):
    """A study YAML beside a layout (top-level ``study:`` or the study fields themselves)."""
    from .study import Study

    src = read_file(path)
    data = src.data
    prefix: tuple = ()
    if isinstance(data, dict) and "study" in data and len(data) == 1:
        data, prefix = data["study"], ("study",)
    if not isinstance(data, dict):
        raise LayoutError([src.issue((), "expected a mapping with variables, objectives and budget")])
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        issues = _pydantic_issues(exc, src, src.data if not prefix else {"study": data})
        if prefix:
            issues = [i for i in issues]
        raise LayoutError(issues) from None
    issues = study_issues(factory, study, src, prefix)
    if issues:
        raise LayoutError(issues)
    return study
