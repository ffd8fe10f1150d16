"""LM-Score selection (InverseCoder): keep the best instruction generated for each code snippet.

Every (instruction, code) pair is scored with the engine's LM-Score (p(Yes) / (p(Yes) + p(No)) for
"is this code a correct answer to this instruction", see `codeinstruct.engines.lm_score`); the score
is written to `scores.lm_score` and, per snippet, only the highest-scoring record is kept (ties keep
the earlier one) and marked `scores.lm_best = True`, which the final `verify` stage checks for
inverse_instruct records. Snippets are grouped by `source.parent_id`, or by the normalized code when a
record has no parent id.

Example:
    report = select_by_lm_score(records, engine)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from codeinstruct.core import deadline, progress
from codeinstruct.core.records import Record, stable_hash
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.normalize import code_tokens
from codeinstruct.scoring.types import StageReport

logger = logging.getLogger(__name__)


def snippet_key(record: Record) -> str:
    parent = record.source.get("parent_id")
    if parent:
        return f"parent:{parent}"
    return "code:" + stable_hash(code_tokens(record.code or record.response, record.language))


def score_records(records: list[Record], engine: Any, batch_size: int = 16) -> list[float]:
    """LM-Score of every record, in batches; also written to `scores.lm_score`."""
    scores: list[float] = []
    with progress.track("lm_score", total=len(records), unit="record") as task:
        for start in range(0, len(records), batch_size):
            deadline.check()
            batch = records[start:start + batch_size]
            values = engine.lm_score([r.instruction for r in batch], [r.code or r.response for r in batch])
            if len(values) != len(batch):
                raise RuntimeError(f"engine returned {len(values)} LM-Scores for {len(batch)} pairs")
            for record, value in zip(batch, values, strict=True):
                record.scores["lm_score"] = round(float(value), 6)
            scores.extend(float(v) for v in values)
            task.advance(len(batch))
    return scores


def select_by_lm_score(records: Iterable[Record], engine: Any, *, config: ScoringConfig | None = None) -> StageReport:
    """Score all pairs, keep the best instruction per snippet (input order preserved)."""
    config = config or ScoringConfig()
    records = list(records)
    scores = score_records(records, engine, config.lm_score_batch_size)
    best: dict[str, int] = {}
    for index, record in enumerate(records):
        key = snippet_key(record)
        if key not in best or scores[index] > scores[best[key]]:
            best[key] = index
    winners = set(best.values())
    report = StageReport("select_by_lm_score")
    for index, record in enumerate(records):
        if index in winners:
            record.scores["lm_best"] = True
            report.keep(record)
        else:
            record.scores.pop("lm_best", None)
            winner = best[snippet_key(record)]
            report.drop(record, f"lower_lm_score: {scores[index]:.3f} < {scores[winner]:.3f} "
                                f"of {records[winner].id}")
    report.extra["snippets"] = len(best)
    logger.info("LM-Score selection: %d pairs, %d snippets kept", len(records), len(best))
    return report
