"""EvalPlus files: HumanEval+ (`HumanEvalPlus.jsonl`) and MBPP+ (`MbppPlus.jsonl`).

Each line: task_id ("HumanEval/0" or "Mbpp/2"), prompt, entry_point, canonical_solution,
base_input and plus_input (lists of argument lists), atol (and contract, test/assertion, unused).
EvalPlus's check is differential: the sample's function is called on every input and its output
compared with the canonical solution's, exactly (`==`) or, for float outputs or a non-zero atol,
within `atol` (rtol 1e-7, as `np.allclose`). Here the canonical solution runs first in the same
program (before the sample is defined) to produce the expected outputs, then the sample's outputs
are compared; the first mismatch is raised with its input. EvalPlus's special oracles for
HumanEval/32 (a root of the polynomial within atol) and the MBPP+ tasks compared as sets or as
"not None" are kept; its per-task input deserialisation of MBPP+ tuples is not (inputs are the
JSON lists, given to the reference and the sample alike), and its per-input time limits are one
limit for the whole program.

Example:
    codeinstruct eval evalplus-humaneval --file HumanEvalPlus.jsonl --samples samples.jsonl
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from codeinstruct.evaluation.loaders.common import Loaded, finish, need, read_rows
from codeinstruct.evaluation.problems import Problem

KEYS = ("task_id", "prompt", "entry_point", "canonical_solution", "base_input")
SET_EQUAL = ("similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum",
             "intersection_array", "find_dissimilar", "Diff")
NOT_NONE = ("check_str", "text_match_three", "text_starta_endb")

_PREAMBLE = """\
import copy as _copy, json as _json, math as _math
_INPUTS = _json.loads({inputs!r})
_ref_ns = {{"__name__": "__reference__"}}
exec(compile({reference!r}, "<canonical solution>", "exec"), _ref_ns)
_EXPECTED = [_ref_ns[{entry!r}](*_copy.deepcopy(_args)) for _args in _INPUTS]
"""

_TEST = """\
def _floats(value):
    if isinstance(value, float):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, float) for v in value)


def _close(out, exp, atol):
    if type(out) is not type(exp):
        return False
    pairs = list(zip(out, exp)) if isinstance(exp, (list, tuple)) else [(out, exp)]
    if isinstance(exp, (list, tuple)) and len(out) != len(exp):
        return False
    return all(abs(a - b) <= atol + 1e-07 * abs(b) for a, b in pairs)


def _same(args, out, exp, atol):
    if {entry!r} == "find_zero":
        return abs(sum(c * _math.pow(out, i) for i, c in enumerate(args[0]))) <= atol
    if {entry!r} in {set_equal!r}:
        return set(out) == set(exp)
    if {entry!r} in {not_none!r}:
        return out == exp if isinstance(out, bool) else exp == (out is not None)
    if out == exp:
        return True
    if atol == 0 and _floats(exp):
        atol = 1e-6
    return atol != 0 and _close(out, exp, atol)


for _i, (_args, _exp) in enumerate(zip(_INPUTS, _EXPECTED)):
    _out = {entry}(*_copy.deepcopy(_args))
    if not _same(_args, _out, _exp, {atol!r}):
        raise AssertionError(f"input #{{_i}} {{_args!r:.300}}: expected {{_exp!r:.300}}, got {{_out!r:.300}}")
"""


def load(path: str | Path | None, language: str | None = None, limit: int | None = None, *,
         plus: bool = True) -> Loaded:
    """HumanEval+ or MBPP+ problems (base inputs, plus EvalPlus's inputs when `plus`)."""
    skipped: Counter[str] = Counter()
    problems = []
    for number, row in enumerate(read_rows(path), 1):
        need(row, KEYS, where=f"{path}: line {number}")
        task_id, entry = str(row["task_id"]), str(row["entry_point"])
        inputs = list(row["base_input"]) + (list(row.get("plus_input") or []) if plus else [])
        mbpp = task_id.startswith("Mbpp/")
        reference = row["canonical_solution"] if mbpp else row["prompt"] + row["canonical_solution"]
        problems.append(Problem(
            task_id=task_id, language="python", prompt=str(row["prompt"]), entry_point=entry,
            canonical_solution=str(row["canonical_solution"]), mode="full" if mbpp else "completion",
            preamble=_PREAMBLE.format(inputs=json.dumps(inputs), reference=reference, entry=entry),
            test=_TEST.format(entry=entry, set_equal=SET_EQUAL if mbpp else (), not_none=NOT_NONE if mbpp else (),
                              atol=float(row.get("atol") or 0)),
            metadata={"inputs": len(inputs), "plus_inputs": len(inputs) - len(row["base_input"])}))
    return finish(problems, skipped, limit, language)
