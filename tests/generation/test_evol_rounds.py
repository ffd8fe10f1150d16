"""Code Evol-Instruct rounds: seed pairs + round-tagged evolutions, one round per job, the stopping
rule's building blocks (fast: a deterministic fake model stands for the model's text)."""

import hashlib
import itertools
from collections.abc import Sequence

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines.base import Engine, SamplingParams, per_prompt
from codeinstruct.generation.config import EvolConfig, GenerationConfig
from codeinstruct.generation.evol_stopping import checkable, split_holdout, stop_rule
from codeinstruct.generation.methods import evol_instruct
from codeinstruct.generation.run import context, generate_outcomes
from codeinstruct.generation.seeds import normalize_seed

WORDS = ["parse", "sort", "merge", "count", "filter", "validate", "reverse", "group", "cache", "stream"]


class HashEngine(Engine):
    """Answers as a function of (prompt, sampling seed) only: a stand-in for a seeded model."""

    model_name = "hash"
    engine_name = "hash"

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        out = []
        for prompt, p in zip(prompts, per_prompt(params, len(prompts)), strict=True):
            h = int(hashlib.sha256(f"{prompt}|{p.seed}".encode()).hexdigest(), 16)
            if "#Rewritten Test#" in prompt:
                given = prompt.split("#Given Test#\n", 1)[1].split("\n\n#Rewritten Test#", 1)[0]
                # about one evolution in four fails (copies the template): its lineage goes back to the pool
                text = "#Rewritten Test# x" if h % 4 == 0 else f"{given} Also {WORDS[h % 10]} the results."
            elif "Equal" in prompt:
                text = "Not Equal"
            else:
                text = f"Here it is.\n```python\ndef f(x):\n    return {h % 97}\n```"
            out.append([text] * p.n)
        return out

    def apply_chat_template(self, messages, add_generation_prompt=True):
        return "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages) + "<assistant>"

    def count_tokens(self, text):
        return len(text.split())

    def lm_score(self, instructions, codes):
        return [0.5] * len(instructions)


def seeds(n: int = 6) -> list[dict]:
    return [normalize_seed({"instruction": f"Write a function number {i} that adds {i} to x.",
                            "response": f"```python\ndef f(x):\n    return x + {i}\n```",
                            "source": {"origin": "test", "license": "MIT"}}) for i in range(n)]


def config(**evol) -> GenerationConfig:
    return GenerationConfig(seeds_per_batch=4, evol=EvolConfig(**evol))


def content(records) -> list[tuple]:
    """What a record says, without id and fingerprint (they name the job's settings)."""
    return sorted((r.source["parent_id"], r.scores["evol_round"], r.instruction, r.response, r.code,
                   r.source.get("evolved_from", ""), r.source["evol_origin"], r.generator.get("seed", ""))
                  for r in records)


def records_of(outcomes) -> list:
    return [r for o in outcomes for r in o.records]


def test_output_is_the_seed_pairs_plus_each_rounds_evolutions():
    data = records_of(generate_outcomes("evol_instruct", seeds(), HashEngine(), config(rounds=3)))
    originals = [r for r in data if r.scores["evol_round"] == 0]
    assert len(originals) == 6 and all(r.source["evol_origin"] == "seed" for r in originals)
    assert {r.instruction for r in originals} == {s["instruction"] for s in seeds()}
    assert all(r.code.startswith("def f(x):") and r.method == "evol_instruct" for r in originals)
    evolved = [r for r in data if r.scores["evol_round"] > 0]
    assert {r.scores["evol_round"] for r in evolved} == {1, 2, 3}
    assert all(r.source["evol_origin"] == "evolved" and r.scores["evol_heuristic"] for r in evolved)
    assert len(evolved) < 18  # some evolutions failed: their instruction stayed in the pool
    # each evolution evolves its lineage's latest survivor (a failed round leaves it as it was)
    for lineage in {r.source["parent_id"] for r in data}:
        chain = sorted((r for r in data if r.source["parent_id"] == lineage), key=lambda r: r.scores["evol_round"])
        for before, after in itertools.pairwise(chain):
            assert after.source["evolved_from"] == before.instruction


def test_include_seeds_false_leaves_the_seed_pairs_out():
    data = records_of(generate_outcomes("evol_instruct", seeds(), HashEngine(),
                                        config(rounds=2, include_seeds=False)))
    assert data and all(r.scores["evol_round"] >= 1 for r in data)


def test_one_round_per_job_equals_all_rounds_in_one_job():
    engine = HashEngine()
    all_rounds = records_of(generate_outcomes("evol_instruct", seeds(), engine, config(rounds=3)))
    so_far = records_of(generate_outcomes("evol_instruct", seeds(), engine, config(start_round=1, rounds=1)))
    for k in (2, 3):
        # the dataset so far, as records written to JSONL and read back as seeds
        pool = evol_instruct.pool_seeds([normalize_seed(r.to_dict()) for r in so_far])
        assert len(pool) == 6 and {evol_instruct.round_of(s) for s in pool} <= set(range(k))
        so_far += records_of(generate_outcomes("evol_instruct", pool, engine, config(start_round=k, rounds=k)))
    assert content(so_far) == content(all_rounds)
    # the cumulative records themselves (not pooled) give the same round too
    ctx = context("evol_instruct", engine, config(rounds=3))
    last = records_of(evol_instruct.run_round([r.to_dict() for r in so_far if r.scores["evol_round"] < 3], 3, ctx))
    assert content(last) == content([r for r in all_rounds if r.scores["evol_round"] == 3])


def test_a_job_refuses_input_that_already_holds_its_round():
    data = [r.to_dict() for r in records_of(generate_outcomes("evol_instruct", seeds(2), HashEngine(),
                                                              config(rounds=2)))]
    with pytest.raises(InvalidInput, match="start_round") as info:
        list(generate_outcomes("evol_instruct", data, HashEngine(), config(start_round=2, rounds=2)))
    assert info.value.field == "generation.evol.start_round"


def test_pool_seeds_keeps_the_latest_instruction_per_lineage_and_is_idempotent():
    data = [r.to_dict() for r in records_of(generate_outcomes("evol_instruct", seeds(), HashEngine(),
                                                              config(rounds=2)))]
    pool = evol_instruct.pool_seeds(data)
    assert [s["id"] for s in pool] == [s["id"] for s in seeds()]
    for seed in pool:
        rounds = [d for d in data if d["source"]["parent_id"] == seed["id"]]
        latest = max(rounds, key=lambda d: d["scores"]["evol_round"])
        assert seed["instruction"] == latest["instruction"] and seed["code"].startswith("def f(x):")
    assert evol_instruct.pool_seeds(pool) == pool


def test_rounds_default_to_the_papers_three_and_start_round_is_checked():
    assert EvolConfig().rounds == 3 and EvolConfig().include_seeds and EvolConfig().start_round == 1
    with pytest.raises(InvalidInput, match=r"generation\.evol\.start_round"):
        EvolConfig(rounds=2, start_round=3)


@pytest.mark.parametrize(("history", "first_round", "expected"), [
    ([0.10], 1, (False, 1)),
    ([0.10, 0.12], 1, (False, 2)),
    ([0.10, 0.12, 0.11], 1, (True, 2)),
    ([0.10, 0.10], 1, (False, 1)),            # a tie does not stop; the earlier round is as good
    ([0.20, 0.10], 1, (True, 1)),
    ([0.05, 0.10, 0.15, 0.14], 0, (True, 2)),  # history[0] is the seeds-only model (round 0)
    ([0.3, 0.1, 0.2], 1, (False, 1)),          # rising again: go on, but round 1 is still the best
])
def test_stop_rule(history, first_round, expected):
    assert stop_rule(history, first_round) == expected


@pytest.mark.parametrize("history", [[], [0.1, float("nan")]])
def test_stop_rule_rejects_empty_or_non_numbers(history):
    with pytest.raises(InvalidInput):
        stop_rule(history)


def holdout_items(n: int) -> list[dict]:
    return [{"id": f"s{i}", "instruction": f"Add {i}.", "code": f"def f(x):\n    return x + {i}\n",
             "entry_point": "f", "tests": [{"input": "f(1)", "output": str(1 + i)}]} for i in range(n)]


def test_holdout_split_is_deterministic_disjoint_and_order_independent():
    items = [*holdout_items(40), {"id": "untested", "instruction": "x y", "code": "pass", "tests": []}]
    train, held = split_holdout(items, 0.25, seed=3)
    assert len(held) == 10 and len(train) == 31
    assert {i["id"] for i in train}.isdisjoint({i["id"] for i in held})
    assert {i["id"] for i in train} | {i["id"] for i in held} == {i["id"] for i in items}
    assert "untested" in {i["id"] for i in train} and all(checkable(i) for i in held)
    assert split_holdout(items, 0.25, seed=3) == (train, held)
    _, held_r = split_holdout(list(reversed(items)), 0.25, seed=3)
    assert {i["id"] for i in held_r} == {i["id"] for i in held}
    assert {i["id"] for i in split_holdout(items, 0.25, seed=4)[1]} != {i["id"] for i in held}
    assert [i["id"] for i in held] == [i["id"] for i in items if i in held]  # input order kept


def test_holdout_split_edges():
    assert split_holdout(holdout_items(3), 0.0) == (holdout_items(3), [])
    assert len(split_holdout(holdout_items(3), 0.01)[1]) == 1  # at least one when asked for any
    with pytest.raises(InvalidInput, match="fraction"):
        split_holdout(holdout_items(3), 1.0)
    with pytest.raises(InvalidInput, match="unique id"):
        split_holdout(holdout_items(2) + holdout_items(1), 0.5)
