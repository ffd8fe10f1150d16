"""WaveCoder generator: instruction examples of four code tasks from raw code.

For each raw code seed, `wavecoder_tasks_per_seed` tasks are taken in rotation (by seed id) from
summarization / generation / translation / repair. The generator answers in a fixed labelled
format (Task name / Instruction / Information / Solution) and an output is accepted only when every
label appears exactly once and in order, the task name is the one asked for, the instruction is
1-2 sentences, the information at most 2 sentences of prose (code blocks aside) and there is at
most one `<noinput>`. The discriminator checklist and the KCenterGreedy coreset are scoring stages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.core.records import stable_hash
from codeinstruct.generation import parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches
from codeinstruct.generation.parsers import Rejected

TASK_DESCRIPTIONS = {
    "summarization": "the instruction asks to explain what given code does; the information is that code; "
                     "the solution is a short explanation in English",
    "generation": "the instruction asks to write code with the raw code's behaviour; the information gives "
                  "optional constraints or <noinput>; the solution is the code in a fenced block",
    "translation": "the instruction asks to translate the given code into {target}; the information is the "
                   "code to translate; the solution is the {target} code in a fenced block",
    "repair": "the instruction asks to fix a bug; the information is the raw code with one bug introduced; "
              "the solution is the corrected code in a fenced block",
}


def tasks_for(seed_id: str, tasks: Sequence[str], count: int) -> list[str]:
    start = int(stable_hash(seed_id, "wavecoder-task"), 16) % len(tasks)
    return [tasks[(start + i) % len(tasks)] for i in range(min(count, len(tasks)))]


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config
    template = prompts.load("wavecoder.generate")
    per_call = max(1, ctx.batch // cfg.wavecoder_tasks_per_seed)
    for chunk in batches(list(seeds), per_call):
        outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
        jobs: list[tuple[dict[str, Any], str, str]] = []  # seed, task, answer language
        for seed in chunk:
            if not str(seed.get("code", "")).strip():
                outcomes[seed["id"]].reject("seed_has_no_code")
                continue
            for task in tasks_for(seed["id"], cfg.wavecoder_tasks, cfg.wavecoder_tasks_per_seed):
                language = seed.get("language", "python")
                if task == "translation":
                    targets = [t for t in cfg.wavecoder_translation_languages if t != language]
                    if not targets:
                        outcomes[seed["id"]].reject("no_translation_target")
                        continue
                    language = random.Random(ctx.seed_for(seed["id"], "target")).choice(targets)
                jobs.append((seed, task, language))
        turns = []
        for seed, task, target in jobs:
            description = TASK_DESCRIPTIONS[task].format(target=target)
            turns.append(template.render(task=task, task_description=description,
                                         language=seed.get("language", "python"),
                                         code=str(seed["code"]).strip("\n")))
        # the answer is started with its first label, which small models then follow
        starts = [f"Task name: {task}\nInstruction:" for _, task, _ in jobs]
        texts = ctx.engine.generate(
            [ctx.engine.apply_chat_template([{"role": "user", "content": turn}]) + start
             for turn, start in zip(turns, starts, strict=True)],
            [ctx.params(seed["id"], task, 0, temperature=cfg.wavecoder_temperature) for seed, task, _ in jobs]
        ) if jobs else []
        for (seed, task, target), start, (completion,) in zip(jobs, starts, texts, strict=True):
            text = start + completion
            outcome = outcomes[seed["id"]]
            try:
                example = parsers.parse_wavecoder(text, task)
            except Rejected as exc:
                outcome.reject(exc.reason, exc.detail)
                continue
            instruction = example.instruction + (f"\n\n{example.information}" if example.information else "")
            code = "" if task == "summarization" else parsers.extract_code(example.solution, target)
            if task != "summarization" and not code:
                outcome.reject("solution_has_no_code")
                continue
            outcome.records.append(ctx.record(
                seed, instruction=instruction, response=example.solution, code=code, task=task,
                language=target if task == "translation" else seed.get("language", "python"),
                scores={}, record_seed=ctx.seed_for(seed["id"], task, 0)))
        yield from (outcomes[s["id"]] for s in chunk)
