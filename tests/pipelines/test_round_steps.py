"""The evol_instruct round loop's bookkeeping: pass-through once stopped, the stop rule over the
held-out history, the best round's data kept."""

from __future__ import annotations

import json
from pathlib import Path

from codeinstruct.core.records import Record, read_records, write_jsonl_atomic
from codeinstruct.settings import Settings
from codeinstruct_pipelines import round_steps


def dataset(path: Path, round_no: int, n: int) -> Path:
    write_jsonl_atomic(path, [Record(method="evol_instruct", instruction=f"round {round_no} task {i}",
                                     response="x", scores={"evol_round": round_no}) for i in range(n)])
    return path


def test_a_stopped_round_generates_nothing_and_passes_the_data_through(tmp_path: Path) -> None:
    stats = round_steps.evolve_round(2, False, dataset(tmp_path / "s.jsonl", 0, 2), None, tmp_path / "new.jsonl",
                                     settings=Settings.from_mapping({}))
    assert stats["skipped"] == "the loop stopped" and list(read_records(tmp_path / "new.jsonl")) == []
    previous = dataset(tmp_path / "prev.jsonl", 1, 3)
    closed = round_steps.close_round(2, False, previous, dataset(tmp_path / "n.jsonl", 2, 5), tmp_path / "so_far.jsonl")
    assert closed["kept"] == 3  # the new round's records are not added once the loop stopped
    assert round_steps.close_round(2, True, previous, tmp_path / "n.jsonl", tmp_path / "all.jsonl")["kept"] == 8


def test_the_gate_stops_when_pass_at_1_drops_and_keeps_the_best_round(tmp_path: Path) -> None:
    r1, r2 = dataset(tmp_path / "r1.jsonl", 1, 2), dataset(tmp_path / "r2.jsonl", 2, 4)
    stats, go_on, history = round_steps.gate_round(1, True, "[]", {"pass@1": 0.5}, r1, None, tmp_path / "b1.jsonl")
    assert go_on and json.loads(history) == [0.5] and stats["best_round"] == 1
    stats, go_on, history = round_steps.gate_round(2, True, history, {"pass@1": 0.25}, r2, tmp_path / "b1.jsonl",
                                                   tmp_path / "b2.jsonl")
    assert not go_on and stats["stop"] and stats["best_round"] == 1
    assert len(list(read_records(tmp_path / "b2.jsonl"))) == 2  # round 1's data, not round 2's


def test_without_the_rule_every_round_runs_and_the_last_data_is_kept(tmp_path: Path) -> None:
    r1, r2 = dataset(tmp_path / "r1.jsonl", 1, 2), dataset(tmp_path / "r2.jsonl", 2, 4)
    skipped = {"skipped": "the stopping rule is off"}
    _, go_on, history = round_steps.gate_round(1, True, "[]", skipped, r1, None, tmp_path / "b1.jsonl")
    assert go_on and history == "[]"
    _, go_on, _ = round_steps.gate_round(2, True, history, skipped, r2, tmp_path / "b1.jsonl", tmp_path / "b2.jsonl")
    assert go_on and len(list(read_records(tmp_path / "b2.jsonl"))) == 4
