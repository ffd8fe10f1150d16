"""Self-Instruct: new instructions from seed instructions, then answers (the Semi-Instruct baseline).

For each seed, the prompt shows that seed's instruction plus `self_instruct.examples - 1` others
drawn (seeded) from the seed pool, and asks for one new task. New instructions pass Self-Instruct's
filters (length, no unsupported modality, not starting with punctuation) and must not be too close
to any example (ROUGE-L above `self_instruct.max_similarity`); then the model answers them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from rouge_score import rouge_scorer

from codeinstruct.generation import parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches
from codeinstruct.generation.parsers import Rejected


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config
    new_template = prompts.load("self_instruct.new")
    answer = prompts.load("answer")
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = [s["instruction"].strip() for s in seeds if s.get("instruction", "").strip()]
    for chunk in batches(list(seeds), ctx.batch):
        outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
        jobs: list[tuple[dict[str, Any], list[str]]] = []
        for seed in chunk:
            own = seed.get("instruction", "").strip()
            if not own:
                outcomes[seed["id"]].reject("seed_has_no_instruction")
                continue
            others = [p for p in pool if p != own]
            rng = random.Random(ctx.seed_for(seed["id"], "examples"))
            examples = [own, *rng.sample(others, min(len(others), cfg.self_instruct.examples - 1))]
            jobs.append((seed, examples))
        turns = [new_template.render(examples="\n".join(f"Task {i}: {e}" for i, e in enumerate(ex, 1)),
                                     next=str(len(ex) + 1)) for _, ex in jobs]
        texts = ctx.chat(turns, [ctx.params(s["id"], "new", 0, temperature=cfg.self_instruct.temperature,
                                            max_tokens=160) for s, _ in jobs])
        fresh: list[tuple[dict[str, Any], str]] = []
        for (seed, examples), (text,) in zip(jobs, texts, strict=True):
            try:
                instruction = parsers.parse_new_instruction(text)
            except Rejected as exc:
                outcomes[seed["id"]].reject(exc.reason, exc.detail)
                continue
            closest = max(scorer.score(e, instruction)["rougeL"].fmeasure for e in examples)
            if closest > cfg.self_instruct.max_similarity:
                outcomes[seed["id"]].reject("too_similar_to_seed", f"ROUGE-L {closest:.2f}")
                continue
            fresh.append((seed, instruction))
        replies = ctx.chat([answer.render(instruction=i) for _, i in fresh],
                           [ctx.params(s["id"], "answer", 0, temperature=cfg.answer_temperature) for s, _ in fresh])
        for (seed, instruction), (reply,) in zip(fresh, replies, strict=True):
            if not reply.strip():
                outcomes[seed["id"]].reject("empty_answer")
                continue
            outcomes[seed["id"]].records.append(ctx.record(
                seed, instruction=instruction, response=reply,
                code=parsers.extract_code(reply, seed.get("language", "python")),
                record_seed=ctx.seed_for(seed["id"], "new", 0)))
        yield from (outcomes[s["id"]] for s in chunk)
