"""Cost accounting: every stage's ledger entry carries tokens, engine and sandbox seconds; reports
turn them into tokens and seconds per kept record per method, and each stage's share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codeinstruct.core.records import Record, read_records, write_jsonl_atomic
from codeinstruct.core.usage import USAGE_KEYS, Usage
from codeinstruct.engines.base import Engine, SamplingParams, per_prompt
from codeinstruct.engines.metered import MeteredEngine
from codeinstruct.generation.run import run_generation
from codeinstruct.settings import Settings
from codeinstruct_pipelines import report, steps


class EchoEngine(Engine):
    """Answers every prompt with the same short text; one token per word."""

    model_name = engine_name = "echo"

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        return [["Write a function that adds two numbers."] * p.n for p in per_prompt(params, len(prompts))]

    def apply_chat_template(self, messages, add_generation_prompt=True):  # type: ignore[no-untyped-def]
        return " ".join(m["content"] for m in messages)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        return [0.5] * len(instructions)


def test_metered_engine_counts_prompt_and_completion_tokens() -> None:
    usage = Usage()
    engine = MeteredEngine(EchoEngine(), usage)
    engine.generate(["one two three"], SamplingParams(n=2))
    engine.chat([[{"role": "user", "content": "four five"}]], SamplingParams())
    engine.lm_score(["a b"], ["c"])
    assert (usage.tokens_in, usage.tokens_out, usage.engine_calls) == (3 + 2 + 3, 2 * 7 + 7, 3)
    assert engine.model_name == "echo" and engine.info() == {"engine": "echo", "model": "echo"}


def test_generation_job_reports_tokens_and_engine_seconds(tmp_path: Path) -> None:
    summary = run_generation("inverse_instruct", None, tmp_path / "out.jsonl", limit=1, engine=EchoEngine())
    usage = summary["usage"]
    assert set(usage) == set(USAGE_KEYS)
    assert usage["tokens_in"] > 0 and usage["tokens_out"] > 0 and usage["engine_calls"] >= 1
    assert usage["engine_seconds"] >= 0 and usage["sandbox_runs"] == 0


def test_execute_stage_records_sandbox_seconds_per_method(tmp_path: Path) -> None:
    records = [Record(method="self_instruct", instruction="a", code="print(sum(range(10)))"),
               Record(method="evol_instruct", instruction="b", code="import no_such_module_here\n")]
    write_jsonl_atomic(tmp_path / "in.jsonl", records)
    stats = steps.run_stage("execution_filter", tmp_path / "in.jsonl", tmp_path / "out.jsonl", settings=Settings(),
                            label="execute")
    assert [r.instruction for r in read_records(tmp_path / "out.jsonl")] == ["a"]
    assert stats["sandbox_runs"] == 2 and 0 < stats["sandbox_seconds"] <= stats["seconds"] + 1
    assert stats["tokens_in"] == 0 and stats["engine_seconds"] == 0
    assert stats["by_method"]["self_instruct"]["kept"] == 1 and stats["by_method"]["evol_instruct"]["kept"] == 0
    assert stats["by_method"]["self_instruct"]["sandbox_seconds"] > 0
    values = steps.metric_values(stats)
    assert values["sandbox_seconds"] == stats["sandbox_seconds"] and values["self_instruct.kept"] == 1.0


LEDGER = [
    {"stage": "semi_instruct/seeds", "method": "semi_instruct", "input": 4, "kept": 4, "seconds": 0.1},
    {"stage": "semi_instruct/generate", "method": "semi_instruct", "input": 4, "kept": 4, "seconds": 8.0,
     "tokens_in": 3000, "tokens_out": 1000, "engine_seconds": 7.0},
    {"stage": "semi_instruct/validate", "input": 4, "kept": 2, "seconds": 1.9, "sandbox_seconds": 1.5},
    {"stage": "self_instruct/generate", "method": "self_instruct", "input": 2, "kept": 2, "seconds": 2.0,
     "tokens_in": 500, "tokens_out": 500, "engine_seconds": 1.8},
    {"stage": "verify", "input": 4, "kept": 3, "seconds": 2.0, "sandbox_seconds": 1.0,
     "by_method": {"semi_instruct": {"input": 2, "kept": 2, "sandbox_seconds": 0.8},
                   "self_instruct": {"input": 2, "kept": 1, "sandbox_seconds": 0.2}}},
]


def test_cost_per_kept_record_and_stage_shares() -> None:
    cost = report.cost_by_method(LEDGER, {"semi_instruct": 2, "self_instruct": 1})
    semi, self_ = cost["semi_instruct"], cost["self_instruct"]
    assert semi["tokens"] == 4000 and semi["per_kept"]["tokens"] == 2000
    assert semi["sandbox_seconds"] == 2.3 and semi["seconds"] == 0.1 + 8.0 + 1.9 + 1.0  # verify: half its seconds
    assert semi["per_kept"]["engine_seconds"] == 3.5
    shares = {row["stage"]: row for row in semi["stages"]}
    assert shares["semi_instruct/generate"]["share_tokens"] == 1.0
    assert abs(sum(row["share_seconds"] for row in semi["stages"]) - 1.0) < 0.01
    assert self_["per_kept"]["tokens"] == 1000 and self_["sandbox_seconds"] == 0.2
    assert report.cost_by_method(LEDGER, {})["semi_instruct"]["per_kept"]["tokens"] is None


def test_metrics_json_report_and_headline_numbers_show_cost(tmp_path: Path) -> None:
    dataset = tmp_path / "dataset.jsonl"
    write_jsonl_atomic(dataset, [Record(method="semi_instruct", instruction="x", code="pass"),
                                 Record(method="self_instruct", instruction="y", code="pass")])
    data = report.run_metrics("end_to_end", dataset, LEDGER)
    assert data["cost"]["semi_instruct"]["kept"] == 1 and data["cost"]["semi_instruct"]["per_kept"]["tokens"] == 4000
    numbers = report.headline_numbers(data)
    assert numbers["semi_instruct.tokens_per_kept"] == 4000 and numbers["self_instruct.sandbox_seconds"] == 0.2
    paths = report.write_report(tmp_path, data, dataset)
    markdown = paths["report_md"].read_text()
    assert "## Cost and yield per method" in markdown and "| semi_instruct | semi_instruct/generate |" in markdown
    assert "Cost and yield per method" in paths["report_html"].read_text()
