"""`codeinstruct run/compile/submit/demo` argument handling (the runs themselves are in test_local_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeinstruct.cli.main import main
from codeinstruct.settings import merge_mappings as merge_config
from codeinstruct_pipelines.demo import DEMO_CONFIG


def test_run_without_local_says_how_to_run_remotely(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "semi_instruct"]) == 2
    assert "--local" in capsys.readouterr().err


def test_train_eval_needs_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "train_eval", "--local", "--output", str(tmp_path)]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_missing_seeds_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "semi_instruct", "--local", "--seeds", str(tmp_path / "nope.jsonl"),
                 "--output", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_pipelines_setting_in_config_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("pipelines: {num_shards: 0}\n")
    assert main(["compile", "semi_instruct", "-o", str(tmp_path / "x.yaml"), "--config", str(config)]) == 2
    assert "pipelines.num_shards" in capsys.readouterr().err


def test_submit_rejects_malformed_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "semi_instruct", "--host", "http://127.0.0.1:9", "--param", "novalue"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_user_config_merges_over_the_demo_preset() -> None:
    merged = merge_config(DEMO_CONFIG, {"pipelines": {"eval_limit": 0}, "generation": {"engine": {"engine": "vllm"}}})
    assert merged["pipelines"]["eval_limit"] == 0
    assert merged["pipelines"]["method_seeds"] == DEMO_CONFIG["pipelines"]["method_seeds"]
    assert merged["generation"]["engine"] == {"engine": "vllm"}
    assert DEMO_CONFIG["pipelines"]["eval_limit"] != 0  # the preset itself is untouched
