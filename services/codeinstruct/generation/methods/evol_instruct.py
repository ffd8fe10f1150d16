"""Code Evol-Instruct (WizardCoder): make seed instructions harder, round after round.

The dataset (WizardCoder's 78K from 20K Code Alpaca seeds) is the ORIGINAL seed (instruction,
response) pairs plus every round's surviving evolutions:
  - round 0: each seed with an instruction and a response (or code) becomes a record as it is
    (`scores.evol_round = 0`, `source.evol_origin = "seed"`), when `generation.evol.include_seeds`;
  - rounds 1..M (`generation.evol.rounds`, default 3): each round draws one of the five code
    heuristics per instruction (seeded), asks the model to rewrite the instruction (temperature 1,
    top_p 0.9), applies WizardLM's elimination rules and answers the survivors
    (`scores.evol_round = k`, `source.evol_origin = "evolved"`, `source.evolved_from`).
A lineage is one seed and its evolutions (`source.parent_id` = the seed id). A rejected evolution
leaves the lineage's instruction as it was for the next round (as in WizardLM, failed instructions
go back to the pool). Elimination reasons, each counted:
  - copies_template: the rewrite leaks prompt words ("#Rewritten Test#", "given prompt" ...);
  - only_punctuation_or_stop_words / empty;
  - answered_instead_of_rewritten: the reply opens with code or has almost no prose (the model
    solved the instruction instead of rewriting it; common with small models);
  - no_information_gain: identical text, or the model itself judges both instructions Equal;
  - sorry_short_answer: the answer contains "sorry" and is under 80 words;
  - only_punctuation_or_stop_words / empty_answer on the answer.

Rounds one job at a time (a pipeline that trains and evaluates between rounds): round k runs with
`generation.evol.start_round = rounds = k` on the dataset so far; `pool_seeds` turns that dataset
into one seed per lineage carrying its latest instruction (write it as the job's seeds file when
the job is sharded or resumed: its ids are the lineage ids the journal keys on). Every sampling
seed derives from (global seed, seed id, stage, round), so rounds run one job at a time give the
records of one job running them all (ids differ: the fingerprint holds `start_round`/`rounds`).

Example (round 2 on round 1's output):
    codeinstruct generate evol_instruct --seeds round1.jsonl --output round2.jsonl --config round2.yaml
    # round2.yaml: generation: {evol: {start_round: 2, rounds: 2}}
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.generation import parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches, fence
from codeinstruct.generation.parsers import Rejected

logger = logging.getLogger(__name__)

ROUND = "evol_round"  # scores key: the round that made a record's instruction (0: the seed's own)
ORIGIN = "evol_origin"  # source key: "seed" (an original pair) or "evolved"


def heuristics(enabled: Sequence[str]) -> list[tuple[str, str, float]]:
    rows = []
    for line in prompts.load("evol_instruct.heuristics").lines():
        key, text, weight = line.split("\t")
        if key in enabled:
            rows.append((key, text, float(weight)))
    return rows


def round_of(seed: Mapping[str, Any]) -> int:
    """The round that made `seed`'s instruction: its `scores.evol_round`, 0 for a plain seed."""
    return int((seed.get("scores") or {}).get(ROUND, 0))


def lineage_of(seed: Mapping[str, Any]) -> str:
    """The original seed id of an evol_instruct record (`source.parent_id`); a plain seed's own id."""
    if ROUND in (seed.get("scores") or {}):
        return str((seed.get("source") or {}).get("parent_id") or seed["id"])
    return str(seed["id"])


def pool_seeds(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One seed per lineage, in order of first appearance, carrying the lineage's LATEST instruction.

    `records` are seeds and/or evol_instruct records (round 0 seed records, round-k evolutions).
    The result is a seed dict per lineage: `id` = the original seed id, `instruction` = the one of
    the highest round, `scores.evol_round` = that round, and the original seed's `language`, `code`
    and `source` (origin, license, code; a round-0 seed record gives its whole pair), so the next
    round's records are built exactly as a job running all rounds builds them.
    Idempotent: pool_seeds(pool_seeds(x)) == pool_seeds(x).
    """
    latest: dict[str, dict[str, Any]] = {}
    for item in records:
        lineage, number = lineage_of(item), round_of(item)
        if lineage in latest and round_of(latest[lineage]) >= number:
            continue
        if ROUND in (item.get("scores") or {}):  # an evol record: the seed comes from its source
            source = item.get("source") or {}
            seed = {"id": lineage, "method": "seed", "language": item.get("language") or "python",
                    "instruction": item.get("instruction", ""), "response": "",
                    "code": str(source.get("code", "")), "entry_point": "",
                    "source": {k: source[k] for k in ("origin", "license", "code") if k in source},
                    "scores": {ROUND: number}}
            if number == 0:  # the seed record: the original pair, whole
                seed.update(response=item.get("response", ""), entry_point=item.get("entry_point", ""),
                            tests=list(item.get("tests") or []))
        else:
            seed = dict(item)
        latest[lineage] = seed
    return list(latest.values())


def seed_record(seed: Mapping[str, Any], ctx: Context) -> Record | None:
    """Round 0: the original pair as a record, or None when the seed lacks an instruction or code."""
    instruction, code = str(seed.get("instruction", "")).strip(), str(seed.get("code", ""))
    if not instruction or not code.strip():
        return None
    language = str(seed.get("language") or "python")
    return ctx.record(dict(seed), instruction=instruction, response=str(seed.get("response") or "")
                      or fence(code, language), code=code, entry_point=str(seed.get("entry_point") or ""),
                      tests=list(seed.get("tests") or []), scores={ROUND: 0}, source_extra={ORIGIN: "seed"})


@dataclasses.dataclass
class Lineage:
    """A seed on its way through the rounds: the instruction the next round evolves."""

    seed: dict[str, Any]
    instruction: str
    outcome: SeedOutcome


@dataclasses.dataclass(frozen=True)
class _Templates:
    evolve: prompts.Template
    equal: prompts.Template
    answer: prompts.Template
    heuristics: tuple[tuple[str, str, float], ...]

    @classmethod
    def load(cls, ctx: Context) -> _Templates:
        return cls(prompts.load("evol_instruct.evolve"), prompts.load("evol_instruct.equal"), prompts.load("answer"),
                   tuple(heuristics(ctx.config.evol.heuristics)))


def run(seeds: Sequence[Mapping[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    """Rounds `evol.start_round`..`evol.rounds` over `seeds` (plain seeds, or the dataset so far)."""
    cfg = ctx.config.evol
    yield from _rounds(seeds, range(cfg.start_round, cfg.rounds + 1), ctx)


def run_round(seeds: Sequence[Mapping[str, Any]], round_no: int, ctx: Context) -> Iterator[SeedOutcome]:
    """Round `round_no` alone over plain seeds (round 1) or the dataset so far (any round), whatever
    `evol.start_round`/`evol.rounds` say; round 1 also gives the seed records (`evol.include_seeds`)."""
    if round_no < 1:
        raise InvalidInput(f"round must be >= 1, got {round_no}", field="round")
    yield from _rounds(seeds, range(round_no, round_no + 1), ctx)


def _rounds(seeds: Sequence[Mapping[str, Any]], rounds: range, ctx: Context) -> Iterator[SeedOutcome]:
    templates = _Templates.load(ctx)
    for chunk in batches(pool_seeds(seeds), ctx.batch):
        lineages = [lineage for seed in chunk if (lineage := _start(seed, rounds.start, ctx)) is not None]
        for round_no in rounds:
            _evolve(lineages, round_no, ctx, templates)
        by_id = {lineage.seed["id"]: lineage.outcome for lineage in lineages}
        for seed in chunk:
            yield by_id.get(seed["id"]) or _no_instruction(seed)


def _no_instruction(seed: Mapping[str, Any]) -> SeedOutcome:
    outcome = SeedOutcome(seed["id"])
    outcome.reject("seed_has_no_instruction")
    return outcome


def _start(seed: dict[str, Any], first_round: int, ctx: Context) -> Lineage | None:
    """The lineage of a pool seed (None without an instruction); round 1 records the seed pair."""
    instruction = str(seed.get("instruction", "")).strip()
    if not instruction:
        return None
    if round_of(seed) >= first_round:
        raise InvalidInput(f"seed {seed['id']} already holds round {round_of(seed)}, but this job starts at round "
                           f"{first_round}: set generation.evol.start_round above the input's last round",
                           field="generation.evol.start_round")
    lineage = Lineage(seed, instruction, SeedOutcome(seed["id"]))
    if first_round == 1 and ctx.config.evol.include_seeds:
        record = seed_record(seed, ctx)
        if record is not None:
            lineage.outcome.records.append(record)
        else:
            logger.debug("seed %s has no code or response: no seed record", seed["id"])
    return lineage


def _evolve(lineages: Sequence[Lineage], round_no: int, ctx: Context, templates: _Templates) -> None:
    """One round over `lineages`: survivors become records and the lineage's new instruction."""
    cfg = ctx.config.evol
    weights = [w for _, _, w in templates.heuristics]
    picks = {}
    for lineage in lineages:
        rng = random.Random(ctx.seed_for(lineage.seed["id"], "heuristic", round_no))
        picks[lineage.seed["id"]] = rng.choices(templates.heuristics, weights=weights)[0]
    texts = ctx.chat(
        [templates.evolve.render(method=picks[x.seed["id"]][1], instruction=x.instruction) for x in lineages],
        [ctx.params(x.seed["id"], "evolve", round_no, temperature=cfg.temperature, top_p=cfg.top_p,
                    max_tokens=cfg.max_tokens) for x in lineages])
    candidates: list[tuple[Lineage, str]] = []
    for lineage, (text,) in zip(lineages, texts, strict=True):
        evolved = parsers.clean_evolved(text)
        try:
            parsers.check_evolved(evolved, lineage.instruction)
        except Rejected as exc:
            lineage.outcome.reject(exc.reason, exc.detail)
            continue
        candidates.append((lineage, evolved))
    if cfg.equality_check and candidates:
        verdicts = ctx.chat([templates.equal.render(first=x.instruction, second=e) for x, e in candidates],
                            [ctx.params(x.seed["id"], "equal", round_no, max_tokens=8) for x, _ in candidates])
        kept = []
        for (lineage, evolved), (verdict,) in zip(candidates, verdicts, strict=True):
            if parsers.parse_equality(verdict) == "equal":
                lineage.outcome.reject("no_information_gain", "judged Equal by the model")
            else:
                kept.append((lineage, evolved))
        candidates = kept
    answers: list[str] = [""] * len(candidates)
    if cfg.answer and candidates:
        answers = [a[0] for a in ctx.chat(
            [templates.answer.render(instruction=e) for _, e in candidates],
            [ctx.params(x.seed["id"], "answer", round_no, temperature=ctx.config.answer_temperature)
             for x, _ in candidates])]
    for (lineage, evolved), reply in zip(candidates, answers, strict=True):
        if cfg.answer:
            try:
                parsers.check_answer(reply)
            except Rejected as exc:
                lineage.outcome.reject(exc.reason, exc.detail)
                continue
        seed = lineage.seed
        lineage.outcome.records.append(ctx.record(
            seed, instruction=evolved, response=reply, code=parsers.extract_code(reply, seed.get("language", "python")),
            scores={ROUND: round_no, "evol_heuristic": picks[seed["id"]][0]},
            record_seed=ctx.seed_for(seed["id"], "evolve", round_no),
            source_extra={"evolved_from": lineage.instruction, ORIGIN: "evolved"}))
        lineage.instruction = evolved
