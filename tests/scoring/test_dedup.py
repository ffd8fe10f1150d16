"""Dedup: exact (normalized) catches whitespace/comment/rename variants, MinHash catches near
duplicates, the ROUGE-L prefix filter gives exactly the brute-force answer."""

from __future__ import annotations

import random

import pytest
from rouge_score import rouge_scorer

from codeinstruct.core.errors import InvalidInput
from codeinstruct.scoring.deduplication import RougeLFilter, dedup
from codeinstruct.scoring.normalize import code_tokens
from tests.support.scoring import make

ORIGINAL = '''def count_words(text):
    """Count the words of text."""
    words = text.split()
    return len(words)
'''
WHITESPACE = '''def count_words( text ):
        """Count the words of text."""

        words = text.split()   # split on runs of whitespace
        return len( words )
'''
RENAMED = '''def n_words(s):
    """Count the words of text."""
    parts = s.split()
    return len(parts)
'''
DIFFERENT = '''def count_lines(text):
    """Count the lines of text."""
    return len(text.splitlines())
'''


def test_code_tokens_ignore_layout_comments_and_names() -> None:
    assert code_tokens(ORIGINAL) == code_tokens(WHITESPACE) == code_tokens(RENAMED)
    assert code_tokens(ORIGINAL) != code_tokens(DIFFERENT)
    # attribute names and builtins are part of the meaning, not renamed
    assert "split" in code_tokens(ORIGINAL) and "len" in code_tokens(ORIGINAL)


def test_code_tokens_other_languages() -> None:
    a = "function add(a, b) {\n  // sum\n  return a + b;\n}"
    b = "function plus(x,y){ return x+y; }"
    assert code_tokens(a, "javascript") == code_tokens(b, "javascript")


def test_exact_dedup_drops_whitespace_and_rename_variants_and_keeps_first() -> None:
    instruction = "Write a Python function that counts the words in a string."
    records = [make(instruction, ORIGINAL), make(instruction + "  ", WHITESPACE),
               make(instruction.lower(), RENAMED), make(instruction, DIFFERENT)]
    report = dedup(records, "exact")
    assert [r.id for r in report.kept] == [records[0].id, records[3].id]
    assert report.counts()["reasons"] == {"exact_duplicate": 2}
    assert all(reason.endswith(records[0].id) for _, reason in report.dropped)


def test_minhash_drops_near_duplicates_only() -> None:
    base = ("Write a Python function that takes a list of integers and returns a new list containing only "
            "the even numbers, preserving their original order, and raises ValueError on empty input.")
    near = base.replace("preserving their original order", "keeping their original order")
    unrelated = "Implement a command line tool that renames every file in a folder to lower case."
    records = [make(base), make(near), make(unrelated)]
    report = dedup(records, "minhash", threshold=0.7, field="instruction")
    assert [r.id for r in report.kept] == [records[0].id, records[2].id]
    (dropped, reason), = report.dropped
    assert dropped.id == records[1].id and reason.startswith("near_duplicate: of " + records[0].id)
    assert report.counts()["reasons"] == {"near_duplicate": 1}
    # a strict threshold keeps the variant
    assert len(dedup(records, "minhash", threshold=0.99, field="instruction").kept) == 3


def test_rougel_filter_matches_brute_force() -> None:
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(60)]
    texts = [" ".join(rng.choices(vocab, k=rng.randint(3, 14))) for _ in range(150)]
    for i in range(40):  # near copies: one token changed
        words = texts[i].split()
        words[rng.randrange(len(words))] = "zz"
        texts.append(" ".join(words))
    records = [make(t) for t in texts]
    report = dedup(records, "rougel", threshold=0.7)

    scorer = rouge_scorer.RougeScorer(["rougeL"])
    kept: list[str] = []
    seen: set[str] = set()
    for text in texts:
        key = " ".join(text.split())
        if key in seen:
            continue
        seen.add(key)
        if all(scorer.score(k, text)["rougeL"].fmeasure < 0.7 for k in kept):
            kept.append(text)
    assert [r.instruction for r in report.kept] == kept
    assert report.counts()["reasons"].get("rougel_duplicate", 0) > 0
    # the prefix filter computed far fewer LCS than the ~ n^2/2 pairs brute force needs
    assert report.extra["lcs_computed"] < len(texts) ** 2 / 20


def test_rougel_filter_incremental() -> None:
    flt = RougeLFilter(0.7)
    assert flt.add("Write a function that reverses a string")[0]
    kept, score, match = flt.add("Write a function that reverses the string")
    assert not kept and match == 0 and score >= 0.7
    assert flt.add("Parse a date in ISO format")[0]


def test_dedup_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInput) as err:
        dedup([make()], "fuzzy")
    assert err.value.field == "method"
    with pytest.raises(InvalidInput):
        dedup([make()], "minhash", threshold=1.5)
