"""Where and how each step runs: GPU or CPU pool, image, retries, caching (from PipelinesConfig).

GPU steps (generation, LM-Score, discriminator, training, evaluation) request the accelerator and
land on the GPU pool (node selector + tolerations); CPU steps (sandbox, dedup, decontamination,
merges, reports) go to the CPU pool. Pool labels, taints and images are settings, never literals,
so one code base compiles for any cluster. kfp.local ignores the Kubernetes settings (it warns).
"""

from __future__ import annotations

from typing import Literal

from kfp import dsl, kubernetes

from codeinstruct.core.pipelines_config import PipelinesConfig

Pool = Literal["gpu", "cpu"]


def _tolerate(task: dsl.PipelineTask, tolerations: list[dict[str, str]]) -> None:
    for item in tolerations:
        operator = item.get("operator", "Equal")
        kubernetes.add_toleration(task, key=item.get("key"), operator=operator,  # type: ignore[arg-type]
                                  value=item.get("value") if operator == "Equal" else None,
                                  effect=item.get("effect"))  # type: ignore[arg-type]


def place(task: dsl.PipelineTask, pool: Pool, config: PipelinesConfig) -> dsl.PipelineTask:
    """Image, resources, node selector and tolerations of `pool` for `task`."""
    if pool == "gpu":
        task.set_container_image(config.gpu_step_image)
        if config.gpu_accelerator_limit:
            task.set_accelerator_type(config.gpu_accelerator_type)
            task.set_accelerator_limit(config.gpu_accelerator_limit)
        task.set_memory_limit(config.gpu_memory_limit)
        selector, tolerations = config.gpu_node_selector, config.gpu_tolerations
    else:
        task.set_container_image(config.image)
        task.set_cpu_limit(config.cpu_limit)
        task.set_memory_limit(config.cpu_memory_limit)
        selector, tolerations = config.cpu_node_selector, config.cpu_tolerations
    for key, value in sorted(selector.items()):
        kubernetes.add_node_selector(task, label_key=key, label_value=value)
    _tolerate(task, list(tolerations))
    return task


def retry(task: dsl.PipelineTask, config: PipelinesConfig) -> dsl.PipelineTask:
    """Retry transient failures (a preempted node, a service restarting) with exponential backoff."""
    if config.retries:
        task.set_retry(num_retries=config.retries, backoff_duration=config.backoff_duration,
                       backoff_factor=config.backoff_factor, backoff_max_duration=config.backoff_max_duration)
    return task


def step(task: dsl.PipelineTask, config: PipelinesConfig, *, pool: Pool, name: str, side_effect: bool,
         retries: bool = True) -> dsl.PipelineTask:
    """Everything a pipeline sets on a task: display name, placement, caching, retries.

    Side-effect steps (model sampling, code execution, training, reading a path the step does not
    own) never reuse a cached result; pure steps (merges, dedup, ranking) may.
    """
    task.set_display_name(name)
    place(task, pool, config)
    for key, value in sorted(config.step_env.items()):
        task.set_env_variable(key, str(value))
    if side_effect:
        task.set_caching_options(False)
    if retries:
        retry(task, config)
    return task
