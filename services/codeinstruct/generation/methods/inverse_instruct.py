"""Inverse-Instruct (InverseCoder): instructions written by the model for clean code snippets.

Preprocessing keeps the first fenced code block of a seed response, else the whole text when it
parses, else drops the seed. For each snippet N (default 10) summaries are sampled (temperature
0.8, repetition penalty 1.1) with the summarization prompt; each answer is started with a random
prefix ("Write a", "Create a" ... + the language) so the instructions vary. The LM-Score selection
(best instruction per snippet) is the scoring stage's job.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.generation import parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches, fence
from codeinstruct.generation.parsers import Rejected

LANGUAGE_NAMES = {"python": "Python", "javascript": "JavaScript", "typescript": "TypeScript", "cpp": "C++",
                  "c": "C", "java": "Java", "go": "Go", "rust": "Rust", "csharp": "C#", "php": "PHP",
                  "ruby": "Ruby", "shell": "shell", "bash": "Bash", "sql": "SQL", "kotlin": "Kotlin"}


def snippet(seed: dict[str, Any]) -> str:
    """The seed's code: `code`, else the InverseCoder preprocessing of its `response`."""
    if seed.get("code", "").strip():
        return str(seed["code"]).strip("\n")
    return parsers.inverse_code(seed.get("response", ""), seed.get("language", "python"))


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config
    template = prompts.load("inverse_instruct.summarize")
    prefixes = prompts.load("inverse_instruct.prefixes").lines()
    # one prompt per sample: each sample has its own prefix, so n=1 per prompt
    per_call = max(1, ctx.batch // cfg.inverse.samples)
    for chunk in batches(list(seeds), per_call):
        outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
        jobs: list[tuple[dict[str, Any], int, str, str]] = []  # seed, sample, code, started answer
        for seed in chunk:
            try:
                code = snippet(seed)
            except Rejected as exc:
                outcomes[seed["id"]].reject(exc.reason, exc.detail)
                continue
            language = seed.get("language", "python")
            for k in range(cfg.inverse.samples):
                rng = random.Random(ctx.seed_for(seed["id"], "prefix", k))
                start = f"{rng.choice(prefixes)} {LANGUAGE_NAMES.get(language, language)}"
                jobs.append((seed, k, code, start))
        prompts_text = [
            ctx.engine.apply_chat_template([{"role": "user", "content": template.render(code=code)}]) + start
            for _, _, code, start in jobs]
        params = [ctx.params(seed["id"], "summarize", k, temperature=cfg.inverse.temperature,
                             repetition_penalty=cfg.inverse.repetition_penalty, max_tokens=cfg.inverse.max_tokens)
                  for seed, k, _, _ in jobs]
        texts = ctx.engine.generate(prompts_text, params) if jobs else []
        seen: dict[str, set[str]] = {s["id"]: set() for s in chunk}
        for (seed, k, code, start), (text,) in zip(jobs, texts, strict=True):
            instruction = (start + text).strip()
            instruction = instruction.split("```")[0].strip()  # the description, not code it may add
            outcome = outcomes[seed["id"]]
            if len(parsers.words(text)) < 3:
                outcome.reject("instruction_too_short", repr(text[:60]))
                continue
            if instruction in seen[seed["id"]]:
                outcome.reject("duplicate_instruction")
                continue
            seen[seed["id"]].add(instruction)
            language = seed.get("language", "python")
            outcome.records.append(ctx.record(
                seed, instruction=instruction, response=fence(code, language), code=code,
                entry_point=str(seed.get("entry_point", "")), scores={"inverse_sample": k},
                record_seed=ctx.seed_for(seed["id"], "summarize", k)))
        yield from (outcomes[s["id"]] for s in chunk)
