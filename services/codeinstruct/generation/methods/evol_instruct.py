"""Evol-Instruct for code (WizardCoder): make seed instructions harder, round after round.

Each round draws one of the five code heuristics per instruction (seeded), asks the model to
rewrite the instruction (temperature 1, top_p 0.9), then applies WizardLM's elimination rules,
each counted under its own reason:
  - copies_template: the rewrite leaks prompt words ("#Rewritten Test#", "given prompt" ...);
  - only_punctuation_or_stop_words / empty;
  - answered_instead_of_rewritten: the reply opens with code or has almost no prose (the model
    solved the instruction instead of rewriting it; common with small models);
  - no_information_gain: identical text, or the model itself judges both instructions Equal;
  - sorry_short_answer: the answer contains "sorry" and is under 80 words;
  - only_punctuation_or_stop_words / empty_answer on the answer.
A rejected evolution leaves the instruction as it was for the next round (as in WizardLM, failed
instructions go back to the pool). Every surviving round gives one record.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.generation import parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches
from codeinstruct.generation.parsers import Rejected


def heuristics(enabled: Sequence[str]) -> list[tuple[str, str, float]]:
    rows = []
    for line in prompts.load("evol_instruct.heuristics").lines():
        key, text, weight = line.split("\t")
        if key in enabled:
            rows.append((key, text, float(weight)))
    return rows


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config
    evolve = prompts.load("evol_instruct.evolve")
    equal = prompts.load("evol_instruct.equal")
    answer = prompts.load("answer")
    pool = heuristics(cfg.evol.heuristics)
    for chunk in batches(list(seeds), ctx.batch):
        outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
        current = {}
        for seed in chunk:
            if seed.get("instruction", "").strip():
                current[seed["id"]] = seed["instruction"].strip()
            else:
                outcomes[seed["id"]].reject("seed_has_no_instruction")
        live = [s for s in chunk if s["id"] in current]
        for round_no in range(1, cfg.evol.rounds + 1):
            if not live:
                break
            picks = {}
            for seed in live:
                rng = random.Random(ctx.seed_for(seed["id"], "heuristic", round_no))
                picks[seed["id"]] = rng.choices(pool, weights=[w for _, _, w in pool])[0]
            texts = ctx.chat(
                [evolve.render(method=picks[s["id"]][1], instruction=current[s["id"]]) for s in live],
                [ctx.params(s["id"], "evolve", round_no, temperature=cfg.evol.temperature, top_p=cfg.evol.top_p,
                            max_tokens=cfg.evol.max_tokens) for s in live])
            candidates: list[tuple[dict[str, Any], str]] = []
            for seed, (text,) in zip(live, texts, strict=True):
                evolved = parsers.clean_evolved(text)
                try:
                    parsers.check_evolved(evolved, current[seed["id"]])
                except Rejected as exc:
                    outcomes[seed["id"]].reject(exc.reason, exc.detail)
                    continue
                candidates.append((seed, evolved))
            if cfg.evol.equality_check and candidates:
                verdicts = ctx.chat(
                    [equal.render(first=current[s["id"]], second=e) for s, e in candidates],
                    [ctx.params(s["id"], "equal", round_no, max_tokens=8) for s, _ in candidates])
                kept = []
                for (seed, evolved), (verdict,) in zip(candidates, verdicts, strict=True):
                    if parsers.parse_equality(verdict) == "equal":
                        outcomes[seed["id"]].reject("no_information_gain", "judged Equal by the model")
                    else:
                        kept.append((seed, evolved))
                candidates = kept
            answers: list[str] = [""] * len(candidates)
            if cfg.evol.answer and candidates:
                answers = [a[0] for a in ctx.chat(
                    [answer.render(instruction=e) for _, e in candidates],
                    [ctx.params(s["id"], "answer", round_no, temperature=cfg.answer_temperature)
                     for s, _ in candidates])]
            for (seed, evolved), reply in zip(candidates, answers, strict=True):
                if cfg.evol.answer:
                    try:
                        parsers.check_answer(reply)
                    except Rejected as exc:
                        outcomes[seed["id"]].reject(exc.reason, exc.detail)
                        continue
                key = picks[seed["id"]][0]
                outcomes[seed["id"]].records.append(ctx.record(
                    seed, instruction=evolved, response=reply,
                    code=parsers.extract_code(reply, seed.get("language", "python")),
                    scores={"evol_round": round_no, "evol_heuristic": key},
                    record_seed=ctx.seed_for(seed["id"], "evolve", round_no),
                    source_extra={"evolved_from": current[seed["id"]]}))
                current[seed["id"]] = evolved
        yield from (outcomes[s["id"]] for s in chunk)
