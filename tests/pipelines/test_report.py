"""Reports: metrics.json from a ledger and a dataset, Markdown with PNG plots, self-contained HTML."""

from __future__ import annotations

import json
from pathlib import Path

from codeinstruct.core.records import Record, write_jsonl_atomic
from codeinstruct_pipelines import report

LEDGER = [
    {"stage": "semi_instruct/generate", "input": 10, "kept": 8, "dropped": 2, "reasons": {"unparsable": 2}},
    {"stage": "semi_instruct/validate", "input": 8, "kept": 3, "dropped": 5,
     "reasons": {"WRONG_ANSWER": 4, "TIMEOUT": 1}},
]


def _dataset(path: Path) -> Path:
    records = [Record(method="semi_instruct", instruction=f"Return {n}.", code=f"def f():\n    return {n}\n",
                      entry_point="f", tests=[{"input": "f()", "output": str(n)}] * (n + 1),
                      scores={"lm_score": 0.1 * n}) for n in range(3)]
    write_jsonl_atomic(path, records)
    return path


def test_run_metrics_summarises_dataset_training_and_evaluation(tmp_path: Path) -> None:
    data = report.run_metrics("end_to_end", _dataset(tmp_path / "d.jsonl"), LEDGER, losses=[2.0, 1.5, 1.2],
                              before={"pass@1": 0.0, "other": 3}, after={"pass@1": 0.125})
    assert data["records"] == 3 and data["by_method"] == {"semi_instruct": 3}
    assert data["tests"]["per_record"] == {1: 1, 2: 1, 3: 1} and data["tests"]["total"] == 6
    assert data["training"]["final_loss"] == 1.2
    assert data["evaluation"] == {"before": {"pass@1": 0.0}, "after": {"pass@1": 0.125}, "suites": []}
    assert report.headline_numbers(data)["pass@1_after"] == 0.125
    json.dumps(data)


def test_the_suite_table_says_how_many_problems_each_score_covers(tmp_path: Path) -> None:
    before = {"pass@1": 0.0, "humaneval.pass@1": 0.0, "humaneval.problems_run": 6.0, "humaneval.problems_total": 164.0,
              "humaneval-multilingual-javascript.pass@1": 0.5,
              "humaneval-multilingual-javascript.problems_run": 4.0,
              "humaneval-multilingual-javascript.problems_total": 164.0}
    after = {**before, "humaneval.pass@1": 1 / 6}
    dataset = _dataset(tmp_path / "d.jsonl")
    data = report.run_metrics("end_to_end", dataset, LEDGER, losses=[1.0], before=before, after=after)
    rows = {row["suite"]: row for row in data["evaluation"]["suites"]}
    assert rows["humaneval"]["problems_run"] == 6 and rows["humaneval"]["problems_total"] == 164
    assert rows["humaneval"]["after"] == {"pass@1": 1 / 6}
    md = report.funnel_markdown(data)  # the KFP Markdown of the report step
    assert "| humaneval | 6 of 164 | pass@1 0.000 | pass@1 0.167 |" in md
    assert "| humaneval-multilingual-javascript | 4 of 164 |" in md
    html_page = report.render(data, dataset).html
    assert "<td>6 of 164</td>" in html_page


def test_write_report_has_every_plot_and_the_model_note(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path / "d.jsonl")
    data = report.run_metrics("end_to_end", dataset, LEDGER, losses=[2.0, 1.5], before={"pass@1": 0.0},
                              after={"pass@1": 0.1})
    paths = report.write_report(tmp_path / "run", data, dataset, config_yaml="pipelines: {eval_limit: 2}\n")
    md = paths["report_md"].read_text()
    for name in ("funnel", "tests", "lm_score", "loss", "pass_at_k"):
        png = tmp_path / "run" / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"plots/{name}.png" in md
    assert "WRONG_ANSWER 4" in md and "engine: vllm" in md and "tiny" in md
    html_text = paths["report_html"].read_text()
    assert html_text.count("data:image/png;base64,") == 5
    assert "Return 2." in html_text and "eval_limit: 2" in html_text
    assert json.loads(paths["metrics"].read_text())["records"] == 3


def test_report_without_training_omits_those_plots(tmp_path: Path) -> None:
    dataset = tmp_path / "empty.jsonl"
    write_jsonl_atomic(dataset, [])
    data = report.run_metrics("self_instruct", dataset, LEDGER[:1])
    rendered = report.render(data, dataset)
    assert set(rendered.images) == {"funnel"}
    assert "0 record(s)" in rendered.markdown


def test_lm_score_histogram_uses_every_scored_pair_from_the_ledger(tmp_path: Path) -> None:
    dataset = tmp_path / "empty.jsonl"
    write_jsonl_atomic(dataset, [])
    ledger = [{"stage": "inverse_instruct/lm-score", "input": 3, "kept": 1, "dropped": 2,
               "reasons": {"lower_lm_score": 2}, "lm_scores": [0.2, 0.5, 0.7]}]
    data = report.run_metrics("end_to_end", dataset, ledger)
    assert data["lm_score"]["values"] == [0.2, 0.5, 0.7]
    assert "lm_scores" not in data["stages"][0]  # kept out of the funnel table
    assert "lm_score" in report.plots(data)
