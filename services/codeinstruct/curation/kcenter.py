"""Greedy k-center selection (WaveCoder's KCenterGreedy): k rows that cover an embedding space.

Start from one seeded random row (or the rows `already_selected`), then repeatedly add the row
farthest (Euclidean) from everything selected so far, keeping one vector of min-distances updated
with a single matrix-vector product per pick. Used by the scoring coreset stage and by the
WaveCoder raw-code selection before generation.

    picks = k_center_greedy(vectors, k=5, seed=0)  # indices in selection order
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput


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
