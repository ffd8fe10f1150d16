"""`train_eval` and `end_to_end`: from records (or seeds) to a trained, evaluated model and a report.

end_to_end:
    seeds -> every configured method (generation shards, the method's checks)   [add_method]
          -> merge methods -> dedup -> decontaminate (HumanEval) -> coreset
          -> verify (each method's standard) -> mix (pipelines.mixture ratios, when set)
          -> curriculum (easy first)
          -> train  ->  evaluate trained model  -> report (HTML + metrics.json)
             evaluate base model (in parallel) --^
train_eval: a records JSONL -> load -> curriculum -> train -> evaluate before/after -> report.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from kfp import dsl

from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct_pipelines import components as c
from codeinstruct_pipelines.methods import add_method
from codeinstruct_pipelines.placement import imported, step


class ReportOutputs(NamedTuple):
    """The final dataset, metrics.json and the HTML report."""

    dataset: dsl.Dataset
    run_metrics: dsl.Artifact
    report_html: dsl.HTML


def evaluate_base_model(config: PipelinesConfig, *, config_yaml: Any, base_model: Any, eval_limit: Any,
                        training_target: Any, sandbox_target: Any, eval_suites: Any) -> dsl.PipelineTask:
    """pass@k of the base model on the evaluation suites, the "before" of a report."""
    return step(c.evaluate_base(model_name=base_model, limit=eval_limit, k=list(config.eval_k),
                                n_samples=config.eval_samples, config_yaml=config_yaml,
                                training_target=training_target, sandbox_target=sandbox_target, suites=eval_suites),
                config, pool="gpu", name="evaluate base model", side_effect=True, service="training")


def evaluate_and_report(name: str, data: Any, trained: dsl.PipelineTask, before: dsl.PipelineTask,
                        config: PipelinesConfig, *, config_yaml: Any, eval_limit: Any, training_target: Any,
                        sandbox_target: Any, eval_suites: Any) -> ReportOutputs:
    """pass@k of the `trained` task's model on the evaluation suites, then the report of the run."""
    # One model in memory at a time on a small machine: the base evaluation finishes first.
    trained.after(before)
    after = step(c.evaluate_trained(limit=eval_limit, k=list(config.eval_k), n_samples=config.eval_samples,
                                    config_yaml=config_yaml, training_target=training_target,
                                    sandbox_target=sandbox_target, model=trained.outputs["model"],
                                    suites=eval_suites),
                 config, pool="gpu", name="evaluate trained model", side_effect=True, service="training")
    report = step(c.build_report(pipeline_name=name, config_yaml=config_yaml, dataset=data,
                                 model=trained.outputs["model"], before=before.outputs["metrics"],
                                 after=after.outputs["metrics"]),
                  config, pool="cpu", name="report", side_effect=False, retries=False)
    return ReportOutputs(dataset=data, run_metrics=report.outputs["run_metrics"],
                         report_html=report.outputs["report_html"])


def _train_and_report(name: str, data: Any, config: PipelinesConfig, *, config_yaml: Any, base_model: Any,
                      eval_limit: Any, training_target: Any, sandbox_target: Any, eval_suites: Any) -> ReportOutputs:
    before = evaluate_base_model(config, config_yaml=config_yaml, base_model=base_model, eval_limit=eval_limit,
                                 training_target=training_target, sandbox_target=sandbox_target,
                                 eval_suites=eval_suites)
    trained = step(c.train(base_model=base_model, config_yaml=config_yaml, training_target=training_target,
                           dataset=data),
                   config, pool="gpu", name="train", side_effect=True, service="training")
    return evaluate_and_report(name, data, trained, before, config, config_yaml=config_yaml, eval_limit=eval_limit,
                               training_target=training_target, sandbox_target=sandbox_target,
                               eval_suites=eval_suites)


def end_to_end_pipeline(config: PipelinesConfig) -> Callable[..., Any]:
    @dsl.pipeline(name="end-to-end",
                  description="codeinstruct end to end: seeds -> methods -> filters -> dataset -> train -> evaluate")
    def pipeline(seeds_path: str = "", num_shards: int = config.num_shards, config_yaml: str = "",
                 base_model: str = config.base_model, eval_limit: int = config.eval_limit,
                 generation_target: str = config.generation_target, sandbox_target: str = config.sandbox_target,
                 scoring_target: str = config.scoring_target,
                 training_target: str = config.training_target,
                 eval_suites: list[str] = list(config.eval_suites)) -> ReportOutputs:  # noqa: B006 - KFP reads defaults
        per_method = {}
        for method in config.methods:
            per_method[method] = add_method(
                method, config, seeds_path=seeds_path, limit=config.seeds_for(method), num_shards=num_shards,
                config_yaml=config_yaml, generation_target=generation_target, sandbox_target=sandbox_target,
                scoring_target=scoring_target)
        data = step(c.merge_methods(**per_method), config, pool="cpu", name="merge methods", side_effect=False,
                    retries=False).outputs["merged"]
        data = step(c.dedup(label="dedup", method="", config_yaml=config_yaml, scoring_target=scoring_target,
                            records=data), config, pool="cpu", name="dedup", side_effect=False).outputs["kept"]
        data = step(c.decontaminate(label="decontaminate", config_yaml=config_yaml, scoring_target=scoring_target,
                                    records=data), config, pool="cpu", name="decontaminate",
                    side_effect=False).outputs["kept"]
        if config.coreset_size:
            data = step(c.coreset(label="coreset", size=config.coreset_size, config_yaml=config_yaml,
                                  scoring_target=scoring_target, records=data), config, pool="cpu", name="coreset",
                        side_effect=False).outputs["kept"]
        data = step(c.verify(label="verify", require_tests=list(config.methods_requiring_tests),
                             config_yaml=config_yaml, sandbox_target=sandbox_target, records=data), config, pool="cpu",
                    name="verify (re-run tests)", side_effect=True).outputs["kept"]
        if config.mixture:
            data = step(c.mix(label="mix", config_yaml=config_yaml, records=data), config, pool="cpu",
                        name="mix methods", side_effect=False, retries=False).outputs["kept"]
        data = step(c.curriculum(label="curriculum", by="n_tests", config_yaml=config_yaml, records=data), config,
                    pool="cpu", name="curriculum", side_effect=False, retries=False).outputs["kept"]
        return _train_and_report("end_to_end", data, config, config_yaml=config_yaml, base_model=base_model,
                                 eval_limit=eval_limit, training_target=training_target,
                                 sandbox_target=sandbox_target, eval_suites=eval_suites)

    return pipeline


def train_eval_pipeline(config: PipelinesConfig) -> Callable[..., Any]:
    @dsl.pipeline(name="train-eval",
                  description="codeinstruct train_eval: records -> curriculum -> train -> HumanEval before/after")
    def pipeline(dataset_path: str, config_yaml: str = "", base_model: str = config.base_model,
                 eval_limit: int = config.eval_limit, sandbox_target: str = config.sandbox_target,
                 training_target: str = config.training_target,
                 eval_suites: list[str] = list(config.eval_suites)) -> ReportOutputs:  # noqa: B006 - KFP reads defaults
        loaded = step(c.load_dataset(dataset_path=dataset_path, **imported(dataset_path, config, "dataset_file")),
                      config, pool="cpu", name="load dataset",
                      side_effect=True, retries=False)
        data = step(c.curriculum(label="curriculum", by="n_tests", config_yaml=config_yaml,
                                 records=loaded.outputs["dataset"]),
                    config, pool="cpu", name="curriculum", side_effect=False, retries=False).outputs["kept"]
        return _train_and_report("train_eval", data, config, config_yaml=config_yaml, base_model=base_model,
                                 eval_limit=eval_limit, training_target=training_target,
                                 sandbox_target=sandbox_target, eval_suites=eval_suites)

    return pipeline
