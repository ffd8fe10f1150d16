"""`codeinstruct demo | run | compile | submit`: the pipelines area of the command line.

`run PIPELINE --local` and `demo` execute with kfp.local on this machine; `compile` writes KFP IR
YAML; `submit` sends a compiled pipeline to a Kubeflow Pipelines endpoint with `kfp.Client` (it
needs a reachable KFP API, so it cannot run on a machine without one).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import yaml

from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct.settings import Settings

logger = logging.getLogger(__name__)


def demo(args: argparse.Namespace) -> int:
    from codeinstruct_pipelines.demo import demo_settings, run_demo

    run_dir, data = run_demo(demo_settings(args.config), output_dir=args.output)
    evaluation = data.get("evaluation") or {}
    check = data["reverified"]
    print(f"\ndemo finished in {data.get('seconds', 0):.0f}s: {data['records']} record(s); re-running their own "
          f"tests here: {check['passed']}/{check['records']} pass" + (f" (failures: {check['failures']})"
                                                                      if check["failures"] else ""))
    skipped = (data.get("training") or {}).get("skipped")
    if skipped:
        print(f"  training skipped: {skipped}")
    for when in ("before", "after"):
        if evaluation.get(when):
            print(f"  HumanEval {when} training: " + ", ".join(f"{k} {v:.3f}" for k, v in evaluation[when].items()))
    for name in ("dataset.jsonl", "metrics.json", "report.md", "report.html"):
        print(f"  {run_dir / name}")
    return 0


def _output_dir(args: argparse.Namespace) -> Path:
    if args.output:
        return Path(args.output)
    from codeinstruct_pipelines.demo import default_run_dir

    return default_run_dir() / args.pipeline


def run_command(args: argparse.Namespace) -> int:
    if not args.local:
        raise InvalidInput("only local runs are started from here: add --local, or compile the pipeline and "
                           "`codeinstruct submit` it to a Kubeflow Pipelines endpoint", field="local")
    from codeinstruct_pipelines.local import run_local

    settings = Settings.load(args.config)
    output = _output_dir(args)
    # A local run's values are typed as YAML reads them (true, 0.25, 3), as the pipeline declares them.
    arguments = {name: yaml.safe_load(value) for name, value in _parameters(args.param).items()}
    data = run_local(args.pipeline, output_dir=output, seeds_path=args.seeds, settings=settings,
                     arguments=arguments)
    print(json.dumps({"records": data["records"], "dataset": str(output / "dataset.jsonl"),
                      "metrics": str(output / "metrics.json"), "seconds": data.get("seconds")}))
    return 0


def _pipelines_config(config_path: str | None) -> PipelinesConfig:
    return Settings.load(config_path).pipelines


def compile_command(args: argparse.Namespace) -> int:
    from codeinstruct_pipelines.catalog import compile_to

    path = compile_to(args.pipeline, args.output, _pipelines_config(args.config))
    print(path)
    return 0


def _parameters(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"--param must be NAME=VALUE, got {pair!r}", field="param")
        params[name] = value
    return params


def _unreachable(exc: BaseException) -> str | None:
    """A short reason when `exc` (from kfp / urllib3) means the host could not be reached, else None."""
    text = f"{type(exc).__name__}: {exc}"
    if not any(mark in text for mark in ("MaxRetryError", "Max retries exceeded", "NewConnectionError",
                                         "NameResolutionError", "ConnectionError", "ConnectTimeout",
                                         "Connection refused", "timed out")):
        return None
    if "NameResolutionError" in text or "Name or service not known" in text or "resolve" in text:
        return "the host name does not resolve"
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return errno.group(1).strip().lower() if errno else "no connection"


def submit_command(args: argparse.Namespace) -> int:
    """Compile with the config's pools/images and create a run on a Kubeflow Pipelines endpoint."""
    import kfp

    from codeinstruct_pipelines.catalog import compile_to

    params: dict[str, Any] = _parameters(args.param)
    if args.config and "config_yaml" not in params:
        params["config_yaml"] = Path(args.config).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # kfp warns about API versions on every client
        warnings.simplefilter("ignore")
        package = compile_to(args.pipeline, Path(tmp) / f"{args.pipeline}.yaml", _pipelines_config(args.config))
        logging.disable(logging.CRITICAL)  # kfp logs each retry with a traceback; the one line below says it all
        try:
            client = kfp.Client(host=args.host)
            run = client.create_run_from_pipeline_package(str(package), arguments=params,
                                                          experiment_name=args.experiment,
                                                          run_name=f"codeinstruct-{args.pipeline}")
        except Exception as exc:  # kfp raises transport-specific errors (urllib3, ApiException, ...)
            reason = _unreachable(exc)
            if reason is not None:
                raise InvalidInput(f"cannot reach the Kubeflow Pipelines API at {args.host}: {reason}",
                                   field="host", reason="HOST_UNREACHABLE") from None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "healthz" in first:
                raise InvalidInput(f"no Kubeflow Pipelines API answers at {args.host} ({first})", field="host",
                                   reason="HOST_UNREACHABLE") from None
            raise Unavailable(f"the Kubeflow Pipelines API at {args.host} refused the run: {first}") from None
        finally:
            logging.disable(logging.NOTSET)
    print(json.dumps({"run_id": run.run_id, "host": args.host, "pipeline": args.pipeline}))
    return 0
