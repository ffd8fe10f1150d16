"""WaveCoder generator: instruction examples of four code tasks from raw code.

For each raw code seed, `wavecoder.tasks_per_seed` tasks are taken in rotation (by seed id) from
summarization / generation / translation / repair; each task asked ends as one record or one
counted rejection. Records: `task`, `language` (a translation's is its target), `instruction` (1-2
sentences, then the information: the code it refers to, or nothing), `response`, `code` (empty for
summarization). Raw code is selected before generation (`generation.selection`: length bounds,
blacklist, KCenterGreedy); the scoring stages run the discriminator and the coreset on the records.

Two ways to write instructions (`generation.wavecoder.instructions`; `auto` picks `template` on the
embedded model and `llm` on any other):
- `llm` (`methods/wavecoder_llm.py`): the paper's generator-discriminator loop. The LLM writes the
  whole labelled example from a task definition, requirements and few-shot examples of an example
  pool; the discriminator (rules + LLM checklist) keeps or drops it, and what it keeps grows the
  pool for later batches. Repair bugs are the LLM's, with a seeded mutation as fallback.
- `template` (staged prompts, Python seeds): we write what can be written and start every answer, so even
  the embedded 135M model only continues a sentence or a code block. Per task:
  summarization: "Explain what the following Python function does." + the code; the answer is
  started "The function `f`". generation: "Write a Python function `f(args)` that" completed by the
  model (stage 1), no information; the code answer is started with a fence, the imports and
  `def f(`. translation: "Translate this Python function into {target}." + the code; the answer is
  started with a fence of the target (and `function f(` in JavaScript). repair: "Fix the bug in
  the Python function `f` below so that it" completed by the model (stage 1) + the code with ONE
  bug from a seeded one-token mutation (`generation.bugs`); the fix is the original code. Code
  answers stop at the closing fence. One batched engine call per stage over a chunk of seeds.
"""

from __future__ import annotations

import ast
import dataclasses
import random
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.core.records import stable_hash
from codeinstruct.generation import bugs, parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches, fence
from codeinstruct.generation.parsers import Rejected


def tasks_for(seed_id: str, tasks: Sequence[str], count: int) -> list[str]:
    start = int(stable_hash(seed_id, "wavecoder-task"), 16) % len(tasks)
    return [tasks[(start + i) % len(tasks)] for i in range(min(count, len(tasks)))]


def jobs_for(seed: dict[str, Any], ctx: Context, outcome: SeedOutcome) -> list[tuple[str, str]]:
    """(task, answer language) of each task asked of `seed`; tasks that cannot be asked are rejected."""
    cfg = ctx.config
    jobs = []
    for task in tasks_for(seed["id"], cfg.wavecoder.tasks, cfg.wavecoder.tasks_per_seed):
        language = seed.get("language", "python")
        if task == "translation":
            targets = [t for t in cfg.wavecoder.translation_languages if t != language]
            if not targets:
                outcome.reject("no_translation_target")
                continue
            language = random.Random(ctx.seed_for(seed["id"], "target")).choice(targets)
        jobs.append((task, language))
    return jobs


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    if ctx.config.wavecoder.uses_llm(ctx.engine.model_name):
        from codeinstruct.generation.methods import wavecoder_llm

        yield from wavecoder_llm.run(seeds, ctx)
    else:
        yield from _run_staged(seeds, ctx)


# -- template instructions (staged prompting) ------------------------------------------------------------
INSTRUCTION_TOKENS = 64
SUMMARY_TOKENS = 128
LANGUAGE_NAMES = {"python": "Python", "javascript": "JavaScript", "java": "Java", "cpp": "C++",
                  "typescript": "TypeScript", "go": "Go", "rust": "Rust", "c": "C", "csharp": "C#"}


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language.capitalize())


@dataclasses.dataclass
class _Job:
    """One task asked of one seed, through the stages; it ends as one record or one rejection."""

    seed: dict[str, Any]
    task: str
    language: str  # the answer's language (the target of a translation)
    code: str  # the seed's code, without surrounding blank lines
    entry: str  # the function the answer must define ("" for code without functions)
    instruction: str = ""
    information: str = ""  # fenced code the instruction refers to, or "" (WaveCoder's <noinput>)
    answer_start: str = ""


def _entry_and_signature(code: str, entry: str) -> tuple[str, str]:
    """The seed's function (its `entry_point`, else the last top-level one) and its signature, or ("", "")."""
    functions = [n for n in ast.parse(code).body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    chosen = next((f for f in functions if f.name == entry), functions[-1] if functions else None)
    if chosen is None:
        return "", ""
    return chosen.name, f"{chosen.name}({ast.unparse(chosen.args)})"


def _imports(code: str) -> str:
    return "\n".join(ast.unparse(node) for node in ast.parse(code).body
                     if isinstance(node, ast.Import | ast.ImportFrom))


def _instruction_start(job: _Job, signature: str) -> str:
    kind = f"function `{job.entry}`" if job.entry else "code"
    if job.task == "generation":
        return f"Write a Python function `{signature}` that" if signature else "Write a Python program that"
    return f"Fix the bug in the Python {kind} below so that it"  # repair


def _prepare(seed: dict[str, Any], task: str, language: str, ctx: Context) -> _Job:
    """The job with everything WE write: fixed instructions, the information, the answer's start."""
    code = str(seed["code"]).strip("\n")
    if seed.get("language", "python") != "python":
        raise Rejected("language_not_supported", f"{seed.get('language')} (staged prompting reads Python seeds)")
    if not parsers.python_parses(code):
        raise Rejected("seed_syntax_error")
    entry, signature = _entry_and_signature(code, str(seed.get("entry_point") or ""))
    job = _Job(seed, task, language, code, entry)
    kind = "function" if entry else "code"
    if task == "summarization":
        job.instruction = f"Explain what the following Python {kind} does."
        job.information = fence(code, "python")
        job.answer_start = f"The function `{entry}`" if entry else "This code"
    elif task == "translation":
        job.instruction = f"Translate this Python {kind} into {language_name(language)}."
        job.information = fence(code, "python")
        job.answer_start = f"```{language}\n" + (f"function {entry}(" if language == "javascript" and entry else "")
    elif task == "generation":
        job.instruction = _instruction_start(job, signature)  # completed by the model in stage 1
        head = "\n\n".join(part for part in (_imports(code), f"def {entry}(" if entry else "") if part)
        job.answer_start = "```python\n" + head
    else:  # repair: the bug is a seeded one-token mutation; the original code is the fix
        bug = bugs.introduce_bug(code, random.Random(ctx.seed_for(seed["id"], "repair/bug")))
        if bug is None:
            raise Rejected("no_bug_site", "no comparison, +/-, and/or, True/False or integer to change")
        job.instruction = _instruction_start(job, signature)
        job.information = fence(bug.code, "python")
    return job


def _run_staged(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config
    asks = {name: prompts.load(f"wavecoder.{name}") for name in ("instruction", "summarize", "solution", "translate")}

    def chat(text: str) -> str:
        return ctx.engine.apply_chat_template([{"role": "user", "content": text}])

    per_call = max(1, ctx.batch // cfg.wavecoder.tasks_per_seed)
    for chunk in batches(list(seeds), per_call):
        outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
        jobs: list[_Job] = []
        for seed in chunk:
            outcome = outcomes[seed["id"]]
            if not str(seed.get("code", "")).strip():
                outcome.reject("seed_has_no_code")
                continue
            for task, language in jobs_for(seed, ctx, outcome):
                try:
                    jobs.append(_prepare(seed, task, language, ctx))
                except Rejected as exc:
                    outcome.reject(exc.reason, exc.detail)

        # Stage 1, one batched call: the instructions we only start (generation, repair).
        open_jobs = [j for j in jobs if j.task in ("generation", "repair")]
        ask = asks["instruction"]
        answers = ctx.engine.generate(
            [chat(ask.render(language="python", language_name="Python", code=j.code)) + j.instruction
             for j in open_jobs],
            [ctx.params(j.seed["id"], f"{j.task}/instruction", temperature=cfg.wavecoder.temperature,
                        stop=("\n", "```"), max_tokens=min(cfg.max_tokens, INSTRUCTION_TOKENS)) for j in open_jobs],
        ) if open_jobs else []
        failed: set[int] = set()
        for job, (completion,) in zip(open_jobs, answers, strict=True):
            try:
                job.instruction = parsers.parse_wave_instruction(job.instruction, completion)
            except Rejected as exc:
                outcomes[job.seed["id"]].reject(exc.reason, exc.detail)
                failed.add(id(job))
        jobs = [j for j in jobs if id(j) not in failed]

        # Stage 2, one batched call: the answers (repair's is the original code, nothing to ask).
        asked = [j for j in jobs if j.task != "repair"]
        answers = ctx.engine.generate(
            [chat(_answer_prompt(asks, j)) + j.answer_start for j in asked],
            [ctx.params(j.seed["id"], f"{j.task}/answer", temperature=cfg.wavecoder.temperature,
                        **({"stop": ("\n\n", "```"), "max_tokens": min(cfg.max_tokens, SUMMARY_TOKENS)}
                           if j.task == "summarization" else {"stop": ("```",)})) for j in asked],
        ) if asked else []
        completions = {id(j): texts[0] for j, texts in zip(asked, answers, strict=True)}
        for job in jobs:
            outcome = outcomes[job.seed["id"]]
            try:
                response, code = _answer(job, completions.get(id(job), ""))
            except Rejected as exc:
                outcome.reject(exc.reason, exc.detail)
                continue
            instruction = job.instruction + (f"\n\n{job.information}" if job.information else "")
            stage = "repair/bug" if job.task == "repair" else f"{job.task}/answer"
            outcome.records.append(ctx.record(
                job.seed, instruction=instruction, response=response, code=code, task=job.task,
                language=job.language, scores={}, record_seed=ctx.seed_for(job.seed["id"], stage)))
        yield from (outcomes[s["id"]] for s in chunk)


def _answer_prompt(asks: dict[str, prompts.Template], job: _Job) -> str:
    kind = "function" if job.entry else "code"
    if job.task == "summarization":
        return asks["summarize"].render(language="python", language_name="Python", code=job.code, kind=kind)
    if job.task == "translation":
        return asks["translate"].render(instruction=job.instruction, language="python", code=job.code,
                                        target=language_name(job.language))
    return asks["solution"].render(instruction=job.instruction, language="python", language_name="Python",
                                   code=job.code, kind=kind)


def _answer(job: _Job, completion: str) -> tuple[str, str]:
    """(response, code) of a job from its answer's completion, or Rejected."""
    if job.task == "summarization":
        return parsers.parse_wave_summary(job.answer_start, completion), ""
    if job.task == "repair":
        return fence(job.code, "python"), job.code
    start = job.answer_start.split("\n", 1)[1]  # the code we started, after the opening fence
    code = parsers.parse_wave_code(start + completion, job.language, job.entry if job.task == "generation" else "",
                                   source=job.code if job.task == "translation" else "")
    return fence(code, job.language), code
