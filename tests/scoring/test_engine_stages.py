"""LM-Score selection and the LLM discriminator with the REAL embedded engine (SmolLM2-135M, slow)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.discriminator import Discriminator, discriminate
from codeinstruct.scoring.lm_select import select_by_lm_score
from tests.support.scoring import make

pytestmark = pytest.mark.slow

ADD = "def add(a, b):\n    return a + b\n"
REV = "def rev(s):\n    return s[::-1]\n"


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    from codeinstruct.engines import EngineConfig, load_engine

    with load_engine(EngineConfig()) as instance:
        yield instance


def test_lm_score_selection_keeps_the_best_instruction_per_snippet(engine: Any) -> None:
    records = [
        make("Write a Python function that returns the sum of two numbers.", ADD, method="inverse_instruct",
             source={"parent_id": "p1"}),
        make("Write a Python function that reverses a list.", ADD, method="inverse_instruct",
             source={"parent_id": "p1"}),
        make("Add two integers a and b and return the result.", ADD, method="inverse_instruct",
             source={"parent_id": "p1"}),
        make("Reverse a string.", REV, method="inverse_instruct"),
        make("Compute the factorial of n.", REV, method="inverse_instruct"),
    ]
    report = select_by_lm_score(records, engine, config=ScoringConfig(lm_score_batch_size=4))
    scores = [r.scores["lm_score"] for r in records]
    assert all(0.0 <= s <= 1.0 for s in scores)
    best_p1 = max(range(3), key=lambda i: (scores[i], -i))
    best_rev = max(range(3, 5), key=lambda i: (scores[i], -i))
    assert [r.id for r in report.kept] == [records[best_p1].id, records[best_rev].id]
    assert report.counts()["reasons"] == {"lower_lm_score": 3}
    assert report.extra["snippets"] == 2
    # the written score is the engine's LM-Score of that pair
    again = engine.lm_score([records[best_rev].instruction], [REV])[0]
    assert again == pytest.approx(scores[best_rev], abs=1e-4)


def test_llm_discriminator_judges_and_fills_pools(engine: Any) -> None:
    # Few tokens: CPU time is scarce in CI; the verdict then usually comes from the follow-up question.
    config = ScoringConfig(discriminator_max_tokens=16, discriminator_pool_size=2, discriminator_shots=1)
    judge = Discriminator(engine, config)
    code = "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n    return a + b\n"
    records = [make("Write a Python function that adds two numbers.", code, method="wavecoder"),
               make("Write a function.", "def f(:\n", method="wavecoder")]  # fails the rules: never judged
    report = discriminate(records, engine, config=config, discriminator=judge)
    assert len(report.kept) + len(report.dropped) == 2
    reasons = report.counts()["reasons"]
    assert reasons.get("rule_language") == 1
    assert set(reasons) <= {"rule_language", "judged_no", "judgment_unparsable"}
    judged_no = reasons.get("judged_no", 0)
    assert all(r.scores["discriminator"] == "yes" for r in report.kept)
    # readable judgments join the pools; an unreadable one joins neither
    assert (len(judge.good), len(judge.bad)) == (len(report.kept), judged_no)
    assert report.extra["pools"] == {"good": len(judge.good), "bad": len(judge.bad)}
    if judge.good or judge.bad:  # the next prompt shows the judged sample as an example
        assert len(judge.conversation(records[0])) == 1 + 2 * (len(judge.good) + len(judge.bad)) + 1
