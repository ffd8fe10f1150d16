"""Training mixes by method: the largest subset of a dataset whose methods stand in given ratios.

The Semi-Instruct paper's scaling experiment trains on Semi-Instruct and Self-Instruct data in set
proportions; `mix` keeps, for ratios r_m (normalised to sum 1), n_m = floor(r_m * N) records of
each method m with the largest N every method can supply (N = min over m of available_m / r_m).
A named method with no records at all leaves the mix (the others keep their relative ratios).
Which records of a method are kept is a seeded draw that keeps the dataset's order, so a ranked
(curriculum) dataset stays ranked.

Example:
    kept, table = mix(records, {"semi_instruct": 1, "self_instruct": 1})
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record

logger = logging.getLogger(__name__)


def mix(records: Sequence[Record], ratios: Mapping[str, float],
        seed: int = 0) -> tuple[list[Record], dict[str, dict[str, float]]]:
    """The kept records (in their input order) and, per method named in `ratios`, its ratio, the
    records available and the records kept. Empty `ratios` keeps everything."""
    available = Counter(r.method for r in records)
    if not ratios:
        return list(records), {m: {"ratio": n / max(1, len(records)), "available": n, "kept": n}
                               for m, n in sorted(available.items())}
    if any(float(v) < 0 for v in ratios.values()) or sum(float(v) for v in ratios.values()) <= 0:
        raise InvalidInput(f"mixture ratios must be >= 0 with at least one > 0, got {dict(ratios)}",
                           field="pipelines.mixture")
    # A named method that produced nothing leaves the mix (logged) instead of emptying it.
    absent = sorted(m for m, v in ratios.items() if float(v) > 0 and not available.get(m))
    if absent:
        logger.warning("mixture: no records of %s; mixing the other methods in their ratios", absent)
    present = {m: float(v) for m, v in ratios.items() if float(v) > 0 and available.get(m)}
    total = sum(present.values())
    shares = {m: v / total for m, v in present.items()}
    size = min((available[m] / share for m, share in shares.items()), default=0.0)
    quota = {m: math.floor(share * size + 1e-9) for m, share in shares.items()}
    rng = random.Random(seed)
    chosen: set[int] = set()
    for method, count in quota.items():
        positions = [i for i, r in enumerate(records) if r.method == method]
        chosen.update(rng.sample(positions, count))
    kept = [r for i, r in enumerate(records) if i in chosen]
    table = {m: {"ratio": round(shares.get(m, 0.0), 4), "available": available.get(m, 0), "kept": quota.get(m, 0)}
             for m in sorted(set(ratios) | set(available))}
    return kept, table
