"""How each method turns model outputs into records, on FIXED model outputs (fast).

`ReplayEngine` answers from a script keyed by a marker in the prompt: it stands for the model's
text only; all method code (prompting, parsing, elimination, record building) is the real one.
"""

from collections.abc import Sequence

from codeinstruct.core.records import Record
from codeinstruct.engines.base import Engine, SamplingParams, per_prompt
from codeinstruct.generation.config import (
    EvolConfig,
    GenerationConfig,
    InverseConfig,
    SemiConfig,
    WavecoderConfig,
)
from codeinstruct.generation.run import generate_outcomes

SEED = {"id": "seed1", "code": "def unquote(s):\n    \"\"\"Strip quotes.\"\"\"\n    return s.strip('\"')\n",
        "entry_point": "unquote", "language": "python", "instruction": "Write a function that strips quotes.",
        "source": {"origin": "cpython-stdlib:x.unquote", "license": "PSF-2.0"}}


class ReplayEngine(Engine):
    model_name = "replay"
    engine_name = "replay"

    def __init__(self, script: dict[str, list[str]]):
        self.script = script  # prompt marker -> completions handed out in turn
        self.calls: list[tuple[str, SamplingParams]] = []

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        out = []
        for prompt, p in zip(prompts, per_prompt(params, len(prompts)), strict=True):
            self.calls.append((prompt, p))
            marker = next(m for m in self.script if m in prompt)
            out.append([self.script[marker].pop(0) for _ in range(p.n)])
        return out

    def apply_chat_template(self, messages, add_generation_prompt=True):
        return "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages) + "<assistant>"

    def count_tokens(self, text):
        return len(text.split())

    def lm_score(self, instructions, codes):
        return [0.5] * len(instructions)


DRAFT = """Write a function unquote(s) that removes surrounding double quotes from a string.
[SOLUTION]
```python
def unquote(s):
    return s.strip('"')
```
[ANSWER_TYPE]
function unquote
[TEST_INPUTS]
unquote('"a"')
unquote('b')
"""


def test_semi_instruct_records_have_design_test_format_and_empty_outputs():
    engine = ReplayEngine({"programming exercise": [DRAFT, "nothing useful"]})
    config = GenerationConfig(semi=SemiConfig(samples=2, prompting="single"))
    outcomes = list(generate_outcomes("semi_instruct", [SEED], engine, config))
    assert [o.seed_id for o in outcomes] == ["seed1"]
    (record,) = outcomes[0].records
    assert dict(outcomes[0].rejected) == {"missing_section": 1}
    assert record.method == "semi_instruct" and record.entry_point == "unquote"
    assert record.tests == [{"input": "unquote('\"a\"')", "output": ""}, {"input": "unquote('b')", "output": ""}]
    assert record.source["code"] == SEED["code"] and record.source["parent_id"] == "seed1"
    assert record.code.startswith("def unquote(s):") and record.response.startswith("```python\n")
    assert record.generator["fingerprint"] and record.generator["seed"]
    Record.from_dict(record.to_dict())
    prompt, params = engine.calls[0]
    assert "function unquote" in prompt and prompt.endswith("[INSTRUCTION]\n") and params.n == 2


def test_staged_semi_instruct_asks_three_short_questions_and_starts_each_answer():
    engine = ReplayEngine({
        "short programming exercise": [" removes one pair of double quotes around s.", " x"],
        # two answers for each opening: unquote(s=  unquote(s='  unquote(s=[
        "five test calls": ["'\"a\"')", "str)", "b')  # plain", "\"a\"')", "1, 2])", "x)"],
        "working draft": ["s):\n    return s.strip('\"')\n```\nDone."],
    })
    config = GenerationConfig(semi=SemiConfig(samples=2, input_samples=6))
    (outcome,) = generate_outcomes("semi_instruct", [SEED], engine, config)
    (record,) = outcome.records
    assert dict(outcome.rejected) == {"instruction_too_short": 1}
    assert record.instruction == "Write a Python function `unquote(s)` that removes one pair of double quotes around s."
    assert record.code == "def unquote(s):\n    return s.strip('\"')"
    assert [t["input"] for t in record.tests] == ["unquote('\"a\"')", "unquote('b')", "unquote([1, 2])"]
    assert all(t["output"] == "" for t in record.tests)
    assert record.source["code"] == SEED["code"] and record.entry_point == "unquote"
    (p1, instruction), *asked, (p3, solution) = engine.calls
    assert p1.endswith("<assistant>Write a Python function `unquote(s)` that") and instruction.n == 2
    assert [p.rsplit("```python\n", 1)[1] for p, _ in asked] == ["unquote(s=", "unquote(s='", "unquote(s=["]
    assert all(params.n == 2 and params.stop == ("\n",) for _, params in asked)
    assert p3.endswith("```python\ndef unquote(") and "removes one pair" in p3 and solution.stop == ("```",)
    # the test inputs are asked from the instruction (the primary spec), the code shown after it as context
    for prompt, _ in asked:
        assert prompt.index("removes one pair of double quotes") < prompt.index("return s.strip(")


def test_semi_test_input_prompts_put_the_instruction_before_the_code():
    from codeinstruct.generation import prompts

    code = "def f(x):\n    return x"
    for name, extra in (("semi_instruct.inputs", {"entry_point": "f"}), ("semi_instruct.stdin", {})):
        text = prompts.load(name).render(instruction="INSTRUCTION-TEXT", language="python", code=code, **extra)
        assert text.index("INSTRUCTION-TEXT") < text.index(code), name
    # single mode: the instruction is written in the same answer, above the inputs it must drive
    draft = prompts.load("semi_instruct.draft").render(language="python", code=code, answer_type="function f",
                                                      test_format="calls")
    assert "Write the [TEST_INPUTS] from your [INSTRUCTION]" in draft


def test_staged_semi_instruct_keeps_imports_and_rejects_seeds_without_usable_inputs():
    seed = dict(SEED, id="seed2", code="import math\n\n\ndef area(r):\n    return math.pi * r * r\n",
                entry_point="area")
    engine = ReplayEngine({
        "short programming exercise": [" returns the area of a circle of radius r.", " returns pi r squared."],
        "five test calls": ["2)", "x)", "y)", "r)", "x)", "y)"],  # openings area(r=  area(r='  area(r=[
        "working draft": ["r):\n    return math.pi * r ** 2\n", "r):\n    return 0\n"],
    })
    config = GenerationConfig(semi=SemiConfig(samples=1, input_samples=3))
    (first, second) = generate_outcomes("semi_instruct", [seed, dict(seed, id="seed3")], engine, config)
    (record,) = first.records
    assert record.code == "import math\n\ndef area(r):\n    return math.pi * r ** 2"
    assert record.tests == [{"input": "area(2)", "output": ""}]
    assert not second.records and dict(second.rejected) == {"no_test_inputs": 1}


def test_evol_instruct_counts_each_elimination_reason():
    script = {
        "#Rewritten Test#": ["#Rewritten Test# copy", "Write a function that strips quotes and also counts the "
                             "removed characters, returning both."],
        "Your Judgement": ["Not Equal"],
        "returning both": ["Sorry, I can't."],
    }
    engine = ReplayEngine(script)
    config = GenerationConfig(evol=EvolConfig(rounds=2))
    (outcome,) = generate_outcomes("evol_instruct", [SEED], engine, config)
    assert [r.scores["evol_round"] for r in outcome.records] == [0]  # only the seed pair itself
    assert dict(outcome.rejected) == {"copies_template": 1, "sorry_short_answer": 1}
    evolve_params = [p for prompt, p in engine.calls if "#Rewritten Test#" in prompt]
    assert all(p.temperature == 1.0 and p.top_p == 0.9 for p in evolve_params)


def test_evol_instruct_keeps_rounds_and_chains_instructions():
    harder = "Write a function that strips quotes, and raise ValueError when the quotes do not match."
    script = {"#Rewritten Test#": [harder, harder + " Also handle single quotes."],
              "Your Judgement": ["Not Equal", "Equal"],
              "ValueError when": ["```python\ndef unquote(s):\n    return s\n```"]}
    engine = ReplayEngine(script)
    (outcome,) = generate_outcomes("evol_instruct", [SEED], engine, GenerationConfig(evol=EvolConfig(rounds=2)))
    (_seed_pair, record) = outcome.records
    assert record.instruction == harder and record.scores["evol_round"] == 1
    assert record.source["evolved_from"] == SEED["instruction"]
    assert record.code == "def unquote(s):\n    return s"
    assert dict(outcome.rejected) == {"no_information_gain": 1}
    second_round = [prompt for prompt, _ in engine.calls if "#Rewritten Test#" in prompt][1]
    assert harder in second_round  # round 2 evolves round 1's survivor


def test_inverse_instruct_prefixes_the_answer_and_drops_duplicates():
    engine = ReplayEngine({"problem description": [" function that strips quotes from a string."] * 3})
    config = GenerationConfig(inverse=InverseConfig(samples=3))
    (outcome,) = generate_outcomes("inverse_instruct", [SEED], engine, config)
    prompts = [prompt for prompt, _ in engine.calls]
    assert all(prompt.rsplit("<assistant>", 1)[1].endswith(" Python") for prompt in prompts)
    assert len(outcome.records) + outcome.rejected["duplicate_instruction"] == 3
    for record in outcome.records:
        assert record.instruction.endswith("function that strips quotes from a string.")
        assert record.code == SEED["code"].strip("\n")
    params = [p for _, p in engine.calls]
    assert all(p.temperature == 0.8 and p.repetition_penalty == 1.1 for p in params)
    assert len({p.seed for p in params}) == 3


def test_llm_wavecoder_builds_a_task_record():
    answer = (" Fix the bug so that quotes are stripped.\nInformation: ```python\ndef unquote(s):\n"
              "    return s\n```\nSolution: ```python\ndef unquote(s):\n    return s.strip('\"')\n```")
    engine = ReplayEngine({"instruction-tuning example": [answer]})
    config = GenerationConfig(wavecoder=WavecoderConfig(tasks=("repair",), instructions="llm", discriminator=False))
    (outcome,) = generate_outcomes("wavecoder", [SEED], engine, config)
    (record,) = outcome.records
    assert record.task == "repair" and record.instruction.startswith("Fix the bug so that quotes are stripped.")
    # the LLM's bug is kept; the fix is the raw code itself
    assert "return s\n```" in record.instruction and record.code == SEED["code"].strip("\n")
    assert record.source["repair_bug"] == "llm"


WAVE_SEED = dict(SEED, id="wave1", code="def unquote(s):\n    \"\"\"Strip quotes.\"\"\"\n    if s[:1] == '\"':\n"
                 "        return s.strip('\"')\n    return s\n")


class CountingReplayEngine(ReplayEngine):
    def __init__(self, script):
        super().__init__(script)
        self.batches: list[int] = []  # prompts per engine call

    def generate(self, prompts, params):
        self.batches.append(len(prompts))
        return super().generate(prompts, params)


def test_staged_wavecoder_starts_every_answer_and_builds_the_four_tasks():
    engine = CountingReplayEngine({
        "what this function does": [" removes the double quotes around s\nand more"] * 2,
        "Explain in one or two": [" removes double quotes from both ends of s.\n\nMore."],
        "reference implementation": ["s):\n    return s.strip('\"')\n"],
        "Translate this Python": ["s) {\n  return s.replace(/^\"|\"$/g, '');\n}\n"],
    })
    config = GenerationConfig(wavecoder=WavecoderConfig(tasks_per_seed=4, translation_languages=("javascript",),
                                                        instructions="template"))
    (outcome,) = generate_outcomes("wavecoder", [WAVE_SEED], engine, config)
    assert not outcome.rejected and engine.batches == [2, 3]  # one call per stage
    records = {r.task: r for r in outcome.records}
    assert set(records) == {"summarization", "generation", "translation", "repair"}
    code = WAVE_SEED["code"].strip("\n")
    fenced = f"```python\n{code}\n```"

    summary = records["summarization"]
    assert summary.instruction == f"Explain what the following Python function does.\n\n{fenced}"
    assert summary.response == "The function `unquote` removes double quotes from both ends of s."
    assert summary.code == "" and summary.language == "python"

    generation = records["generation"]
    assert generation.instruction == "Write a Python function `unquote(s)` that removes the double quotes around s."
    assert generation.code == "def unquote(s):\n    return s.strip('\"')"
    assert generation.response == f"```python\n{generation.code}\n```"

    translation = records["translation"]
    assert translation.language == "javascript"
    assert translation.instruction == f"Translate this Python function into JavaScript.\n\n{fenced}"
    assert translation.code.startswith("function unquote(s) {") and translation.response.startswith("```javascript\n")

    repair = records["repair"]
    instruction, information = repair.instruction.split("\n\n", 1)
    assert instruction == ("Fix the bug in the Python function `unquote` below so that it removes the double "
                           "quotes around s.")
    assert information != fenced and information.startswith("```python\n") and repair.code == code

    by_tail = {p.rsplit("<assistant>", 1)[1]: params for p, params in engine.calls}
    assert set(by_tail) == {"Write a Python function `unquote(s)` that",
                            "Fix the bug in the Python function `unquote` below so that it",
                            "The function `unquote`", "```python\ndef unquote(", "```javascript\nfunction unquote("}
    assert by_tail["```python\ndef unquote("].stop == ("```",) and by_tail["The function `unquote`"].stop[0] == "\n\n"
    assert len({params.seed for params in by_tail.values()}) == 5  # one seed per (seed id, stage)


def test_staged_wavecoder_ends_each_task_as_one_record_or_one_rejection():
    seeds = [dict(WAVE_SEED, id=f"w{i}") for i in range(4)] + [
        dict(WAVE_SEED, id="nobug", code="def tidy(s):\n    return s.strip()\n"),
        dict(WAVE_SEED, id="broken", code="def f(:\n"), dict(WAVE_SEED, id="js", language="javascript")]
    engine = ReplayEngine({
        "what this function does": [" x", " strips quotes. It loops. It returns."] * 5,
        "Explain in one or two": [" ok"] * 7,
        "reference implementation": ["s:\n    return s\n"] * 7,
    })
    config = GenerationConfig(wavecoder=WavecoderConfig(tasks_per_seed=4, translation_languages=("python",),
                                                        instructions="template"))
    outcomes = list(generate_outcomes("wavecoder", seeds, engine, config))
    assert [o.seed_id for o in outcomes] == [s["id"] for s in seeds]
    for outcome in outcomes:
        assert len(outcome.records) + sum(outcome.rejected.values()) == 4, outcome
    assert not any(o.records for o in outcomes)
    (w0, *_), nobug, broken, js = outcomes[0:1] + outcomes[1:4], outcomes[4], outcomes[5], outcomes[6]
    assert w0.rejected["no_translation_target"] == 1 and w0.rejected["summary_too_short"] == 1
    assert w0.rejected["solution_syntax_error"] + w0.rejected["instruction_too_short"] + \
        w0.rejected["instruction_not_1_2_sentences"] == 2
    assert nobug.rejected["no_bug_site"] == 1
    assert broken.rejected["seed_syntax_error"] == 3 and js.rejected["language_not_supported"] == 4


def test_staged_wavecoder_is_reproducible_per_seed():
    def run(seeds):
        engine = ReplayEngine({"what this function does": [" strips the quotes around s"] * 4,
                               "Explain in one or two": [" strips the quotes around s."] * 4,
                               "reference implementation": ["s):\n    return s\n"] * 4,
                               "Translate this Python": ["s) {\n  return s;\n}\n"] * 4})
        config = GenerationConfig(wavecoder=WavecoderConfig(tasks_per_seed=4, translation_languages=("javascript",),
                                                        instructions="template"))
        records = [r for o in generate_outcomes("wavecoder", seeds, engine, config) for r in o.records]
        return records, {p: params.seed for p, params in engine.calls}
    other = dict(WAVE_SEED, id="other")
    (both, seeds_both), (alone, seeds_alone) = run([other, WAVE_SEED]), run([WAVE_SEED])
    assert [r.to_dict() for r in alone] == [r.to_dict() for r in both if r.source["parent_id"] == "wave1"]
    assert all(seeds_both[p] == s for p, s in seeds_alone.items())


def test_self_instruct_filters_near_copies_then_answers():
    seeds = [dict(SEED, id=f"s{i}", instruction=text) for i, text in enumerate(
        ["Write a function that strips quotes.", "Write a function that merges two sorted lists.",
         "Write a function that counts vowels in a string."])]
    script = {"Come up with": ["Write a function that strips quotes.", "Write a program that prints the "
                               "prime numbers below one hundred.", "Draw a picture of a cat with code."],
              "prime numbers": ["```python\nprint([p for p in range(2, 100)])\n```"]}
    engine = ReplayEngine(script)
    outcomes = list(generate_outcomes("self_instruct", seeds, engine, GenerationConfig()))
    assert dict(outcomes[0].rejected) == {"too_similar_to_seed": 1}
    assert outcomes[1].records[0].instruction.startswith("Write a program that prints the prime")
    assert dict(outcomes[2].rejected) == {"unsupported_modality": 1}


def test_fingerprint_follows_settings_and_same_inputs_give_same_ids():
    def run(config):
        engine = ReplayEngine({"problem description": [" function that strips quotes."] * 2})
        return [r for o in generate_outcomes("inverse_instruct", [SEED], engine, config) for r in o.records]
    one = InverseConfig(samples=1)
    a, b = run(GenerationConfig(inverse=one)), run(GenerationConfig(inverse=one))
    c = run(GenerationConfig(inverse=InverseConfig(samples=1), seed=1))
    assert [r.id for r in a] == [r.id for r in b]
    assert a[0].generator["fingerprint"] != c[0].generator["fingerprint"]


def test_staged_semi_instruct_asks_stdin_inputs_from_the_instruction():
    seed = dict(SEED, id="prog", code="n = int(input())\nprint(n * 2)\n", entry_point="")
    engine = ReplayEngine({
        "short programming exercise": [" reads a number and prints its double."],
        "standard input": ["3\n```", "-4\n```"],
        "working draft": ["n = int(input())\nprint(2 * n)\n```"],
    })
    config = GenerationConfig(semi=SemiConfig(samples=1, input_samples=2))
    (outcome,) = generate_outcomes("semi_instruct", [seed], engine, config)
    (record,) = outcome.records
    assert record.entry_point == ""
    assert record.tests == [{"input": "3\n", "output": ""}, {"input": "-4\n", "output": ""}]
    stdin_prompt = next(p for p, _ in engine.calls if "standard input" in p)
    assert stdin_prompt.index("prints its double") < stdin_prompt.index("n = int(input())")
