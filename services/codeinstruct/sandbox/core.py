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
import signal
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox import languages, selfcheck
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.languages import MIB, Recipe
from codeinstruct.sandbox.pool import RUN_ENV, RawRun, WorkerHandle, WorkerPool
from codeinstruct.sandbox.types import CapturedOutput, CaseResult, ExecutionResult, Limits, TestsResult

logger = logging.getLogger(__name__)

HARNESSES = ("default", "humaneval")


@dataclass(frozen=True)
class _Resolved:
    timeout_s: float
    memory_mb: int
    max_output_bytes: int


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _tail(text: str, limit: int = 4000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


class Sandbox:
    """Warm, isolated workers plus the verdict logic. Thread-safe; use as a context manager."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.recipes: dict[str, Recipe] = languages.detect(self.config.languages)
        missing = sorted(set(self.config.languages) - set(self.recipes))
        if missing:
            logger.warning("sandbox languages without a toolchain here, not offered: %s", missing)
        self._pool = WorkerPool(self.config)
        try:
            self.layers = selfcheck.verify(self)
        except BaseException:
            self._pool.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()

    def info(self) -> dict:
        c = self.config
        return {
            "languages": sorted(self.recipes),
            "isolation_layers": list(self.layers),
            "default_limits": Limits(c.default_timeout_s, c.default_memory_mb, c.default_max_output_bytes),
            "max_limits": Limits(c.max_timeout_s, c.max_memory_mb, c.max_output_bytes),
            "workers": self._pool.size,
            "python": str(self._pool.python),
        }

    # -- validation --------------------------------------------------------------------------------
    def _limits(self, limits: Limits | dict | None, field: str = "limits") -> _Resolved:
        if isinstance(limits, dict):
            unknown = sorted(set(limits) - {"timeout_s", "memory_mb", "max_output_bytes"})
            if unknown:
                raise InvalidInput(f"unknown limit(s) {unknown}", field=field)
            limits = Limits(**limits)
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
                 harness: dict | None = None, fresh: bool = True, with_files: bool = True) -> dict:
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
        request: dict = {"dir": "run", "fresh": fresh, "limits": run_limits, "env": dict(RUN_ENV)}
        if with_files:
            request["files"] = {recipe.source_file(code): code}
        if recipe.name == "python":
            request["kind"] = "python"
            request["harness"] = {"mode": "script", "path": recipe.source_file(code), **(harness or {})}
        else:
            request["kind"] = "exec"
            parts = recipe.compile_argv if compile_step else recipe.run_argv
            request["argv"] = recipe.argv(parts, code, memory_mb)
        return request

    def _run_on(self, worker: WorkerHandle, request: dict, stdin: str, timeout_s: float,
                max_output: int) -> RawRun:
        return worker.run(request, stdin.encode("utf-8", "surrogateescape"), timeout_s, max_output)

    def _run(self, request: dict, stdin: str, limits: _Resolved, timeout_s: float | None = None) -> RawRun:
        """Run on any free worker; a worker that breaks is restarted and the run retried once."""
        raw = RawRun()
        for _attempt in range(2):
            worker = self._pool.acquire()
            broken = False
            try:
                raw = self._run_on(worker, request, stdin, timeout_s or limits.timeout_s, limits.max_output_bytes)
                broken = raw.worker_lost
            finally:
                self._pool.release(worker, broken=broken)
            if not raw.worker_lost:
                return raw
            logger.warning("sandbox worker %d lost during a run (%s); retrying once", worker.index, raw.error)
        return raw

    def classify(self, raw: RawRun, recipe: Recipe) -> ExecutionResult:
        """Map what the supervisor saw to a DESIGN section 5 status."""
        stdout, stderr = _text(raw.stdout), _text(raw.stderr)
        sig = _signal_name(raw.signal) if raw.signal else ""
        base = ExecutionResult(Status.OK, exit_code=raw.exit_code if not raw.signal else -raw.signal, stdout=stdout,
                               stderr=stderr, wall_time_s=round(raw.wall_time_s, 6),
                               cpu_time_s=round(raw.cpu_time_s, 6), signal=sig)
        events = {event.get("event"): event for event in raw.reports}

        def verdict(status: Status, detail: str = "") -> ExecutionResult:
            return replace(base, status=status, detail=detail)

        if raw.worker_lost or raw.error:
            return verdict(Status.SANDBOX_ERROR, raw.error or "the sandbox worker failed")
        if "setup_error" in events:
            return verdict(Status.SANDBOX_ERROR, str(events["setup_error"].get("detail", "")))
        if raw.truncated:
            return verdict(Status.OUTPUT_TRUNCATED, "output went over the cap")
        if raw.timed_out or raw.signal == signal.SIGXCPU:
            return verdict(Status.TIMEOUT, "time limit exceeded")
        if "syntax" in events:
            return verdict(Status.SYNTAX_ERROR, str(events["syntax"].get("detail", "")))
        if "memory" in events or (
                (raw.signal or raw.exit_code) and any(marker in stderr for marker in recipe.oom_markers)):
            detail = str(events["memory"].get("detail", "")) if "memory" in events else _tail(stderr, 1000)
            return verdict(Status.MEMORY_EXCEEDED, detail or "memory limit exceeded")
        if raw.signal == signal.SIGKILL and raw.memory_limit_bytes and \
                raw.max_rss_kb * 1024 >= 0.8 * raw.memory_limit_bytes:
            # Nobody here sent that SIGKILL and the run was near its memory limit: the OOM killer.
            return verdict(Status.MEMORY_EXCEEDED, f"killed by SIGKILL at {raw.max_rss_kb // 1024} MiB resident")
        if raw.signal:
            return verdict(Status.RUNTIME_ERROR, f"killed by {sig}")
        if raw.exit_code != 0:
            return verdict(Status.RUNTIME_ERROR, _tail(stderr) or f"exit status {raw.exit_code}")
        return base

    # -- public API --------------------------------------------------------------------------------
    def execute(self, code: str, language: str = "python", stdin: str = "",
                limits: Limits | dict | None = None) -> ExecutionResult:
        """Run one program on `stdin` and report its status, output and resource use."""
        recipe = self._recipe(language)
        self._check_code(code)
        self._check_stdin(stdin)
        resolved = self._limits(limits)
        deadline.check()
        if recipe.compiled:
            return self._compile_and(recipe, code, resolved, lambda worker: [
                self._run_on(worker, self._request(recipe, code, resolved, fresh=False, with_files=False),
                             stdin, resolved.timeout_s, resolved.max_output_bytes)])[0]
        return self.classify(self._run(self._request(recipe, code, resolved), stdin, resolved), recipe)

    def _compile_and(self, recipe: Recipe, code: str, limits: _Resolved, then: object) -> list[ExecutionResult]:
        """Compile on one worker, then run `then(worker) -> [RawRun]` there; compile failure is SYNTAX_ERROR."""
        worker = self._pool.acquire()
        broken = False
        try:
            compiled = self._run_on(worker, self._request(recipe, code, limits, compile_step=True), "",
                                    self.config.compile_timeout_s, self.config.max_output_bytes)
            broken = compiled.worker_lost
            result = self.classify(compiled, recipe)
            if result.status is not Status.OK:
                if result.status in (Status.RUNTIME_ERROR, Status.OUTPUT_TRUNCATED):
                    result = replace(result, status=Status.SYNTAX_ERROR, detail=_tail(result.stderr))
                elif result.status is Status.TIMEOUT:
                    result = replace(result, detail="compilation timed out")
                return [result]
            raws = then(worker)  # type: ignore[operator]
            broken = any(raw.worker_lost for raw in raws)
            return [self.classify(raw, recipe) for raw in raws]
        finally:
            self._pool.release(worker, broken=broken)

    def execute_batch(self, runs: list[dict], concurrency: int | None = None) -> Iterator[tuple[int, ExecutionResult]]:
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

    def _batch_one(self, run: dict) -> ExecutionResult:
        return self.execute(run["code"], run.get("language") or "python", run.get("stdin", ""), run.get("limits"))

    def run_tests(self, code: str, language: str, entry_point: str, tests: list[dict[str, str]],
                  limits: Limits | dict | None = None, harness: str = "default") -> TestsResult:
        """Run DESIGN section 4 test cases; a case passes only on the harness's positive signal."""
        outcomes = self._cases(code, language, entry_point, [self._test_input(t, i) for i, t in enumerate(tests)],
                               limits, harness)
        cases: list[CaseResult] = []
        for index, (test, (result, value)) in enumerate(zip(tests, outcomes, strict=True)):
            expected = str(test.get("output", ""))
            status = result.status
            actual = value if value is not None else result.stdout
            if status is Status.OK:
                status = Status.OK if actual == expected else Status.WRONG_ANSWER
            detail = result.detail if status is not Status.WRONG_ANSWER else ""
            cases.append(CaseResult(index, status, expected, actual, detail, result.wall_time_s))
        passed = sum(case.status is Status.OK for case in cases)
        failing = next((case.status for case in cases if case.status is not Status.OK), Status.OK)
        return TestsResult(failing, cases, passed, len(cases))

    def capture_outputs(self, code: str, language: str, entry_point: str, inputs: list[str],
                        limits: Limits | dict | None = None) -> list[CapturedOutput]:
        """What `code` produces for each input: repr() of the call's value, or its exact stdout."""
        for i, item in enumerate(inputs):
            if not isinstance(item, str):
                raise InvalidInput(f"inputs must be strings, got {type(item).__name__}", field=f"inputs[{i}]")
        outcomes = self._cases(code, language, entry_point, inputs, limits, "default")
        return [CapturedOutput(item, result.status, value if value is not None else result.stdout, result.detail)
                for item, (result, value) in zip(inputs, outcomes, strict=True)]

    @staticmethod
    def _test_input(test: dict, index: int) -> str:
        if not isinstance(test, dict) or not isinstance(test.get("input", ""), str) \
                or not isinstance(test.get("output", ""), str):
            raise InvalidInput("each test is {'input': str, 'output': str}", field=f"tests[{index}]")
        return test.get("input", "")

    def _cases(self, code: str, language: str, entry_point: str, inputs: list[str],
               limits: Limits | dict | None, harness: str) -> list[tuple[ExecutionResult, str | None]]:
        """Run each input; returns (result, value) where value is the harness-reported repr (call mode)."""
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
        if not inputs:
            return []
        if recipe.compiled:
            def run_all(worker: WorkerHandle) -> list[RawRun]:
                raws = []
                for item in inputs:
                    deadline.check()
                    request = self._request(recipe, code, resolved, fresh=False, with_files=False)
                    raws.append(self._run_on(worker, request, item, resolved.timeout_s, resolved.max_output_bytes))
                return raws

            results = self._compile_and(recipe, code, resolved, run_all)
            if len(results) == 1 and len(inputs) > 1:
                results = results * len(inputs)  # the compile failed: every case gets its verdict
            return [(result, None) for result in results]
        out: list[tuple[ExecutionResult, str | None]] = []
        for item in inputs:
            deadline.check()
            if entry_point:
                mode = "humaneval" if harness == "humaneval" else "call"
                request = self._request(recipe, code, resolved, harness={"mode": mode, "input": item})
                raw = self._run(request, "", resolved)
                out.append(self._call_outcome(raw, recipe))
            else:
                raw = self._run(self._request(recipe, code, resolved), item, resolved)
                out.append((self.classify(raw, recipe), None))
        return out

    def _call_outcome(self, raw: RawRun, recipe: Recipe) -> tuple[ExecutionResult, str | None]:
        result = self.classify(raw, recipe)
        events = {event.get("event"): event for event in raw.reports}
        if result.status is not Status.OK:
            if result.status is Status.RUNTIME_ERROR and "exception" in events:
                detail = str(events["exception"].get("detail", ""))
                result = replace(result, detail=detail or result.detail)
            if result.status is Status.RUNTIME_ERROR and "input_error" in events:
                result = replace(result, detail=f"test input: {events['input_error'].get('detail', '')}")
            return result, ""
        if "value" not in events:
            # Exit status 0 without the harness's signal: the program ended the process itself.
            return replace(result, status=Status.RUNTIME_ERROR,
                           detail="the program exited before the test harness finished"), ""
        return result, str(events["value"].get("repr", ""))
