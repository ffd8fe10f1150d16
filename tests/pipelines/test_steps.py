"""The plain-Python steps behind the components: seeds and shards, fan-in, stage ledgers, summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeinstruct.core.config import updated
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record, read_records, write_jsonl_atomic
from codeinstruct.settings import Settings
from codeinstruct_pipelines import steps


def _record(n: int, method: str = "semi_instruct") -> Record:
    return Record(method=method, instruction=f"task {n}", code=f"def f():\n    return {n}\n", entry_point="f",
                  tests=[{"input": "f()", "output": repr(n)}])


def test_prepare_seeds_from_file_limits_and_plans_shards(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    write_jsonl_atomic(seeds, [{"code": f"def f{i}(): return {i}", "language": "python"} for i in range(5)])
    stats, shards = steps.prepare_seeds("semi_instruct", str(seeds), tmp_path / "out.jsonl", limit=3, num_shards=4)
    assert shards == [0, 1, 2]  # never more shards than seeds
    assert stats["kept"] == 3 and stats["stage"] == "semi_instruct/seeds"
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3


def test_prepare_seeds_rejects_a_seed_without_code_or_instruction(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    write_jsonl_atomic(seeds, [{"code": "x = 1"}, {"language": "python"}])
    with pytest.raises(InvalidInput, match="seed 2"):
        steps.prepare_seeds("semi_instruct", str(seeds), tmp_path / "out.jsonl")


def test_shards_cover_every_item_once() -> None:
    items = list(range(11))
    parts = [steps.shard_of(items, i, 3) for i in range(3)]
    assert sorted(x for part in parts for x in part) == items
    with pytest.raises(InvalidInput):
        steps.shard_of(items, 3, 3)


def test_merge_keeps_first_copy_of_an_id(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl_atomic(a, [_record(1), _record(2)])
    write_jsonl_atomic(b, [_record(2), _record(3)])
    stats = steps.merge_datasets([a, b], tmp_path / "m.jsonl")
    assert [r.instruction for r in read_records(tmp_path / "m.jsonl")] == ["task 1", "task 2", "task 3"]
    assert stats["input"] == 4 and stats["kept"] == 3 and stats["reasons"] == {"duplicate_id": 1}


def test_ledgers_of_shards_sum_and_shared_entries_stay_single() -> None:
    seeds = {"stage": "m/seeds", "input": 4, "kept": 4, "dropped": 0, "reasons": {}, "seconds": 0.1}
    shard0 = {"stage": "m/generate", "input": 2, "kept": 1, "dropped": 1, "reasons": {"empty": 1}, "seconds": 1.0,
              "shard": 0}
    shard1 = {"stage": "m/generate", "input": 2, "kept": 2, "dropped": 0, "reasons": {}, "seconds": 2.0, "shard": 1}
    merged = steps.merge_ledgers([[seeds, shard0], [seeds, shard1]])
    assert merged[0] == seeds
    assert merged[1]["input"] == 4 and merged[1]["kept"] == 3 and merged[1]["reasons"] == {"empty": 1}
    assert merged[1]["shards"] == 2 and merged[1]["seconds"] == 3.0


def test_summaries_and_metrics_carry_counts_yield_and_reasons() -> None:
    stats = {"stage": "x", "input": 10, "kept": 4, "dropped": 6, "reasons": {"WRONG_ANSWER": 5, "TIMEOUT": 1},
             "seconds": 1.5, "model": "m"}
    values = steps.metric_values(stats)
    assert values["yield"] == 0.4 and values["reject.WRONG_ANSWER"] == 5.0 and values["kept"] == 4.0
    text = steps.markdown_summary("x", stats)
    assert "| 10 | 4 | 6 | 40% |" in text and "| WRONG_ANSWER | 5 |" in text


def test_parse_config_rejects_non_mapping(clean_env: None) -> None:
    assert steps.parse_config("") == Settings()
    assert steps.parse_config("pipelines: {num_shards: 2}").pipelines.num_shards == 2
    with pytest.raises(InvalidInput):
        steps.parse_config("- a\n- b\n")


def test_training_overrides_do_not_touch_the_callers_settings(clean_env: None) -> None:
    original = Settings.from_mapping({"training": {"model": "m0", "max_steps": 3}})
    overrides = steps.training_overrides(model="m1", curriculum=True, seed=None)
    assert overrides == {"model": "m1", "curriculum": True}
    data = updated(original.training, "training", overrides)
    assert (data.model, data.max_steps, data.curriculum) == ("m1", 3, True)
    assert (original.training.model, original.training.max_steps) == ("m0", 3)
    assert steps.base_model_name(Settings(), "") == "default"
    assert steps.base_model_name(original, "") == "m0"


def test_load_dataset_validates_records(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    write_jsonl_atomic(good, [_record(1)])
    bad.write_text(json.dumps({"method": "nope", "instruction": "x"}) + "\n")
    assert steps.load_dataset(str(good), tmp_path / "o.jsonl")["kept"] == 1
    with pytest.raises(InvalidInput):
        steps.load_dataset(str(bad), tmp_path / "o2.jsonl")


@pytest.mark.parametrize("stage", sorted(set(steps.STAGES) - {"curriculum", "verify", "mix"}))
def test_every_scoring_stage_resolves_to_a_function(stage: str) -> None:
    function = steps.services.SCORING_STAGES[stage]
    assert callable(function) and not isinstance(function, type(steps))


def test_dedup_and_curriculum_stages_run_on_the_real_scoring_code(tmp_path: Path) -> None:
    a = Record(method="self_instruct", instruction="Write a function that reverses a list of numbers.",
               code="def f(x):\n    return x[::-1]\n", scores={"n_tests": 1})
    twin = Record(method="self_instruct", instruction="Write a function that reverses a list of numbers.",
                  code="def f(x):\n    return x[::-1]\n", scores={"n_tests": 1}, source={"parent_id": "other"})
    b = Record(method="self_instruct", instruction="Count the vowels in a string and return the count.",
               code="def g(s):\n    return sum(c in 'aeiou' for c in s)\n", scores={"n_tests": 5})
    source = tmp_path / "in.jsonl"
    write_jsonl_atomic(source, [a, twin, b])
    stats = steps.run_stage("dedup", source, tmp_path / "d.jsonl", settings=Settings(), options={"method": "exact"})
    assert stats["kept"] == 2 and stats["dropped"] == 1 and sum(stats["reasons"].values()) == 1
    stats = steps.run_stage("curriculum", tmp_path / "d.jsonl", tmp_path / "c.jsonl", settings=Settings(),
                            options={"by": "n_tests"})
    assert [r.scores["n_tests"] for r in read_records(tmp_path / "c.jsonl")] == [5, 1]


def test_coreset_stage_without_a_size_keeps_every_record(tmp_path: Path) -> None:
    # pipelines.coreset_size 0 (the default): the step passes no k, and the stage keeps all records
    records = [Record(method="wavecoder", task="summarization", instruction=f"Explain function {i}.",
                      response=f"It returns {i}.") for i in range(3)]
    source = tmp_path / "in.jsonl"
    write_jsonl_atomic(source, records)
    stats = steps.run_stage("coreset", source, tmp_path / "out.jsonl", settings=Settings(), options={})
    assert stats["kept"] == 3 and stats["dropped"] == 0
    assert [r.id for r in read_records(tmp_path / "out.jsonl")] == [r.id for r in records]


def test_mix_stage_keeps_the_configured_ratios_and_records_the_table(tmp_path: Path) -> None:
    records = [Record(method=m, instruction=f"{m} task {i}", response=f"answer {i}")
               for m, n in (("semi_instruct", 6), ("self_instruct", 2)) for i in range(n)]
    source = tmp_path / "in.jsonl"
    write_jsonl_atomic(source, records)
    settings = Settings.from_mapping({"pipelines": {"mixture": {"semi_instruct": 1, "self_instruct": 1}}})
    stats = steps.run_stage("mix", source, tmp_path / "out.jsonl", settings=settings)
    assert stats["kept"] == 4 and stats["reasons"] == {"over_semi_instruct_share": 4}
    assert stats["mixture"]["self_instruct"] == {"ratio": 0.5, "available": 2, "kept": 2}
