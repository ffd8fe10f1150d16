"""Training throughput on this CPU: tokens/s and peak RSS for LoRA vs full fine-tuning, with and without
dynamic padding. Each configuration runs in its own process (so peak RSS is its own); ratios are
against LoRA + dynamic padding measured in the same invocation.

    .venv/bin/python benchmarks/training_throughput.py [--steps 4] [--model default] [--threads 0]

Tokens are real (non-padding) tokens, so padding to max_length shows up as lost throughput. The records
have a long-tailed length distribution like real instruction data (most short, a few near max_length),
which is the case dynamic padding exists for.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = [("lora", True), ("lora", False), ("full", True), ("full", False)]


# Body lines per record, cycled: about 60 to 400 tokens with the chat template, median ~110.
LINES = (1, 2, 3, 4, 2, 6, 3, 9, 1, 4, 14, 2, 5, 3, 28, 4)
MAX_LENGTH = 512


def records(n: int) -> list:
    from codeinstruct.core.records import Record

    out = []
    for i in range(n):
        body = "\n".join(f"    total += values[{j}] * {i + j}" for j in range(LINES[i % len(LINES)]))
        code = f"def weighted_{i}(values):\n    total = 0\n{body}\n    return total\n"
        out.append(Record(method="seed", instruction=f"Write weighted_{i}, a weighted sum of the first values.",
                          response=f"```python\n{code}```", code=code))
    return out


def run_one(mode: str, dynamic: bool, steps: int, model: str, threads: int) -> dict:
    from codeinstruct.training.config import TrainingConfig
    from codeinstruct.training.trainer import train

    step_times: list[float] = []
    loaded_rss: list[float] = []

    def progress(event: dict) -> None:
        if event["event"] == "start":  # the model is loaded (and wrapped), no step ran yet
            loaded_rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        elif event["event"] == "step":
            step_times.append(event["step_time_s"])

    config = TrainingConfig(model=model, mode=mode, dynamic_padding=dynamic, max_steps=steps, batch_size=4,
                            max_length=MAX_LENGTH, save_every_steps=10_000, num_threads=threads, learning_rate=1e-4)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        summary = train(records(4 * steps), Path(out) / "model", config, progress=progress)
        elapsed = time.perf_counter() - started
    steady = step_times[1:] or step_times  # the first step pays one-off allocation costs
    tokens_per_step = summary["tokens"] / max(len(step_times), 1)
    return {"mode": mode, "dynamic_padding": dynamic, "steps": summary["steps"],
            "tokens_per_s": tokens_per_step / (sum(steady) / len(steady)),
            "s_per_step": sum(steady) / len(steady), "wall_s": elapsed,
            "load_rss_mb": loaded_rss[0] if loaded_rss else 0.0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--model", default="default")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--one", nargs=2, metavar=("MODE", "DYNAMIC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1] == "1", args.steps, args.model, args.threads)))
        return 0
    rows = []
    for mode, dynamic in CONFIGS:
        proc = subprocess.run([sys.executable, __file__, "--one", mode, "1" if dynamic else "0", "--steps",
                               str(args.steps), "--model", args.model, "--threads", str(args.threads)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = rows[0]
    print(f"model={args.model} steps={args.steps} batch=4 max_length={MAX_LENGTH}")
    print(f"{'config':<22}{'tokens/s':>10}{'s/step':>9}{'load RSS MB':>13}{'peak RSS MB':>13}{'tok/s ratio':>13}"
          f"{'RSS ratio':>11}")
    for row in rows:
        name = f"{row['mode']} + {'dynamic' if row['dynamic_padding'] else 'pad-to-max'}"
        print(f"{name:<22}{row['tokens_per_s']:>10.0f}{row['s_per_step']:>9.2f}{row['load_rss_mb']:>13.0f}"
              f"{row['peak_rss_mb']:>13.0f}"
              f"{row['tokens_per_s'] / base['tokens_per_s']:>13.2f}{row['peak_rss_mb'] / base['peak_rss_mb']:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
