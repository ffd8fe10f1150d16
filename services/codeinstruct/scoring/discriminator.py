"""Discriminator stage (WaveCoder): rule checks, then the LLM checklist judge with few-shot pools.

The checks and the judge live in `codeinstruct.curation.discriminator` (the WaveCoder generator
uses them in its generator-discriminator loop too); this stage runs them over records with the
`scoring` settings and reports what it kept and dropped. A judgment without a readable verdict (even
after the follow-up question) is decided by `scoring.discriminator_unparsable`.

Example:
    report = discriminate(records, engine)          # scores["discriminator"] = "yes" on kept records
"""

from __future__ import annotations

from collections.abc import Iterable

from codeinstruct.core import deadline, progress
from codeinstruct.core.records import Record
from codeinstruct.curation.discriminator import (
    CHECKLIST,
    CODE_TASKS,
    Judge,
    JudgeSettings,
    Judgment,
    parse_judgment,
    parse_short_verdict,
    rule_check,
)
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.types import StageReport

__all__ = ["CHECKLIST", "CODE_TASKS", "Discriminator", "Judgment", "discriminate", "parse_judgment",
           "parse_short_verdict", "rule_check"]


def judge_settings(config: ScoringConfig) -> JudgeSettings:
    return JudgeSettings(pool_size=config.discriminator_pool_size, shots=config.discriminator_shots,
                         max_tokens=config.discriminator_max_tokens)


class Discriminator(Judge):
    """The judge with the `scoring` section's pool size, shots and token budget."""

    def __init__(self, engine: object, config: ScoringConfig | None = None):
        self.config = config or ScoringConfig()
        super().__init__(engine, judge_settings(self.config))


def discriminate(records: Iterable[Record], engine: object, *, config: ScoringConfig | None = None,
                 discriminator: Judge | None = None, batch_size: int = 8,
                 use_llm: bool = True) -> StageReport:
    """Rule checks, then (when `use_llm`) the LLM checklist; kept records get scores.discriminator = "yes"."""
    config = config or ScoringConfig()
    judge = discriminator or (Discriminator(engine, config) if use_llm else None)
    report = StageReport("discriminate")
    passed: list[Record] = []
    for record in records:
        reason = rule_check(record)
        if reason:
            report.drop(record, reason)
        else:
            passed.append(record)
    if judge is None:
        for record in passed:
            record.scores["discriminator"] = "rules"
            report.keep(record)
        return report
    with progress.track("discriminate", total=len(passed), unit="record") as task:
        for start in range(0, len(passed), batch_size):
            deadline.check()
            batch = passed[start:start + batch_size]
            for record, (judgment, _text) in zip(batch, judge.judge(batch), strict=True):
                keep_unparsable = judgment.verdict is None and config.discriminator_unparsable == "keep"
                if judgment.verdict == "yes" or keep_unparsable:
                    record.scores["discriminator"] = judgment.verdict or "unparsable"
                    report.keep(record)
                elif judgment.verdict is None:
                    report.drop(record, "judgment_unparsable: no yes/no verdict in the judge's answer")
                else:
                    record.scores["discriminator"] = "no"
                    report.drop(record, f"judged_no: {'; '.join(judgment.reasons) or 'overall no'}")
            task.advance(len(batch), note=f"{len(report.kept)} kept")
    report.extra["pools"] = {"good": len(judge.good), "bad": len(judge.bad)}
    return report
