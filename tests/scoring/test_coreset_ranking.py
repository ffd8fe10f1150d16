"""KCenterGreedy picks the known farthest points and returns the selected rows; ranking is a stable
curriculum."""

from __future__ import annotations

import numpy as np
import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.scoring.coreset_selection import coreset, k_center_greedy
from codeinstruct.scoring.ranking import rank
from tests.support.scoring import make


def test_k_center_greedy_picks_farthest_points() -> None:
    # A tight cluster near the origin and three far corners: from the origin, greedy must pick the
    # farthest corner (10, 10), then the two other corners, in that order (already_selected rows are
    # not returned again).
    points = np.array([[0, 0], [0.1, 0], [0, 0.1], [0.1, 0.1], [10, 10], [10, 0], [0, 9], [0.05, 0.05]],
                      dtype=np.float32)
    # then the cluster point farthest from the origin, (0.1, 0.1)
    assert k_center_greedy(points, 4, already_selected=[0]) == [4, 5, 6, 3]


def test_k_center_greedy_is_seeded_and_covers() -> None:
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [20, 0], [0, 20], [20, 20], [10, 10]], dtype=np.float32)
    points = np.concatenate([c + rng.normal(0, 0.5, size=(40, 2)) for c in centers]).astype(np.float32)
    picks = k_center_greedy(points, 5, seed=3)
    assert picks == k_center_greedy(points, 5, seed=3)
    assert sorted({p // 40 for p in picks}) == [0, 1, 2, 3, 4]  # one pick per cluster
    assert len(set(k_center_greedy(points, 200, seed=1))) == 200


def test_coreset_returns_the_selected_rows_not_the_first_ones() -> None:
    vectors = np.array([[0, 0], [0.01, 0], [0.02, 0], [5, 5], [-5, 5]], dtype=np.float32)
    records = [make(f"task {i}") for i in range(5)]
    report = coreset(records, 3, seed=0, vectors=vectors)
    kept = {r.instruction for r in report.kept}
    assert {"task 3", "task 4"} <= kept and len(kept) == 3
    assert report.counts()["reasons"] == {"not_selected": 2}
    assert len(report.extra["order"]) == 3
    with pytest.raises(InvalidInput):
        coreset(records, 2, vectors=vectors[:3])


def test_rank_by_n_tests_is_stable_and_puts_missing_last() -> None:
    records = [make(f"r{i}", scores=s) for i, s in enumerate(
        [{"n_tests": 2}, {}, {"n_tests": 5}, {"n_tests": 2}, {"n_tests": 7}, {"lm_score": 0.9}])]
    ordered = rank(records, "n_tests")
    assert [r.instruction for r in ordered] == ["r4", "r2", "r0", "r3", "r1", "r5"]
    by_lm = rank([make("a", scores={"lm_score": 0.2}), make("b", scores={"lm_score": 0.8}), make("c")], "lm_score")
    assert [r.instruction for r in by_lm] == ["b", "a", "c"]
    with pytest.raises(InvalidInput):
        rank(records, "length")


@pytest.mark.slow
def test_coreset_with_real_embeddings_covers_both_topics() -> None:
    sorting = ["Sort a list of integers in ascending order.", "Order the numbers of an array from small to large.",
               "Return the list sorted from lowest to highest value."]
    network = ["Download a web page over HTTP and return its body.", "Send an HTTP GET request to a URL.",
               "Fetch the content of a website with a GET request."]
    records = [make(text) for text in sorting + network]
    report = coreset(records, 2, seed=0)
    topics = {"sorting" if r.instruction in sorting else "network" for r in report.kept}
    assert topics == {"sorting", "network"}
    assert report.counts()["reasons"] == {"not_selected": 4}
