"""One pipeline per method (DESIGN section 1): seeds -> sharded generation -> the method's own checks.

`add_method` puts one method's steps into the pipeline being built (end_to_end reuses it for every
method); `method_pipeline` wraps it into a standalone pipeline that ends with a summary step.

| method           | after generation (fan-out over shards, fan-in)                      |
|------------------|---------------------------------------------------------------------|
| semi_instruct    | validate in the sandbox -> rank by #tests (easy first) -> ROUGE-L dedup |
| inverse_instruct | execution filter -> LM-Score (best instruction per snippet)          |
| evol_instruct    | execution filter                                                    |
| wavecoder        | (before: raw-code selection) execution filter -> discriminator -> coreset |
| self_instruct    | ROUGE-L dedup -> execution filter                                   |

A standalone method pipeline then decontaminates (HumanEval + scoring.benchmarks) and holds every
record to its method's standard (verify, docs/scoring.md); end_to_end does both once over the
merged methods instead. inverse_instruct's standalone pipeline is the
self-improvement loop of loops.py, which uses add_method with its trained model.

Compile one:  python -m codeinstruct_pipelines.catalog semi_instruct -o semi_instruct.yaml
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from kfp import dsl

from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct_pipelines import components as c
from codeinstruct_pipelines.placement import imported, step


def prepare_seeds(method: str, config: PipelinesConfig, *, seeds_path: Any, limit: Any,
                  num_shards: Any, config_yaml: Any = "") -> dsl.PipelineTask:
    """The seeds a method's generation fans out over (WaveCoder: its raw-code selection)."""
    source = imported(seeds_path, config, "seeds_file")
    if method == "wavecoder":
        return step(c.select_raw_code(seeds_path=seeds_path, limit=limit, num_shards=num_shards,
                                      config_yaml=config_yaml, **source),
                    config, pool="cpu", name="wavecoder: select raw code", side_effect=True, retries=False)
    return step(c.prepare_seeds(method=method, seeds_path=seeds_path, limit=limit, num_shards=num_shards, **source),
                config, pool="cpu", name=f"{method}: seeds", side_effect=True, retries=False)


def add_method(method: str, config: PipelinesConfig, *, seeds_path: Any, limit: Any, num_shards: Any,
               config_yaml: Any, generation_target: Any, sandbox_target: Any, scoring_target: Any,
               seeds: dsl.PipelineTask | None = None, model: Any = None, judge_model: Any = "",
               standalone: bool = False) -> Any:
    """Add `method`'s steps to the current pipeline; returns the channel of its filtered dataset.

    `seeds`: a prepare_seeds task already in the pipeline (else one is added); `model`: a Model
    channel generation (and LM-Score, unless `judge_model` names another) runs on instead of the
    configured engine model; `standalone`: end with benchmark decontamination and the method's
    acceptance standard (what end_to_end does once for all methods).
    """
    seeds = seeds or prepare_seeds(method, config, seeds_path=seeds_path, limit=limit, num_shards=num_shards,
                                   config_yaml=config_yaml)
    on_model = {"model": model} if model is not None else {}
    with dsl.ParallelFor(seeds.outputs["Output"], parallelism=config.parallelism, name=f"{method}-shards") as shard:
        gen = step(c.generate(method=method, shard_index=shard, num_shards=num_shards, config_yaml=config_yaml,
                              generation_target=generation_target, seeds=seeds.outputs["seeds"], **on_model),
                   config, pool="gpu", name=f"{method}: generate", side_effect=True, service="generation",
                   loads_model=model is not None)
    merged = step(c.merge_shards(label=f"{method}/merge", parts=dsl.Collected(gen.outputs["records"])), config,
                  pool="cpu",
                  name=f"{method}: merge shards", side_effect=False, retries=False)
    data = merged.outputs["merged"]

    def sandbox_stage(op: Callable[..., dsl.PipelineTask], what: str) -> Any:
        task = step(op(label=f"{method}/{what}", config_yaml=config_yaml, sandbox_target=sandbox_target,
                       records=data), config, pool="cpu", name=f"{method}: {what}", side_effect=True)
        return task.outputs["kept"]

    def scoring_stage(op: Callable[..., dsl.PipelineTask], what: str, pool: str, **kwargs: Any) -> Any:
        task = step(op(label=f"{method}/{what}", config_yaml=config_yaml, scoring_target=scoring_target,
                       records=data, **kwargs), config, pool=pool, name=f"{method}: {what}",  # type: ignore[arg-type]
                    side_effect=pool == "gpu", service="scoring", loads_model="model" in kwargs)
        return task.outputs["kept"]

    if method == "semi_instruct":
        data = sandbox_stage(c.validate_semi_instruct, "validate")
        data = step(c.curriculum(label=f"{method}/rank", by="n_tests", config_yaml=config_yaml, records=data),
                    config, pool="cpu", name=f"{method}: rank by tests", side_effect=False,
                    retries=False).outputs["kept"]
        data = scoring_stage(c.dedup, "dedup", "cpu", method="rougel")
    elif method == "inverse_instruct":
        data = sandbox_stage(c.execution_filter, "execute")
        data = scoring_stage(c.lm_score, "lm-score", "gpu", judge_model=judge_model, **on_model)
    elif method == "evol_instruct":
        data = sandbox_stage(c.execution_filter, "execute")
    elif method == "wavecoder":
        data = sandbox_stage(c.execution_filter, "execute")
        data = scoring_stage(c.discriminate, "discriminate", "gpu")
        data = scoring_stage(c.coreset, "coreset", "cpu", size=config.coreset_size)
    elif method == "self_instruct":
        data = scoring_stage(c.dedup, "dedup", "cpu", method="rougel")
        data = sandbox_stage(c.execution_filter, "execute")
    else:
        raise ValueError(f"unknown method {method!r}")
    if standalone:
        data = finish_method(method, data, config, config_yaml=config_yaml, sandbox_target=sandbox_target,
                             scoring_target=scoring_target)
    return data


def finish_method(method: str, data: Any, config: PipelinesConfig, *, config_yaml: Any, sandbox_target: Any,
                  scoring_target: Any) -> Any:
    """A standalone method pipeline's last checks: benchmark decontamination, then its standard."""
    data = step(c.decontaminate(label=f"{method}/decontaminate", config_yaml=config_yaml,
                                scoring_target=scoring_target, records=data),
                config, pool="cpu", name=f"{method}: decontaminate", side_effect=False).outputs["kept"]
    return step(c.verify(label=f"{method}/verify", require_tests=list(config.methods_requiring_tests),
                         config_yaml=config_yaml, sandbox_target=sandbox_target, records=data),
                config, pool="cpu", name=f"{method}: verify (its standard)", side_effect=True).outputs["kept"]


class MethodOutputs(NamedTuple):
    """What a method pipeline hands back: its dataset (JSONL) and metrics.json."""

    dataset: dsl.Dataset
    run_metrics: dsl.Artifact


def method_pipeline(method: str, config: PipelinesConfig) -> Callable[..., Any]:
    """The standalone pipeline for `method`, with parameter defaults from `config`."""

    @dsl.pipeline(name=method.replace("_", "-"),
                  description=f"codeinstruct {method}: seeds -> generation shards -> execution checks -> dataset")
    def pipeline(seeds_path: str = "", limit: int = config.seeds_limit, num_shards: int = config.num_shards,
                 config_yaml: str = "", generation_target: str = config.generation_target,
                 sandbox_target: str = config.sandbox_target,
                 scoring_target: str = config.scoring_target) -> MethodOutputs:
        data = add_method(method, config, seeds_path=seeds_path, limit=limit, num_shards=num_shards,
                          config_yaml=config_yaml, generation_target=generation_target,
                          sandbox_target=sandbox_target, scoring_target=scoring_target, standalone=True)
        summary = step(c.summarize(pipeline_name=method, dataset=data), config, pool="cpu", name="summary",
                       side_effect=False, retries=False)
        return MethodOutputs(dataset=data, run_metrics=summary.outputs["run_metrics"])

    return pipeline
