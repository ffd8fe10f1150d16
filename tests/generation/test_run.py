"""Batch jobs: resumable after a kill, refusing to mix settings, and the CLI (slow: real model)."""

import dataclasses
import json

import pytest

from codeinstruct.cli.main import main
from codeinstruct.core.config import build
from codeinstruct.core.errors import FailedPrecondition
from codeinstruct.core.records import read_jsonl
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.run import journal_path, run_generation
from codeinstruct.generation.seeds import stdlib_seeds


def write_seeds(path, n):
    path.write_text("".join(json.dumps(s) + "\n" for s in stdlib_seeds(n)))
    return path


def test_cli_rejects_a_missing_seeds_file(tmp_path, capsys):
    code = main(["generate", "inverse_instruct", "--seeds", str(tmp_path / "none.jsonl"),
                 "--output", str(tmp_path / "out.jsonl")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_resume_after_kill_loses_nothing_and_duplicates_nothing(tmp_path, engine, small_settings):
    SMALL = small_settings
    seeds = write_seeds(tmp_path / "seeds.jsonl", 2)
    out = tmp_path / "out.jsonl"
    config = build(GenerationConfig, "generation", data={"generation": SMALL}, use_env=False)
    full = run_generation("inverse_instruct", seeds, out, config, engine=engine)
    assert full["seeds_run"] == 2 and full["records_total"] == 4
    expected = sorted(r["id"] for r in read_jsonl(out))

    # What a kill -9 during seed 2 leaves: output still .partial, seed 2 not journaled, a cut line.
    partial = out.with_name(out.name + ".partial")
    lines = out.read_text().splitlines()
    partial.write_text("\n".join(lines[:3]) + "\n" + lines[3][:40])
    out.unlink()
    journal = journal_path(out)
    first, second = journal.read_text().splitlines()
    journal.write_text(first + "\n" + second[:25])  # seed 2's journal line was being written

    resumed = run_generation("inverse_instruct", seeds, out, config, engine=engine)
    assert (resumed["seeds_resumed"], resumed["seeds_run"]) == (1, 1)
    ids = [r["id"] for r in read_jsonl(out)]
    assert sorted(ids) == expected and len(ids) == len(set(ids))
    assert not partial.exists()
    assert [json.loads(line)["seed_id"] for line in journal.read_text().splitlines()] == \
        [json.loads(first)["seed_id"], json.loads(second)["seed_id"]]

    again = run_generation("inverse_instruct", seeds, out, config, engine=engine)
    assert again["seeds_run"] == 0 and again["records_written"] == 0 and again["records_total"] == 4

    with pytest.raises(FailedPrecondition, match="fingerprint"):
        run_generation("inverse_instruct", seeds, out, dataclasses.replace(config, seed=7), engine=engine)


@pytest.mark.slow
def test_cli_generate_writes_records_and_a_summary(tmp_path, capsys):
    seeds = write_seeds(tmp_path / "seeds.jsonl", 3)
    config = tmp_path / "config.yaml"
    config.write_text("generation:\n  engine: {threads: 1, batch_size: 4}\n  inverse: {samples: 1, max_tokens: 16}\n")
    out = tmp_path / "out.jsonl"
    code = main(["generate", "inverse_instruct", "--seeds", str(seeds), "--output", str(out), "--limit", "1",
                 "--config", str(config)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seeds"] == 1 and summary["records_total"] == len(list(read_jsonl(out)))
    assert summary["records_total"] + sum(summary["rejected"].values()) == 1
