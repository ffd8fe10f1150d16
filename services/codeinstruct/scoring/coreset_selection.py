"""KCenterGreedy coreset (WaveCoder): pick k records that cover the embedding space.

Greedy k-center (`codeinstruct.curation.kcenter.k_center_greedy`, shared with the WaveCoder
raw-code selection): start from one seeded random row, then repeatedly add the row farthest from
everything selected so far. The result is the SELECTED rows: the reference WaveCoder script
computes the selection and then returns the first N rows of the input instead, which this avoids.

Example:
    report = coreset(records, k=500, seed=0)       # embeds instructions with all-MiniLM-L6-v2
    picks = k_center_greedy(vectors, k=5, seed=0)  # indices in selection order
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.curation.embeddings import embed
from codeinstruct.curation.kcenter import k_center_greedy
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.types import StageReport

logger = logging.getLogger(__name__)


def coreset_text(record: Record, field: str) -> str:
    if field == "instruction":
        return record.instruction
    if field == "code":
        return record.code or record.response
    return f"{record.instruction}\n{record.code or record.response}"


def coreset(records: Sequence[Record], k: int, seed: int = 0, *, config: ScoringConfig | None = None,
            vectors: np.ndarray | None = None) -> StageReport:
    """Keep the k records KCenterGreedy selects (in input order); `extra["order"]` is the pick order."""
    config = config or ScoringConfig()
    records = list(records)
    if k < 0:
        raise InvalidInput(f"coreset size k must be >= 0, got {k}", field="k")
    report = StageReport("coreset")
    if k >= len(records):
        report.kept = records
        report.extra["order"] = [r.id for r in records]
        return report
    if vectors is None:
        vectors = embed([coreset_text(r, config.coreset_field) for r in records],
                        model_path=config.embedding_model or None, batch_size=config.embedding_batch_size)
    elif len(vectors) != len(records):
        raise InvalidInput(f"got {len(vectors)} embeddings for {len(records)} records", field="vectors")
    order = k_center_greedy(vectors, k, seed=seed)
    picked = set(order)
    for index, record in enumerate(records):
        if index in picked:
            report.keep(record)
        else:
            report.drop(record, "not_selected")
    report.extra["order"] = [records[i].id for i in order]
    logger.info("coreset: selected %d of %d", len(report.kept), len(records))
    return report
