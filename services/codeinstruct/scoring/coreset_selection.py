"""KCenterGreedy coreset (WaveCoder): pick k records that cover the embedding space.

Greedy k-center: start from one seeded random row (or the rows `already_selected`), then repeatedly
add the row farthest (Euclidean) from everything selected so far, keeping one vector of
min-distances updated with a single matrix-vector product per pick. The result is the SELECTED
rows: the reference WaveCoder script computes the selection and then returns the first N rows of the
input instead, which this avoids.

Example:
    report = coreset(records, k=500, seed=0)       # embeds instructions with all-MiniLM-L6-v2
    picks = k_center_greedy(vectors, k=5, seed=0)  # indices in selection order
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.embeddings import embed
from codeinstruct.scoring.types import StageReport

logger = logging.getLogger(__name__)


def k_center_greedy(vectors: np.ndarray, k: int, *, seed: int = 0,
                    already_selected: Sequence[int] = ()) -> list[int]:
    """Indices of k rows of `vectors` chosen by greedy k-center, in selection order (deterministic per seed)."""
    points = np.ascontiguousarray(vectors, dtype=np.float32)
    if points.ndim != 2:
        raise InvalidInput(f"embeddings must be a 2-D array, got shape {points.shape}", field="vectors")
    n = points.shape[0]
    if not 0 <= k <= n:
        raise InvalidInput(f"k must be between 0 and the number of rows ({n}), got {k}", field="k")
    if k == 0:
        return []
    squared_norms = np.einsum("ij,ij->i", points, points)

    def distances_to(index: int) -> np.ndarray:
        # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, one mat-vec per center; clipped for rounding.
        d = squared_norms - 2.0 * (points @ points[index]) + squared_norms[index]
        return np.maximum(d, 0.0)

    selected: list[int] = []
    min_distance = np.full(n, np.inf, dtype=np.float32)
    chosen = np.zeros(n, dtype=bool)
    for index in already_selected:
        min_distance = np.minimum(min_distance, distances_to(int(index)))
        chosen[int(index)] = True
    if not chosen.any():
        first = int(np.random.default_rng(seed).integers(n))
        selected.append(first)
        chosen[first] = True
        min_distance = distances_to(first)
    while len(selected) < k:
        if len(selected) % 256 == 0:
            deadline.check()
        candidate_distance = np.where(chosen, -1.0, min_distance)
        pick = int(np.argmax(candidate_distance))
        selected.append(pick)
        chosen[pick] = True
        np.minimum(min_distance, distances_to(pick), out=min_distance)
    return selected


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
