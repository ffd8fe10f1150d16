"""Our HumanEval with extra tests, by the EvalPlus method (Liu et al., 2023).

Suite `humaneval-plus` (ours; the published HumanEval+ file loads with `--file`): each problem's
test inputs (the `candidate(...)` calls of its `check`, `evaluation/assertions.py`) are mutated
type-aware, seeded per task: ints +-1, x2, negated, 0; floats scaled or negated; strings with a
character inserted, deleted or swapped, or emptied; lists with an element appended (a mutated copy
of one of theirs), removed or duplicated, or reversed; bools flipped; tuples element-wise. The
canonical solution is the oracle: it runs on every new input in the sandbox; inputs on which it
raises, runs over `SLOW_S`, or returns a value of another type than the base tests expect are
dropped (EvalPlus's "invalid inputs"; it also uses hand-written input contracts, which we do not
have). Each problem's test is the original `check` plus one assertion per kept input (floats within
1e-6); `metadata["extra_tests"]` counts them and `summary()` sums them for the report.

Example:
    with open_sandbox("inprocess", SandboxConfig()) as box:
        problems, skipped = plus.problems(limit=10, sandbox=box)
        plus.summary(problems)   # {"extra_tests": 231, "base_tests": 78, ...}
"""

from __future__ import annotations

import ast
import copy
import json
import logging
import random
import string
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.evaluation.assertions import Untranslatable, cases, of_value, unify
from codeinstruct.evaluation.fix import sandbox_or_default
from codeinstruct.evaluation.problems import Problem
from codeinstruct.sandbox.types import BatchRun

logger = logging.getLogger(__name__)

SUITE = "humaneval-plus"
METHOD = "EvalPlus (Liu et al., 2023) type-aware input mutation, canonical solution as oracle, by codeinstruct"
EXTRA = 30  # new inputs tried per problem (before the oracle drops invalid ones)
SLOW_S = 0.5  # an input the canonical solution needs longer for is dropped (keeps the test within its timeout)
BUDGET_S = 1.0  # and inputs past this much canonical run time in total, so the extra tests stay quick
MAX_INT = 10 ** 9
MAX_LEN = 60
ORACLE_TIMEOUT_S = 30.0

ORACLE = """
import copy as _copy, json as _json, signal as _signal, time as _time
class _Slow(Exception):
    pass
def _alarm(*_):
    raise _Slow()
_signal.signal(_signal.SIGALRM, _alarm)
for _i, _args in enumerate({inputs}):
    _started = _time.perf_counter()
    try:
        _signal.setitimer(_signal.ITIMER_REAL, {slow})
        _out = {entry}(*_copy.deepcopy(_args))
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        print(_json.dumps({{"i": _i, "ok": True, "out": repr(_out), "s": _time.perf_counter() - _started}}))
    except BaseException as _exc:
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        print(_json.dumps({{"i": _i, "ok": False, "why": "slow" if isinstance(_exc, _Slow) else "raises"}}))
"""

EXTRA_TEST = """

def _plus_equal(a, b):
    import math
    if isinstance(b, float) and isinstance(a, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
    if isinstance(b, (list, tuple)) and isinstance(a, type(b)):
        return len(a) == len(b) and all(_plus_equal(x, y) for x, y in zip(a, b))
    return a == b


for _args, _expected in {cases}:
    assert _plus_equal({entry}(*_args), _expected), f"{entry}{{tuple(_args)}} should be {{_expected!r}}"
"""


# -- mutation -------------------------------------------------------------------------------------
def mutate(value: Any, rng: random.Random) -> Any:
    """A type-aware mutation of `value` (same type), or `value` itself when none applies."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        choice = rng.choice([value + 1, value - 1, value * 2, -value, 0])
        return choice if abs(choice) <= MAX_INT else value
    if isinstance(value, float):
        return rng.choice([value * 2.0, value / 2.0, -value, value + 1.0, 0.0])
    if isinstance(value, str):
        return _mutate_str(value, rng)
    if isinstance(value, list):
        return _mutate_list(value, rng)
    if isinstance(value, tuple) and value:
        index = rng.randrange(len(value))
        return (*value[:index], mutate(value[index], rng), *value[index + 1:])
    return value


def _mutate_str(text: str, rng: random.Random) -> str:
    alphabet = sorted(set(text)) or list(string.ascii_lowercase)
    position = rng.randrange(len(text) + 1)
    ways = ["insert", "empty"] + (["delete", "swap"] if text else [])
    way = rng.choice(ways)
    if way == "insert" and len(text) < MAX_LEN:
        return text[:position] + rng.choice([*alphabet, rng.choice(string.ascii_letters)]) + text[position:]
    if way == "delete":
        position = min(position, len(text) - 1)
        return text[:position] + text[position + 1:]
    if way == "swap" and len(text) > 1:
        position = min(position, len(text) - 2)
        return text[:position] + text[position + 1] + text[position] + text[position + 2:]
    return "" if way == "empty" else text


def _mutate_list(items: list[Any], rng: random.Random) -> list[Any]:
    if not items:
        return items
    ways = ["append", "remove", "reverse", "duplicate", "element"]
    way = rng.choice(ways)
    index = rng.randrange(len(items))
    if way == "append" and len(items) < MAX_LEN:
        return [*items, mutate(copy.deepcopy(items[index]), rng)]
    if way == "remove":
        return items[:index] + items[index + 1:]
    if way == "reverse":
        return items[::-1]
    if way == "duplicate" and len(items) < MAX_LEN:
        return [*items[:index + 1], copy.deepcopy(items[index]), *items[index + 1:]]
    return [*items[:index], mutate(items[index], rng), *items[index + 1:]]


def new_inputs(base: list[tuple[Any, ...]], rng: random.Random, count: int = EXTRA) -> list[tuple[Any, ...]]:
    """Up to `count` distinct mutated inputs (one argument changed per step, from the growing pool)."""
    seen = {repr(args) for args in base}
    pool = list(base)
    out: list[tuple[Any, ...]] = []
    for _ in range(count * 5):
        if len(out) >= count:
            break
        args = rng.choice(pool)
        if not args:
            break
        index = rng.randrange(len(args))
        changed = (*args[:index], mutate(copy.deepcopy(args[index]), rng), *args[index + 1:])
        key = repr(changed)
        try:
            if key in seen or ast.literal_eval(key) != changed:
                continue  # already known, or a value whose repr is not a literal
        except (ValueError, SyntaxError):
            continue
        seen.add(key)
        pool.append(changed)
        out.append(changed)
    return out


# -- oracle and problems --------------------------------------------------------------------------
def _oracle_run(problem: dict[str, Any], inputs: list[tuple[Any, ...]]) -> BatchRun:
    code = problem["prompt"] + problem["canonical_solution"] + ORACLE.format(
        inputs=repr(inputs), slow=SLOW_S, entry=problem["entry_point"])
    return {"code": code, "language": "python", "limits": {"timeout_s": ORACLE_TIMEOUT_S}}


def _kept(lines: str, inputs: list[tuple[Any, ...]], expected_type: Any,
          dropped: dict[str, int]) -> list[tuple[tuple[Any, ...], Any]]:
    results = {}
    for line in lines.splitlines():
        try:
            row = json.loads(line)
            results[row["i"]] = row
        except (ValueError, KeyError, TypeError):
            continue
    kept = []
    spent = 0.0
    for index, args in enumerate(inputs):
        row = results.get(index)
        why = "no_output" if row is None else (row.get("why") or "")
        if not why and row is not None:
            spent += float(row.get("s", 0.0))
            why = "slow" if spent > BUDGET_S else ""
        if not why and row is not None:
            try:
                output = ast.literal_eval(row["out"])
                unify(expected_type, of_value(output))
                kept.append((args, output))
                continue
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                why = "not_literal"
            except Untranslatable:
                why = "other_type"
        dropped[why] = dropped.get(why, 0) + 1
    return kept


def problems(limit: int | None = None, language: str = "python", *, sandbox: SandboxLike | None = None,
             seed: int = 0, extra: int = EXTRA,
             source: dict[str, dict[str, Any]] | None = None) -> tuple[list[Problem], dict[str, int]]:
    """The first `limit` HumanEval problems (all when None) with their extra tests, and skipped counts
    ("limit" for the rest). A problem whose test inputs cannot be read keeps its base test only."""
    from codeinstruct.engines.base import derive_seed

    if language != "python":
        raise InvalidInput(f"{SUITE} is Python only (HumanEval's canonical solutions), got {language!r}",
                           field="language")
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be >= 1, got {limit}", field="limit")
    if extra < 0:
        raise InvalidInput(f"extra must be >= 0, got {extra}", field="extra")
    if source is None:
        from codeinstruct.evaluation.humaneval import load_problems

        source = load_problems()
    ordered = sorted(source.values(), key=lambda p: int(p["task_id"].rpartition("/")[2]))
    chosen = ordered[:limit] if limit else ordered
    skipped = {"limit": len(ordered) - len(chosen)} if len(chosen) < len(ordered) else {}
    plans: list[tuple[dict[str, Any], list[tuple[Any, ...]], Any, str]] = []
    for problem in chosen:
        try:
            base = cases(problem["test"])
            expected_type = of_value(base[0].expected)
            for case in base[1:]:
                expected_type = unify(expected_type, of_value(case.expected))
            rng = random.Random(derive_seed(seed, problem["task_id"], "plus"))
            plans.append((problem, new_inputs([c.args for c in base], rng, extra), expected_type, ""))
        except Untranslatable as exc:
            plans.append((problem, [], None, exc.reason))
    runs = [_oracle_run(problem, inputs) for problem, inputs, _, _ in plans if inputs]
    with sandbox_or_default(sandbox) as box:
        results = dict(box.execute_batch(runs)) if runs else {}
    out: list[Problem] = []
    run_index = 0
    for problem, inputs, expected_type, reason in plans:
        dropped: dict[str, int] = {}
        kept: list[tuple[tuple[Any, ...], Any]] = []
        if inputs:
            kept = _kept(results[run_index].stdout, inputs, expected_type, dropped)
            run_index += 1
        out.append(_problem(problem, kept, dropped, reason))
    logger.info("%s: %d problem(s), %s", SUITE, len(out), summary(out))
    return out, skipped


def _problem(problem: dict[str, Any], kept: list[tuple[tuple[Any, ...], Any]], dropped: dict[str, int],
             reason: str) -> Problem:
    test = f"{problem['test'].rstrip()}\n\ncheck({problem['entry_point']})\n"
    if kept:
        test += EXTRA_TEST.format(cases=repr([(list(args), output) for args, output in kept]),
                                  entry=problem["entry_point"])
    number = problem["task_id"].rpartition("/")[2]
    try:
        base = len(cases(problem["test"]))
    except Untranslatable:
        base = 0
    return Problem(task_id=f"HumanEvalPlus-ours/{number}", language="python", prompt=problem["prompt"], test=test,
                   entry_point=problem["entry_point"], canonical_solution=problem["canonical_solution"],
                   mode="completion",
                   metadata={"suite": SUITE, "method": METHOD, "source_task_id": problem["task_id"],
                             "base_tests": base, "extra_tests": len(kept), "dropped_inputs": dropped,
                             **({"no_extra_reason": reason} if reason else {})})


def summary(problems: list[Problem]) -> dict[str, Any]:
    """Extra-test figures of a Plus suite for the report: totals, per-problem mean, problems without any."""
    extra = [int(p.metadata.get("extra_tests", 0)) for p in problems]
    return {"extra_tests": sum(extra), "base_tests": sum(int(p.metadata.get("base_tests", 0)) for p in problems),
            "extra_per_problem": round(sum(extra) / len(extra), 2) if extra else 0.0,
            "problems_without_extra": sum(1 for n in extra if n == 0)}
