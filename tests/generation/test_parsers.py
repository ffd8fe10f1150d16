"""Parsers and elimination rules on fixed model outputs (fast)."""

import pytest

from codeinstruct.generation import parsers
from codeinstruct.generation.parsers import Rejected


def reason(fn, *args, **kwargs):
    with pytest.raises(Rejected) as info:
        fn(*args, **kwargs)
    return info.value.reason


# -- code extraction / InverseCoder preprocessing --------------------------------------------------
def test_inverse_code_keeps_the_first_fenced_block():
    text = "Here:\n```python\ndef a():\n    return 1\n```\nand\n```python\ndef b(): pass\n```"
    assert parsers.inverse_code(text, "python") == "def a():\n    return 1"


def test_inverse_code_whole_text_only_if_it_parses():
    assert parsers.inverse_code("def a():\n    return 1\n", "python") == "def a():\n    return 1"
    assert reason(parsers.inverse_code, "This returns one: def a(: 1", "python") == "no_code_block_and_unparseable"
    assert reason(parsers.inverse_code, "int main() { return 0; }", "cpp") == "no_code_block_and_unparseable"
    assert reason(parsers.inverse_code, "```python\n\n```", "python") == "empty_code_block"


def test_unclosed_fence_is_not_a_block():
    assert parsers.first_code_block("```python\nprint(1)\n") is None
    assert parsers.extract_code("text only", "python") == ""


# -- Evol-Instruct elimination -------------------------------------------------------------------------
@pytest.mark.parametrize("evolved, expected", [
    ("", "empty"),
    ("#Rewritten Test#\nWrite a function that sorts.", "copies_template"),
    ("Here is the given prompt rewritten: sort a list", "copies_template"),
    ("... !!! ???", "only_punctuation_or_stop_words"),
    ("it is what we have to do", "only_punctuation_or_stop_words"),
    ("Write a function that sorts a list.", "no_information_gain"),
    ("```python\ndef f(xs):\n    return sorted(xs)\n```\nYou can use this function to sort.",
     "answered_instead_of_rewritten"),
    ("Sort it:\n```python\ndef f(xs):\n    return sorted(xs)\n```", "answered_instead_of_rewritten"),
])
def test_evolved_instruction_elimination(evolved, expected):
    assert reason(parsers.check_evolved, evolved, "Write a function that sorts a list.") == expected


def test_a_real_evolution_passes():
    parsers.check_evolved("Write a function that sorts a list in O(n log n) without using sorted().",
                          "Write a function that sorts a list.")
    # erroneous reference code after the prose is part of an evolution heuristic, not an answer
    parsers.check_evolved("Write a function that sorts a list in place. This attempt is wrong:\n"
                          "```python\ndef f(xs):\n    return xs\n```", "Write a function that sorts a list.")


def test_answer_elimination():
    assert reason(parsers.check_answer, "Sorry, I cannot do that.") == "sorry_short_answer"
    assert reason(parsers.check_answer, "   ") == "empty_answer"
    assert reason(parsers.check_answer, "the, and; of.") == "only_punctuation_or_stop_words"
    long_sorry = "Sorry for the long answer. " + "This explains the algorithm in detail. " * 20
    parsers.check_answer(long_sorry)  # "sorry" in a long answer is fine (rule: short answers only)


@pytest.mark.parametrize("text, verdict", [
    ("Equal", "equal"), ("Not Equal", "not_equal"), ("not equal.", "not_equal"), ("Equal.\nThey match", "equal"),
    ("I think they are not equal", "not_equal"), ("Hmm", "unclear"),
])
def test_equality_verdicts(text, verdict):
    assert parsers.parse_equality(text) == verdict


# -- Semi-Instruct ---------------------------------------------------------------------------------------
GOOD_DRAFT = """[INSTRUCTION]
Write a function unquote(s) that removes one pair of surrounding quotes from a string.
[SOLUTION]
```python
def unquote(s):
    if len(s) > 1 and s[0] == s[-1] == '"':
        return s[1:-1]
    return s
```
[ANSWER_TYPE]
function unquote
[TEST_INPUTS]
unquote('"a"')
1. unquote('plain')
unquote('"a"')
"""


def test_semi_draft_parses_into_the_record_test_format():
    draft = parsers.parse_semi_draft(GOOD_DRAFT, original_functions=["unquote"])
    assert draft.entry_point == "unquote"
    assert draft.inputs == ("unquote('\"a\"')", "unquote('plain')")  # list marker stripped, duplicate dropped
    assert draft.solution.startswith("def unquote(s):")
    assert draft.instruction.startswith("Write a function unquote")


@pytest.mark.parametrize("mutate, expected", [
    (lambda t: t.replace("[ANSWER_TYPE]\n", ""), "missing_section"),
    (lambda t: t + "\n[SOLUTION]\n", "repeated_section"),
    (lambda t: t.replace("function unquote", "function dequote"), "entry_point_not_in_original"),
    (lambda t: t.replace("def unquote(s):", "def other(s):"), "entry_point_not_in_solution"),
    (lambda t: t.replace("unquote('plain')", "unquote('plain'"), "test_input_not_an_expression"),
    (lambda t: t.replace("unquote('plain')", "print('plain')"), "test_input_not_a_call"),
    (lambda t: t.replace("function unquote", "a lambda"), "bad_answer_type"),
    (lambda t: t.replace("```python\n", "").replace("```\n", ""), "solution_not_fenced"),
    (lambda t: t.replace("return s\n", "return s s\n"), "solution_syntax_error"),
    (lambda t: t.replace("Write a function unquote(s) that removes one pair of surrounding quotes from a string.",
                         "Unquote."), "instruction_too_short"),
])
def test_semi_draft_rejections_say_why(mutate, expected):
    assert reason(parsers.parse_semi_draft, mutate(GOOD_DRAFT), original_functions=["unquote"]) == expected


def test_semi_draft_program_inputs_are_fenced_stdin():
    text = GOOD_DRAFT.replace("function unquote", "program").split("[TEST_INPUTS]")[0] + \
        "[TEST_INPUTS]\n```text\n3\n1 2 3\n```\n```text\n0\n```\n"
    draft = parsers.parse_semi_draft(text, original_functions=[])
    assert draft.entry_point == ""
    assert draft.inputs == ("3\n1 2 3\n", "0\n")


# -- Semi-Instruct, staged prompting ---------------------------------------------------------------
@pytest.mark.parametrize("line, expected", [
    ("unquote('\"a\"')", "unquote('\"a\"')"),
    ("unquote('b')  # Output: b", "unquote('b')"),                       # trailing comment cut
    ("unquote(5) = 5", "unquote(5)"),                                     # trailing prose cut at the call's end
    ("unquote(f\"2023-01-01\")", "unquote('2023-01-01')"),                # placeholder-free f-string is a string
    (">>> unquote([1, (2, 3)], key={'a': -1})", "unquote([1, (2, 3)], key={'a': -1})"),
    ("2. unquote(')(')", "unquote(')(')"),                              # parens inside a string
    ("unquote(str)", None),                                               # a name, not a literal
    ("unquote(f\"{x}\")", None),                                          # an f-string with a placeholder
    ("unquote(bin(16))", None),                                           # a call inside
    ("unquote(*args)", None),
    ("quote('a')", None),                                                 # another function
    ("unquote('a'", None),                                                # never closed
])
def test_leading_call_takes_a_literal_call_and_cuts_what_follows(line, expected):
    assert parsers.leading_call(line, "unquote") == expected


def test_call_inputs_collect_unique_calls_and_count_unusable_lines():
    texts = ["unquote('a')\nunquote(str)", "unquote('a')  # again", "# a comment\n\nunquote(3)\n```\nunquote(4)"]
    assert parsers.call_inputs(texts, "unquote") == (["unquote('a')", "unquote(3)"], 1)


@pytest.mark.parametrize("call, expected", [
    ("f(a=1, b='x')", "f(1, 'x')"),
    ("f(b=2, a=1)", "f(1, 2)"),           # keywords in any order, as long as they are the leading parameters
    ("f(1, b=2)", "f(1, 2)"),
    ("f(a=1, c=3)", "f(a=1, c=3)"),       # skips b: stays as written
    ("f(a=1, flag=True)", "f(a=1, flag=True)"),
    ("f(1, 2)", "f(1, 2)"),
])
def test_as_positional_removes_parameter_names_only_when_the_mapping_is_exact(call, expected):
    assert parsers.as_positional(call, ["a", "b", "c"]) == expected


def test_stdin_inputs_end_at_the_fence_and_end_with_a_newline():
    assert parsers.stdin_inputs(["3\n1 2 3\n```\nmore", "0", "", "0\n"]) == ["3\n1 2 3\n", "0\n"]


def test_semi_instruction_is_the_start_plus_the_first_paragraph():
    start = "Write a Python function `f(x)` that"
    assert parsers.parse_semi_instruction(start, " doubles x.\n\nExample: f(2)") == \
        "Write a Python function `f(x)` that doubles x."
    assert reason(parsers.parse_semi_instruction, start, " does\n\nmore") == "instruction_too_short"


def test_semi_solution_must_parse_and_define_the_entry_point():
    assert parsers.parse_semi_solution("def f(x):\n    return 2 * x\n```\nprose", "f") == \
        "def f(x):\n    return 2 * x"
    assert reason(parsers.parse_semi_solution, "def f(x):\n    return 2 *", "f") == "solution_syntax_error"
    assert reason(parsers.parse_semi_solution, "def g(x):\n    return x", "f") == "entry_point_not_in_solution"
    assert reason(parsers.parse_semi_solution, "```", "f") == "empty_solution"


# -- WaveCoder -------------------------------------------------------------------------------------------
WAVE = """Task name: repair
Instruction: Fix the bug in the function below. It should return the sum.
Information: ```python
def add(a, b):
    return a - b
```
Solution: ```python
def add(a, b):
    return a + b
```"""


def test_wavecoder_accepts_a_well_formed_example():
    example = parsers.parse_wavecoder(WAVE, "repair")
    assert example.instruction == "Fix the bug in the function below. It should return the sum."
    assert "return a - b" in example.information
    assert "return a + b" in example.solution


@pytest.mark.parametrize("text, expected", [
    (WAVE.replace("Information:", "Info:"), "missing_label"),
    (WAVE + "\nSolution: again", "repeated_label"),
    (WAVE.replace("Task name: repair", "Task name: translation"), "wrong_task_name"),
    (WAVE.replace("It should return the sum.", "It should return the sum. Use plus. Keep names."),
     "instruction_not_1_2_sentences"),
    (WAVE.replace("Information: ```python", "Information: One. Two. Three.\n```python"),
     "information_over_2_sentences"),
    (WAVE.replace("Information: ```python", "Information: <noinput>\n```python"), "noinput_mixed_with_text"),
    (WAVE.replace("Information: ```python", "Information: <noinput> <noinput>```python"), "several_noinput"),
])
def test_wavecoder_rejections(text, expected):
    assert reason(parsers.parse_wavecoder, text, "repair") == expected


def test_wavecoder_noinput_means_empty_information():
    text = ("Task name: generation\nInstruction: Write a function that adds two numbers.\n"
            "Information: <noinput>\nSolution: ```python\ndef add(a, b):\n    return a + b\n```")
    assert parsers.parse_wavecoder(text, "generation").information == ""


START = "Write a Python function `add(a, b)` that"


def test_wave_instruction_is_the_start_plus_the_first_line_ended_as_a_sentence():
    assert parsers.parse_wave_instruction(START, " returns the sum of a and b\nMore text.") == \
        "Write a Python function `add(a, b)` that returns the sum of a and b."
    assert parsers.parse_wave_instruction(START, " adds them. It may overflow!```python\nx") == \
        "Write a Python function `add(a, b)` that adds them. It may overflow!"
    assert parsers.parse_wave_instruction(START, " adds them. It is meant to be used to") == \
        "Write a Python function `add(a, b)` that adds them."


@pytest.mark.parametrize("completion, expected", [
    (" adds", "instruction_too_short"),
    ("", "instruction_too_short"),  # the answer stopped at once
    (" adds them. Then it checks. Then it returns.", "instruction_not_1_2_sentences"),
])
def test_wave_instruction_rejections(completion, expected):
    assert reason(parsers.parse_wave_instruction, START, completion) == expected


def test_wave_summary_keeps_the_first_paragraph_without_code():
    assert parsers.parse_wave_summary("The function `add`", " returns a + b.\n\nExample: add(1, 2)") == \
        "The function `add` returns a + b."
    assert parsers.parse_wave_summary("The function `add`", " sums its two arguments```python\n") == \
        "The function `add` sums its two arguments"
    assert parsers.parse_wave_summary("The function `add`", " returns a + b.\nIt uses +. It is short. Really.") == \
        "The function `add` returns a + b. It uses +."
    assert reason(parsers.parse_wave_summary, "The function `add`", " adds.") == "summary_too_short"


def test_wave_code_python_must_parse_and_define_the_entry_point():
    assert parsers.parse_wave_code("def add(a, b):\n    return a + b\n```\nDone", "python", "add") == \
        "def add(a, b):\n    return a + b"
    assert reason(parsers.parse_wave_code, "def add(a, b):\n    return a +\n", "python", "add") == \
        "solution_syntax_error"
    assert reason(parsers.parse_wave_code, "def plus(a, b):\n    return a + b\n", "python", "add") == \
        "entry_point_not_in_solution"
    assert reason(parsers.parse_wave_code, "\n```", "python") == "empty_solution"


def test_wave_code_drops_what_the_model_writes_after_the_function():
    text = ("import math\n\ndef area(r):\n    return math.pi * square(r)\n\ndef square(x):\n    return x * x\n\n"
            "def unrelated():\n    return 0\n\nprint(area(2))\ndef main():\n    x = area(")
    assert parsers.parse_wave_code(text, "python", "area") == (
        "import math\n\ndef area(r):\n    return math.pi * square(r)\n\n\ndef square(x):\n    return x * x")
    # a function cut off inside its own body cannot be saved
    assert reason(parsers.parse_wave_code, "def area(r):\n    return (r *\nprint(1)\n", "python", "area") == \
        "solution_syntax_error"


def test_wave_code_translation_must_leave_python():
    source = "def add(a, b):\n    return a + b"
    js = "function add(a, b) {\n  return a + b;\n}"
    assert parsers.parse_wave_code(js + "\n```", "javascript", source=source) == js
    assert reason(parsers.parse_wave_code, source + "\n", "javascript", source=source) == "solution_copies_source"
    assert reason(parsers.parse_wave_code, "def add(x, y):\n    return x + y\n", "cpp", source=source) == \
        "solution_not_translated"


def test_sentence_count_ignores_code():
    assert parsers.sentences("Fix it. ```python\nx = 1. 2. 3.\n```") == 1
    assert parsers.sentences("") == 0


# -- Self-Instruct ---------------------------------------------------------------------------------------
def test_new_instruction_takes_the_first_task_only():
    text = "Write a function that merges two sorted lists.\nTask 5: Another task here please."
    assert parsers.parse_new_instruction(text) == "Write a function that merges two sorted lists."


@pytest.mark.parametrize("text, expected", [
    ("Sort.", "instruction_too_short"),
    ("Draw a picture of the sorted list in a chart window.", "unsupported_modality"),
    ("- ", "instruction_too_short"),
    ("(Write a function that merges two sorted lists.)", "starts_with_punctuation"),
    ("word " * 151, "instruction_too_long"),
])
def test_new_instruction_filters(text, expected):
    assert reason(parsers.parse_new_instruction, text) == expected
