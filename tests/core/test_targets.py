"""`inprocess` opens a service's core object, `host:port` its client; both implement the protocol."""

from __future__ import annotations

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.core import Scorer
from codeinstruct.targets import INPROCESS, open_scorer


def test_inprocess_scoring_is_the_core_and_runs_a_stage() -> None:
    twin = {"method": "self_instruct", "instruction": "Reverse a list.", "code": "def f(x):\n    return x[::-1]\n"}
    records = [Record(**twin), Record(**twin, source={"parent_id": "other"})]
    with open_scorer(INPROCESS, ScoringConfig(dedup_method="exact"), SandboxConfig()) as scorer:
        assert isinstance(scorer, Scorer)
        report = scorer.dedup(records)  # the config's method when none is given
    assert (len(report.kept), report.reasons()) == (1, {"exact_duplicate": 1})


def test_a_target_that_is_neither_inprocess_nor_host_port_names_the_field() -> None:
    with pytest.raises(InvalidInput) as info, open_scorer("scoring-service", ScoringConfig(), SandboxConfig(),
                                                          "pipelines.scoring_target"):
        pass
    assert info.value.field == "pipelines.scoring_target"
