"""Held-out pass@1 (Evol-Instruct's stopping rule): gold outputs from the reference code, answers checked
in the real sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines.config import EngineConfig
from codeinstruct.evaluation.heldout import evaluate_heldout, gold_tests
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.targets import INPROCESS, open_sandbox

ITEM: dict[str, Any] = {"id": "double", "instruction": "Write a Python function `double(x)` that returns twice x.",
                        "code": "def double(x):\n    return 2 * x\n", "entry_point": "double", "language": "python",
                        "tests": [{"input": "double(4)", "output": ""}, {"input": "double(-1)", "output": "-2"}]}


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox(INPROCESS, SandboxConfig(workers=1)) as box:
        yield box


def test_empty_outputs_are_what_the_reference_code_gives(sandbox: Any) -> None:
    assert gold_tests(ITEM, sandbox) == [{"input": "double(4)", "output": "8"}, {"input": "double(-1)", "output": "-2"}]
    broken = {**ITEM, "code": "def double(x):\n    raise ValueError(x)\n"}
    assert gold_tests(broken, sandbox) == []  # a reference that fails cannot define gold outputs


def test_items_that_cannot_be_checked_are_refused_naming_the_split(sandbox: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        evaluate_heldout("default", [{**ITEM, "tests": []}], sandbox=sandbox, engine_config=EngineConfig())
    assert info.value.field == "heldout"


@pytest.mark.slow
def test_the_embedded_model_is_scored_on_the_held_out_items(sandbox: Any) -> None:
    result = evaluate_heldout("default", [ITEM], sandbox=sandbox, engine_config=EngineConfig(), max_tokens=96)
    assert result["n_items"] == 1 and result["pass@1"] in (0.0, 1.0)
    assert result["results"][0]["id"] == "double" and result["results"][0]["status"]
