"""WaveCoder raw-code selection on real stdlib code: length bounds, blacklist, KCenterGreedy, counted reasons."""

from __future__ import annotations

import json

import numpy as np
import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.generation import selection
from codeinstruct.generation.config import GenerationConfig, WavecoderConfig
from codeinstruct.generation.seeds import stdlib_seeds

POOL = stdlib_seeds()


def keyword_embed(texts):
    """Deterministic stand-in embedding (for the tests that are not about embeddings)."""
    return np.array([[len(t), t.count("for"), t.count("if"), t.count("return")] for t in texts], dtype=np.float32)


def test_length_bounds_count_every_drop():
    cfg = WavecoderConfig(min_code_tokens=60, max_code_tokens=150)
    picked = selection.select_raw_code(POOL, cfg, limit=None)
    tokens = [selection.approx_tokens(s["code"]) for s in picked.seeds]
    assert tokens and all(60 <= n <= 150 for n in tokens)
    assert picked.dropped["too_few_tokens"] > 0 and picked.dropped["too_many_tokens"] > 0
    assert sum(picked.dropped.values()) == len(POOL) - len(picked.seeds)
    assert picked.stats()["token_counter"] == "approx"


def test_the_engine_tokenizer_counts_when_given():
    cfg = WavecoderConfig(min_code_tokens=1, max_code_tokens=30)
    picked = selection.select_raw_code(POOL[:20], cfg, limit=None, count_tokens=lambda code: len(code.split()))
    assert all(len(s["code"].split()) <= 30 for s in picked.seeds) and picked.token_counter == "engine"


def test_approximation_is_close_to_a_bpe_count():
    code = POOL[0]["code"]
    lexemes = len(selection._LEXEME.findall(code))
    assert selection.approx_tokens(code) == pytest.approx(1.15 * lexemes, abs=1)


def test_blacklist_license_only_duplicates_and_empty_code_are_dropped_with_reasons():
    base = POOL[:6]
    generated = dict(base[0], id="gen", code="# This file is auto-generated. Do not edit.\n" + base[0]["code"])
    blob = dict(base[1], id="blob", code=base[1]["code"] + "\nDATA = '" + "QUJD" * 60 + "'\n")
    license_only = dict(base[2], id="lic", code="# Copyright 2001 Python Software Foundation\n" * 3
                        + '"""Licensed under the PSF License Agreement; see LICENSE for the terms of use."""\n'
                        + "# " + "word " * 60 + "\n")
    duplicate = dict(base[3], id="dup", code=base[3]["code"].replace("\n", "  \n"))
    empty = dict(base[4], id="empty", code="   ")
    custom = WavecoderConfig(min_code_tokens=1, blacklist=(*WavecoderConfig().blacklist, r"\bbisect\b"))
    pool = [*base, generated, blob, license_only, duplicate, empty]
    picked = selection.select_raw_code(pool, custom, limit=None)
    ids = {s["id"] for s in picked.seeds}
    assert not ids & {"gen", "blob", "lic", "dup", "empty"}
    assert picked.dropped["blacklisted"] >= 2 and picked.dropped["no_code_beyond_comments"] == 1
    assert picked.dropped["duplicate_code"] == 1 and picked.dropped["no_code"] == 1
    assert sum(picked.blacklist_hits.values()) == picked.dropped["blacklisted"]
    assert sum(picked.dropped.values()) == len(pool) - len(picked.seeds)


def test_a_bad_blacklist_regex_is_refused_naming_the_field():
    with pytest.raises(InvalidInput, match=r"generation\.wavecoder\.blacklist"):
        WavecoderConfig(blacklist=("(unclosed",))


def test_kcenter_keeps_k_and_counts_the_rest_as_not_selected():
    cfg = WavecoderConfig()
    picked = selection.select_raw_code(POOL, cfg, limit=10, embed=keyword_embed, seed=3)
    assert len(picked.seeds) == 10 and picked.coreset
    assert sum(picked.dropped.values()) == len(POOL) - 10 and picked.dropped["not_selected"] > 0
    again = selection.select_raw_code(POOL, cfg, limit=10, embed=keyword_embed, seed=3)
    assert [s["id"] for s in again.seeds] == [s["id"] for s in picked.seeds]


@pytest.mark.slow
def test_kcenter_on_real_embeddings_picks_diverse_code():
    """Five renamed copies of one stdlib function and three other functions: 4 picks cover all four kinds."""
    cfg = WavecoderConfig(min_code_tokens=1)
    distinct = [s for s in POOL if selection.approx_tokens(s["code"]) >= 50][:4]
    base, others = distinct[0], distinct[1:]
    name = base["entry_point"]
    copies = [dict(base, id=f"copy{i}", code=base["code"].replace(name, f"{name}_v{i}")) for i in range(5)]
    picked = selection.select_raw_code([*copies, *others], cfg, limit=4, seed=0)
    ids = [s["id"] for s in picked.seeds]
    assert {s["id"] for s in others} <= set(ids) and sum(i.startswith("copy") for i in ids) == 1
    assert picked.dropped == {"not_selected": 4}


def test_select_seeds_writes_the_selection_and_returns_stats(tmp_path):
    source = tmp_path / "pool.jsonl"
    source.write_text("".join(json.dumps(s) + "\n" for s in POOL[:40]))
    out = tmp_path / "seeds.jsonl"
    stats = selection.select_seeds(source, out, limit=5, config=GenerationConfig(), embed=keyword_embed)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == stats["seeds_out"] == 5 and stats["applied"] and stats["seeds_in"] == 40
    assert sum(stats["dropped"].values()) == 35
    small = selection.select_seeds(source, out, limit=50, config=GenerationConfig())  # pool <= limit: as is
    assert not small["applied"] and small["seeds_out"] == 40
    off = GenerationConfig(wavecoder=WavecoderConfig(selection="off"))
    off_stats = selection.select_seeds(source, out, limit=5, config=off)
    assert not off_stats["applied"] and off_stats["seeds_out"] == 5


def test_run_generation_selects_when_the_pool_is_larger_than_the_limit(tmp_path, monkeypatch):
    from codeinstruct.generation.run import run_generation, selection_path
    from tests.generation.test_wavecoder_loop import ScriptedEngine

    calls = []
    real = selection.select_raw_code

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **{**kwargs, "embed": keyword_embed})

    monkeypatch.setattr(selection, "select_raw_code", spy)
    cfg = GenerationConfig(wavecoder=WavecoderConfig(instructions="template", tasks=("summarization",)))
    out = tmp_path / "out.jsonl"
    engine = ScriptedEngine(answer=lambda _p: " does something useful with its argument.")
    summary = run_generation("wavecoder", None, out, cfg, limit=3, engine=engine)
    assert summary["seeds"] == 3 and summary["selection"]["seeds_out"] == 3
    assert summary["selection"]["token_counter"] == "engine" and len(calls) == 1
    assert json.loads(selection_path(out).read_text())["seed_ids"]
    again = run_generation("wavecoder", None, out, cfg, limit=3, engine=engine)  # resumed: same seeds, no reselect
    assert again["seeds_resumed"] == 3 and again["selection"]["resumed"] and len(calls) == 1
