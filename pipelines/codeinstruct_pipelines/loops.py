"""The methods whose papers run a loop around generation, as standalone pipelines.

inverse_instruct (InverseCoder's self-improvement):
    seeds -> original corpus (the seeds' instruction-code pairs)
          -> train M = base on the original corpus
          -> generation ON M (N instructions per snippet) -> execution filter
          -> LM-Score by the SAME M (unless judge_model is set): best instruction per snippet
          -> decontaminate -> verify (runs cleanly, best by LM-Score)
          -> train base: stage "new" (the new data, 1 epoch) then stage "original" (2 epochs)
          -> evaluate before/after -> report
"""

from collections.abc import Callable
from typing import Any

from kfp import dsl

from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct_pipelines import components as c
from codeinstruct_pipelines.end_to_end import ReportOutputs, evaluate_and_report, evaluate_base_model
from codeinstruct_pipelines.methods import add_method, prepare_seeds
from codeinstruct_pipelines.placement import step


def inverse_instruct_pipeline(config: PipelinesConfig) -> Callable[..., Any]:
    """InverseCoder's loop; epochs default to the paper's (the new data 1, then the original 2)."""

    @dsl.pipeline(name="inverse-instruct",
                  description="codeinstruct inverse_instruct: train M on the seeds' pairs -> M writes and judges "
                              "instructions for their code -> train on the new data, then the original")
    def pipeline(seeds_path: str = "", limit: int = config.seeds_limit, num_shards: int = config.num_shards,
                 config_yaml: str = "", base_model: str = config.base_model, judge_model: str = "",
                 model_epochs: float = 2.0, new_epochs: float = 1.0, original_epochs: float = 2.0,
                 eval_limit: int = config.eval_limit, generation_target: str = config.generation_target,
                 sandbox_target: str = config.sandbox_target, scoring_target: str = config.scoring_target,
                 training_target: str = config.training_target) -> ReportOutputs:
        method = "inverse_instruct"
        seeds = prepare_seeds(method, config, seeds_path=seeds_path, limit=limit, num_shards=num_shards)
        corpus = step(c.original_corpus(method=method, seeds=seeds.outputs["seeds"]), config, pool="cpu",
                      name=f"{method}: original corpus", side_effect=False, retries=False).outputs["corpus"]
        model_m = step(c.train_stages(base_model=base_model, config_yaml=config_yaml, training_target=training_target,
                                      first_name="original", first=corpus, first_epochs=model_epochs),
                       config, pool="gpu", name=f"{method}: train M on the original corpus", side_effect=True)
        data = add_method(method, config, seeds_path=seeds_path, limit=limit, num_shards=num_shards,
                          config_yaml=config_yaml, generation_target=generation_target,
                          sandbox_target=sandbox_target, scoring_target=scoring_target, seeds=seeds,
                          model=model_m.outputs["model"], judge_model=judge_model, standalone=True)
        before = evaluate_base_model(config, config_yaml=config_yaml, base_model=base_model, eval_limit=eval_limit,
                                     training_target=training_target, sandbox_target=sandbox_target)
        trained = step(c.train_stages(base_model=base_model, config_yaml=config_yaml,
                                      training_target=training_target, first_name="new", first=data,
                                      first_epochs=new_epochs, second_name="original", second=corpus,
                                      second_epochs=original_epochs),
                       config, pool="gpu", name=f"{method}: train on the new data, then the original",
                       side_effect=True)
        return evaluate_and_report(method, data, trained, before, config, config_yaml=config_yaml,
                                   eval_limit=eval_limit, training_target=training_target,
                                   sandbox_target=sandbox_target)

    return pipeline


# Methods whose standalone pipeline is their loop (train, generate with the trained model, ...).
LOOP_PIPELINES: dict[str, Callable[[PipelinesConfig], Callable[..., Any]]] = {
    "inverse_instruct": inverse_instruct_pipeline,
}
