"""Semi-Instruct drafts: from human-written code, an instruction, a refined solution, the answer
type and test INPUTS (DESIGN section 4 format), for the execution stage to check.

The answer type comes from the original code: a function (the seed's `entry_point`, else its last
top-level function) gives call-expression inputs such as `unquote('"a"')`; code without functions
that reads stdin gives stdin inputs. Gold outputs are NOT generated here: the scoring stage runs
the ORIGINAL code (`source.code`) on the inputs and keeps the record when the refined code
matches on all of them. So records leave this stage with empty outputs.

Test inputs are asked FROM THE INSTRUCTION (the primary spec: the paper ranks records by test
count because tests check the instruction's intent), with the human code shown as context only.

Two ways to prompt (`generation.semi.prompting`):
- `single`: one answer with four headed sections ([INSTRUCTION] [SOLUTION] [ANSWER_TYPE]
  [TEST_INPUTS]), as in the paper; the prompt says to write the inputs from the [INSTRUCTION]
  written above them. One call per draft, but only capable models keep the format.
- `staged` (default): short prompts whose answers are started by us, so even the embedded 135M
  model stays on track. Stage 1 (one batched call): the instruction ("Write a Python function
  `f(x)` that ...", `semi.samples` answers). Stage 2 (one batched call), per instruction: the test
  inputs, the instruction first and the code as context (`semi.input_samples` sampled answers
  started with "f(first_param=" and then nothing, a quote or a bracket; every line with a literal
  call counts), and the refined solution (started with a fence, the draft's imports and `def f(`).
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


@dataclasses.dataclass
class _Batch:
    """Prompts and their sampling, collected for one batched engine call; `add` says where each sits."""

    prompts: list[str] = dataclasses.field(default_factory=list)
    params: list[SamplingParams] = dataclasses.field(default_factory=list)

    def add(self, prompt: str, params: SamplingParams) -> int:
        self.prompts.append(prompt)
        self.params.append(params)
        return len(self.prompts) - 1

    def run(self, ctx: Context) -> list[list[str]]:
        return ctx.engine.generate(self.prompts, self.params) if self.prompts else []


@dataclasses.dataclass(frozen=True)
class _Draft:
    """One instruction (a sampled answer of stage 1) on its way to a record."""

    seed: dict[str, Any]
    entry: str  # the entry point; "" for a stdin program
    instruction: str
    sample: int  # which of the seed's `semi.samples` instruction answers
    head: str  # the solution's start we write: the draft's imports and `def f(`

    @property
    def language(self) -> str:
        return str(self.seed.get("language", "python"))

    @property
    def code(self) -> str:
        return str(self.seed["code"]).strip("\n")

    @property
    def kind(self) -> str:
        return "function" if self.entry else "program"


@dataclasses.dataclass(frozen=True)
class _Asked:
    """Where a draft's stage-2 answers sit: its test-input answers (with how each started) and its solution."""

    draft: _Draft
    inputs_at: tuple[int, ...]
    openings: tuple[str, ...]  # the text each input answer was started with ("" for stdin)
    solution_at: int


def _run_staged(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    """Stage 1, one batched call: the instructions. Stage 2, one batched call: per instruction, its
    test inputs (asked FROM the instruction, the code as context) and its refined solution."""
    asks = {name: prompts.load(f"semi_instruct.{name}") for name in ("instruction", "inputs", "stdin", "solution")}
    for chunk in batches(list(seeds), max(1, ctx.batch // ctx.config.semi.samples)):
        outcomes, jobs = _jobs(chunk)
        stage_1 = _Batch()
        starts = [(seed, entry, _instruction_start(seed, entry)) for seed, entry, _ in jobs]
        at = [stage_1.add(*_instruction_ask(seed, entry, start, ctx, asks["instruction"]))
              for seed, entry, start in starts]
        answers_1 = stage_1.run(ctx)
        drafts = [draft for (seed, entry, start), i in zip(starts, at, strict=True)
                  for draft in _drafts(seed, entry, start, answers_1[i], outcomes[seed["id"]])]
        stage_2 = _Batch()
        asked = [_ask_inputs_and_solution(draft, ctx, asks, stage_2) for draft in drafts]
        answers_2 = stage_2.run(ctx)
        for request in asked:
            _finish(request, answers_2, ctx, outcomes[request.draft.seed["id"]])
        yield from (outcomes[s["id"]] for s in chunk)


def _instruction_start(seed: dict[str, Any], entry: str) -> str:
    """How the instruction answers start: "Write a Python function `f(x)` that" (or "... program that")."""
    code = str(seed["code"]).strip("\n")
    return f"Write a Python function `{_signature(code, entry)}` that" if entry else "Write a Python program that"


def _instruction_ask(seed: dict[str, Any], entry: str, start: str, ctx: Context,
                     template: prompts.Template) -> tuple[str, SamplingParams]:
    cfg = ctx.config
    ask = template.render(language=seed.get("language", "python"), code=str(seed["code"]).strip("\n"),
                          kind="function" if entry else "program")
    return (ctx.engine.apply_chat_template([{"role": "user", "content": ask}]) + start,
            ctx.params(seed["id"], "instruction", 0, n=cfg.semi.samples, temperature=cfg.semi.temperature,
                       stop=("\n\n", "```"), max_tokens=min(cfg.max_tokens, INSTRUCTION_TOKENS)))


def _drafts(seed: dict[str, Any], entry: str, start: str, completions: list[str],
            outcome: SeedOutcome) -> list[_Draft]:
    """The seed's usable instructions; rejections go to `outcome`."""
    code = str(seed["code"]).strip("\n")
    head = "\n\n".join(part for part in (_imports(code), f"def {entry}(" if entry else "") if part)
    drafts = []
    for k, completion in enumerate(completions):
        try:
            instruction = parsers.parse_semi_instruction(start, completion)
        except Rejected as exc:
            outcome.reject(exc.reason, exc.detail)
            continue
        drafts.append(_Draft(seed, entry, instruction, k, head))
    return drafts


def _ask_inputs_and_solution(draft: _Draft, ctx: Context, asks: dict[str, prompts.Template],
                             batch: _Batch) -> _Asked:
    """Add a draft's stage-2 prompts to `batch`: its test inputs, then its refined solution."""
    cfg = ctx.config
    seed_id = draft.seed["id"]
    if draft.entry:
        ask = _chat(ctx, asks["inputs"].render(instruction=draft.instruction, language=draft.language,
                                               code=draft.code, entry_point=draft.entry))
        openings = _input_openings(draft.entry, _positional_params(draft.code, draft.entry), cfg.semi.input_samples)
        inputs_at = tuple(batch.add(f"{ask}```{draft.language}\n{opening}", ctx.params(
            seed_id, "inputs", draft.sample * len(openings) + index, n=n, temperature=cfg.semi.input_temperature,
            stop=("\n",), max_tokens=min(cfg.max_tokens, INPUT_TOKENS))) for index, (opening, n) in enumerate(openings))
        started = tuple(opening for opening, _ in openings)
    else:
        ask = _chat(ctx, asks["stdin"].render(instruction=draft.instruction, language=draft.language, code=draft.code))
        inputs_at = (batch.add(ask + "```text\n", ctx.params(
            seed_id, "inputs", draft.sample, n=cfg.semi.input_samples, temperature=cfg.semi.input_temperature,
            stop=("```",), max_tokens=min(cfg.max_tokens, 2 * INPUT_TOKENS))),)
        started = ("",)
    solution = _chat(ctx, asks["solution"].render(instruction=draft.instruction, language=draft.language,
                                                  code=draft.code, kind=draft.kind))
    solution_at = batch.add(f"{solution}```{draft.language}\n{draft.head}", ctx.params(
        seed_id, "solution", draft.sample, temperature=cfg.semi.temperature, stop=("```",)))
    return _Asked(draft, inputs_at, started, solution_at)


def _chat(ctx: Context, user: str) -> str:
    return ctx.engine.apply_chat_template([{"role": "user", "content": user}])


def _test_inputs(asked: _Asked, answers: list[list[str]]) -> tuple[list[str], int]:
    """A draft's unique test inputs (calls made positional) and how many answer lines held none."""
    draft = asked.draft
    if not draft.entry:
        return parsers.stdin_inputs([text for at in asked.inputs_at for text in answers[at]]), 0
    texts = [opening + text for opening, at in zip(asked.openings, asked.inputs_at, strict=True)
             for text in answers[at]]
    calls, dropped = parsers.call_inputs(texts, draft.entry)
    params = _positional_params(draft.code, draft.entry)
    return list(dict.fromkeys(parsers.as_positional(call, params) for call in calls)), dropped


def _finish(asked: _Asked, answers: list[list[str]], ctx: Context, outcome: SeedOutcome) -> None:
    """The record of a draft (its inputs and refined solution), or its rejection."""
    draft = asked.draft
    inputs, dropped = _test_inputs(asked, answers)
    if dropped:  # lines are not drafts: logged, not counted as rejections
        logger.debug("seed %s: %d test-input lines without a literal call", draft.seed["id"], dropped)
    if not inputs:
        outcome.reject("no_test_inputs", f"none usable in {len(asked.inputs_at)} answer(s)")
        return
    (completion,) = answers[asked.solution_at]
    try:
        solution = parsers.parse_semi_solution(draft.head + completion, draft.entry, draft.language)
    except Rejected as exc:
        outcome.reject(exc.reason, exc.detail)
        return
    outcome.records.append(ctx.record(
        draft.seed, instruction=draft.instruction, response=fence(solution, draft.language), code=solution,
        entry_point=draft.entry, tests=[{"input": i, "output": ""} for i in inputs[:ctx.config.semi.max_tests]],
        scores={"semi_sample": draft.sample}, record_seed=ctx.seed_for(draft.seed["id"], "instruction", 0)))
