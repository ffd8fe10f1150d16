"""Where and how each step runs: GPU or CPU pool, image, retries, caching (from PipelinesConfig).

GPU steps (generation, LM-Score, discriminator, training, evaluation) request the accelerator and
land on the GPU pool (node selector + tolerations) with the GPU image; CPU steps (sandbox, dedup,
decontamination, merges, reports) go to the CPU pool. A GPU step whose service is deployed (its
`pipelines.<service>_target` is host:port when the pipeline is compiled) is only that service's
client, so it goes to the CPU pool and requests no GPU: compile with the targets you run with.
Pool labels, taints, images, the token Secret and the data volume are settings, never literals,
so one code base compiles for any cluster. kfp.local ignores the Kubernetes settings (it warns).
"""

from __future__ import annotations

from typing import Any, Literal

from kfp import dsl, kubernetes

from codeinstruct.core.pipelines_config import PipelinesConfig

Pool = Literal["gpu", "cpu"]
Service = Literal["generation", "scoring", "training"]


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


def pool_for(pool: Pool, service: Service | None, config: PipelinesConfig, *, loads_model: bool = False) -> Pool:
    """`pool`, except that a GPU step calling a deployed `service` (and loading no model itself) is
    a client and runs on the CPU pool."""
    if pool == "gpu" and service is not None and not loads_model:
        target = getattr(config, f"{service}_target")
        if target != "inprocess":
            return "cpu"
    return pool


def step(task: dsl.PipelineTask, config: PipelinesConfig, *, pool: Pool, name: str, side_effect: bool,
         retries: bool = True, service: Service | None = None, loads_model: bool = False) -> dsl.PipelineTask:
    """Everything a pipeline sets on a task: display name, placement, caching, retries, the token
    Secret and the data volume.

    Side-effect steps (model sampling, code execution, training, reading a path the step does not
    own) never reuse a cached result; pure steps (merges, dedup, ranking) may. `service`: the
    service a GPU step calls (see `pool_for`); `loads_model`: the step loads a model itself
    whatever the target (a model trained earlier in the pipeline).
    """
    task.set_display_name(name)
    place(task, pool_for(pool, service, config, loads_model=loads_model), config)
    for key, value in sorted(config.step_env.items()):
        task.set_env_variable(key, str(value))
    if config.auth_secret:
        kubernetes.use_secret_as_env(task, secret_name=config.auth_secret,
                                     secret_key_to_env={config.auth_secret_key: "CODEINSTRUCT_AUTH_TOKEN"})
    if config.data_pvc:
        kubernetes.mount_pvc(task, pvc_name=config.data_pvc, mount_path=config.data_mount)
    if side_effect:
        task.set_caching_options(False)
    if retries:
        retry(task, config)
    return task


def imported(uri: Any, config: PipelinesConfig, name: str) -> dict[str, Any]:
    """With `pipelines.import_inputs`, {name: the Dataset a KFP importer brings in from `uri`} to pass
    to a step; else {} (the step reads `uri` as a path)."""
    if not config.import_inputs:
        return {}
    task = dsl.importer(artifact_uri=uri, artifact_class=dsl.Dataset, reimport=False)
    task.set_display_name(f"import {name}")
    return {name: task.output}
