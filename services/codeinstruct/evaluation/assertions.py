"""HumanEval's tests and signatures as data: the asserted calls, their values, and value types.

The built-in suites derived from HumanEval (multilingual translation, Plus's extra inputs) need the
test cases of a `check(candidate)` function as values, not code. `cases(test)` reads the assertion
forms HumanEval uses:

    assert candidate(ARGS) == EXPECTED          (also `EXPECTED == candidate(...)`, a message after `,`)
    assert candidate(ARGS) is True | False | None
    assert candidate(ARGS)  /  assert not candidate(ARGS)
    assert abs(candidate(ARGS) - EXPECTED) < TOL   (also math.fabs, <=)

where ARGS and EXPECTED are literals (or constant arithmetic on literals). Any other statement in
`check` (loops, random inputs, helper calls) makes the test untranslatable: `Untranslatable` carries
a short reason that the suites count, as MultiPL-E counts the problems it cannot translate.

Types (`Ty`) come from the function's annotations where present and from the test values otherwise
(`unify` joins the values of every case: int with float is float, T with None is Optional[T]).

    >>> cases("def check(candidate):\\n    assert candidate(1, 'a') == [2]\\n")
    [Case(args=(1, 'a'), expected=[2], kind='eq', tolerance=0.0)]
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Any, Literal


class Untranslatable(Exception):
    """A problem (or value) a derived suite cannot use; `reason` is the counted skip reason."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class Case:
    """One asserted call: `candidate(*args)` must equal `expected` (within `tolerance` for `close`)."""

    args: tuple[Any, ...]
    expected: Any
    kind: Literal["eq", "close"] = "eq"
    tolerance: float = 0.0


@dataclasses.dataclass(frozen=True)
class Ty:
    """A value type: int float bool str none unknown (an empty container's element) list tuple dict optional."""

    kind: str
    args: tuple[Ty, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}[{', '.join(map(str, self.args))}]" if self.args else self.kind


INT, FLOAT, BOOL, STR, NONE, UNKNOWN = Ty("int"), Ty("float"), Ty("bool"), Ty("str"), Ty("none"), Ty("unknown")
_SCALARS = {"int": INT, "float": FLOAT, "bool": BOOL, "str": STR, "None": NONE}
_GENERIC = {"List": "list", "list": "list", "Tuple": "tuple", "tuple": "tuple", "Dict": "dict", "dict": "dict",
            "Optional": "optional"}
_SAFE_NODES = (ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.UnaryOp, ast.BinOp,
               ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.Load)


def literal(node: ast.expr) -> Any:
    """The value of a literal expression, constant arithmetic allowed (`2**10`, `'a' * 3`)."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError):
        pass
    tree = ast.Expression(body=node)
    if not all(isinstance(n, _SAFE_NODES) for n in ast.walk(tree)):
        raise Untranslatable("test_form", f"not a literal: {ast.unparse(node)[:80]}")
    try:
        return eval(compile(tree, "<literal>", "eval"), {"__builtins__": {}})  # only constants and operators
    except Exception as exc:
        raise Untranslatable("test_form", f"not a literal: {ast.unparse(node)[:80]}") from exc


def _candidate_call(node: ast.expr) -> tuple[Any, ...] | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tuple" \
            and len(node.args) == 1:
        node = node.args[0]  # `tuple(candidate(x)) == tuple(E)`: the call compared as a sequence
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "candidate":
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise Untranslatable("test_form", "keyword or starred arguments")
        return tuple(literal(a) for a in node.args)
    return None


def _case(test: ast.expr) -> Case | None:
    """The Case of one assert's test expression; None for `assert True`."""
    if isinstance(test, ast.Constant) and test.value is True:
        return None
    if (args := _candidate_call(test)) is not None:
        return Case(args, True)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and (args := _candidate_call(test.operand)) \
            is not None:
        return Case(args, False)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, ast.Eq | ast.Is):
            for call, other in ((left, right), (right, left)):
                if (args := _candidate_call(call)) is not None:
                    singleton = isinstance(other, ast.Constant) and other.value in (True, False, None)
                    if isinstance(op, ast.Is) and not singleton:
                        break
                    expected = literal(other.args[0]) if isinstance(other, ast.Call) and \
                        ast.unparse(other.func) == "tuple" and len(other.args) == 1 else literal(other)
                    return Case(args, expected)
        if isinstance(op, ast.Lt | ast.LtE) and isinstance(left, ast.Call) and len(left.args) == 1 \
                and ast.unparse(left.func) in ("abs", "math.fabs") and isinstance(left.args[0], ast.BinOp) \
                and isinstance(left.args[0].op, ast.Sub):
            diff = left.args[0]
            if (args := _candidate_call(diff.left)) is not None:
                return Case(args, literal(diff.right), "close", float(literal(right)))
    raise Untranslatable("test_form", ast.unparse(test)[:80])


def cases(test: str) -> list[Case]:
    """The asserted calls of a HumanEval test module's `check(candidate)` (see the module docstring)."""
    try:
        tree = ast.parse(test)
    except SyntaxError as exc:
        raise Untranslatable("test_form", f"test does not parse: {exc}") from exc
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    others = [n for n in tree.body if n not in checks and not isinstance(n, ast.Import | ast.ImportFrom)
              and not (isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "METADATA")]
    if len(checks) != 1 or others:
        raise Untranslatable("test_form", "the test module holds more than check()")
    found: list[Case] = []
    for statement in checks[0].body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant | ast.Name):
            continue  # a string used as a comment, a bare `print`
        if not isinstance(statement, ast.Assert):
            raise Untranslatable("test_form", f"statement {type(statement).__name__.lower()} in check()")
        case = _case(statement.test)
        if case is not None:
            found.append(case)
    if not found:
        raise Untranslatable("test_form", "no asserted call")
    return found


# -- types ----------------------------------------------------------------------------------------
def annotation(node: ast.expr | None) -> Ty:
    """The Ty of a Python annotation; UNKNOWN when absent or bare (`list`), so values decide."""
    if node is None:
        return UNKNOWN
    if isinstance(node, ast.Constant) and node.value is None:
        return NONE
    if isinstance(node, ast.Name | ast.Attribute):
        name = ast.unparse(node).rpartition(".")[2]
        if name in _SCALARS:
            return _SCALARS[name]
        if name in _GENERIC:
            return Ty(_GENERIC[name], (UNKNOWN,) * {"list": 1, "dict": 2, "optional": 1}.get(_GENERIC[name], 0)) \
                if _GENERIC[name] != "tuple" else UNKNOWN
        raise Untranslatable("untranslatable_type", name)
    if isinstance(node, ast.Subscript):
        name = ast.unparse(node.value).rpartition(".")[2]
        params = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if name not in _GENERIC:
            raise Untranslatable("untranslatable_type", ast.unparse(node))
        if _GENERIC[name] == "tuple" and any(isinstance(p, ast.Constant) and p.value is Ellipsis for p in params):
            raise Untranslatable("untranslatable_type", "variable-length tuple")
        return Ty(_GENERIC[name], tuple(annotation(p) for p in params))
    raise Untranslatable("untranslatable_type", ast.unparse(node))


def of_value(value: Any) -> Ty:
    """The Ty of a Python value (a container's element types unified)."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STR
    if isinstance(value, list):
        return Ty("list", (unify_all(of_value(v) for v in value),))
    if isinstance(value, tuple):
        return Ty("tuple", tuple(of_value(v) for v in value))
    if isinstance(value, dict):
        return Ty("dict", (unify_all(of_value(k) for k in value), unify_all(of_value(v) for v in value.values())))
    raise Untranslatable("untranslatable_type", type(value).__name__)


def unify_all(types: Any) -> Ty:
    out = UNKNOWN
    for ty in types:
        out = unify(out, ty)
    return out


def unify(a: Ty, b: Ty) -> Ty:
    """The one type holding values of both, or Untranslatable("mixed_types")."""
    if a == b or b == UNKNOWN:
        return a
    if a == UNKNOWN:
        return b
    if {a.kind, b.kind} == {"int", "float"}:
        return FLOAT
    if a == NONE or b == NONE:
        other = b if a == NONE else a
        return other if other.kind == "optional" else Ty("optional", (other,))
    if a.kind == "optional" or b.kind == "optional":
        inner_a = a.args[0] if a.kind == "optional" else a
        inner_b = b.args[0] if b.kind == "optional" else b
        return Ty("optional", (unify(inner_a, inner_b),))
    if a.kind == b.kind and len(a.args) == len(b.args) and a.kind in ("list", "tuple", "dict"):
        return Ty(a.kind, tuple(unify(x, y) for x, y in zip(a.args, b.args, strict=True)))
    raise Untranslatable("mixed_types", f"{a} and {b}")


def concrete(ty: Ty) -> bool:
    """True when no part of `ty` is left UNKNOWN (every container's element type is known)."""
    return ty != UNKNOWN and all(concrete(arg) for arg in ty.args)


@dataclasses.dataclass(frozen=True)
class Signature:
    name: str
    params: tuple[tuple[str, Ty], ...]
    returns: Ty
    docstring: str


def function(prompt: str, entry_point: str) -> ast.FunctionDef:
    """The entry point's definition in a HumanEval prompt; Untranslatable("helper_code") when the
    prompt defines other functions or classes too (their translation is not mechanical)."""
    tree = ast.parse(prompt)
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    target = [n for n in defs if isinstance(n, ast.FunctionDef) and n.name == entry_point]
    if not target:
        raise Untranslatable("helper_code", f"no function {entry_point!r} in the prompt")
    if len(defs) > 1:
        raise Untranslatable("helper_code", f"the prompt defines {len(defs)} functions or classes")
    return target[0]


def signature(prompt: str, entry_point: str, found: list[Case]) -> Signature:
    """Parameter and return types from the annotations, completed and checked by the test values."""
    node = function(prompt, entry_point)
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults:
        raise Untranslatable("untranslatable_type", "variadic, keyword-only or default parameters")
    params = []
    for index, arg in enumerate(args.args):
        declared = annotation(arg.annotation)
        ty = unify_all([declared, *(of_value(c.args[index]) for c in found if len(c.args) > index)])
        params.append((arg.arg, ty))
    if any(len(c.args) != len(params) for c in found):
        raise Untranslatable("test_form", "a call with another number of arguments")
    declared = annotation(node.returns)
    returns = unify_all([declared, *(of_value(c.expected) for c in found)])
    for name, ty in [*params, ("return", returns)]:
        if not concrete(ty):
            raise Untranslatable("unknown_type", f"{name}: {ty} (only empty containers in the tests)")
        if ty == NONE:
            raise Untranslatable("untranslatable_type", f"{name}: always None")
    return Signature(entry_point, tuple(params), returns, ast.get_docstring(node, clean=True) or "")
