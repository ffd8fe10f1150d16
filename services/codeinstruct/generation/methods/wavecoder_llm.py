"""WaveCoder's generator-discriminator loop (`generation.wavecoder.instructions: llm`).

Per chunk of seeds (one batched engine call for the generator, one or two for the judge):
1. Generator: for each task asked of a seed, the prompt `wavecoder.generate` gives the task
   definition and the requirements (`wavecoder.tasks`), `shots` examples of that task drawn from
   the example pool (`generation.example_pool`) and the raw code; the answer is started with
   "Task name: {task}\\nInstruction:" and must keep WaveCoder's labelled format
   (`parsers.parse_wavecoder`: each label once, in order, instruction 1-2 sentences ...).
2. Repair: the bug is the LLM's (the Information's code). When it is unusable
   (`bugs.llm_bug_problem`: missing, identical, does not parse, changes nothing, rewrites the
   code) a seeded one-token mutation (`bugs.introduce_bug`) replaces it, with a fixed instruction;
   the fallback is counted in the seed's `notes` (`repair_fallback_<reason>`) and recorded as
   `source.repair_bug` (`llm` or `mutation`). The fix is the raw code itself (correct by
   construction), not the LLM's solution.
3. Discriminator (`generation.wavecoder.discriminator`): the shared rule checks and LLM checklist
   (`codeinstruct.curation.discriminator`) judge each example; kept ones get
   `scores.discriminator`, and join the example pool for the next chunks (and, journaled in the
   seed's `state`, for a resumed run).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.core import deadline
from codeinstruct.core.records import Record
from codeinstruct.curation.discriminator import Judge, JudgeSettings, rule_check
from codeinstruct.generation import bugs, parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches, fence
from codeinstruct.generation.example_pool import STATE_KEY, ExamplePool, render_examples
from codeinstruct.generation.methods.wavecoder import jobs_for, language_name
from codeinstruct.generation.parsers import Rejected

JUDGE_POOL = 8  # the judge's own good/bad few-shot pools (in memory, per run)


def task_texts() -> tuple[dict[str, str], str]:
    """(definition per task, the shared requirements) from the prompt file `wavecoder.tasks`."""
    blocks = dict(re.findall(r"(?ms)^## (\w+)\n(.*?)(?=^## |\Z)", prompts.load("wavecoder.tasks").body))
    requirements = blocks.pop("requirements").strip()
    return {task: text.strip() for task, text in blocks.items()}, requirements


def _entry(code: str, entry: str) -> str:
    names = parsers.defined_functions(code) if parsers.python_parses(code) else []
    return entry if entry in names else (names[-1] if names else "")


class _Draft:
    """One task asked of one seed: the prompt, then the parsed example and its record."""

    def __init__(self, seed: dict[str, Any], task: str, language: str):
        self.seed, self.task, self.language = seed, task, language
        self.code = str(seed["code"]).strip("\n")
        self.source_language = str(seed.get("language") or "python")
        self.record: Record | None = None
        self.example: dict[str, str] = {}


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config.wavecoder
    template = prompts.load("wavecoder.generate")
    definitions, requirements = task_texts()
    pool = ExamplePool.resumed(ctx.history, cfg.pool_size)
    judge = Judge(ctx.engine, JudgeSettings(pool_size=JUDGE_POOL, shots=1, max_tokens=cfg.judge_max_tokens)) \
        if cfg.discriminator else None
    per_call = max(1, ctx.batch // cfg.tasks_per_seed)
    for chunk in batches(list(seeds), per_call):
        outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
        drafts: list[_Draft] = []
        for seed in chunk:
            if not str(seed.get("code", "")).strip():
                outcomes[seed["id"]].reject("seed_has_no_code")
                continue
            drafts.extend(_Draft(seed, task, language) for task, language in jobs_for(seed, ctx, outcomes[seed["id"]]))
        turns, starts = [], []
        for d in drafts:
            shots = pool.sample(d.task, cfg.shots, random.Random(ctx.seed_for(d.seed["id"], f"{d.task}/shots")))
            definition = definitions[d.task].replace("{target}", language_name(d.language))
            turns.append(template.render(task=d.task, task_definition=definition, requirements=requirements,
                                         examples=render_examples(shots), language=d.source_language, code=d.code))
            starts.append(f"Task name: {d.task}\nInstruction:")
        deadline.check()
        texts = ctx.engine.generate(
            [ctx.engine.apply_chat_template([{"role": "user", "content": t}]) + s for t, s in zip(turns, starts,
                                                                                                 strict=True)],
            [ctx.params(d.seed["id"], d.task, 0, temperature=cfg.temperature) for d in drafts]) if drafts else []
        for draft, start, (completion,) in zip(drafts, starts, texts, strict=True):
            outcome = outcomes[draft.seed["id"]]
            try:
                _build(draft, start + completion, ctx, outcome)
            except Rejected as exc:
                outcome.reject(exc.reason, exc.detail)
        built = [d for d in drafts if d.record is not None]
        for draft, verdict in zip(built, _judge(judge, [d.record for d in built if d.record]), strict=True):
            outcome = outcomes[draft.seed["id"]]
            if verdict != "yes" and judge is not None:
                outcome.reject(verdict)
                continue
            assert draft.record is not None
            if judge is not None:
                draft.record.scores["discriminator"] = "yes"
                outcome.state.setdefault(STATE_KEY, []).append(pool.add(draft.example))
            outcome.records.append(draft.record)
        yield from (outcomes[s["id"]] for s in chunk)


def _judge(judge: Judge | None, records: list[Record]) -> list[str]:
    """Per record "yes", or the reason it is dropped (`rule_*`, `judged_no`, `judgment_unparsable`)."""
    if judge is None:
        return ["yes"] * len(records)
    verdicts: list[str] = []
    passed = []
    for index, record in enumerate(records):
        broken = rule_check(record)
        verdicts.append(broken.split(":", 1)[0] if broken else "")
        if not broken:
            passed.append(index)
    if passed:
        deadline.check()
        judged = judge.judge([records[i] for i in passed])
        for index, (judgment, _text) in zip(passed, judged, strict=True):
            verdicts[index] = {"yes": "yes", "no": "judged_no"}.get(judgment.verdict or "", "judgment_unparsable")
    return verdicts


def _build(draft: _Draft, text: str, ctx: Context, outcome: SeedOutcome) -> None:
    """Parse the generator's answer into `draft.record` and `draft.example`, or raise Rejected."""
    example = parsers.parse_wavecoder(text, draft.task)
    instruction, information, response = example.instruction, example.information, example.solution
    code = "" if draft.task == "summarization" else parsers.extract_code(example.solution, draft.language)
    if draft.task != "summarization" and not code:
        raise Rejected("solution_has_no_code")
    if draft.task == "translation" and code.strip() == draft.code.strip():
        raise Rejected("solution_copies_source")
    source_extra: dict[str, str] = {}
    if draft.task == "repair":
        instruction, information, code, source_extra["repair_bug"] = _repair(draft, example, ctx, outcome)
        response = fence(code, draft.source_language)
    full = instruction + (f"\n\n{information}" if information else "")
    draft.record = ctx.record(draft.seed, instruction=full, response=response, code=code, task=draft.task,
                              language=draft.language if draft.task == "translation" else draft.source_language,
                              scores={}, record_seed=ctx.seed_for(draft.seed["id"], draft.task, 0),
                              source_extra=source_extra)
    draft.example = {"task": draft.task, "language": draft.source_language, "code": draft.code,
                     "instruction": instruction, "information": information, "solution": response}


def _repair(draft: _Draft, example: parsers.WaveExample, ctx: Context,
            outcome: SeedOutcome) -> tuple[str, str, str, str]:
    """(instruction, information with the buggy code, the fix, "llm" | "mutation") of a repair task."""
    buggy = parsers.extract_code(example.information, draft.source_language) if example.information else ""
    entry = _entry(draft.code, str(draft.seed.get("entry_point") or ""))
    if draft.source_language == "python":
        problem = bugs.llm_bug_problem(draft.code, buggy, entry)
    else:  # no parser for other languages: any different code counts as the bug
        problem = None if buggy.strip() and buggy.strip() != draft.code.strip() else "bug_identical"
    if problem is None:
        return example.instruction, fence(buggy, draft.source_language), draft.code, "llm"
    outcome.notes[f"repair_fallback_{problem}"] += 1
    if draft.source_language != "python":
        raise Rejected("no_bug_site", f"the LLM's bug is unusable ({problem}) and mutations need Python")
    mutation = bugs.introduce_bug(draft.code, random.Random(ctx.seed_for(draft.seed["id"], "repair/bug")))
    if mutation is None:
        raise Rejected("no_bug_site", f"the LLM's bug is unusable ({problem}) and no token can be mutated")
    what = f"function `{entry}`" if entry else "code"
    return f"Fix the bug in the following Python {what}.", fence(mutation.code, "python"), draft.code, "mutation"
