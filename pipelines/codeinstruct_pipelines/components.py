"""Typed, thin KFP components: each parses its inputs and calls one function of `steps`/`kfp_io`.

Imports live inside the bodies (KFP runs a component's source alone). Components are declared with
`install_kfp_package=False` and no `packages_to_install`: the image (the project's Dockerfile) and,
locally, the project's own virtualenv already hold everything, which keeps a local step at a
fraction of a second of overhead. Service targets (`inprocess` or `host:port`) are parameters;
placement, retries and caching are set where pipelines are assembled (placement.py).

Every component writes `Metrics` (counts, yield, reject reasons, pass@k) and a `Markdown` summary;
datasets flow as JSONL `Dataset` artifacts whose metadata carries the stage ledger.
"""


from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Markdown, Metrics, Model, Output

# Overridden per task from PipelinesConfig.image / gpu_image (placement.py); this is only the default.
BASE_IMAGE = "ghcr.io/codeinstruct/codeinstruct:0.1.0"


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def prepare_seeds(method: str, seeds_path: str, limit: int, num_shards: int, seeds: Output[Dataset],
                  metrics: Output[Metrics], summary: Output[Markdown], seeds_file: Input[Dataset] = None) -> list[int]:
    """Seeds for one method (an imported artifact, a JSONL path readable by the step, or '' for the
    embedded stdlib) + shard plan."""
    from codeinstruct_pipelines import kfp_io, steps

    kfp_io.setup_logging()
    source = seeds_file.path if seeds_file is not None else seeds_path
    stats, shards = steps.prepare_seeds(method, source, seeds.path, limit=limit, num_shards=num_shards)
    kfp_io.publish(stats, title=f"{method}: seeds", metrics=metrics, summary=summary, dataset=seeds)
    return shards


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def select_raw_code(seeds_path: str, limit: int, num_shards: int, config_yaml: str, seeds: Output[Dataset],
                    metrics: Output[Metrics], summary: Output[Markdown],
                    seeds_file: Input[Dataset] = None) -> list[int]:
    """WaveCoder seeds (CPU): length bounds, blacklist, then KCenterGreedy on raw-code embeddings + shard plan."""
    from codeinstruct_pipelines import kfp_io, steps

    kfp_io.setup_logging()
    source = seeds_file.path if seeds_file is not None else seeds_path
    stats, shards = steps.select_raw_code(source, seeds.path, settings=steps.parse_config(config_yaml),
                                          limit=limit, num_shards=num_shards)
    kfp_io.publish(stats, title="wavecoder: select raw code", metrics=metrics, summary=summary, dataset=seeds)
    return shards


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def generate(method: str, shard_index: int, num_shards: int, config_yaml: str, generation_target: str,
             seeds: Input[Dataset], records: Output[Dataset], metrics: Output[Metrics],
             summary: Output[Markdown], model: Input[Model] = None):
    """One generation shard (GPU): the method's prompts over seeds shard_index, +num_shards, ...
    (on `model`, a model trained earlier in the pipeline, when connected)."""
    from codeinstruct_pipelines import kfp_io, steps

    kfp_io.setup_logging()
    kfp_io.progress(f"{method}: generating shard {shard_index + 1}/{num_shards}")
    stats = steps.generate_shard(method, seeds.path, records.path, shard_index=shard_index, num_shards=num_shards,
                                 settings=steps.parse_config(config_yaml), target=generation_target,
                                 model=kfp_io.trained_model(model))
    kfp_io.publish(stats, title=f"{method}: generate shard {shard_index + 1}", metrics=metrics, summary=summary,
                   dataset=records, previous=kfp_io.ledger(seeds))


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def merge_shards(label: str, parts: Input[list[Dataset]], merged: Output[Dataset], metrics: Output[Metrics],
                 summary: Output[Markdown]):
    """Fan-in of a ParallelFor: concatenate the shards' records and their stage ledgers."""
    from codeinstruct_pipelines import kfp_io, steps

    stats = steps.merge_datasets([p.path for p in parts], merged.path)
    stats["stage"] = label
    kfp_io.publish(stats, title=label, metrics=metrics, summary=summary, dataset=merged,
                   previous=steps.merge_ledgers(kfp_io.ledger(p) for p in parts))


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def merge_methods(merged: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown],
                  semi_instruct: Input[Dataset] = None, inverse_instruct: Input[Dataset] = None,
                  evol_instruct: Input[Dataset] = None, wavecoder: Input[Dataset] = None,
                  self_instruct: Input[Dataset] = None):
    """Fan-in of the methods end_to_end ran (absent methods are simply not connected)."""
    from codeinstruct_pipelines import kfp_io, steps

    parts = [p for p in (semi_instruct, inverse_instruct, evol_instruct, wavecoder, self_instruct) if p is not None]
    stats = steps.merge_datasets([p.path for p in parts], merged.path)
    stats["stage"] = "merge methods"
    kfp_io.publish(stats, title="merge methods", metrics=metrics, summary=summary, dataset=merged,
                   previous=steps.merge_ledgers(kfp_io.ledger(p) for p in parts))


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def validate_semi_instruct(label: str, config_yaml: str, sandbox_target: str, records: Input[Dataset],
                           kept: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """Sandbox (CPU): gold outputs from the ORIGINAL code; the refined code must reproduce all of them."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("validate_semi_instruct", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, sandbox_target=sandbox_target)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def execution_filter(label: str, config_yaml: str, sandbox_target: str, records: Input[Dataset],
                     kept: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """Sandbox (CPU): drop records whose code does not run or fails its tests."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("execution_filter", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, sandbox_target=sandbox_target)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def lm_score(label: str, config_yaml: str, scoring_target: str, records: Input[Dataset], kept: Output[Dataset],
             metrics: Output[Metrics], summary: Output[Markdown], judge_model: str = "",
             model: Input[Model] = None):
    """LM-Score (GPU): score (instruction, code) pairs, keep the best instruction per snippet. The
    judge: `judge_model` when set, else the connected `model` (a model trained in the pipeline), else
    scoring.engine.model."""
    from codeinstruct_pipelines import kfp_io

    judge = judge_model or kfp_io.trained_model(model)
    kfp_io.stage("lm_score", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, scoring_target=scoring_target, options={"model": judge} if judge else {})


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def discriminate(label: str, config_yaml: str, scoring_target: str, records: Input[Dataset],
                 kept: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """WaveCoder discriminator (GPU): an LLM judge answers a checklist per record."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("discriminate", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, scoring_target=scoring_target)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def dedup(label: str, method: str, config_yaml: str, scoring_target: str, records: Input[Dataset],
          kept: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """Near-duplicate removal (CPU): exact, MinHash or ROUGE-L ('' takes scoring.dedup_method)."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("dedup", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, scoring_target=scoring_target, options={"method": method} if method else {})


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def decontaminate(label: str, config_yaml: str, scoring_target: str, records: Input[Dataset],
                  kept: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """Benchmark decontamination (CPU): drop records overlapping HumanEval (n-grams, paraphrases)."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("decontaminate", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, scoring_target=scoring_target)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def coreset(label: str, size: int, config_yaml: str, scoring_target: str, records: Input[Dataset],
            kept: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """KCenterGreedy coreset (CPU): keep `size` diverse records (0 keeps all)."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("coreset", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, scoring_target=scoring_target, options={"k": size} if size else {})


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def curriculum(label: str, by: str, config_yaml: str, records: Input[Dataset], kept: Output[Dataset],
               metrics: Output[Metrics], summary: Output[Markdown]):
    """Curriculum order (CPU): rank records (n_tests: more tests first = easy first; or lm_score)."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("curriculum", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, options={"by": by})


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def verify(label: str, require_tests: list[str], config_yaml: str, sandbox_target: str, records: Input[Dataset],
           kept: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """Final check (CPU): every record meets its method's standard in the sandbox (its tests pass, its
    code runs ...); `require_tests` names the methods whose records must carry tests."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("verify", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml, sandbox_target=sandbox_target, options={"require_tests": require_tests})


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def mix(label: str, config_yaml: str, records: Input[Dataset], kept: Output[Dataset], metrics: Output[Metrics],
        summary: Output[Markdown]):
    """Training mix (CPU): the largest subset whose methods stand in the ratios of pipelines.mixture."""
    from codeinstruct_pipelines import kfp_io

    kfp_io.stage("mix", label=label, records=records, kept=kept, metrics=metrics, summary=summary,
                 config_yaml=config_yaml)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def train(base_model: str, config_yaml: str, training_target: str, dataset: Input[Dataset], model: Output[Model],
          metrics: Output[Metrics], summary: Output[Markdown]):
    """Fine-tuning (GPU): the base model ('' = training.model) on the dataset, in its curriculum order."""
    from codeinstruct_pipelines import kfp_io, steps

    kfp_io.setup_logging()
    kfp_io.progress("train: running")
    stats = steps.train_model(dataset.path, model.path, settings=steps.parse_config(config_yaml),
                              base_model=base_model, curriculum=True, target=training_target)
    kfp_io.describe_model(model, stats)
    kfp_io.publish(stats, title="train", metrics=metrics, summary=summary)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def original_corpus(method: str, seeds: Input[Dataset], corpus: Output[Dataset], metrics: Output[Metrics],
                    summary: Output[Markdown]):
    """The seeds' own instruction-response pairs as records (CPU): what a self-improvement loop starts from."""
    from codeinstruct_pipelines import kfp_io, steps

    stats = steps.seed_corpus(method, seeds.path, corpus.path)
    kfp_io.publish(stats, title=f"{method}: original corpus", metrics=metrics, summary=summary, dataset=corpus)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def train_stages(base_model: str, config_yaml: str, training_target: str, first_name: str, first: Input[Dataset],
                 first_epochs: float, model: Output[Model], metrics: Output[Metrics], summary: Output[Markdown],
                 second_name: str = "", second_epochs: float = 0.0, second: Input[Dataset] = None):
    """Fine-tuning (GPU) through one or two stages in order, each with its own data, epochs and schedule."""
    from codeinstruct_pipelines import kfp_io, steps

    kfp_io.setup_logging()
    kfp_io.progress(f"train ({first_name}{' then ' + second_name if second is not None else ''}): running")
    stages = [(first_name, first.path, first_epochs)]
    if second is not None:
        stages.append((second_name, second.path, second_epochs))
    stats = steps.train_schedule(stages, model.path, settings=steps.parse_config(config_yaml),
                                 base_model=base_model, target=training_target)
    kfp_io.describe_model(model, stats)
    kfp_io.publish(stats, title="train", metrics=metrics, summary=summary)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def heldout_split(fraction: float, config_yaml: str, seeds: Input[Dataset], train_seeds: Output[Dataset],
                  heldout: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown]):
    """Evol-Instruct (CPU): set a fraction of the checkable seed pairs aside for the stopping rule."""
    from codeinstruct_pipelines import kfp_io, round_steps, steps

    settings = steps.parse_config(config_yaml)
    stats = round_steps.split_seeds(seeds.path, train_seeds.path, heldout.path, fraction=fraction,
                                    seed=settings.generation.seed)
    kfp_io.publish(stats, title="evol_instruct: held-out split", metrics=metrics, summary=summary,
                   dataset=train_seeds, previous=kfp_io.ledger(seeds))


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def evolve_round(round_no: int, go_on: bool, config_yaml: str, generation_target: str, seeds: Input[Dataset],
                 records: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown],
                 data: Input[Dataset] = None, gated: Input[Dataset] = None):
    """Evol-Instruct round k alone (GPU) over the dataset so far; a no-op once the loop stopped."""
    from codeinstruct_pipelines import kfp_io, round_steps, steps

    kfp_io.setup_logging()
    kfp_io.progress(f"evol_instruct round {round_no}: {'generating' if go_on else 'skipped (stopped)'}")
    stats = round_steps.evolve_round(round_no, go_on, seeds.path, data.path if data is not None else None,
                                     records.path, settings=steps.parse_config(config_yaml),
                                     target=generation_target)
    kfp_io.publish(stats, title=f"evol_instruct round {round_no}: generate", metrics=metrics, summary=summary,
                   dataset=records, previous=kfp_io.ledger(next(d for d in (gated, data, seeds) if d is not None)))


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def close_round(round_no: int, go_on: bool, new: Input[Dataset], so_far: Output[Dataset], metrics: Output[Metrics],
                summary: Output[Markdown], previous: Input[Dataset] = None):
    """Evol-Instruct (CPU): the dataset so far = the previous rounds' records + this round's checked ones."""
    from codeinstruct_pipelines import kfp_io, round_steps

    stats = round_steps.close_round(round_no, go_on, previous.path if previous is not None else None, new.path,
                                    so_far.path)
    kfp_io.publish(stats, title=stats["stage"], metrics=metrics, summary=summary, dataset=so_far,
                   previous=kfp_io.ledger(new))


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def check_round(round_no: int, go_on: bool, stop_when_worse: bool, config_yaml: str, training_target: str,
                sandbox_target: str, data: Input[Dataset], heldout: Input[Dataset], metrics: Output[Metrics],
                summary: Output[Markdown]):
    """Evol-Instruct stopping rule (GPU): train on the data so far, pass@1 on the held-out seeds."""
    from codeinstruct_pipelines import kfp_io, round_steps, steps

    kfp_io.setup_logging()
    stats = round_steps.check_round(round_no, go_on, stop_when_worse, data.path, heldout.path,
                                    settings=steps.parse_config(config_yaml), target=training_target,
                                    sandbox_target=sandbox_target)
    for key in ("pass@1", "skipped"):
        if key in stats:
            metrics.metadata[key] = stats[key]
    kfp_io.publish(stats, title=f"evol_instruct round {round_no}: held-out check", metrics=metrics,
                   summary=summary)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def gate_round(round_no: int, go_on: bool, history: str, check: Input[Metrics], data: Input[Dataset],
               best: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown],
               best_before: Input[Dataset] = None
               ) -> NamedTuple("Gate", go_on=bool, history=str):  # type: ignore[valid-type] # KFP's outputs form
    """Evol-Instruct (CPU): the stop rule over the held-out history; the best round's data so far."""
    from collections import namedtuple

    from codeinstruct_pipelines import kfp_io, round_steps

    stats, next_round, new_history = round_steps.gate_round(
        round_no, go_on, history, dict(check.metadata), data.path,
        best_before.path if best_before is not None else None, best.path)
    kfp_io.publish(stats, title=f"evol_instruct round {round_no}: gate", metrics=metrics, summary=summary,
                   dataset=best, previous=kfp_io.ledger(data))
    Gate = namedtuple("Gate", ["go_on", "history"])  # the output names KFP reads
    return Gate(next_round, new_history)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def evaluate_base(model_name: str, limit: int, k: list[int], n_samples: int, config_yaml: str,
                  training_target: str, sandbox_target: str, metrics: Output[Metrics], summary: Output[Markdown],
                  suites: list[str] = ["humaneval"]):  # noqa: B006 - KFP reads the default from the signature
    """pass@k on each evaluation suite (GPU + sandbox) of the base model before training ('' = training.model)."""
    from codeinstruct_pipelines import kfp_io, steps

    kfp_io.setup_logging()
    settings = steps.parse_config(config_yaml)
    model_name = steps.base_model_name(settings, model_name)
    kfp_io.progress(f"evaluate {model_name}: running")
    stats = steps.evaluate(model_name, settings=settings, limit=limit, k=k,
                           n_samples=n_samples, label="evaluate before", target=training_target,
                           sandbox_target=sandbox_target, suites=suites)
    kfp_io.publish(stats, title="evaluate before training", metrics=metrics, summary=summary)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def evaluate_trained(limit: int, k: list[int], n_samples: int, config_yaml: str, training_target: str,
                     sandbox_target: str, model: Input[Model], metrics: Output[Metrics], summary: Output[Markdown],
                     suites: list[str] = ["humaneval"]):  # noqa: B006 - KFP reads the default from the signature
    """pass@k on each evaluation suite (GPU + sandbox) of the model the train step produced."""
    from codeinstruct_pipelines import kfp_io, steps

    kfp_io.setup_logging()
    kfp_io.progress("evaluate trained model: running")
    stats = steps.evaluate_trained(model.path, model.metadata, settings=steps.parse_config(config_yaml), limit=limit,
                                   k=k, n_samples=n_samples, label="evaluate after", target=training_target,
                                   sandbox_target=sandbox_target, suites=suites)
    kfp_io.publish(stats, title="evaluate after training", metrics=metrics, summary=summary)


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def summarize(pipeline_name: str, dataset: Input[Dataset], run_metrics: Output[Artifact],
              metrics: Output[Metrics], summary: Output[Markdown]):
    """A method pipeline's result: metrics.json (funnel, counts) for the dataset it produced."""
    from codeinstruct_pipelines import kfp_io, report

    data = report.run_metrics(pipeline_name, dataset.path, kfp_io.ledger(dataset))
    kfp_io.write_json(run_metrics.path, data)
    for name, value in report.headline_numbers(data).items():
        metrics.log_metric(name, value)
    with open(summary.path, "w", encoding="utf-8") as handle:
        handle.write(report.funnel_markdown(data))
    kfp_io.progress(f"{pipeline_name}: {data['records']} record(s) in the final dataset")


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def build_report(pipeline_name: str, config_yaml: str, dataset: Input[Dataset], model: Input[Model],
                 before: Input[Metrics], after: Input[Metrics], run_metrics: Output[Artifact],
                 report_html: Output[HTML], metrics: Output[Metrics], summary: Output[Markdown]):
    """The run report: funnel, test counts, LM-Scores, loss curve, pass@k before/after, sample records."""
    from codeinstruct_pipelines import kfp_io, report

    data = report.run_metrics(pipeline_name, dataset.path, kfp_io.ledger(dataset),
                              losses=list(model.metadata.get("losses") or []),
                              before=dict(before.metadata), after=dict(after.metadata),
                              training_skipped=str(model.metadata.get("skipped") or ""),
                              training_stages=list(model.metadata.get("stages") or []),
                              timings={"evaluate before": before.metadata.get("seconds"),
                                       "train": model.metadata.get("seconds"),
                                       "evaluate after": after.metadata.get("seconds")})
    kfp_io.write_json(run_metrics.path, data)
    rendered = report.render(data, dataset.path, config_yaml=config_yaml)
    with open(report_html.path, "w", encoding="utf-8") as handle:
        handle.write(rendered.html)
    with open(summary.path, "w", encoding="utf-8") as handle:
        handle.write(report.funnel_markdown(data))
    for name, value in report.headline_numbers(data).items():
        metrics.log_metric(name, value)
    kfp_io.progress(f"report: {data['records']} record(s); pass@k before {data['evaluation'].get('before')} "
                    f"after {data['evaluation'].get('after')}")


@dsl.component(base_image=BASE_IMAGE, install_kfp_package=False)
def load_dataset(dataset_path: str, dataset: Output[Dataset], metrics: Output[Metrics], summary: Output[Markdown],
                 dataset_file: Input[Dataset] = None):
    """Records JSONL (an imported artifact, or a path readable by the step) checked against the record contract."""
    from codeinstruct_pipelines import kfp_io, steps

    stats = steps.load_dataset(dataset_file.path if dataset_file is not None else dataset_path, dataset.path)
    kfp_io.publish(stats, title="load dataset", metrics=metrics, summary=summary, dataset=dataset)
