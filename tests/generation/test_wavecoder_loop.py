"""WaveCoder's generator-discriminator loop (`instructions: llm`): the example pool grows from accepted
examples and is reloaded on resume; repair bugs come from the LLM with a mutation fallback.

`ScriptedEngine` stands for the model's text only (a 135M model cannot be made to write a chosen
labelled example or verdict deterministically); prompting, parsing, judging rules, the pool and
the journal are the real code. The real-model run is at the end (slow).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

import pytest

from codeinstruct.engines.base import Engine, SamplingParams, per_prompt
from codeinstruct.generation import bugs
from codeinstruct.generation.config import GenerationConfig, WavecoderConfig
from codeinstruct.generation.example_pool import ExamplePool, packaged_examples
from codeinstruct.generation.run import generate_outcomes, journal_path, run_generation

CODE = ("def count_upper(text):\n    \"\"\"Count upper-case letters.\"\"\"\n    total = 0\n    for ch in text:\n"
        "        if ch.isupper():\n            total += 1\n    return total\n")
JUDGE_YES = "\n".join(f"{i}. {n}: yes - fine" for i, n in enumerate(
    ("language", "related", "code_only", "documented", "imports"), 1)) + "\nOverall: yes"
JUDGE_NO = JUDGE_YES.replace("2. related: yes", "2. related: no").replace("Overall: yes", "Overall: no")


def seed(i: int, code: str = CODE) -> dict:
    return {"id": f"s{i}", "code": code.replace("count_upper", f"count_upper{i}"), "language": "python",
            "entry_point": f"count_upper{i}", "source": {"origin": "test", "license": "MIT"}}


def generation_answer(prompt: str) -> str:
    name = re.findall(r"def (count_upper\d+)", prompt)[-1]  # the raw code comes last in the prompt
    return (f" Write a Python function `{name}(text)` that returns how many upper-case letters text has {name}.\n"
            f"Information: <noinput>\nSolution: ```python\n{CODE.replace('count_upper', name)}```")


class ScriptedEngine(Engine):
    model_name = "scripted"
    engine_name = "scripted"

    def __init__(self, answer: Callable[[str], str] = generation_answer,
                 judge: Callable[[str], str] = lambda _: JUDGE_YES):
        self.answer, self.judge_answer = answer, judge
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        out = []
        for prompt, p in zip(prompts, per_prompt(params, len(prompts)), strict=True):
            self.prompts.append(prompt)
            text = self.judge_answer(prompt) if "Judge this sample" in prompt.rsplit("<user>", 1)[-1] \
                else self.answer(prompt)
            out.append([text] * p.n)
        return out

    def apply_chat_template(self, messages, add_generation_prompt=True):
        return "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages) + "<assistant>"

    def count_tokens(self, text):
        return len(text.split())

    def lm_score(self, instructions, codes):
        return [0.5] * len(instructions)


def config(**wavecoder) -> GenerationConfig:
    settings = {"tasks": ("generation",), "instructions": "llm", "shots": 8, "selection": "off", **wavecoder}
    return GenerationConfig(seeds_per_batch=1, wavecoder=WavecoderConfig(**settings))


def generator_prompts(engine: ScriptedEngine) -> list[str]:
    return [p for p in engine.prompts if "Now write one" in p]


def test_accepted_examples_grow_the_pool_for_later_batches():
    # s0 accepted, s1 judged no, s2 sees s0's example but not s1's
    engine = ScriptedEngine(judge=lambda p: JUDGE_NO if "count_upper1(" in p.rsplit("### Instruction", 1)[-1]
                            else JUDGE_YES)
    outcomes = list(generate_outcomes("wavecoder", [seed(0), seed(1), seed(2)], engine, config()))
    assert [len(o.records) for o in outcomes] == [1, 0, 1]
    assert outcomes[1].rejected == {"judged_no": 1}
    assert outcomes[0].records[0].scores["discriminator"] == "yes"
    assert [len(o.state.get("pool", [])) for o in outcomes] == [1, 0, 1]
    first, _, third = generator_prompts(engine)
    assert "count_upper0" not in first.split("Now write one")[0]
    shown = third.split("Now write one")[0]
    assert "upper-case letters text has count_upper0." in shown and "count_upper1" not in shown


def test_rule_checks_run_before_the_judge():
    # no language named in a generation instruction: WaveCoder's rule drops it without asking the judge
    engine = ScriptedEngine(answer=lambda p: generation_answer(p).replace("a Python function", "a function"))
    (outcome,) = generate_outcomes("wavecoder", [seed(0)], engine, config())
    assert outcome.rejected == {"rule_language": 1} and not outcome.state
    assert not [p for p in engine.prompts if "Judge this sample" in p]


def test_pool_is_journaled_and_reloaded_on_resume(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    out = tmp_path / "out.jsonl"
    seeds.write_text("".join(json.dumps(seed(i)) + "\n" for i in range(2)))
    first = ScriptedEngine()
    run_generation("wavecoder", seeds, out, config(), engine=first, limit=1)
    (entry,) = [json.loads(line) for line in journal_path(out).read_text().splitlines()]
    assert [e["instruction"] for e in entry["state"]["pool"]] == \
        ["Write a Python function `count_upper0(text)` that returns how many upper-case letters text has "
         "count_upper0."]
    resumed = ScriptedEngine()
    summary = run_generation("wavecoder", seeds, out, config(), engine=resumed)
    assert summary["seeds_resumed"] == 1 and summary["seeds_run"] == 1 and summary["records_total"] == 2
    (prompt,) = generator_prompts(resumed)
    assert "has count_upper0." in prompt.split("Now write one")[0]  # the pool the first run left
    fresh = ScriptedEngine()
    list(generate_outcomes("wavecoder", [seed(1)], fresh, config()))
    assert "count_upper0" not in generator_prompts(fresh)[0]  # without the journal: packaged examples only


def test_pool_keeps_packaged_examples_and_the_newest_accepted():
    pool = ExamplePool(size=2)
    assert {e["task"] for e in packaged_examples()} == {"summarization", "generation", "translation", "repair"}
    for i in range(3):
        pool.add({"task": "repair", "instruction": f"fix {i}"})
    assert [e["instruction"] for e in pool.examples("repair")][1:] == ["fix 1", "fix 2"]
    assert len(pool.examples("repair")) == 3 and len(pool) == 6


REPAIR_CODE = "def at_least(a, b):\n    \"\"\"Whether a >= b.\"\"\"\n    return a >= b\n"


def repair_answer(bug: str) -> Callable[[str], str]:
    return lambda _p: (f" Fix the bug so that at_least compares correctly.\nInformation: ```python\n{bug}```\n"
                       f"Solution: ```python\n{REPAIR_CODE}```")


@pytest.mark.parametrize(("bug", "source", "note"), [
    (REPAIR_CODE.replace(">=", "<", 1).replace("a >= b\n", "a < b\n"), "llm", None),
    (REPAIR_CODE, "mutation", "repair_fallback_bug_identical"),
    (REPAIR_CODE.replace("return a >= b", "return a >= b  # checked"), "mutation",
     "repair_fallback_bug_changes_nothing"),
    ("def at_least(a, b)\n    return a > b\n", "mutation", "repair_fallback_bug_syntax_error"),
    ("def other():\n    return 1\n", "mutation", "repair_fallback_bug_rewrites_code"),
])
def test_repair_uses_the_llm_bug_or_falls_back_to_a_mutation(bug, source, note):
    engine = ScriptedEngine(answer=repair_answer(bug))
    item = {"id": "r", "code": REPAIR_CODE, "language": "python", "entry_point": "at_least"}
    (outcome,) = generate_outcomes("wavecoder", [item], engine, config(tasks=("repair",)))
    (record,) = outcome.records
    instruction, information = record.instruction.split("\n\n", 1)
    assert record.source["repair_bug"] == source and record.code == REPAIR_CODE.strip("\n")
    buggy = information.removeprefix("```python\n").removesuffix("\n```")
    assert bugs.llm_bug_problem(REPAIR_CODE, buggy, "at_least") is None  # whatever the source, a real bug
    if note is None:
        assert not outcome.notes and instruction == "Fix the bug so that at_least compares correctly."
    else:
        assert outcome.notes == {note: 1} and instruction == "Fix the bug in the following Python function `at_least`."


def test_llm_bug_problem_reasons():
    assert bugs.llm_bug_problem(REPAIR_CODE, "") == "bug_missing"
    assert bugs.llm_bug_problem(REPAIR_CODE, REPAIR_CODE.replace('"""Whether a >= b."""', '"""Docs."""')) == \
        "bug_changes_nothing"
    assert bugs.llm_bug_problem(REPAIR_CODE, REPAIR_CODE.replace("a >= b\n", "a > b\n")) is None


@pytest.mark.slow
def test_llm_loop_on_the_embedded_model_accounts_for_every_task(engine):
    """The embedded model rarely keeps the labelled format; the loop still ends each task as a record or
    a counted rejection, and any repair record says where its bug came from."""
    from codeinstruct.generation.seeds import stdlib_seeds

    cfg = GenerationConfig(max_tokens=96, seeds_per_batch=2, wavecoder=WavecoderConfig(
        instructions="llm", tasks_per_seed=2, judge_max_tokens=48, selection="off"))
    outcomes = list(generate_outcomes("wavecoder", stdlib_seeds(2), engine, cfg))
    assert len(outcomes) == 2
    for outcome in outcomes:
        assert len(outcome.records) + sum(outcome.rejected.values()) == 2, outcome
        assert all(r.source.get("repair_bug") in (None, "llm", "mutation") for r in outcome.records)
        assert len(outcome.state.get("pool", [])) == len(outcome.records)
