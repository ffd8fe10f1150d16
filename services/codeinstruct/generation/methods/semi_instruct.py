"""Semi-Instruct drafts: from human-written code, an instruction, a refined solution, the answer
type and test INPUTS (DESIGN section 4 format), for the execution stage to check.

The answer type comes from the original code: a function (the seed's `entry_point`, else its last
top-level function) gives call-expression inputs such as `unquote('"a"')`; code without functions
that reads stdin gives stdin inputs. Gold outputs are NOT generated here: the scoring stage runs
the ORIGINAL code (`source.code`) on the inputs and keeps the record when the refined code
matches on all of them. So records leave this stage with empty outputs.

Two ways to prompt (`generation.semi.prompting`):
- `single`: one answer with four headed sections ([INSTRUCTION] [SOLUTION] [ANSWER_TYPE]
  [TEST_INPUTS]), as in the paper; one call per draft, but only capable models keep the format.
- `staged` (default): three short prompts whose answers are started by us, so even the embedded
  135M model stays on track: the instruction ("Write a Python function `f(x)` that ..."), the test
  inputs (`semi.input_samples` sampled answers started with "f(first_param=" and then nothing, a
  quote or a bracket, one call each; every line with a literal call counts) and then, given the
  instruction, the refined solution (started with a fence, the draft's imports and `def f(`).
  Instruction and inputs share one batched engine call.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.engines.base import SamplingParams
from codeinstruct.generation import parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches, fence
from codeinstruct.generation.parsers import Rejected

logger = logging.getLogger(__name__)

START = "[INSTRUCTION]\n"
INSTRUCTION_TOKENS = 96
INPUT_TOKENS = 64


def answer_type(seed: dict[str, Any]) -> tuple[str, list[str]]:
    """(entry point or "" for a stdin program, functions the original defines) or Rejected."""
    code = str(seed.get("code", ""))
    if not code.strip():
        raise Rejected("seed_has_no_code")
    if seed.get("language", "python") != "python":
        raise Rejected("language_not_supported", str(seed.get("language")))
    if not parsers.python_parses(code):
        raise Rejected("seed_syntax_error")
    functions = parsers.defined_functions(code)
    entry = str(seed.get("entry_point") or "")
    if entry:
        if entry not in functions:
            raise Rejected("seed_entry_point_missing", entry)
        return entry, functions
    if functions:
        return functions[-1], functions
    if re.search(r"\binput\s*\(|sys\.stdin", code):
        return "", functions
    raise Rejected("seed_not_function_or_program")


def _prompt(template: prompts.Template, seed: dict[str, Any], entry: str) -> str:
    if entry:
        kind = f"function {entry}"
        tests = (f"One Python call expression per line, each calling {entry} with literal arguments, "
                 f"for example:\n{entry}(...)")
    else:
        kind = "program"
        tests = "Each input in its own ```text fenced block, holding the program's standard input."
    return template.render(language=seed.get("language", "python"), code=str(seed["code"]).strip("\n"),
                           answer_type=kind, test_format=tests)


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    if ctx.config.semi.prompting == "single":
        yield from _run_single(seeds, ctx)
    else:
        yield from _run_staged(seeds, ctx)


Job = tuple[dict[str, Any], str, list[str]]  # (seed, entry point, the original code's functions)


def _jobs(chunk: Sequence[dict[str, Any]]) -> tuple[dict[str, SeedOutcome], list[Job]]:
    """An outcome per seed, and (seed, entry point, original functions) for the seeds that have an answer type."""
    outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
    jobs: list[Job] = []
    for seed in chunk:
        try:
            entry, functions = answer_type(seed)
        except Rejected as exc:
            outcomes[seed["id"]].reject(exc.reason, exc.detail)
            continue
        jobs.append((seed, entry, functions))
    return outcomes, jobs


def _run_single(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config
    template = prompts.load("semi_instruct.draft")
    for chunk in batches(list(seeds), max(1, ctx.batch // cfg.semi.samples)):
        outcomes, jobs = _jobs(chunk)
        # the answer is started with its first header, which small models then follow
        texts = ctx.engine.generate(
            [ctx.engine.apply_chat_template([{"role": "user", "content": _prompt(template, seed, entry)}]) + START
             for seed, entry, _ in jobs],
            [ctx.params(seed["id"], "draft", 0, n=cfg.semi.samples, temperature=cfg.semi.temperature)
             for seed, _, _ in jobs]) if jobs else []
        for (seed, _entry, functions), samples in zip(jobs, texts, strict=True):
            outcome = outcomes[seed["id"]]
            for k, completion in enumerate(samples):
                text = START + completion
                try:
                    draft = parsers.parse_semi_draft(text, original_functions=functions,
                                                     language=seed.get("language", "python"),
                                                     max_tests=cfg.semi.max_tests)
                except Rejected as exc:
                    outcome.reject(exc.reason, exc.detail)
                    continue
                language = seed.get("language", "python")
                outcome.records.append(ctx.record(
                    seed, instruction=draft.instruction, response=fence(draft.solution, language),
                    code=draft.solution, entry_point=draft.entry_point,
                    tests=[{"input": i, "output": ""} for i in draft.inputs],
                    scores={"semi_sample": k}, record_seed=ctx.seed_for(seed["id"], "draft", 0)))
        yield from (outcomes[s["id"]] for s in chunk)


def _signature(code: str, entry: str) -> str:
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry:
            return f"{entry}({ast.unparse(node.args)})"
    return f"{entry}(...)"


def _positional_params(code: str, entry: str) -> list[str]:
    """Parameters of `entry` that a call may fill by keyword or by position, in order."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry:
            return [] if node.args.posonlyargs else [a.arg for a in node.args.args]
    return []


# The first argument's value is started three ways: left free, as a string, as a list. A small
# model's free guesses are mostly numbers or None, which string- and list-taking human code rejects.
VALUE_OPENINGS = ("", "'", "[")


def _input_openings(entry: str, params: list[str], samples: int) -> list[tuple[str, int]]:
    """How the test-input answers start, with how many samples each: (opening, n).

    A small model continuing `f(` echoes parameter names (`f(text)`); continuing `f(text=` it writes
    a value. The calls are made positional again before they become tests.
    """
    call = f"{entry}({params[0]}=" if params and params[0] not in ("self", "cls") else f"{entry}("
    per = max(1, round(samples / len(VALUE_OPENINGS)))
    return [(call + value, per) for value in VALUE_OPENINGS]


def _imports(code: str) -> str:
    """The draft's top-level imports: the refined answer starts with them, so it cannot lose them."""
    return "\n".join(ast.unparse(node) for node in ast.parse(code).body
                     if isinstance(node, ast.Import | ast.ImportFrom))


@dataclasses.dataclass(frozen=True)
class _Asked:
    """A seed's stage-1 requests: where its instruction answers and its test-input answers sit in the
    batch, and how the input answers started (each opening is part of the inputs it starts)."""

    seed: dict[str, Any]
    entry: str
    start: str  # how the instruction answers start ("Write a Python function `f(x)` that")
    instruction_at: int
    inputs_at: range
    openings: tuple[tuple[str, int], ...]  # (opening, n) of a function's input answers; () for a program


@dataclasses.dataclass(frozen=True)
class _Draft:
    """One instruction waiting for its refined solution (stage 2)."""

    seed: dict[str, Any]
    entry: str
    instruction: str
    inputs: list[str]
    sample: int
    head: str  # the solution's start we write: the draft's imports and `def f(`


def _run_staged(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    asks = {name: prompts.load(f"semi_instruct.{name}") for name in ("instruction", "inputs", "stdin", "solution")}
    per_call = max(1, ctx.batch // max(ctx.config.semi.samples, 1))
    for chunk in batches(list(seeds), per_call):
        outcomes, jobs = _jobs(chunk)
        if jobs:
            # Stage 1, one batched call: the instruction (semi.samples answers) and the test inputs.
            prompts_1: list[str] = []
            params_1: list[SamplingParams] = []
            asked = [_ask(seed, entry, ctx, asks, prompts_1, params_1) for seed, entry, _ in jobs]
            answers = ctx.engine.generate(prompts_1, params_1)
            # Stage 2, one batched call: a refined solution per usable instruction.
            drafts = [draft for request in asked
                      for draft in _drafts(request, answers, ctx, outcomes[request.seed["id"]])]
            prompts_2 = [_solution_prompt(d, ctx, asks["solution"]) for d in drafts]
            params_2 = [ctx.params(d.seed["id"], "solution", d.sample, temperature=ctx.config.semi.temperature,
                                   stop=("```",)) for d in drafts]
            solutions = ctx.engine.generate(prompts_2, params_2) if prompts_2 else []
            for draft, (completion,) in zip(drafts, solutions, strict=True):
                _finish(draft, completion, ctx, outcomes[draft.seed["id"]])
        yield from (outcomes[s["id"]] for s in chunk)


def _ask(seed: dict[str, Any], entry: str, ctx: Context, asks: dict[str, prompts.Template],
         prompts_1: list[str], params_1: list[SamplingParams]) -> _Asked:
    """Append a seed's stage-1 prompts (its instruction, then its test inputs) to the batch."""
    cfg = ctx.config
    language, code = seed.get("language", "python"), str(seed["code"]).strip("\n")
    kind = "function" if entry else "program"
    start = f"Write a Python function `{_signature(code, entry)}` that" if entry else "Write a Python program that"
    instruction_at = len(prompts_1)
    prompts_1.append(ctx.engine.apply_chat_template([{"role": "user", "content": asks["instruction"].render(
        language=language, code=code, kind=kind)}]) + start)
    params_1.append(ctx.params(seed["id"], "instruction", 0, n=cfg.semi.samples, temperature=cfg.semi.temperature,
                               stop=("\n\n", "```"), max_tokens=min(cfg.max_tokens, INSTRUCTION_TOKENS)))
    openings: tuple[tuple[str, int], ...] = ()
    if entry:
        ask = ctx.engine.apply_chat_template([{"role": "user", "content": asks["inputs"].render(
            language=language, code=code, entry_point=entry)}])
        openings = tuple(_input_openings(entry, _positional_params(code, entry), cfg.semi.input_samples))
        for index, (opening, n) in enumerate(openings):
            prompts_1.append(f"{ask}```{language}\n{opening}")
            params_1.append(ctx.params(seed["id"], "inputs", index, n=n, temperature=cfg.semi.input_temperature,
                                       stop=("\n",), max_tokens=min(cfg.max_tokens, INPUT_TOKENS)))
    else:
        ask = asks["stdin"].render(language=language, code=code)
        prompts_1.append(ctx.engine.apply_chat_template([{"role": "user", "content": ask}]) + "```text\n")
        params_1.append(ctx.params(seed["id"], "inputs", 0, n=cfg.semi.input_samples,
                                   temperature=cfg.semi.input_temperature, stop=("```",),
                                   max_tokens=min(cfg.max_tokens, 2 * INPUT_TOKENS)))
    return _Asked(seed, entry, start, instruction_at, range(instruction_at + 1, len(prompts_1)), openings)


def _drafts(asked: _Asked, answers: list[list[str]], ctx: Context, outcome: SeedOutcome) -> list[_Draft]:
    """The seed's usable instructions with its test inputs; rejections go to `outcome`."""
    seed, entry = asked.seed, asked.entry
    instructions = answers[asked.instruction_at]
    if entry:
        params = _positional_params(str(seed["code"]), entry)
        inputs_text = [opening + text for (opening, _), at in zip(asked.openings, asked.inputs_at, strict=True)
                       for text in answers[at]]
        calls, dropped = parsers.call_inputs(inputs_text, entry)
        inputs = list(dict.fromkeys(parsers.as_positional(call, params) for call in calls))
    else:
        inputs_text = answers[asked.inputs_at[0]]
        inputs, dropped = parsers.stdin_inputs(inputs_text), 0
    if dropped:  # lines are not drafts: logged, not counted as rejections
        logger.debug("seed %s: %d test-input lines without a literal call", seed["id"], dropped)
    if not inputs:
        for _ in instructions:
            outcome.reject("no_test_inputs", f"none usable in {len(inputs_text)} answers")
        return []
    code = str(seed["code"]).strip("\n")
    head = "\n\n".join(part for part in (_imports(code), f"def {entry}(" if entry else "") if part)
    drafts = []
    for k, completion in enumerate(instructions):
        try:
            instruction = parsers.parse_semi_instruction(asked.start, completion)
        except Rejected as exc:
            outcome.reject(exc.reason, exc.detail)
            continue
        drafts.append(_Draft(seed, entry, instruction, inputs, k, head))
    return drafts


def _solution_prompt(draft: _Draft, ctx: Context, template: prompts.Template) -> str:
    language, code = draft.seed.get("language", "python"), str(draft.seed["code"]).strip("\n")
    ask = template.render(instruction=draft.instruction, language=language, code=code,
                          kind="function" if draft.entry else "program")
    return ctx.engine.apply_chat_template([{"role": "user", "content": ask}]) + f"```{language}\n" + draft.head


def _finish(draft: _Draft, completion: str, ctx: Context, outcome: SeedOutcome) -> None:
    """The record of a refined solution, or its rejection."""
    language = draft.seed.get("language", "python")
    try:
        solution = parsers.parse_semi_solution(draft.head + completion, draft.entry, language)
    except Rejected as exc:
        outcome.reject(exc.reason, exc.detail)
        return
    outcome.records.append(ctx.record(
        draft.seed, instruction=draft.instruction, response=fence(solution, language), code=solution,
        entry_point=draft.entry, tests=[{"input": i, "output": ""} for i in draft.inputs[:ctx.config.semi.max_tests]],
        scores={"semi_sample": draft.sample}, record_seed=ctx.seed_for(draft.seed["id"], "instruction", 0)))
