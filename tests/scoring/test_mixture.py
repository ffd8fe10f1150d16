"""The training mix keeps the largest subset in the configured method ratios, in dataset order."""

from __future__ import annotations

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.scoring.mixture import mix


def records(method: str, n: int) -> list[Record]:
    return [Record(method=method, instruction=f"{method} task {i}", response=f"answer {i}") for i in range(n)]


def test_ratios_are_met_by_the_largest_subset_and_order_is_kept() -> None:
    data = records("semi_instruct", 10) + records("self_instruct", 4) + records("wavecoder", 3)
    kept, table = mix(data, {"semi_instruct": 1, "self_instruct": 1})
    assert sum(r.method == "semi_instruct" for r in kept) == 4 == sum(r.method == "self_instruct" for r in kept)
    assert not any(r.method == "wavecoder" for r in kept)  # not named: left out
    assert [data.index(r) for r in kept] == sorted(data.index(r) for r in kept)
    assert table["semi_instruct"] == {"ratio": 0.5, "available": 10, "kept": 4}
    assert table["wavecoder"] == {"ratio": 0.0, "available": 3, "kept": 0}


def test_unequal_ratios_and_a_missing_method() -> None:
    data = records("semi_instruct", 9) + records("self_instruct", 9)
    kept, _ = mix(data, {"semi_instruct": 2, "self_instruct": 1})
    assert sum(r.method == "semi_instruct" for r in kept) == 9 and sum(r.method == "self_instruct" for r in kept) == 4
    kept, table = mix(data, {"semi_instruct": 1, "self_instruct": 1, "evol_instruct": 1})
    # a named method with no records leaves the mix; the others keep their ratio
    assert len(kept) == 18 and table["evol_instruct"] == {"ratio": 0.0, "available": 0, "kept": 0}


def test_no_ratios_keeps_everything_and_bad_ratios_name_the_setting() -> None:
    data = records("semi_instruct", 2)
    assert mix(data, {})[0] == data
    with pytest.raises(InvalidInput) as info:
        mix(data, {"semi_instruct": 0})
    assert info.value.field == "pipelines.mixture"
