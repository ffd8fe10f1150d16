"""Run a pipeline on this machine with kfp.local and collect its results into an output folder.

Each step runs as a subprocess of the current interpreter (`SubprocessRunner(use_venv=False)`; the
components need nothing installed), so services run `inprocess` inside the steps. The folder gets
`dataset.jsonl`, `metrics.json`, `report.md` (+ `plots/`), `report.html`, the full step log
`pipeline.log` and the raw KFP artifacts under `kfp/`. The terminal shows one line per step.

Example:
    from codeinstruct_pipelines.local import run_local
    run_local("semi_instruct", output_dir="out",
              settings=Settings.from_mapping({"pipelines": {"seeds_limit": 4}}))
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import yaml

from codeinstruct.core.errors import FailedPrecondition, InvalidInput
from codeinstruct.core.methods import PIPELINES
from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct.core.records import read_records
from codeinstruct.settings import Settings
from codeinstruct_pipelines import catalog, report
from codeinstruct_pipelines.kfp_io import PROGRESS_PREFIX

logger = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR = re.compile(r"^\s*(?:codeinstruct\.core\.errors\.\w+|[A-Za-z_.]*(?:Error|Exception)): (.+)$")
_TASK = re.compile(r"(Executing task|Task) '([^']+)'( finished with status (\w+))?")


class _StepLog(io.TextIOBase):
    """stdout stand-in while kfp.local runs: everything to the log file, progress lines to `echo`."""

    def __init__(self, log: TextIO, echo: Callable[[str], None]):
        self._log = log
        self._echo = echo
        self._pending = ""
        self.started = time.monotonic()
        self.failed: list[str] = []
        self.error = ""  # the last exception line a step printed

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._log.write(text)
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            self._line(_ANSI.sub("", line))
        return len(text)

    def flush(self) -> None:
        self._log.flush()

    def _line(self, line: str) -> None:
        elapsed = time.monotonic() - self.started
        error = _ERROR.match(line)
        if error:
            self.error = error.group(1).strip()
        if PROGRESS_PREFIX in line:
            self._echo(f"[{elapsed:6.1f}s]   {line.split(PROGRESS_PREFIX, 1)[1]}")
            return
        match = _TASK.search(line)
        if match and match.group(1) == "Task" and match.group(4) and match.group(4) != "SUCCESS":
            self.failed.append(match.group(2))
            self._echo(f"[{elapsed:6.1f}s] step {match.group(2)}: {match.group(4)}")


def terminal_echo(line: str) -> None:
    """Default progress sink: one line on stdout (the stdout in effect when the run started)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def _captured(log_path: Path, echo: Callable[[str], None]) -> Iterator[_StepLog]:
    """Send stdout (kfp.local's own log and every step's output) to `log_path`; echo progress lines.

    `echo` still writes to the terminal: it runs with the stdout this function found.
    """
    terminal = sys.stdout

    def to_terminal(line: str) -> None:
        # kfp.local patches builtins.print while a step runs: write to the stream, not through print.
        with contextlib.redirect_stdout(terminal):
            echo(line)

    with log_path.open("a", encoding="utf-8") as log, warnings.catch_warnings():
        # Kubernetes settings (pools, accelerators) and the image are meaningless to the local runner.
        warnings.filterwarnings("ignore", message=r".*have no effect in the current local runner.*")
        warnings.filterwarnings("ignore", message=r".*non-Python base image.*")
        sink = _StepLog(log, to_terminal)
        # kfp.local also logs through the root logger between steps (task outputs, statuses): into the
        # log file with the rest, so the terminal shows progress lines only.
        root = logging.getLogger()
        handlers = root.handlers[:]
        root.handlers = [logging.StreamHandler(sink)]
        try:
            with contextlib.redirect_stdout(sink):
                yield sink
        finally:
            root.handlers = handlers
        sink.flush()


def pipeline_arguments(name: str, config: PipelinesConfig, *, seeds_path: str, config_yaml: str) -> dict[str, Any]:
    """Parameters a local run passes (service targets come from the config: inprocess by default)."""
    args: dict[str, Any] = {"config_yaml": config_yaml}
    if name == "train_eval":
        args.update(dataset_path=seeds_path, sandbox_target=config.sandbox_target,
                    training_target=config.training_target, base_model=config.base_model,
                    eval_limit=config.eval_limit, eval_suites=list(config.eval_suites))
        return args
    args.update(seeds_path=seeds_path, num_shards=config.num_shards, generation_target=config.generation_target,
                sandbox_target=config.sandbox_target, scoring_target=config.scoring_target,
                training_target=config.training_target, base_model=config.base_model, eval_limit=config.eval_limit,
                limit=config.seeds_limit, eval_suites=list(config.eval_suites))
    # Each pipeline takes the subset it declares (end_to_end has no `limit`, method pipelines no training).
    declared = catalog.parameters(name, config)
    return {key: value for key, value in args.items() if key in declared}


def _check_seeds(name: str, seeds_path: str | Path) -> None:
    """A malformed seeds file fails here, naming file and line, not in a step minutes later."""
    if name == "train_eval":
        for _ in read_records(seeds_path, field="seeds"):
            pass
    else:
        from codeinstruct.generation.seeds import load_seeds

        load_seeds(seeds_path)


def run_local(name: str, *, output_dir: str | Path, seeds_path: str | Path | None = None,
              settings: Settings | None = None, echo: Callable[[str], None] | None = None,
              arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run pipeline `name` with kfp.local; write the run folder; return metrics.json's content.
    `arguments`: pipeline parameters beyond those the settings give (e.g. evol_instruct's
    stop_when_worse); a name the pipeline does not declare is refused.

    Every step rebuilds `settings` from the file data they were built from (`settings.source`, passed
    as the `config_yaml` parameter) and this process's environment, which the steps inherit.
    """
    import kfp.local

    if name not in PIPELINES:
        raise InvalidInput(f"unknown pipeline {name!r}; known: {list(PIPELINES)}", field="pipeline")
    settings = settings or Settings.from_mapping({})
    config = settings.pipelines
    if name == "train_eval" and not seeds_path:
        raise InvalidInput("train_eval trains on records: pass --seeds FILE.jsonl (a dataset, e.g. the "
                           "dataset.jsonl of `codeinstruct run semi_instruct --local`)", field="seeds")
    if seeds_path and not Path(seeds_path).is_file():
        raise InvalidInput(f"seeds file {str(seeds_path)!r} does not exist", field="seeds")
    if seeds_path:
        _check_seeds(name, seeds_path)
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    config_yaml = yaml.safe_dump(dict(settings.source), sort_keys=True) if settings.source else ""
    extra = dict(arguments or {})
    arguments = {**pipeline_arguments(name, config, seeds_path=str(Path(seeds_path).resolve()) if seeds_path else "",
                                      config_yaml=config_yaml), **extra}
    unknown = sorted(set(extra) - catalog.parameters(name, config))
    if unknown:
        raise InvalidInput(f"pipeline {name} has no parameter(s) {unknown}", field="param")
    # Locally a failed step is a bug or bad input, not a preempted node: fail fast instead of backing off.
    # Steps share this machine's cores with each other and whatever else runs: OpenMP threads that
    # busy-wait make a contended CPU several times slower, so they sleep instead.
    local_config = dataclasses.replace(config, retries=0,
                                       step_env={"OMP_WAIT_POLICY": "PASSIVE", **config.step_env})
    pipeline = catalog.build(name, local_config)
    echo = echo or terminal_echo
    log_path = output_dir / "pipeline.log"
    started = time.monotonic()
    echo(f"running {name} locally: {output_dir} (step logs: {log_path})")
    kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(output_dir / "kfp"),
                   raise_on_error=True)
    with _captured(log_path, echo) as sink:
        try:
            task = pipeline(**arguments)
        except RuntimeError as exc:
            failed = ", ".join(sink.failed) or "a step"
            cause = sink.error or _ANSI.sub("", str(exc)).splitlines()[0]
            raise FailedPrecondition(f"pipeline {name} failed in {failed}: {cause} (step logs: {log_path})",
                                     reason="PIPELINE_FAILED") from None
    outputs = task.outputs
    seconds = round(time.monotonic() - started, 1)
    dataset_out = output_dir / "dataset.jsonl"
    shutil.copyfile(outputs["dataset"].path, dataset_out)
    data = json.loads(Path(outputs["run_metrics"].path).read_text(encoding="utf-8"))
    data["seconds"] = seconds
    data["pipeline_log"] = str(log_path)
    report.write_report(output_dir, data, dataset_out, config_yaml=config_yaml)
    echo(f"{name}: {data['records']} record(s) in {seconds:.0f}s -> {dataset_out}")
    return data
