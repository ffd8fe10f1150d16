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

`verify`, the pipeline's final check, holds every record to its method's acceptance standard
(`STANDARDS`: Semi-Instruct's gold tests, Inverse-Instruct's LM-Score best that runs, ...) and
records which one in `scores.standard` / `scores.verified`.

Every stage meters its sandbox runs (`core.usage`): the report's `sandbox_runs`, `sandbox_seconds`
and `sandbox_cpu_seconds`, in total and per method (`extra["by_method"]`).

Both take a `Sandbox` or a `SandboxClient` and check several records at once
(`scoring.sandbox_concurrency`).
"""

from __future__ import annotations

import ast
import contextvars
import logging
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor

from codeinstruct.core import deadline, progress
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import Record
from codeinstruct.core.statuses import Status
from codeinstruct.core.usage import MeteredSandbox, Usage
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


def _run_all(records: Iterable[Record], sandbox: SandboxLike, work: Callable[[Record, SandboxLike], Outcome],
             stage: str, concurrency: int) -> StageReport:
    """Check `records` `concurrency` at a time; each record's sandbox runs are metered on their own,
    so the report carries the sandbox seconds in total and per method (`extra["by_method"]`)."""
    report = StageReport(stage)
    dropped_inputs: Counter[str] = Counter()
    total = Usage()
    by_method: dict[str, Usage] = {}
    records = list(records)

    def metered(record: Record) -> tuple[Outcome, Usage]:
        usage = Usage()
        return work(record, MeteredSandbox(sandbox, usage)), usage

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=stage) as pool, \
            progress.track(stage, total=len(records), unit="record") as task:
        # Submit in windows so a cancelled request stops within one window of work.
        window = concurrency * 4
        for start in range(0, len(records), window):
            deadline.check()
            batch = records[start:start + window]
            # Each task runs in a copy of this context, so the request deadline reaches sandbox calls.
            futures = [pool.submit(contextvars.copy_context().run, metered, record) for record in batch]
            for record, future in zip(batch, futures, strict=True):
                (kept, reason, inputs), usage = future.result()
                total.add(usage)
                by_method.setdefault(record.method, Usage()).add(usage)
                dropped_inputs.update(inputs)
                if kept is None:
                    report.drop(record, reason)
                else:
                    report.keep(kept)
                task.advance(note=f"{len(report.kept)} kept")
    if stage == "validate_semi_instruct":
        report.extra["dropped_inputs"] = dict(dropped_inputs.most_common())
        report.extra["kept_tests"] = sum(int(r.scores.get("n_tests", 0)) for r in report.kept)
    report.extra.update(_sandbox_figures(total))
    report.extra["by_method"] = {method: _sandbox_figures(usage) for method, usage in by_method.items()}
    logger.info("%s: kept %d, dropped %d %s; sandbox %.1fs over %d run(s)", stage, len(report.kept),
                len(report.dropped), report.reasons(), total.sandbox_seconds, total.sandbox_runs)
    return report


def _sandbox_figures(usage: Usage) -> dict[str, int | float]:
    return {k: v for k, v in usage.as_stats().items() if k.startswith("sandbox_")}


def validate_semi_instruct(records: Iterable[Record], sandbox: SandboxLike, *,
                           config: ScoringConfig | None = None) -> StageReport:
    """Semi-Instruct validation (see module docstring)."""
    config = config or ScoringConfig()
    limits = _limits(config)
    return _run_all(records, sandbox, lambda r, box: _validate_one(r, box, limits, config.semi_reject_trivial_tests),
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
    return _run_all(records, sandbox, lambda r, box: _filter_one(r, box, limits), "execution_filter",
                    config.sandbox_concurrency)


# --- verify: every method's acceptance standard, the dataset's final check ----------------------------

# Methods whose generation makes tests: `require_tests=True` means these.
TEST_MAKING_METHODS: tuple[str, ...] = ("semi_instruct",)
# Each method's acceptance standard (recorded as scores.standard = "<method>:<name>"):
#   gold_tests   tests from the ORIGINAL code (source.code), not trivial; code and source.code pass all
#   runs_lm_best the snippet's best instruction by LM-Score (scores.lm_best) and the code runs
#   evolved_runs survived elimination (scores.evol_round) and the code runs (its tests pass, if any)
#   judged_runs  accepted by the discriminator (scores.discriminator) and the code of code tasks runs;
#                repair with tests: the fixed code passes them and the broken code fails one
#   runs         the code runs cleanly (its tests pass, if any)
STANDARDS: dict[str, str] = {"semi_instruct": "gold_tests", "inverse_instruct": "runs_lm_best",
                             "evol_instruct": "evolved_runs", "wavecoder": "judged_runs", "self_instruct": "runs"}
_FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.DOTALL)


def methods_requiring_tests(require_tests: bool | Collection[str]) -> frozenset[str]:
    """`True`: the methods that make tests; `False`: none; else the methods named."""
    if isinstance(require_tests, bool):
        return frozenset(TEST_MAKING_METHODS if require_tests else ())
    return frozenset(require_tests)


def _runs(record: Record, sandbox: SandboxLike, limits: Limits | None) -> tuple[str, str]:
    """("", how it was verified) when the record's code runs cleanly (all its tests pass, if it has
    any), else (reason, "")."""
    if not record.code.strip():
        if record.task in CODE_TASKS:
            return "no_code: a code answer is expected", ""
        return ("", "nothing_to_run") if record.response.strip() else ("no_response: the response is empty", "")
    if record.tests:
        result = sandbox.run_tests(record.code, record.language, record.entry_point, record.tests, limits)
        if result.status is Status.OK and result.passed == result.total:
            return "", "tests"
        return f"{result.status.value}: passed {result.passed}/{result.total}", ""
    if record.language == "python" and not record.entry_point and _READS_STDIN.search(record.code):
        # A stdin program without tests would only read end-of-file: parse it.
        try:
            ast.parse(record.code)
        except SyntaxError as exc:
            return f"{Status.SYNTAX_ERROR.value}: line {exc.lineno}: {exc.msg}", ""
        return "", "parses"
    run = sandbox.execute(record.code, record.language, "", limits)
    if run.status is Status.OK:
        return "", "runs"
    return f"{run.status.value}: {_first_line(run.detail or run.stderr)}", ""


def _gold_tests(record: Record, sandbox: SandboxLike, limits: Limits | None, reject_trivial: bool) -> tuple[str, str]:
    trivial = trivial_tests(record.tests, record.entry_point) if reject_trivial else None
    if trivial:
        return f"trivial_tests: {trivial}", ""
    for which, code in (("code", record.code), ("source", str(record.source.get("code") or ""))):
        if not code.strip():
            return f"{which}_missing: the record has no {'source.code' if which == 'source' else 'code'}", ""
        result = sandbox.run_tests(code, record.language, record.entry_point, record.tests, limits)
        if result.status is not Status.OK or result.passed != result.total:
            status = result.status.value if which == "code" else f"source_{result.status.value}"
            return f"{status}: passed {result.passed}/{result.total}", ""
    return "", "tests"


def _repair(record: Record, sandbox: SandboxLike, limits: Limits | None) -> tuple[str, str]:
    """The fixed code passes the tests and the broken code (the instruction's last code block) fails one."""
    reason, how = _runs(record, sandbox, limits)
    if reason:
        return reason, how
    blocks = _FENCE.findall(record.instruction)
    if not blocks:
        return "repair_no_broken_code: the instruction holds no code block with the broken code", ""
    broken = sandbox.run_tests(blocks[-1], record.language, record.entry_point, record.tests, limits)
    if broken.status is Status.OK and broken.passed == broken.total:
        return f"repair_bug_not_caught: the broken code passes all {broken.total} tests too", ""
    return "", "repair_tests"


def _verify_one(record: Record, sandbox: SandboxLike, limits: Limits | None, require_tests: frozenset[str],
                reject_trivial: bool) -> Outcome:
    none: Counter[str] = Counter()
    method = record.method
    name = STANDARDS.get(method)
    if name is None:
        return None, f"no_standard: method {method!r} has no acceptance standard", none
    if not record.tests and method in require_tests:
        return None, f"no_tests: {method} records must carry tests (pipelines.require_tests)", none
    scores = record.scores
    if method == "semi_instruct" and record.tests:
        reason, how = _gold_tests(record, sandbox, limits, reject_trivial)
    elif method == "inverse_instruct" and scores.get("lm_best") is not True:
        reason, how = "not_lm_best: scores.lm_best is not set (the LM-Score stage marks the best per snippet)", ""
    elif method == "evol_instruct" and (not isinstance(scores.get("evol_round"), (int, float))
                                        or isinstance(scores.get("evol_round"), bool)):
        reason, how = "not_evolved: scores.evol_round is missing (no elimination recorded)", ""
    elif method == "wavecoder" and scores.get("discriminator") in (None, "", "no"):
        reason, how = f"not_judged: scores.discriminator is {scores.get('discriminator')!r}", ""
    elif method == "wavecoder" and record.task == "repair" and record.tests:
        reason, how = _repair(record, sandbox, limits)
    else:
        reason, how = _runs(record, sandbox, limits)
    if reason:
        return None, reason, none
    if method == "semi_instruct" and not record.tests:
        name = "runs"  # semi_instruct not in require_tests: held to what it can show without tests
    record.scores["standard"] = f"{method}:{name}"
    record.scores["verified"] = how
    if how in ("tests", "repair_tests"):
        record.scores["verified_tests"] = len(record.tests)
    return record, "", none


def verify(records: Iterable[Record], sandbox: SandboxLike, *, config: ScoringConfig | None = None,
           require_tests: bool | Collection[str] = True) -> StageReport:
    """Hold every record to its method's acceptance standard (`STANDARDS`) in the sandbox: the
    dataset's final guarantee (DESIGN section 4) that what a run publishes passes its tests.

    `require_tests` names the methods whose records must carry tests (`True`: the methods that make
    tests, `TEST_MAKING_METHODS`; `False`: none); no other record is dropped for having none. Kept
    records get `scores.standard` ("semi_instruct:gold_tests" ...), `scores.verified` (what the sandbox
    established: `tests`, `repair_tests`, `runs`, `parses` or `nothing_to_run`) and, when tests ran,
    `scores.verified_tests`. Drop reasons: `no_tests`, `not_lm_best`, `not_evolved`, `not_judged`,
    `trivial_tests`, `repair_bug_not_caught`, `no_code`, the sandbox status of the code
    (`WRONG_ANSWER`, `RUNTIME_ERROR` ...) or of the source (`source_WRONG_ANSWER`) ...
    """
    config = config or ScoringConfig()
    limits = _limits(config)
    required = methods_requiring_tests(require_tests)
    return _run_all(records, sandbox,
                    lambda r, box: _verify_one(r, box, limits, required, config.semi_reject_trivial_tests),
                    "verify", config.sandbox_concurrency)
