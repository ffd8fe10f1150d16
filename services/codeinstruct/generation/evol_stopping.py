"""The optional stopping rule of Code Evol-Instruct: a held-out split of the seeds and the rule.

WizardCoder evolves for a fixed number of rounds (its ablation peaks at 3); the optional rule here
stops earlier when another round no longer helps. A pipeline does, per round k:
generate round k (`generation.evol.start_round = rounds = k`), train on the data so far (records
with `scores.evol_round <= k`), measure pass@1 on the held-out split, then
`stop_rule(history)` decides whether round k+1 runs and which round's data to keep.

The held-out split is NOT a benchmark (never HumanEval): it is a part of the SEED pairs, set aside
before any evolution so neither they nor their evolutions are trained on. A held-out item is a
seed with:
  - `instruction`: the prompt the model answers (chat, as given);
  - `code` (and `entry_point` for a function): the reference solution;
  - `tests`: at least one `{input, output}`; an empty `output` means "what the reference `code`
    gives on this input" (the sandbox computes it, as Semi-Instruct validation does).
An answer passes when its code passes every test (outputs compared as the sandbox's `run_tests`
does); pass@1 is the share of held-out items whose greedy answer passes. Seeds without tests (the
embedded stdlib seeds have none) cannot be checked and always stay in the training part: use a
seeds file with tests, e.g. a validated Semi-Instruct dataset (instruction, code, tests with outputs).

Example:
    train, heldout = split_holdout(seeds, fraction=0.1, seed=0)
    stop, best = stop_rule([0.12, 0.15, 0.14])          # -> (True, 2): round 3 dropped, keep round 2
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record, stable_hash

Item = TypeVar("Item", bound=Record | Mapping[str, Any])


def _get(item: Record | Mapping[str, Any], name: str) -> Any:
    return getattr(item, name) if isinstance(item, Record) else item.get(name)


def checkable(item: Record | Mapping[str, Any]) -> bool:
    """Whether `item` can be a held-out item: an instruction, reference code and at least one test input."""
    tests = _get(item, "tests") or []
    return bool(str(_get(item, "instruction") or "").strip() and str(_get(item, "code") or "").strip()
                and any(str(t.get("input", "")).strip() for t in tests))


def split_holdout(items: Sequence[Item], fraction: float, seed: int = 0) -> tuple[list[Item], list[Item]]:
    """(train, held-out): `round(fraction * n)` (at least 1 when fraction > 0) of the n checkable items.

    Deterministic and order-independent: the held-out items are those with the smallest
    `stable_hash("holdout", seed, id)`, so the same items and seed give the same split whatever
    their order or sharding. Both parts keep the input order and are disjoint; items that are not
    `checkable` always go to train.
    """
    if not 0 <= fraction < 1:
        raise InvalidInput(f"fraction must be in [0, 1), got {fraction}", field="fraction")
    ids = [str(_get(item, "id") or "") for item in items]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise InvalidInput("every item needs a unique id to be split", field="id")
    candidates = [i for i, item in zip(ids, items, strict=True) if checkable(item)]
    count = max(1, round(fraction * len(candidates))) if fraction > 0 and candidates else 0
    held = set(sorted(candidates, key=lambda i: stable_hash("holdout", seed, i))[:count])
    train = [item for i, item in zip(ids, items, strict=True) if i not in held]
    heldout = [item for i, item in zip(ids, items, strict=True) if i in held]
    return train, heldout


def stop_rule(history: Sequence[float], first_round: int = 1) -> tuple[bool, int]:
    """(stop, best_round) from the held-out pass@1 after each round.

    `history[i]` is the metric after training on the data through round `first_round + i` (pass
    `first_round=0` when `history[0]` is the seeds-only model). Stop when the last value is below
    the one before (the last round hurt); `best_round` is the round of the highest value, the
    earliest on ties (as good with less data). A single value never stops.
    """
    if not history:
        raise InvalidInput("history must hold at least one round's metric", field="history")
    for i, value in enumerate(history):
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInput(f"history[{i}] must be a finite number, got {value!r}", field="history")
    stop = len(history) >= 2 and history[-1] < history[-2]
    best = max(range(len(history)), key=lambda i: (history[i], -i))
    return stop, first_round + best
