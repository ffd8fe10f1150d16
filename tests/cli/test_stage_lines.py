"""The one line each pipeline stage prints (`make demo`, Kubeflow logs): a stage that makes several
records per seed reads "N records from M seeds", never a yield above 100% like "6/3 kept"."""

from __future__ import annotations

from codeinstruct_pipelines.kfp_io import stage_line


def test_generation_reads_records_from_seeds() -> None:
    stats = {"input": 3, "kept": 6, "seeds": 3, "records": 6, "seconds": 38.31, "reasons": {}}
    assert stage_line("inverse_instruct: generate shard 1", stats) == \
        "inverse_instruct: generate shard 1: 6 records from 3 seeds in 38.3s"


def test_generation_with_fewer_records_than_seeds_names_what_was_dropped() -> None:
    stats = {"input": 12, "kept": 10, "seeds": 12, "records": 10, "seconds": 219.3,
             "reasons": {"solution_syntax_error": 2}}
    assert stage_line("semi_instruct: generate shard 1", stats) == \
        "semi_instruct: generate shard 1: 10 records from 12 seeds in 219.3s (dropped: solution_syntax_error 2)"


def test_a_filter_reads_kept_of_input() -> None:
    stats = {"input": 6, "kept": 5, "seconds": 0.26, "reasons": {"runtime_error": 1}}
    assert stage_line("inverse_instruct/execute", stats) == \
        "inverse_instruct/execute: 5/6 kept in 0.3s (dropped: runtime_error 1)"


def test_any_stage_that_grows_its_input_never_reads_above_100_percent() -> None:
    stats = {"input": 1.0, "kept": 4.0, "seconds": 1.0}  # metadata numbers come back from protobuf as floats
    line = stage_line("wavecoder: expand", stats)
    assert line == "wavecoder: expand: 4 records from 1 input in 1.0s"
    assert "/" not in line


def test_the_report_funnel_shows_records_per_seed_not_a_percentage_above_100() -> None:
    from codeinstruct.core.progress import yield_text
    from codeinstruct_pipelines.report import funnel_markdown

    assert (yield_text(5, 6), yield_text(6, 3, "seed"), yield_text(0, 0)) == ("83%", "2.0 per seed", "-")
    data = {"pipeline": "inverse_instruct", "records": 6, "stages": [
        {"stage": "inverse_instruct/generate", "input": 3, "kept": 6, "seeds": 3, "dropped": 0},
        {"stage": "inverse_instruct/execute", "input": 6, "kept": 5, "dropped": 1, "reasons": {"runtime_error": 1}}]}
    table = funnel_markdown(data)
    assert "| inverse_instruct/generate | 3 | 6 | 0 | 2.0 per seed |" in table
    assert "| inverse_instruct/execute | 6 | 5 | 1 | 83% |" in table
    assert "200%" not in table


def test_training_and_evaluation_read_as_steps_and_scores() -> None:
    train = {"input": 8, "kept": 8, "steps": 12, "seconds": 38.3, "losses": [{"loss": 0.71}, {"loss": 0.4534}]}
    assert stage_line("train", train) == "train: 12 steps on 8 records in 38.3s (loss 0.710 -> 0.453)"
    staged = {**train, "losses": [0.71, 0.4534]}  # a staged schedule (train_stages) logs bare losses
    assert stage_line("train", staged) == "train: 12 steps on 8 records in 38.3s (loss 0.710 -> 0.453)"
    evaluation = {"input": 6.0, "kept": 6.0, "pass@1": 0.1667, "humaneval.pass@1": 0.1667, "seconds": 26.8}
    assert stage_line("evaluate before training", evaluation) == \
        "evaluate before training: pass@1 0.167 on 6 problems in 26.8s"
    assert stage_line("train", {"input": 0, "kept": 0, "steps": 0, "skipped": "the dataset is empty"}) == \
        "train: skipped (the dataset is empty)"
