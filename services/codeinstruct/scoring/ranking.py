"""Curriculum ranking: order records for training (the order is kept through to the trainer).

`n_tests` sorts by `scores.n_tests` descending (Semi-Instruct: more gold test cases first, the
"easy first" curriculum); `lm_score` sorts by `scores.lm_score` descending. The sort is stable
(ties keep the input order) and records without the score go last, in input order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record

RankBy = Literal["n_tests", "lm_score"]
KEYS = ("n_tests", "lm_score")


def rank(records: Iterable[Record], by: str = "n_tests") -> list[Record]:
    if by not in KEYS:
        raise InvalidInput(f"rank by must be one of {list(KEYS)}, got {by!r}", field="by")
    records = list(records)

    def key(record: Record) -> tuple[int, float]:
        value = record.scores.get(by)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return (1, 0.0)
        return (0, -float(value))

    return sorted(records, key=key)
