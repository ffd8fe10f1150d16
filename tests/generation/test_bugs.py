"""The seeded one-token bug of WaveCoder's repair task (fast)."""

import random

import pytest

from codeinstruct.generation.bugs import candidates, introduce_bug

CODE = '''import math


def clamp(value, low, high):
    """Limit value to [low, high] (a comment: x < y)."""
    if value < low:  # too small
        return low
    return min(value, high) + 0
'''


def test_one_token_changes_and_the_rest_stays_as_written():
    bug = introduce_bug(CODE, random.Random(0))
    assert bug is not None and bug.code != CODE
    before, after = CODE.splitlines(), bug.code.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [bug.line - 1]  # same number of lines, exactly one of them changed
    assert before[bug.line - 1].replace(bug.before, bug.after, 1) == after[bug.line - 1] or bug.before.isdigit()
    assert '"""Limit value to [low, high] (a comment: x < y)."""' in bug.code and "# too small" in bug.code


def test_sites_skip_strings_comments_and_imports():
    sites = [(token.string, new) for token, new in candidates(CODE)]
    assert sites == [("<", "<="), ("+", "-"), ("0", "1")]


def test_same_seed_same_bug_and_seeds_spread_over_sites():
    bugs = [introduce_bug(CODE, random.Random(seed)) for seed in range(30)]
    assert introduce_bug(CODE, random.Random(7)) == bugs[7]
    assert {b.before for b in bugs if b} == {"<", "+", "0"}


@pytest.mark.parametrize("code", ["def f(s):\n    return s.strip()\n", "x = (\n", ""])
def test_no_site_or_unreadable_code_gives_none(code):
    assert introduce_bug(code, random.Random(0)) is None


def test_swaps_keep_the_code_parsing():
    code = "def f(a, b) -> bool:\n    return a and not b or a == -1\n"
    for seed in range(20):
        bug = introduce_bug(code, random.Random(seed))
        assert bug is not None
        compile(bug.code, "<bug>", "exec")
