"""Pipeline settings (config section `pipelines`): images, node pools, retries, fan-out, stage knobs.

Everything that differs between clusters (the component image, GPU and CPU pool labels and taints,
accelerator type) or between runs (service targets, shard count, demo sizes) is a field here, so
the compiled YAML never carries a cluster literal. Values come from the dataclass defaults < the
`pipelines:` section of a YAML file < `CODEINSTRUCT_PIPELINES__<FIELD>` < flags (core.config).

Example:
    >>> from codeinstruct.core.config import build
    >>> build(PipelinesConfig, "pipelines", data={"pipelines": {"num_shards": 4}}).num_shards
    4

It lives beside the other sections (not in `codeinstruct_pipelines`) so `codeinstruct.settings.Settings`
can hold it without the services importing the pipelines package.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from codeinstruct.core.config import check
from codeinstruct.core.methods import METHODS, Method

# Methods whose generation makes tests (Semi-Instruct's gold tests): what `require_tests: true` means.
# Kept equal to codeinstruct.scoring.validation.TEST_MAKING_METHODS (tests/core/test_config.py checks it).
TEST_MAKING_METHODS: tuple[Method, ...] = ("semi_instruct",)

_DURATION = re.compile(r"^\d+(s|m|h)$")


# The pool defaults are the Helm chart's (charts/codeinstruct/values.yaml, nodePools): a pipeline
# compiled without the chart lands on the nodes the chart's services and upload Job use. GPU nodes
# are found by the label NVIDIA GPU feature discovery sets and tolerated by the usual GPU taint; the
# CPU pool selects nothing, so CPU steps run anywhere untainted. The chart's CPU pool also has a
# node affinity keeping off GPU nodes, which pipeline steps do not carry (on a typical cluster the
# GPU taint keeps them off already). tests/pipelines/test_compile.py checks that the two agree.
def _default_gpu_node_selector() -> dict[str, str]:
    return {"nvidia.com/gpu.present": "true"}


def _default_gpu_tolerations() -> list[dict[str, str]]:
    return [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


@dataclasses.dataclass(frozen=True)
class PipelinesConfig:
    """Settings for compiling and running the Kubeflow pipelines (section `pipelines`)."""

    image: str = dataclasses.field(default="ghcr.io/codeinstruct/codeinstruct:0.1.0", metadata={
        "help": "container image every component runs in (the project's Dockerfile; GPU image for GPU steps "
                "via gpu_image)"})
    gpu_image: str = dataclasses.field(default="ghcr.io/codeinstruct/codeinstruct:0.1.0-gpu", metadata={
        "help": "image for GPU steps (generation, LM-Score, training, evaluation): the Dockerfile's FLAVOR=gpu "
                "build; empty: same as image (a CPU-only cluster)"})
    gpu_accelerator_type: str = dataclasses.field(default="nvidia.com/gpu", metadata={
        "help": "accelerator resource GPU steps request"})
    gpu_accelerator_limit: int = dataclasses.field(default=1, metadata={"help": "accelerators per GPU step"})
    gpu_node_selector: dict[str, str] = dataclasses.field(
        default_factory=_default_gpu_node_selector,
        metadata={"help": "node labels of the GPU pool (default: the Helm chart's nodePools.gpu.nodeSelector)"})
    gpu_tolerations: list[dict[str, str]] = dataclasses.field(
        default_factory=_default_gpu_tolerations,
        metadata={"help": "tolerations for the GPU pool's taints: [{key, operator, value, effect}] (default: "
                          "the Helm chart's nodePools.gpu.tolerations)"})
    gpu_memory_limit: str = dataclasses.field(default="32G", metadata={"help": "memory limit of GPU steps"})
    cpu_node_selector: dict[str, str] = dataclasses.field(
        default_factory=dict,
        metadata={"help": "node labels of the CPU pool (sandbox, dedup, decontamination, merge, report); "
                          "default: none, as the Helm chart's nodePools.cpu.nodeSelector"})
    cpu_tolerations: list[dict[str, str]] = dataclasses.field(
        default_factory=list, metadata={"help": "tolerations for the CPU pool's taints"})
    cpu_limit: str = dataclasses.field(default="4", metadata={"help": "CPU limit of CPU-pool steps"})
    cpu_memory_limit: str = dataclasses.field(default="8G", metadata={"help": "memory limit of CPU-pool steps"})
    auth_secret: str = dataclasses.field(default="", metadata={
        "help": "Kubernetes Secret whose key auth_secret_key every step reads as CODEINSTRUCT_AUTH_TOKEN, for services "
                "installed with auth (the chart's <release>-codeinstruct-auth); empty: no token"})
    auth_secret_key: str = dataclasses.field(default="token", metadata={"help": "key of auth_secret holding the token"})
    data_pvc: str = dataclasses.field(default="", metadata={
        "help": "PersistentVolumeClaim every step mounts at data_mount (the chart's <release>-codeinstruct-data, "
                "ReadWriteMany): seeds_path/dataset_path and remote training outputs live there; empty: none"})
    data_mount: str = dataclasses.field(default="/data", metadata={"help": "where steps mount data_pvc"})
    import_inputs: bool = dataclasses.field(default=False, metadata={
        "help": "true: a pipeline's seeds_path / dataset_path is an artifact URI (s3://, gs://, minio://, https://) "
                "that a KFP importer brings in with the cluster's object-store credentials; false: a path the "
                "step reads (in the image, or on data_pvc)"})
    step_env: dict[str, str] = dataclasses.field(default_factory=dict, metadata={
        "help": "environment variables set on every step (local runs add OMP_WAIT_POLICY=PASSIVE: busy-waiting "
                "OpenMP threads slow a shared CPU down many times over)"})
    retries: int = dataclasses.field(default=3, metadata={
        "help": "retries of a failed step (transient failures: preemption, a service restarting)"})
    backoff_duration: str = dataclasses.field(default="30s", metadata={"help": "first retry delay"})
    backoff_factor: float = dataclasses.field(default=2.0, metadata={"help": "retry delay multiplier"})
    backoff_max_duration: str = dataclasses.field(default="10m", metadata={"help": "largest retry delay"})
    parallelism: int = dataclasses.field(default=4, metadata={
        "help": "shards of one fan-out that run at the same time (ParallelFor parallelism)"})
    num_shards: int = dataclasses.field(default=4, metadata={"help": "generation shards per method"})
    generation_target: str = dataclasses.field(default="inprocess", metadata={
        "help": "generation service host:port, or inprocess (the step hosts the service itself)"})
    sandbox_target: str = dataclasses.field(default="inprocess", metadata={"help": "sandbox service target"})
    scoring_target: str = dataclasses.field(default="inprocess", metadata={"help": "scoring service target"})
    training_target: str = dataclasses.field(default="inprocess", metadata={"help": "training service target"})
    seeds_limit: int = dataclasses.field(default=0, metadata={
        "help": "seeds per method pipeline run (0: all seeds)"})
    methods: tuple[Method, ...] = dataclasses.field(default=METHODS, metadata={
        "help": "methods end_to_end runs"})
    method_seeds: dict[str, int] = dataclasses.field(default_factory=dict, metadata={
        "help": "per-method seed count in end_to_end (overrides seeds_limit), e.g. {semi_instruct: 12}"})
    mixture: dict[str, float] = dataclasses.field(default_factory=dict, metadata={
        "help": "end_to_end's training mix by method, as ratios (e.g. {semi_instruct: 1, self_instruct: 1}, the "
                "Semi-Instruct paper's scaling mix): after the final check, the largest dataset with these "
                "proportions is kept (methods not named are left out); empty: every record of every method"})
    evol_rounds: int = dataclasses.field(default=3, metadata={
        "help": "rounds the evol_instruct pipeline unrolls, each one generation job (WizardCoder: 3); the run "
                "parameter stop_when_worse can end the loop earlier"})
    coreset_size: int = dataclasses.field(default=0, metadata={
        "help": "KCenterGreedy coreset size for wavecoder and end_to_end (0: keep every record)"})
    require_tests: bool | dict[str, bool] | tuple[Method, ...] = dataclasses.field(
        default=TEST_MAKING_METHODS, metadata={
            "help": "methods whose records the final verify step drops when they carry no tests: a list "
                    "(default [semi_instruct], the method that makes tests), a mapping method -> true/false, "
                    "true (the methods that make tests) or false (none); every record is still held to its "
                    "method's standard (docs/scoring.md)"})
    eval_limit: int = dataclasses.field(default=10, metadata={
        "help": "HumanEval problems evaluated before and after training (0: all 164)"})
    eval_k: tuple[int, ...] = dataclasses.field(default=(1,), metadata={"help": "pass@k values"})
    eval_suites: tuple[str, ...] = dataclasses.field(default=("humaneval",), metadata={
        "help": "suites evaluated before and after training, each NAME[:LANGUAGE][@FILE] (e.g. humaneval, "
                "humaneval-multilingual:javascript, mbpp@/data/mbpp.jsonl; `codeinstruct eval --help` lists them); "
                "eval_limit caps each suite's problems"})
    eval_samples: int = dataclasses.field(default=1, metadata={"help": "samples per HumanEval problem"})
    base_model: str = dataclasses.field(default="", metadata={
        "help": "model train_eval/end_to_end evaluate and fine-tune (a folder or 'default'); empty: training.model"})

    def __post_init__(self) -> None:
        check(bool(self.image), "pipelines.image", "must not be empty")
        check(self.gpu_accelerator_limit >= 0, "pipelines.gpu_accelerator_limit",
              f"must be >= 0, got {self.gpu_accelerator_limit}")
        for name in ("gpu_tolerations", "cpu_tolerations"):
            for item in getattr(self, name):
                check(isinstance(item, Mapping) and set(item) <= {"key", "operator", "value", "effect"},
                      f"pipelines.{name}", f"each toleration is a mapping of key/operator/value/effect, got {item!r}")
                check(item.get("operator", "Equal") in ("Equal", "Exists"), f"pipelines.{name}",
                      f"operator must be Equal or Exists, got {item.get('operator')!r}")
        for name in ("gpu_node_selector", "cpu_node_selector"):
            for key, value in getattr(self, name).items():
                # YAML reads an unquoted `true` or `1` as a bool or int, which no node label equals.
                check(isinstance(key, str) and isinstance(value, str), f"pipelines.{name}",
                      f"labels and values must be strings (quote true/false/numbers in YAML), got {key!r}: {value!r}")
        check(self.retries >= 0, "pipelines.retries", f"must be >= 0, got {self.retries}")
        for name in ("backoff_duration", "backoff_max_duration"):
            check(bool(_DURATION.match(getattr(self, name))), f"pipelines.{name}",
                  f"must look like 30s, 5m or 1h, got {getattr(self, name)!r}")
        check(self.backoff_factor >= 1.0, "pipelines.backoff_factor", f"must be >= 1, got {self.backoff_factor}")
        check(self.parallelism >= 1, "pipelines.parallelism", f"must be >= 1, got {self.parallelism}")
        check(self.num_shards >= 1, "pipelines.num_shards", f"must be >= 1, got {self.num_shards}")
        check(self.seeds_limit >= 0, "pipelines.seeds_limit", f"must be >= 0, got {self.seeds_limit}")
        check(bool(self.methods), "pipelines.methods", f"must be a non-empty subset of {list(METHODS)}")
        bad = [m for m in self.method_seeds if m not in METHODS]
        check(not bad, "pipelines.method_seeds", f"unknown method(s) {bad}; known: {list(METHODS)}")
        check(all(int(v) >= 0 for v in self.method_seeds.values()), "pipelines.method_seeds", "counts must be >= 0")
        bad = [m for m in self.mixture if m not in METHODS]
        check(not bad, "pipelines.mixture", f"unknown method(s) {bad}; known: {list(METHODS)}")
        check(all(float(v) >= 0 for v in self.mixture.values()) and (not self.mixture or sum(
            float(v) for v in self.mixture.values()) > 0), "pipelines.mixture",
              f"ratios must be >= 0 with at least one > 0, got {dict(self.mixture)}")
        object.__setattr__(self, "require_tests", self._methods_requiring_tests())
        check(not self.data_pvc or self.data_mount.startswith("/"), "pipelines.data_mount",
              f"must be an absolute path, got {self.data_mount!r}")
        check(1 <= self.evol_rounds <= 10, "pipelines.evol_rounds", f"must be 1..10, got {self.evol_rounds}")
        check(self.coreset_size >= 0, "pipelines.coreset_size", f"must be >= 0, got {self.coreset_size}")
        check(self.eval_limit >= 0, "pipelines.eval_limit", f"must be >= 0, got {self.eval_limit}")
        check(bool(self.eval_k) and all(k >= 1 for k in self.eval_k), "pipelines.eval_k",
              f"values must be >= 1, got {list(self.eval_k)}")
        check(bool(self.eval_suites) and all(isinstance(s, str) and s.strip() for s in self.eval_suites),
              "pipelines.eval_suites", f"must name at least one suite, got {list(self.eval_suites)}")
        check(self.eval_samples >= max(self.eval_k), "pipelines.eval_samples",
              f"must be >= the largest k ({max(self.eval_k)}), got {self.eval_samples}")

    def _methods_requiring_tests(self) -> tuple[Method, ...]:
        value = self.require_tests
        if isinstance(value, bool):
            return TEST_MAKING_METHODS if value else ()
        if isinstance(value, Mapping):
            bad = [m for m in value if m not in METHODS]
            check(not bad, "pipelines.require_tests", f"unknown method(s) {bad}; known: {list(METHODS)}")
            check(all(isinstance(v, bool) for v in value.values()), "pipelines.require_tests",
                  f"a mapping's values must be true or false, got {dict(value)!r}")
            return tuple(m for m in METHODS if value.get(m))
        bad = [m for m in value if m not in METHODS]
        check(not bad, "pipelines.require_tests", f"unknown method(s) {bad}; known: {list(METHODS)}")
        return tuple(m for m in METHODS if m in value)

    @property
    def methods_requiring_tests(self) -> tuple[Method, ...]:
        """The methods whose records verify drops without tests (`require_tests`, normalized)."""
        return self._methods_requiring_tests()

    def seeds_for(self, method: str) -> int:
        """Seeds one method gets in end_to_end (0: all)."""
        return int(self.method_seeds.get(method, self.seeds_limit))

    @property
    def gpu_step_image(self) -> str:
        return self.gpu_image or self.image

