"""Discriminator rule checks, the judgment parser and the few-shot prompt (the LLM part is in
test_engine_stages.py)."""

from __future__ import annotations

import pytest

from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.discriminator import Discriminator, discriminate, parse_judgment, rule_check
from tests.support.scoring import make

GOOD_CODE = "import math\n\n\ndef area(r):\n    \"\"\"Area of a circle of radius r.\"\"\"\n    return math.pi * r * r\n"
GOOD = make("Write a Python function that returns the area of a circle.", GOOD_CODE,
            response=f"```python\n{GOOD_CODE}```", method="wavecoder")


@pytest.mark.parametrize(("record", "category"), [
    (GOOD, None),
    (make("Write a function that returns the area of a circle.", GOOD_CODE, method="wavecoder"), "rule_language"),
    (make("Write a Python function for the area.", GOOD_CODE, response=f"Sure! Here it is:\n```python\n{GOOD_CODE}```",
          method="wavecoder"), "rule_code_only"),
    (make("Write a Python function for the area.", "def area(r):\n    return math.pi * r * r\n",
          method="wavecoder"), "rule_imports"),
    (make("Write a Python function for the area.", "def area(r)\n    return r\n", method="wavecoder"), "rule_syntax"),
    (make("Write a Python function for the area.", "", response="No idea.", method="wavecoder"), "rule_no_code"),
    (make("Write a Python function.", "def f(x):\n    a = x\n    b = a * 2\n    c = b + 1\n    d = c * c\n"
                                      "    return d\n", method="wavecoder"), "rule_documented"),
    # summarization answers are prose: the code-only and language rules do not apply
    (make("Summarize this code:\ndef f(): pass", "", response="It does nothing.", method="wavecoder",
          task="summarization"), None),
])
def test_rule_checks(record, category) -> None:
    reason = rule_check(record)
    assert (reason.split(":")[0] if reason else None) == category


def test_rules_only_discrimination_counts_reasons() -> None:
    records = [GOOD, make("Write a function.", "def f(:\n", method="wavecoder"),
               make("Write a Python function.", "def f(:\n", method="wavecoder")]
    report = discriminate(records, None, use_llm=False)
    assert [r.id for r in report.kept] == [GOOD.id]
    assert report.counts()["reasons"] == {"rule_language": 1, "rule_syntax": 1}


def test_parse_judgment_formats() -> None:
    full = parse_judgment("1. language: yes - says Python\n2. related: yes\n3. code_only: no - has an intro\n"
                          "4. documented: yes\n5. imports: yes\nOverall: yes")
    assert full.verdict == "no" and full.failed == ("code_only",) and full.reasons == ("code_only: has an intro",)
    assert parse_judgment("**language**: Yes\nrelated: yes\ncode_only: YES\ndocumented: yes\n"
                          "imports: yes").verdict == "yes"
    assert parse_judgment("Looks fine to me.\nOverall: **Yes**").verdict == "yes"
    assert parse_judgment("Overall - no").verdict == "no"
    assert parse_judgment("The code is nice.").verdict is None
    assert parse_judgment("language: yes\nrelated: yes").verdict is None
    # the format echoed back is not an answer
    assert parse_judgment("1. language: yes|no - reason\n2. related: yes|no\nOverall: yes|no").verdict is None


def test_prompt_uses_recent_pool_examples() -> None:
    judge = Discriminator(engine=None, config=ScoringConfig(discriminator_pool_size=2, discriminator_shots=1))
    for i in range(3):
        judge.good.append((f"good prompt {i}", "Overall: yes"))
        judge.bad.append((f"bad prompt {i}", "Overall: no"))
    assert len(judge.good) == 2  # bounded: the oldest fell out
    messages = judge.conversation(GOOD)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"] == "good prompt 2" and messages[3]["content"] == "bad prompt 2"
    assert "area of a circle" in messages[-1]["content"] and "python" in messages[-1]["content"]
