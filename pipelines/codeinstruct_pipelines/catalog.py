"""Every pipeline by name, built for a PipelinesConfig, and compiled to KFP IR YAML.

Example:
    python -m codeinstruct_pipelines.catalog end_to_end -o end_to_end.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.methods import METHODS
from codeinstruct.core.methods import PIPELINES as ALL_PIPELINES
from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct_pipelines.end_to_end import end_to_end_pipeline, train_eval_pipeline
from codeinstruct_pipelines.loops import LOOP_PIPELINES
from codeinstruct_pipelines.methods import method_pipeline

PIPELINES = ALL_PIPELINES  # the names come from codeinstruct.core.methods
COMPILED_DIR = Path(__file__).resolve().parent.parent / "compiled"


def build(name: str, config: PipelinesConfig | None = None) -> Callable[..., Any]:
    """The pipeline function `name`, with settings (pools, images, defaults) from `config`."""
    config = config or PipelinesConfig()
    if name in LOOP_PIPELINES:
        return LOOP_PIPELINES[name](config)
    if name in METHODS:
        return method_pipeline(name, config)
    if name == "train_eval":
        return train_eval_pipeline(config)
    if name == "end_to_end":
        return end_to_end_pipeline(config)
    raise InvalidInput(f"unknown pipeline {name!r}; known: {list(PIPELINES)}", field="pipeline")


def parameters(name: str, config: PipelinesConfig | None = None) -> set[str]:
    """The run parameters pipeline `name` declares."""
    spec = getattr(build(name, config), "component_spec", None)
    return set(getattr(spec, "inputs", None) or {})


def compile_to(name: str, path: str | Path, config: PipelinesConfig | None = None) -> Path:
    """Compile pipeline `name` to IR YAML at `path` (parent folders created)."""
    from kfp import compiler

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(build(name, config), str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="compile a codeinstruct pipeline to KFP IR YAML")
    parser.add_argument("pipeline", choices=(*PIPELINES, "all"))
    parser.add_argument("-o", "--output", help="YAML file (default pipelines/compiled/<name>.yaml)")
    args = parser.parse_args()
    names = PIPELINES if args.pipeline == "all" else (args.pipeline,)
    for name in names:
        target = args.output if args.output and len(names) == 1 else COMPILED_DIR / f"{name}.yaml"
        compile_to(name, target)


if __name__ == "__main__":
    main()
