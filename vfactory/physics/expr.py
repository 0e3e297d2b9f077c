"""Safe arithmetic expressions of layout parameters and solver outputs, for physics bindings.

An expression is parsed with ``ast.parse(mode="eval")`` and walked against an allow-list; no user
text is ever compiled or evaluated by Python. Allowed: numbers, names (``furnace_temperature_c``),
dotted names ``solve.output`` (``furnace.soak_start_s``), ``+ - * / **``, unary ``-``/``+``,
parentheses, and calls to ``min max abs sqrt exp log ceil floor`` and ``time(x_s)``, which converts
seconds (physics is SI) into the time unit of the value being bound. All arithmetic is in floats;
overflow, division by zero and domain errors are reported as ``ExpressionError``.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

#: Longest expression accepted (a binding is one line of arithmetic).
MAX_CHARS = 500
#: Most syntax-tree nodes accepted (also bounds the recursion depth of evaluation).
MAX_NODES = 200
#: Largest magnitude an exponent may have: enough for any unit or physics formula, far from
#: the exponents that make a power explode.
MAX_EXPONENT = 1000.0

SECONDS_PER: dict[str, float] = {"s": 1.0, "min": 60.0, "h": 3600.0}


def _time_placeholder(x: float) -> float:  # replaced per evaluation (needs the target's unit)
    raise AssertionError


FUNCTIONS: dict[str, tuple[Callable[..., float], int, int | None]] = {
    # name: (function, least arguments, most arguments or None)
    "min": (min, 2, None),
    "max": (max, 2, None),
    "abs": (abs, 1, 1),
    "sqrt": (math.sqrt, 1, 1),
    "exp": (math.exp, 1, 1),
    "log": (math.log, 1, 1),
    "ceil": (lambda x: float(math.ceil(x)), 1, 1),
    "floor": (lambda x: float(math.floor(x)), 1, 1),
    "time": (_time_placeholder, 1, 1),
}

_OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}

_ALLOWED = (
    "numbers, parameter names, solve.output names, + - * / **, parentheses and "
    f"{', '.join(f'{f}()' for f in FUNCTIONS)}"
)

_DESCRIBE = {
    ast.Subscript: "subscripts ([...])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "assignments (:=)",
    ast.Starred: "*arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


class ExpressionError(ValueError):
    """An expression that cannot be parsed, uses something not allowed, or has no finite value."""


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _where(text: str, node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" (column {col + 1} of {text!r})" if col is not None else f" (in {text!r})"


def _dotted(node: ast.AST) -> str | None:
    """``a`` or ``a.b`` as a string; None for anything else (e.g. ``(1).real``, ``a.b.c``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression; ``names`` are the (dotted) names it refers to."""

    text: str
    tree: ast.Expression
    names: tuple[str, ...]
    uses_time: bool

    def evaluate(self, values: Mapping[str, float], time_unit: str = "s") -> float:
        """The value, with ``values`` for the names and ``time()`` converting s → ``time_unit``."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ExpressionError(unknown_name_message(missing[0], values, self.text))
        return _Evaluator(self.text, values, time_unit).visit(self.tree.body)


def unknown_name_message(name: str, known: Iterable[str], text: str) -> str:
    known = list(known)
    if "." in name:
        solve = name.split(".", 1)[0]
        outputs = sorted(k.split(".", 1)[1] for k in known if k.startswith(solve + "."))
        if outputs:
            hint = suggest(name.split(".", 1)[1], outputs)
            return (
                f"{solve!r} has no output {name.split('.', 1)[1]!r}{hint} in {text!r} "
                f"(outputs: {', '.join(outputs)})"
            )
        solves = sorted({k.split(".", 1)[0] for k in known if "." in k})
        return f"unknown physics solve {solve!r}{suggest(solve, solves)} in {text!r}" + (
            f" (solves: {', '.join(solves)})" if solves else " (no physics solves defined)"
        )
    plain = sorted(k for k in known if "." not in k)
    return f"unknown name {name!r}{suggest(name, plain)} in {text!r}" + (
        f" (parameters: {', '.join(plain)})" if plain else " (no parameters defined)"
    )


def parse(text: str, *, allow_time: bool = True) -> Expression:
    """Parse and check ``text`` against the allow-list (ExpressionError saying what is wrong)."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression (text), found {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ExpressionError(f"expression longer than {MAX_CHARS} characters")
    if not text.strip():
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(f"cannot parse {text!r}{col}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"cannot parse {text!r}: too deeply nested") from None
    except ValueError as exc:  # e.g. a NUL character
        raise ExpressionError(f"cannot parse {text!r}: {exc}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"expression too complex (more than {MAX_NODES} parts)")
    names: list[str] = []
    uses_time = False
    text = text.strip()
    skip: set[int] = set()  # nodes already accounted for as part of a dotted name or a call
    for node in nodes:
        if id(node) in skip or isinstance(
            node, ast.Expression | ast.operator | ast.unaryop | ast.expr_context
        ):
            continue
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                kind = "strings" if isinstance(node.value, str | bytes) else repr(node.value)
                raise ExpressionError(
                    f"{kind} not allowed{_where(text, node)}; allowed: {_ALLOWED}"
                )
        elif isinstance(node, ast.Name | ast.Attribute):
            dotted = _dotted(node)
            if dotted is None or any(p.startswith("_") for p in dotted.split(".")):
                raise ExpressionError(
                    f"attribute access is not allowed{_where(text, node)}; only names and "
                    "solve.output (one dot, no leading underscore)"
                )
            if isinstance(node, ast.Attribute):
                skip.add(id(node.value))
            names.append(dotted)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _OPERATORS:
                raise ExpressionError(
                    f"operator {type(node.op).__name__} is not allowed{_where(text, node)}; "
                    "allowed: + - * / **"
                )
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise ExpressionError(
                    f"operator {type(node.op).__name__} is not allowed{_where(text, node)}"
                )
        elif isinstance(node, ast.Call):
            fname = node.func.id if isinstance(node.func, ast.Name) else None
            if fname not in FUNCTIONS:
                shown = fname or ast.unparse(node.func)
                raise ExpressionError(
                    f"call to {shown!r} is not allowed{_where(text, node)}"
                    f"{suggest(shown, FUNCTIONS)}; functions: {', '.join(FUNCTIONS)}"
                )
            if node.keywords:
                raise ExpressionError(f"{fname}() takes no keyword arguments{_where(text, node)}")
            _, least, most = FUNCTIONS[fname]
            n = len(node.args)
            if n < least or (most is not None and n > most):
                want = f"{least}" if most == least else f"at least {least}"
                raise ExpressionError(
                    f"{fname}() takes {want} argument{'s' if want != '1' else ''}, "
                    f"found {n}{_where(text, node)}"
                )
            if fname == "time":
                if not allow_time:
                    raise ExpressionError(
                        f"time() converts solver seconds into the line's time unit; it belongs "
                        f"in bindings, not here{_where(text, node)}"
                    )
                uses_time = True
            skip.add(id(node.func))
        else:
            what = _DESCRIBE.get(type(node), type(node).__name__)
            raise ExpressionError(f"{what} not allowed{_where(text, node)}; allowed: {_ALLOWED}")
    return Expression(text, tree, tuple(dict.fromkeys(names)), uses_time)


class _Evaluator:
    """Evaluates a checked tree in floats, refusing non-finite intermediate results."""

    def __init__(self, text: str, values: Mapping[str, float], time_unit: str):
        if time_unit not in SECONDS_PER:
            raise ExpressionError(f"unknown time unit {time_unit!r}")
        self.text = text
        self.values = values
        self.per = SECONDS_PER[time_unit]

    def _finite(self, x: float, node: ast.AST) -> float:
        if not math.isfinite(x):
            raise ExpressionError(f"result is not a finite number{_where(self.text, node)}")
        return x

    def visit(self, node: ast.AST) -> float:
        try:
            return self._finite(self._visit(node), node)
        except OverflowError:
            raise ExpressionError(f"number too large{_where(self.text, node)}") from None
        except ZeroDivisionError:
            raise ExpressionError(f"division by zero{_where(self.text, node)}") from None

    def _visit(self, node: ast.AST) -> float:
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]  # parse() allows numbers only
        if isinstance(node, ast.Name | ast.Attribute):
            value = self.values[_dotted(node)]  # type: ignore[index]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ExpressionError(
                    f"{_dotted(node)} is {value!r}, not a number{_where(self.text, node)}"
                )
            return float(value)
        if isinstance(node, ast.UnaryOp):
            x = self.visit(node.operand)
            return -x if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BinOp):
            a, b = self.visit(node.left), self.visit(node.right)
            op = type(node.op)
            if op is ast.Add:
                return a + b
            if op is ast.Sub:
                return a - b
            if op is ast.Mult:
                return a * b
            if op is ast.Div:
                return a / b
            if abs(b) > MAX_EXPONENT:
                raise ExpressionError(
                    f"exponent {b:g} too large (limit {MAX_EXPONENT:g}){_where(self.text, node)}"
                )
            if a < 0 and b != int(b):
                raise ExpressionError(
                    f"negative number to a fractional power{_where(self.text, node)}"
                )
            return float(a**b)
        if isinstance(node, ast.Call):
            fname = node.func.id  # type: ignore[attr-defined]
            args = [self.visit(a) for a in node.args]
            if fname == "time":
                return args[0] / self.per
            try:
                return float(FUNCTIONS[fname][0](*args))
            except ValueError:
                shown = ", ".join(f"{a:g}" for a in args)
                raise ExpressionError(
                    f"{fname}({shown}) is undefined{_where(self.text, node)}"
                ) from None
        raise AssertionError(f"unchecked node {type(node).__name__}")  # parse() refuses these


def evaluate(text: str, values: Mapping[str, float], time_unit: str = "s") -> float:
    """Parse and evaluate ``text`` in one go (see :class:`Expression`)."""
    return parse(text).evaluate(values, time_unit)
