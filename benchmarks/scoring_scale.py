"""Scale of the scoring stages: dedup growth, dedup vs pairwise ROUGE-L, KCenterGreedy, LM-Score.

    .venv/bin/python benchmarks/scoring_scale.py            # ~3-4 minutes on 2 cores
    .venv/bin/python benchmarks/scoring_scale.py --skip-lm  # without the embedded LLM

1. MinHash dedup (exact + MinHash-LSH) of 10k / 30k / 100k synthetic instructions, each size in its
   own subprocess so time and peak RSS are that size's alone (RSS growth over an import-only child).
2. At 5k instructions: MinHash dedup vs the Self-Instruct pairwise ROUGE-L filter (every instruction
   scored against every kept one). The pairwise run is timed on a 600-instruction prefix and
   extrapolated with the EXACT number of pairs it would score at 5k (known from the prefix-filtered
   ROUGE-L run, which keeps the same records); the prefix-filtered ROUGE-L is timed at 5k directly.
3. KCenterGreedy selecting 5k of 50k x 384 embeddings vs the WaveCoder reference update
   (sklearn pairwise_distances against the new center, float64) timed per pick.
4. LM-Score pairs/s with the embedded engine, batched vs one pair per call.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services"))



def _words(text: str) -> list[str]:
    return text.split()


VERBS = _words("returns counts sorts filters merges parses validates reverses formats compresses encodes finds")
OBJECTS = _words("list string dictionary matrix graph tree file path date number word sentence url email json csv "
           "table queue stack interval timestamp")
FILLER = _words("the a of in with by from that each every all given input output first last unique sorted even odd "
          "largest smallest positive negative nested empty duplicate adjacent consecutive distinct total")
LANGS = ["Python", "JavaScript", "C++", "Java", "Go", "Rust"]


def synthetic_instructions(n: int, seed: int = 0) -> list[str]:
    """Template-like instructions with 10% near-duplicates (1-2 words edited) and 5% layout/case copies."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        roll = rng.random()
        if out and roll < 0.10:
            words = rng.choice(out).split()
            for _ in range(rng.randint(1, 2)):
                words[rng.randrange(len(words))] = rng.choice(FILLER)
            out.append(" ".join(words))
        elif out and roll < 0.15:
            out.append("  " + rng.choice(out).upper() + " ")
        else:
            body = " ".join(rng.choice(FILLER + OBJECTS + VERBS) for _ in range(rng.randint(6, 22)))
            out.append(f"Write a {rng.choice(LANGS)} function that {rng.choice(VERBS)} the "
                       f"{rng.choice(OBJECTS)} {body}.")
    return out


def records_of(texts: list[str]) -> list:
    from codeinstruct.core.records import Record

    return [Record(method="self_instruct", instruction=t) for t in texts]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(size: int) -> None:
    """One dedup run in a fresh process; prints JSON (size 0: imports only, the RSS baseline)."""
    from codeinstruct.scoring.deduplication import dedup

    records = records_of(synthetic_instructions(size)) if size else []
    start, cpu_start = time.perf_counter(), time.process_time()
    report = dedup(records, "minhash", field="instruction") if size else None
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"size": size, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb(),
                      "kept": len(report.kept) if report else 0}))


def run_child(size: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(size)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_dedup_growth() -> float:
    base = run_child(0)
    print(f"\n## MinHash dedup growth (exact + MinHash-LSH, threshold 0.8, 128 perms)\n"
          f"import-only process: {base['peak_rss_mb']:.0f} MB peak RSS")
    print("| instructions | wall s | CPU s | CPU us / instruction | peak RSS MB | RSS growth MB | kept |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for size in (10_000, 30_000, 100_000):
        row = run_child(size)
        rows.append(row)
        print(f"| {size:,} | {row['seconds']:.1f} | {row['cpu_seconds']:.1f} | "
              f"{1e6 * row['cpu_seconds'] / size:.0f} | {row['peak_rss_mb']:.0f} | "
              f"{row['peak_rss_mb'] - base['peak_rss_mb']:.0f} | {row['kept']:,} |")
    ratio = (rows[-1]["cpu_seconds"] / rows[0]["cpu_seconds"]) / 10
    memory = (rows[-1]["peak_rss_mb"] - base["peak_rss_mb"]) / (rows[0]["peak_rss_mb"] - base["peak_rss_mb"]) / 10
    print(f"CPU(100k) / CPU(10k) / 10 = {ratio:.2f}, RSS growth(100k) / RSS growth(10k) / 10 = {memory:.2f} "
          f"(1.0 = exactly linear; CPU time is used because wall time depends on the machine's load)")
    return ratio


def bench_rouge_vs_minhash() -> float:
    from rouge_score import rouge_scorer

    from codeinstruct.scoring.deduplication import RougeLFilter, dedup, rougel_dedup

    texts = synthetic_instructions(5000, seed=1)
    records = records_of(texts)
    start = time.perf_counter()
    dedup(records, "minhash", field="instruction")
    minhash_s = time.perf_counter() - start

    start = time.perf_counter()
    filtered = rougel_dedup(records, 0.7)
    prefix_s = time.perf_counter() - start
    # Pairs the pairwise filter scores: each instruction against every instruction kept before it.
    kept_ids = {r.id for r in filtered.kept}
    pairs_5k, kept_so_far = 0, 0
    for record in records:
        pairs_5k += kept_so_far
        kept_so_far += record.id in kept_ids

    scorer = rouge_scorer.RougeScorer(["rougeL"])
    sample = texts[:600]
    kept: list[str] = []
    pairs = 0
    start = time.perf_counter()
    for text in sample:
        scores = [scorer.score(k, text)["rougeL"].fmeasure for k in kept]
        pairs += len(scores)
        if not scores or max(scores) < 0.7:
            kept.append(text)
    per_pair = (time.perf_counter() - start) / max(pairs, 1)
    flt = RougeLFilter(0.7)
    assert [t for t in sample if flt.add(t)[0]] == kept, "prefix filter must keep exactly what pairwise keeps"
    pairwise_s = per_pair * pairs_5k
    print("\n## Dedup vs pairwise ROUGE-L at 5,000 instructions")
    print("| method | seconds | vs pairwise ROUGE-L |\n|---|---:|---:|")
    print(f"| pairwise ROUGE-L (Self-Instruct), {pairs_5k:,} pairs at {1e6 * per_pair:.0f} us/pair "
          f"(timed on 600) | {pairwise_s:.0f} (extrapolated) | 1x |")
    print(f"| ROUGE-L with the exact prefix filter ({filtered.extra['lcs_computed']:,} LCS) | {prefix_s:.2f} | "
          f"{pairwise_s / prefix_s:.0f}x faster |")
    print(f"| MinHash-LSH dedup | {minhash_s:.2f} | {pairwise_s / minhash_s:.0f}x faster |")
    return pairwise_s / minhash_s


def bench_kcenter() -> None:
    import numpy as np
    from sklearn.metrics import pairwise_distances

    from codeinstruct.scoring.coreset_selection import k_center_greedy

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((50_000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    picks = k_center_greedy(vectors, 5000, seed=0)
    ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert len(set(picks)) == 5000
    # Reference update (WaveCoder's coreset script): pairwise_distances to the new center per pick.
    reference_picks = 100
    start = time.perf_counter()
    min_d = pairwise_distances(vectors, vectors[[picks[0]]]).min(axis=1)
    for _ in range(reference_picks):
        pick = int(np.argmax(min_d))
        min_d = np.minimum(min_d, pairwise_distances(vectors, vectors[[pick]]).ravel())
    reference_per_pick = (time.perf_counter() - start) / reference_picks
    print("\n## KCenterGreedy, 5,000 of 50,000 x 384")
    print(f"vectorized: {ours:.1f} s wall, {ours_cpu:.1f} s CPU ({1e3 * ours / 5000:.2f} ms/pick); reference update "
          f"{1e3 * reference_per_pick:.2f} ms/pick -> {reference_per_pick * 5000 / ours:.1f}x faster")


def bench_lm_score(pairs: int = 16) -> None:
    from codeinstruct.engines import EngineConfig, load_engine

    instructions = [f"Write a Python function that returns the sum of the first {i} squares." for i in range(pairs)]
    codes = [f"def f():\n    return sum(i * i for i in range({i}))\n" for i in range(pairs)]
    with load_engine(EngineConfig()) as engine:
        engine.lm_score(instructions[:1], codes[:1])  # warm-up
        start = time.perf_counter()
        engine.lm_score(instructions, codes)
        batched = time.perf_counter() - start
        singles = 4
        start = time.perf_counter()
        for i in range(singles):
            engine.lm_score(instructions[i:i + 1], codes[i:i + 1])
        single = (time.perf_counter() - start) / singles
    print(f"\n## LM-Score, embedded SmolLM2-135M on CPU\nbatched ({pairs} pairs): {pairs / batched:.2f} pairs/s; "
          f"one pair per call: {1 / single:.2f} pairs/s -> {single * pairs / batched:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip-lm", action="store_true", help="skip the LM-Score figures (no model load)")
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    print("# scoring_scale")
    bench_dedup_growth()
    ratio = bench_rouge_vs_minhash()
    print(f"MinHash dedup vs pairwise ROUGE-L at 5k: {ratio:.0f}x (target >= 20x): "
          f"{'met' if ratio >= 20 else 'NOT met'}")
    bench_kcenter()
    if not args.skip_lm:
        bench_lm_score()


if __name__ == "__main__":
    main()
