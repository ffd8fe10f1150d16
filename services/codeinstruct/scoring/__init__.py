"""Scoring and ranking: verify, select, clean and order generated records (issue 5).

Each stage is a plain function over `Record`s that returns a `StageReport` (kept records, dropped
records with a reason each). The gRPC service (`service.py`) and the CLI are thin layers over them.
The stage functions are importable from this package directly; they load lazily, so importing
`codeinstruct.scoring` stays cheap.

    from codeinstruct.scoring import dedup, decontaminate, rank

No submodule is named like an exported function (`deduplication.py` defines `dedup`,
`coreset_selection.py` defines `coreset`): importing a submodule binds its name on the package,
which would replace a same-named function export with the module.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "StageReport": "types",
    "ScoringConfig": "config",
    "scoring_config": "config",
    "validate_semi_instruct": "validation",
    "execution_filter": "validation",
    "select_by_lm_score": "lm_select",
    "discriminate": "discriminator",
    "dedup": "deduplication",
    "decontaminate": "decontamination",
    "coreset": "coreset_selection",
    "rank": "ranking",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'codeinstruct.scoring' has no attribute {name!r}")
    return getattr(importlib.import_module(f"codeinstruct.scoring.{module}"), name)
