"""Execution checks through the sandbox: Semi-Instruct validation and the execution filter.

Semi-Instruct validation (DESIGN section 4): the ORIGINAL human code (`source.code`) is run on every
generated test input to get the gold output; inputs it cannot answer (error, timeout, an output
that is not repeatable such as `<object at 0x...>`) are dropped with their reason (counted in
`extra["dropped_inputs"]`); then the refined `code` runs on the remaining inputs and the record is
kept only if every output matches. Kept records get `tests` = the gold cases and
`scores.n_tests` = their number. Gold tests that a trivial function passes as well (returning its
only argument, echoing stdin, or one constant output for two or more tests) prove nothing about the
refined code and drop the record as `trivial_tests` (`scoring.semi_reject_trivial_tests`).

The execution filter (other methods): a code answer that does not run is dropped; when the record
carries tests, all of them must pass.

Both take a `Sandbox` or a `SandboxClient` and check several records at once
(`scoring.sandbox_concurrency`).
"""

from __future__ import annotations

import ast
import contextvars
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from codeinstruct.core import deadline
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import Record
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.types import Limits
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.types import StageReport

logger = logging.getLogger(__name__)

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
_READS_STDIN = re.compile(r"\binput\s*\(|\bsys\.stdin\b|\bfileinput\b")
CODE_TASKS = ("generation", "translation", "repair")

Outcome = tuple[Record | None, str, Counter[str]]  # (kept record or None, drop reason, dropped inputs)


def _limits(config: ScoringConfig) -> Limits | None:
    return Limits(timeout_s=config.test_timeout_s) if config.test_timeout_s else None


def _first_line(text: str, limit: int = 120) -> str:
    line = next((part for part in reversed(text.strip().splitlines()) if part.strip()), "")
    return line[:limit]


def _status(value: Status) -> str:
    return value.value.lower()


def _echoes(test_input: str, output: str, entry_point: str) -> bool:
    """Whether `output` is what returning the call's only argument (or echoing stdin) would give."""
    if not entry_point:
        return test_input.strip() == output.strip()
    try:
        call = ast.parse(test_input.strip(), mode="eval").body
        if not isinstance(call, ast.Call) or len(call.args) != 1 or call.keywords:
            return False
        return repr(ast.literal_eval(call.args[0])) == output.strip()
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return False  # not a literal argument: nothing to compare


def trivial_tests(gold: list[dict[str, str]], entry_point: str) -> str | None:
    """Why a trivial function would pass all of `gold`, or None when the tests tell functions apart."""
    outputs = [case["output"] for case in gold]
    if len(gold) >= 2 and len(set(outputs)) == 1:
        return f"a function always returning {outputs[0][:40]!r} passes all {len(gold)} tests"
    if all(_echoes(case["input"], case["output"], entry_point) for case in gold):
        what = "echoing stdin" if not entry_point else "returning the argument unchanged"
        return f"{what} passes every test ({len(gold)})"
    return None


def _validate_one(record: Record, sandbox: SandboxLike, limits: Limits | None, reject_trivial: bool) -> Outcome:
    dropped_inputs: Counter[str] = Counter()
    original = str(record.source.get("code", "") or "")
    if not original.strip():
        return None, "no_source_code: source.code is empty", dropped_inputs
    if not record.code.strip():
        return None, "no_code: the record has no refined code", dropped_inputs
    inputs = list(dict.fromkeys(t.get("input", "") for t in record.tests))
    if not inputs:
        return None, "no_test_inputs: the record has no test inputs", dropped_inputs
    captured = sandbox.capture_outputs(original, record.language, record.entry_point, inputs, limits)
    gold: list[dict[str, str]] = []
    for item in captured:
        status = item.status
        if status is Status.SANDBOX_ERROR:
            return None, f"sandbox_error: {_first_line(item.detail)}", dropped_inputs
        if status is not Status.OK:
            dropped_inputs[f"original_{_status(status)}"] += 1
        elif _ADDRESS.search(item.output):
            dropped_inputs["original_unrepeatable_output"] += 1
        else:
            gold.append({"input": item.input, "output": item.output})
    if not gold:
        detail = ", ".join(f"{k} x{v}" for k, v in dropped_inputs.items())
        return None, f"no_valid_inputs: the original code answers none of them ({detail})", dropped_inputs
    trivial = trivial_tests(gold, record.entry_point) if reject_trivial else None
    if trivial:
        return None, f"trivial_tests: {trivial}", dropped_inputs
    result = sandbox.run_tests(record.code, record.language, record.entry_point, gold, limits)
    if result.passed != result.total or result.total != len(gold):
        case = next(c for c in result.cases if c.status is not Status.OK)
        status = case.status
        test_input = gold[case.index]["input"]
        if status is Status.WRONG_ANSWER:
            return None, (f"output_mismatch: {test_input[:80]!r} gave {case.actual_output[:80]!r}, "
                          f"the original {case.expected_output[:80]!r}"), dropped_inputs
        if status is Status.SANDBOX_ERROR:
            return None, f"sandbox_error: {_first_line(case.detail)}", dropped_inputs
        return None, f"refined_{_status(status)}: {test_input[:80]!r}: {_first_line(case.detail)}", dropped_inputs
    record.tests = gold
    record.scores["n_tests"] = len(gold)
    return record, "", dropped_inputs


def _run_all(records: Iterable[Record], work: Callable[[Record], Outcome], stage: str,
             concurrency: int) -> StageReport:
    report = StageReport(stage)
    dropped_inputs: Counter[str] = Counter()
    records = list(records)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=stage) as pool:
        # Submit in windows so a cancelled request stops within one window of work.
        window = concurrency * 4
        for start in range(0, len(records), window):
            deadline.check()
            batch = records[start:start + window]
            # Each task runs in a copy of this context, so the request deadline reaches sandbox calls.
            futures = [pool.submit(contextvars.copy_context().run, work, record) for record in batch]
            for record, future in zip(batch, futures, strict=True):
                kept, reason, inputs = future.result()
                dropped_inputs.update(inputs)
                if kept is None:
                    report.drop(record, reason)
                else:
                    report.keep(kept)
    if stage == "validate_semi_instruct":
        report.extra["dropped_inputs"] = dict(dropped_inputs.most_common())
        report.extra["kept_tests"] = sum(int(r.scores.get("n_tests", 0)) for r in report.kept)
    logger.info("%s: kept %d, dropped %d %s", stage, len(report.kept), len(report.dropped), report.reasons())
    return report


def validate_semi_instruct(records: Iterable[Record], sandbox: SandboxLike, *,
                           config: ScoringConfig | None = None) -> StageReport:
    """Semi-Instruct validation (see module docstring)."""
    config = config or ScoringConfig()
    limits = _limits(config)
    return _run_all(records, lambda r: _validate_one(r, sandbox, limits, config.semi_reject_trivial_tests),
                    "validate_semi_instruct", config.sandbox_concurrency)


def _filter_one(record: Record, sandbox: SandboxLike, limits: Limits | None) -> Outcome:
    none: Counter[str] = Counter()
    if not record.code.strip():
        if record.task in CODE_TASKS:
            return None, "no_code: a code answer is expected", none
        return record, "", none
    if record.tests:
        result = sandbox.run_tests(record.code, record.language, record.entry_point, record.tests, limits)
        if result.passed == result.total:
            return record, "", none
        return None, f"tests_{_status(result.status)}: passed {result.passed}/{result.total}", none
    if record.language == "python" and not record.entry_point and _READS_STDIN.search(record.code):
        # A stdin program without tests cannot be run meaningfully (it would read EOF): parse only.
        try:
            ast.parse(record.code)
        except SyntaxError as exc:
            return None, f"syntax_error: line {exc.lineno}: {exc.msg}", none
        return record, "", none
    run = sandbox.execute(record.code, record.language, "", limits)
    if run.status is Status.OK:
        return record, "", none
    return None, f"{_status(run.status)}: {_first_line(run.detail or run.stderr)}", none


def execution_filter(records: Iterable[Record], sandbox: SandboxLike, *,
                     config: ScoringConfig | None = None) -> StageReport:
    """Drop records whose code does not run, or whose tests do not all pass."""
    config = config or ScoringConfig()
    limits = _limits(config)
    return _run_all(records, lambda r: _filter_one(r, sandbox, limits), "execution_filter",
                    config.sandbox_concurrency)


def _verify_one(record: Record, sandbox: SandboxLike, limits: Limits | None, require_tests: bool) -> Outcome:
    none: Counter[str] = Counter()
    if not record.tests:
        if require_tests:
            return None, "no_tests", none
        # Nothing to compare against, but the code must still run cleanly (an import crash or a
        # syntax error never reaches the dataset).
        if not record.code.strip():
            return None, "code_missing", none
        run = sandbox.execute(record.code, record.language, "", limits)
        return (record, "", none) if run.status is Status.OK else (None, run.status.value, none)
    codes = [("code", record.code)]
    if record.method == "semi_instruct":
        codes.append(("source", str(record.source.get("code") or "")))
    for which, code in codes:
        if not code.strip():
            return None, f"{which}_missing", none
        result = sandbox.run_tests(code, record.language, record.entry_point, record.tests, limits)
        if result.status is not Status.OK or result.passed != result.total:
            status = result.status.value
            return None, (status if which == "code" else f"source_{status}"), none
    return record, "", none


def verify(records: Iterable[Record], sandbox: SandboxLike, *, config: ScoringConfig | None = None,
           require_tests: bool = True) -> StageReport:
    """Re-run every record's own tests on its `code` (and on `source.code` for semi_instruct): the
    dataset's final guarantee (DESIGN section 4), that what a run publishes passes its tests.

    Without tests a record is dropped (`no_tests`), or with `require_tests=False` kept when its code
    runs to a clean exit. Reasons are the sandbox status (`WRONG_ANSWER`, `source_WRONG_ANSWER` ...).
    """
    config = config or ScoringConfig()
    limits = _limits(config)
    return _run_all(records, lambda r: _verify_one(r, sandbox, limits, require_tests), "verify",
                    config.sandbox_concurrency)
