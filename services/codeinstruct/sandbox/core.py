"""The sandbox core: run untrusted code on warm isolated workers and turn what happened into a status.

Transport-free: the gRPC servicer, the CLI and tests call `Sandbox` directly.

Example:
    >>> from codeinstruct.sandbox.config import SandboxConfig
    >>> from codeinstruct.sandbox.core import Sandbox
    >>> with Sandbox(SandboxConfig(workers=1)) as sandbox:        # doctest: +SKIP
    ...     sandbox.execute("print(6 * 7)").stdout
    '42\\n'
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.core.lifecycle import Closing
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox import languages, selfcheck, verdicts
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.languages import MIB, Recipe
from codeinstruct.sandbox.pool import RUN_ENV, WorkerHandle, WorkerPool
from codeinstruct.sandbox.supervision import Payload, RawRun
from codeinstruct.sandbox.types import (
    BatchRun,
    CapturedOutput,
    CaseResult,
    ExecutionResult,
    Limits,
    LimitsArg,
    SandboxInfo,
    TestsResult,
)

logger = logging.getLogger(__name__)

HARNESSES = ("default", "humaneval")


@dataclass(frozen=True)
class _Resolved:
    timeout_s: float
    memory_mb: int
    max_output_bytes: int


class Sandbox(Closing):
    """Warm, isolated workers plus the verdict logic. Thread-safe; use as a context manager."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.recipes: dict[str, Recipe] = languages.detect(self.config.languages)
        missing = sorted(set(self.config.languages) - set(self.recipes))
        if missing:
            logger.warning("sandbox languages without a toolchain here, not offered: %s", missing)
        self.layers = selfcheck.layers(self.config)
        self._pool = WorkerPool(self.config, check=self._check_worker)

    def _check_worker(self, worker: WorkerHandle) -> None:
        """The start-up self-check, on one worker (each start and each replacement)."""
        limits = self._limits(None)
        recipe = self.recipes["python"]
        raw = self._run_on(worker, self._request(recipe, selfcheck.PROBE, limits), "", limits.timeout_s,
                           limits.max_output_bytes)
        selfcheck.verify(self.config, self.classify(raw, recipe))

    def on_health(self, callback: Callable[[bool], None]) -> None:
        """`callback(False)` while no worker can be made healthy (the service then reports NOT_SERVING),
        `callback(True)` otherwise: called now and on every change."""
        self._pool.on_health(callback)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self._pool.close()

    def info(self) -> SandboxInfo:
        c = self.config
        return {
            "languages": sorted(self.recipes),
            "isolation_layers": list(self.layers),
            "default_limits": Limits(c.default_timeout_s, c.default_memory_mb, c.default_max_output_bytes),
            "max_limits": Limits(c.max_timeout_s, c.max_memory_mb, c.max_output_bytes),
            "workers": self._pool.size,
            "python": str(self._pool.python),
            "worker_recycles": self._pool.recycles,
            "healthy_workers": self._pool.healthy_workers,
        }

    # -- validation --------------------------------------------------------------------------------
    def _limits(self, limits: LimitsArg, field: str = "limits") -> _Resolved:
        if isinstance(limits, dict):
            unknown = sorted(set(limits) - {"timeout_s", "memory_mb", "max_output_bytes"})
            if unknown:
                raise InvalidInput(f"unknown limit(s) {unknown}", field=field)
            limits = Limits(**limits)
        elif limits is not None and not isinstance(limits, Limits):
            raise InvalidInput(f"limits must be Limits or a mapping, got {type(limits).__name__}", field=field)
        limits = limits or Limits()
        c = self.config
        timeout = float(limits.timeout_s or c.default_timeout_s)
        memory = int(limits.memory_mb or c.default_memory_mb)
        output = int(limits.max_output_bytes or c.default_max_output_bytes)
        if not 0 < timeout <= c.max_timeout_s or math.isnan(timeout):
            raise InvalidInput(f"timeout_s must be in (0, {c.max_timeout_s}], got {timeout}",
                               field=f"{field}.timeout_s")
        if not 16 <= memory <= c.max_memory_mb:
            raise InvalidInput(f"memory_mb must be in [16, {c.max_memory_mb}], got {memory}",
                               field=f"{field}.memory_mb")
        if not 1024 <= output <= c.max_output_bytes:
            raise InvalidInput(f"max_output_bytes must be in [1024, {c.max_output_bytes}], got {output}",
                               field=f"{field}.max_output_bytes")
        return _Resolved(timeout, memory, output)

    def _recipe(self, language: str, field: str = "language") -> Recipe:
        recipe = self.recipes.get(language or "python")
        if recipe is None:
            raise InvalidInput(f"language {language!r} is not available; available: {sorted(self.recipes)}",
                               field=field)
        return recipe

    def _check_code(self, code: str, field: str = "code") -> None:
        if not isinstance(code, str):
            raise InvalidInput(f"code must be a string, got {type(code).__name__}", field=field)
        if len(code.encode("utf-8", "surrogateescape")) > self.config.max_code_bytes:
            raise InvalidInput(f"code is larger than {self.config.max_code_bytes} bytes", field=field)

    def _check_stdin(self, stdin: str, field: str = "stdin") -> None:
        if not isinstance(stdin, str):
            raise InvalidInput(f"stdin must be a string, got {type(stdin).__name__}", field=field)
        if len(stdin.encode("utf-8", "surrogateescape")) > self.config.max_stdin_bytes:
            raise InvalidInput(f"stdin is larger than {self.config.max_stdin_bytes} bytes", field=field)

    # -- one run on a held worker --------------------------------------------------------------------
    def _request(self, recipe: Recipe, code: str, limits: _Resolved, *, compile_step: bool = False,
                 harness: dict[str, str] | None = None, compiled: bool = False) -> Payload:
        """The payload of one run. Stages: "script" (fresh dir with the source), "compile" (the source in
        the job dir, which keeps the compiler's output), "compiled" (a fresh dir with a copy of it)."""
        c = self.config
        memory_mb = c.compile_memory_mb if compile_step else limits.memory_mb
        timeout = c.compile_timeout_s if compile_step else limits.timeout_s
        reserve = recipe.address_reserve_mb + (1536 if compile_step and recipe.name == "java" else 0)
        run_limits = {
            "memory_bytes": (memory_mb + reserve) * MIB,
            "cpu_s": math.ceil(timeout) + 1,
            "file_bytes": c.max_file_mb * MIB,
            "open_files": c.max_open_files,
            "processes": c.max_processes + recipe.extra_processes + (32 if compile_step else 0),
        }
        stage = "compile" if compile_step else "compiled" if compiled else "script"
        request: Payload = {"stage": stage, "limits": run_limits, "env": dict(RUN_ENV)}
        request["files"] = {} if compiled else {recipe.source_file(code): code}
        if recipe.name == "python":
            request["kind"] = "python"
            request["harness"] = {"mode": "script", "path": recipe.source_file(code), **(harness or {})}
        else:
            request["kind"] = "exec"
            parts = recipe.compile_argv if compile_step else recipe.run_argv
            request["argv"] = recipe.argv(parts, code, memory_mb)
        return request

    def _run_on(self, worker: WorkerHandle, request: Payload, stdin: str, timeout_s: float,
                max_output: int) -> RawRun:
        return worker.run(request, stdin.encode("utf-8", "surrogateescape"), timeout_s, max_output)

    def _run(self, request: Payload, stdin: str, limits: _Resolved, timeout_s: float | None = None) -> RawRun:
        """Run on any free worker; a worker that breaks is replaced and the run retried once."""
        raw = RawRun()
        for _attempt in range(2):
            worker = self._pool.acquire()
            broken = False
            try:
                raw = self._run_on(worker, request, stdin, timeout_s or limits.timeout_s, limits.max_output_bytes)
                broken = raw.worker_lost
            finally:
                self._pool.release(worker, broken=broken, reason=raw.error or "lost")
            if not raw.worker_lost:
                return raw
            logger.warning("sandbox worker %d lost during a run (%s); retrying once", worker.index, raw.error)
        return raw

    def classify(self, raw: RawRun, recipe: Recipe, max_text: int | None = None) -> ExecutionResult:
        """Map what the supervisor saw to a DESIGN section 5 status (verdicts.classify)."""
        return verdicts.classify(raw, recipe, max_text or self.config.max_output_bytes)

    # -- public API --------------------------------------------------------------------------------
    def execute(self, code: str, language: str = "python", stdin: str = "",
                limits: LimitsArg = None) -> ExecutionResult:
        """Run one program on `stdin` and report its status, output and resource use."""
        recipe = self._recipe(language)
        self._check_code(code)
        self._check_stdin(stdin)
        resolved = self._limits(limits)
        deadline.check()
        if recipe.compiled:
            return next(self._compiled_runs(recipe, code, resolved, [stdin]))
        raw = self._run(self._request(recipe, code, resolved), stdin, resolved)
        return self.classify(raw, recipe, resolved.max_output_bytes)

    def _compile_stage_error(self, recipe: Recipe, code: str) -> ExecutionResult | None:
        """A compile-stage failure found before any run: a Java public class no file can be named after."""
        if recipe.name == "java" and len(recipe.source_file(code).encode()) > languages.MAX_FILE_NAME_BYTES:
            return ExecutionResult(Status.SYNTAX_ERROR, exit_code=1, detail=(
                f"public class name is {len(languages.java_main_class(code))} characters; javac needs a file "
                f"named after it, and file names are at most {languages.MAX_FILE_NAME_BYTES} bytes"))
        return None

    def _compiled_runs(self, recipe: Recipe, code: str, limits: _Resolved,
                       stdins: list[str]) -> Iterator[ExecutionResult]:
        """Compile on one worker, then run once per stdin there, yielding each verdict as it is known.

        A failed compile is SYNTAX_ERROR (MEMORY_EXCEEDED and TIMEOUT keep their status) and is the
        verdict of every run. Results are yielded one by one, so a caller keeps at most one full output.
        """
        early = self._compile_stage_error(recipe, code)
        if early is not None:
            for _ in stdins:
                yield early
            return
        worker = self._pool.acquire()
        broken, reason = False, ""
        try:
            compiled = self._run_on(worker, self._request(recipe, code, limits, compile_step=True), "",
                                    self.config.compile_timeout_s, self.config.max_output_bytes)
            broken, reason = compiled.worker_lost, compiled.error
            result = self.classify(compiled, recipe, limits.max_output_bytes)
            if result.status is not Status.OK:
                if result.status in (Status.RUNTIME_ERROR, Status.OUTPUT_TRUNCATED):
                    result = replace(result, status=Status.SYNTAX_ERROR, detail=verdicts.tail(result.stderr))
                elif result.status is Status.TIMEOUT:
                    result = replace(result, detail="compilation timed out")
                for _ in stdins:
                    yield result
                return
            request = self._request(recipe, code, limits, compiled=True)
            for stdin in stdins:
                deadline.check()
                raw = self._run_on(worker, request, stdin, limits.timeout_s, limits.max_output_bytes)
                if raw.worker_lost:
                    broken, reason = True, raw.error
                yield self.classify(raw, recipe, limits.max_output_bytes)
        finally:
            self._pool.release(worker, broken=broken, reason=reason or "lost")

    def execute_batch(self, runs: list[BatchRun],
                      concurrency: int | None = None) -> Iterator[tuple[int, ExecutionResult]]:
        """Run many programs, at most `concurrency` at once; yields (index, result) as each finishes."""
        if len(runs) > self.config.max_batch:
            raise InvalidInput(f"at most {self.config.max_batch} runs per batch, got {len(runs)}", field="runs")
        prepared = []
        for i, run in enumerate(runs):
            if not isinstance(run, dict) or "code" not in run:
                raise InvalidInput("each run needs at least 'code'", field=f"runs[{i}]")
            unknown = sorted(set(run) - {"code", "language", "stdin", "limits"})
            if unknown:
                raise InvalidInput(f"unknown run field(s) {unknown}", field=f"runs[{i}]")
            self._recipe(run.get("language") or "python", field=f"runs[{i}].language")
            self._check_code(run["code"], field=f"runs[{i}].code")
            self._check_stdin(run.get("stdin", ""), field=f"runs[{i}].stdin")
            self._limits(run.get("limits"), field=f"runs[{i}].limits")
            prepared.append(run)
        width = max(1, min(concurrency or self._pool.size, 64))
        if concurrency is not None and concurrency < 0:
            raise InvalidInput(f"concurrency must be >= 0, got {concurrency}", field="concurrency")
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="sandbox-batch") as pool:
            pending: dict[Future[ExecutionResult], int] = {}
            queue = iter(enumerate(prepared))
            try:
                for index, run in queue:
                    pending[pool.submit(self._batch_one, run)] = index
                    if len(pending) >= width * 2:
                        break
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = pending.pop(future)
                        yield index, future.result()
                    deadline.check()
                    for index, run in queue:
                        pending[pool.submit(self._batch_one, run)] = index
                        if len(pending) >= width * 2:
                            break
            finally:
                for future in pending:
                    future.cancel()

    def _batch_one(self, run: BatchRun) -> ExecutionResult:
        """One run of a batch; a worker that cannot be had fails this run alone, not the whole stream."""
        try:
            return self.execute(run["code"], run.get("language") or "python", run.get("stdin", ""),
                                run.get("limits"))
        except Unavailable as exc:
            return ExecutionResult(Status.SANDBOX_ERROR, detail=str(exc))

    def run_tests(self, code: str, language: str, entry_point: str, tests: list[dict[str, str]],
                  limits: LimitsArg = None, harness: str = "default") -> TestsResult:
        """Run DESIGN section 4 test cases; a case passes only on the harness's positive signal.

        Each case is compared as it finishes and only a bounded part of its output is kept: the
        echoed expected and actual outputs share the response budget (`max_response_mb`) evenly.
        """
        inputs = [self._test_input(t, i) for i, t in enumerate(tests)]
        share = self._share(len(tests))
        cases: list[CaseResult] = []
        for index, (test, (result, value)) in enumerate(zip(
                tests, self._cases(code, language, entry_point, inputs, limits, harness), strict=True)):
            expected = str(test.get("output", ""))
            status = result.status
            actual = value if value is not None else result.stdout
            if status is Status.OK:
                status = Status.OK if actual == expected else Status.WRONG_ANSWER
            detail = result.detail if status is not Status.WRONG_ANSWER else ""
            shown_expected, cut_expected = verdicts.bounded_text(expected, share)
            shown_actual, cut_actual = verdicts.bounded_text(actual, share)
            if cut_expected or cut_actual:
                note = f"outputs shown cut to {share} bytes each (response budget)"
                detail = f"{detail}; {note}" if detail else note
            cases.append(CaseResult(index, status, shown_expected, shown_actual, detail, result.wall_time_s))
        passed = sum(case.status is Status.OK for case in cases)
        failing = next((case.status for case in cases if case.status is not Status.OK), Status.OK)
        return TestsResult(failing, cases, passed, len(cases))

    def capture_outputs(self, code: str, language: str, entry_point: str, inputs: list[str],
                        limits: LimitsArg = None) -> list[CapturedOutput]:
        """What `code` produces for each input: repr() of the call's value, or its exact stdout.

        An output larger than its share of the response budget is never returned cut as if whole:
        that input gets OUTPUT_TRUNCATED.
        """
        for i, item in enumerate(inputs):
            if not isinstance(item, str):
                raise InvalidInput(f"inputs must be strings, got {type(item).__name__}", field=f"inputs[{i}]")
        share = self._share(len(inputs), echoed=1)
        captured = []
        for item, (result, value) in zip(inputs, self._cases(code, language, entry_point, inputs, limits, "default"),
                                         strict=True):
            output = value if value is not None else result.stdout
            status, detail = result.status, result.detail
            shown, cut = verdicts.bounded_text(output, share)
            if cut:
                status, shown, detail = Status.OUTPUT_TRUNCATED, "", (
                    f"output over this call's response budget ({share} bytes per input); ask for fewer inputs")
            captured.append(CapturedOutput(item, status, shown, detail))
        return captured

    def _share(self, count: int, echoed: int = 2) -> int:
        """Bytes of output text each of `count` cases may return (`echoed` texts per case)."""
        budget = self.config.max_response_mb << 20
        return max(4096, budget // max(1, count * echoed))

    @staticmethod
    def _test_input(test: object, index: int) -> str:
        if not isinstance(test, dict) or not isinstance(test.get("input", ""), str) \
                or not isinstance(test.get("output", ""), str):
            raise InvalidInput("each test is {'input': str, 'output': str}", field=f"tests[{index}]")
        return test.get("input", "")

    def _cases(self, code: str, language: str, entry_point: str, inputs: list[str],
               limits: LimitsArg, harness: str) -> Iterator[tuple[ExecutionResult, str | None]]:
        """Validate, then run each input, yielding (result, value) as each finishes; value is the
        harness-reported repr (call mode). Validation errors raise before any run starts."""
        recipe = self._recipe(language)
        self._check_code(code)
        resolved = self._limits(limits)
        if len(inputs) > self.config.max_tests:
            raise InvalidInput(f"at most {self.config.max_tests} tests/inputs, got {len(inputs)}", field="tests")
        if harness not in HARNESSES:
            raise InvalidInput(f"harness must be one of {list(HARNESSES)}, got {harness!r}", field="harness")
        if entry_point and recipe.name != "python":
            raise InvalidInput("entry_point tests are Python call expressions; for other languages leave "
                               "entry_point empty and use stdin/stdout tests", field="entry_point")
        if harness == "humaneval" and not entry_point:
            raise InvalidInput("the humaneval harness needs an entry_point", field="entry_point")
        if not entry_point:
            for i, item in enumerate(inputs):
                self._check_stdin(item, field=f"tests[{i}].input")
        return self._case_runs(recipe, code, entry_point, inputs, resolved, harness)

    def _case_runs(self, recipe: Recipe, code: str, entry_point: str, inputs: list[str], resolved: _Resolved,
                   harness: str) -> Iterator[tuple[ExecutionResult, str | None]]:
        if not inputs:
            return
        if recipe.compiled:
            for result in self._compiled_runs(recipe, code, resolved, inputs):
                yield result, None
            return
        stdin_request = None if entry_point else self._request(recipe, code, resolved)  # the same for every input
        for item in inputs:
            deadline.check()
            if stdin_request is None:
                mode = "humaneval" if harness == "humaneval" else "call"
                request = self._request(recipe, code, resolved, harness={"mode": mode, "input": item})
                raw = self._run(request, "", resolved)
                yield verdicts.call_outcome(raw, recipe, resolved.max_output_bytes)
            else:
                raw = self._run(stdin_request, item, resolved)
                yield self.classify(raw, recipe, resolved.max_output_bytes), None
