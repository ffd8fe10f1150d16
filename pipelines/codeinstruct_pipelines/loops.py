"""The methods whose papers run a loop around generation, as standalone pipelines.

inverse_instruct (InverseCoder's self-improvement):
    seeds -> original corpus (the seeds' instruction-code pairs)
          -> train M = base on the original corpus
          -> generation ON M (N instructions per snippet) -> execution filter
          -> LM-Score by the SAME M (unless judge_model is set): best instruction per snippet
          -> decontaminate -> verify (runs cleanly, best by LM-Score)
          -> train base: stage "new" (the new data, 1 epoch) then stage "original" (2 epochs)
          -> evaluate before/after -> report

evol_instruct (WizardCoder's rounds, with the optional stopping rule):
    seeds -> held-out split (heldout_fraction of the seed pairs with tests; never trained on)
    round k = 1..pipelines.evol_rounds, unrolled:
          evolve round k alone on the data so far -> execution filter -> data so far += checked
          -> [stop_when_worse] train on the data so far, pass@1 on the held-out seeds
          -> gate: stop_rule over the history; keep the best round's data; go on or not
    best round's data -> decontaminate -> verify -> summary
Each round's steps take the previous gate's `go_on` and pass their input through when it is false.
The gate is a parameter, not a `dsl.If`, because a conditional branch can hand its dataset on only
through `dsl.OneOf`, which kfp.local (this project's local runner, kfp 2.17) rejects ("Expected 1
artifact in ArtifactSelectorSpec. Got: 2"); a stopped round's steps finish in seconds.
"""

from collections.abc import Callable
from typing import Any

from kfp import dsl

from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct_pipelines import components as c
from codeinstruct_pipelines.end_to_end import ReportOutputs, evaluate_and_report, evaluate_base_model
from codeinstruct_pipelines.methods import MethodOutputs, add_method, finish_method, prepare_seeds
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
                 training_target: str = config.training_target,
                 eval_suites: list[str] = list(config.eval_suites)) -> ReportOutputs:  # noqa: B006 - KFP reads defaults
        method = "inverse_instruct"
        seeds = prepare_seeds(method, config, seeds_path=seeds_path, limit=limit, num_shards=num_shards)
        corpus = step(c.original_corpus(method=method, seeds=seeds.outputs["seeds"]), config, pool="cpu",
                      name=f"{method}: original corpus", side_effect=False, retries=False).outputs["corpus"]
        model_m = step(c.train_stages(base_model=base_model, config_yaml=config_yaml, training_target=training_target,
                                      first_name="original", first=corpus, first_epochs=model_epochs),
                       config, pool="gpu", name=f"{method}: train M on the original corpus", side_effect=True,
                       service="training")
        data = add_method(method, config, seeds_path=seeds_path, limit=limit, num_shards=num_shards,
                          config_yaml=config_yaml, generation_target=generation_target,
                          sandbox_target=sandbox_target, scoring_target=scoring_target, seeds=seeds,
                          model=model_m.outputs["model"], judge_model=judge_model, standalone=True)
        before = evaluate_base_model(config, config_yaml=config_yaml, base_model=base_model, eval_limit=eval_limit,
                                     training_target=training_target, sandbox_target=sandbox_target,
                                     eval_suites=eval_suites)
        trained = step(c.train_stages(base_model=base_model, config_yaml=config_yaml,
                                      training_target=training_target, first_name="new", first=data,
                                      first_epochs=new_epochs, second_name="original", second=corpus,
                                      second_epochs=original_epochs),
                       config, pool="gpu", name=f"{method}: train on the new data, then the original",
                       side_effect=True, service="training")
        return evaluate_and_report(method, data, trained, before, config, config_yaml=config_yaml,
                                   eval_limit=eval_limit, training_target=training_target,
                                   sandbox_target=sandbox_target, eval_suites=eval_suites)

    return pipeline


def evol_instruct_pipeline(config: PipelinesConfig) -> Callable[..., Any]:
    """WizardCoder's rounds, one generation job per round, each gated by the previous round's check."""

    @dsl.pipeline(name="evol-instruct",
                  description="codeinstruct evol_instruct: rounds of instruction evolution merged with the seed "
                              "pairs, optionally stopped when held-out pass@1 drops")
    def pipeline(seeds_path: str = "", limit: int = config.seeds_limit, num_shards: int = config.num_shards,
                 config_yaml: str = "", stop_when_worse: bool = False, heldout_fraction: float = 0.1,
                 generation_target: str = config.generation_target, sandbox_target: str = config.sandbox_target,
                 scoring_target: str = config.scoring_target,
                 training_target: str = config.training_target) -> MethodOutputs:
        method = "evol_instruct"
        seeds = prepare_seeds(method, config, seeds_path=seeds_path, limit=limit, num_shards=num_shards)
        split = step(c.heldout_split(fraction=heldout_fraction, config_yaml=config_yaml, seeds=seeds.outputs["seeds"]),
                     config, pool="cpu", name=f"{method}: held-out split", side_effect=False, retries=False)
        go_on, history = True, "[]"
        so_far: Any = None
        best: Any = None
        for k in range(1, config.evol_rounds + 1):
            evolved = step(c.evolve_round(round_no=k, go_on=go_on, config_yaml=config_yaml,
                                          generation_target=generation_target, seeds=split.outputs["train_seeds"],
                                          # the previous gate's output carries the ledger of every round so far
                                          **({"data": so_far, "gated": best} if so_far is not None else {})),
                           config, pool="gpu", name=f"{method}: round {k}: evolve", side_effect=True,
                           service="generation")
            checked = step(c.execution_filter(label=f"{method}/round {k}: execute", config_yaml=config_yaml,
                                              sandbox_target=sandbox_target, records=evolved.outputs["records"]),
                           config, pool="cpu", name=f"{method}: round {k}: execute", side_effect=True)
            closed = step(c.close_round(round_no=k, go_on=go_on, new=checked.outputs["kept"],
                                        **({"previous": so_far} if so_far is not None else {})),
                          config, pool="cpu", name=f"{method}: round {k}: data so far", side_effect=False,
                          retries=False)
            so_far = closed.outputs["so_far"]
            check = step(c.check_round(round_no=k, go_on=go_on, stop_when_worse=stop_when_worse,
                                       config_yaml=config_yaml, training_target=training_target,
                                       sandbox_target=sandbox_target, data=so_far, heldout=split.outputs["heldout"]),
                         config, pool="gpu", name=f"{method}: round {k}: held-out check", side_effect=True,
                         loads_model=True)
            gate = step(c.gate_round(round_no=k, go_on=go_on, history=history, check=check.outputs["metrics"],
                                     data=so_far, **({"best_before": best} if best is not None else {})),
                        config, pool="cpu", name=f"{method}: round {k}: gate", side_effect=False, retries=False)
            go_on, history, best = gate.outputs["go_on"], gate.outputs["history"], gate.outputs["best"]
        final = finish_method(method, best, config, config_yaml=config_yaml, sandbox_target=sandbox_target,
                              scoring_target=scoring_target)
        summary = step(c.summarize(pipeline_name=method, dataset=final), config, pool="cpu", name="summary",
                       side_effect=False, retries=False)
        return MethodOutputs(dataset=final, run_metrics=summary.outputs["run_metrics"])

    return pipeline


# Methods whose standalone pipeline is their loop (train, generate with the trained model, ...).
LOOP_PIPELINES: dict[str, Callable[[PipelinesConfig], Callable[..., Any]]] = {
    "inverse_instruct": inverse_instruct_pipeline,
    "evol_instruct": evol_instruct_pipeline,
}
