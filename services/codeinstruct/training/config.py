"""Training configuration (section `training`) and training stages.

One frozen dataclass holds everything that changes a training run (model, LoRA or full fine-tuning,
prompt format, optimisation, checkpoints), the job backend (local subprocess or Kubeflow Trainer)
and evaluation defaults. Stages describe schedules such as InverseCoder's "new data for 1 epoch,
then the original data for 2 epochs" or Magicoder's two stages: each stage has its own data,
epochs and learning rate, and falls back to the run-level values for what it leaves out.

Example (YAML):
    training:
      mode: lora
      max_steps: 20
      stages:
        - {name: inverse, data: runs/inverse.jsonl, epochs: 1, learning_rate: 2.0e-4}
        - {name: original, data: runs/original.jsonl, epochs: 2, learning_rate: 1.0e-4}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from codeinstruct.core import env
from codeinstruct.core.config import check, to_mapping
from codeinstruct.core.errors import InvalidInput

PromptFormat = Literal["chat", "alpaca", "magicoder"]

# Named recipes (`training.preset`): values that sit just under the settings given with the preset
# (`core.config.build`), so a file's own `learning_rate` still wins over its preset's.
PRESETS: dict[str, dict[str, Any]] = {
    # InverseCoder (Wu et al. 2024), section 4: full fine-tuning with Adafactor at 5e-5, 15 warmup
    # steps then linear decay, 512 examples per optimizer step, sequences of up to 1024 tokens.
    "inverse_instruct_paper": {"mode": "full", "optimizer": "adafactor", "learning_rate": 5e-5,
                               "warmup_steps": 15, "lr_scheduler": "linear", "effective_batch_size": 512,
                               "max_length": 1024},
}


def _f(default: Any, help: str, *, fingerprint: bool = True) -> Any:
    """A field; `fingerprint=False` for a run-time setting that does not change the trained weights."""
    return dataclasses.field(default=default, metadata={"help": help, "fingerprint": fingerprint})


@dataclasses.dataclass(frozen=True)
class KubernetesConfig:
    """The Kubeflow Trainer TrainJob a job becomes with `jobs.backend: kubernetes` (section
    `training.jobs.kubernetes`)."""

    namespace: str = _f("default", "namespace of TrainJobs")
    runtime: str = _f("torch-distributed", "ClusterTrainingRuntime the TrainJob refers to")
    image: str = _f("ghcr.io/codeinstruct/codeinstruct:latest", "trainer image (the project image)")
    num_nodes: int = _f(1, "TrainJob numNodes")
    num_proc_per_node: str = _f("auto", "TrainJob numProcPerNode: 'auto', 'cpu', 'gpu' or a number")
    cpu: str = _f("4", "CPU request and limit per node")
    memory: str = _f("32Gi", "memory request and limit per node")
    gpus: int = _f(1, "nvidia.com/gpu per node; 0 for CPU nodes")
    node_selector: dict[str, str] = dataclasses.field(
        default_factory=dict, metadata={"help": "nodeSelector of the GPU pool, e.g. {pool: gpu}"})
    tolerations: tuple[dict[str, Any], ...] = _f((), "tolerations of the GPU pool")
    pvc: str = _f("codeinstruct-data", "PersistentVolumeClaim holding data and outputs, mounted at mount_path")
    mount_path: str = _f("/data", "where the PVC is mounted in the trainer pods")

    def __post_init__(self) -> None:
        where = "training.jobs.kubernetes"
        check(self.num_nodes >= 1, f"{where}.num_nodes", f"must be >= 1, got {self.num_nodes}")
        check(self.num_proc_per_node in {"auto", "cpu", "gpu"} or (self.num_proc_per_node.isdigit()
              and int(self.num_proc_per_node) >= 1), f"{where}.num_proc_per_node",
              f"must be auto, cpu, gpu or a number >= 1, got {self.num_proc_per_node!r}")
        check(self.gpus >= 0, f"{where}.gpus", f"must be >= 0, got {self.gpus}")
        check(self.mount_path.startswith("/"), f"{where}.mount_path",
              f"must be an absolute path, got {self.mount_path!r}")


@dataclasses.dataclass(frozen=True)
class JobsConfig:
    """Where and how the training service runs jobs (section `training.jobs`): nothing here changes a model."""

    backend: Literal["local", "kubernetes"] = _f("local", "where jobs run: a local subprocess or a Kubeflow TrainJob")
    jobs_dir: Path | None = dataclasses.field(default=None, metadata={
        "help": "persistent job store (default CODEINSTRUCT_DATA_DIR/training-jobs)"})
    cancel_grace_s: float = _f(15.0, "seconds a cancelled job gets to stop before it is killed")
    max_concurrent_jobs: int = _f(1, "local jobs running at once; more wait QUEUED")
    kubernetes: KubernetesConfig = dataclasses.field(default_factory=KubernetesConfig, metadata={
        "help": "the TrainJob of the kubernetes backend"})

    def __post_init__(self) -> None:
        check(self.cancel_grace_s >= 0, "training.jobs.cancel_grace_s", f"must be >= 0, got {self.cancel_grace_s}")
        check(self.max_concurrent_jobs >= 1, "training.jobs.max_concurrent_jobs",
              f"must be >= 1, got {self.max_concurrent_jobs}")

    @property
    def job_store(self) -> Path:
        return Path(self.jobs_dir) if self.jobs_dir else env.data_dir() / "training-jobs"


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """HumanEval generation settings of evaluation jobs and `eval humaneval --model` (section `training.eval`)."""

    max_tokens: int = _f(256, "new tokens per HumanEval completion")
    prompt_style: Literal["chat", "completion"] = _f(
        "chat", "HumanEval prompt: chat (the request in the chat template; the answer's code block is the "
                "completion) or completion (the raw function header, for base models)")
    temperature: float = _f(0.8, "sampling temperature when n_samples > 1 (greedy for a single sample)")
    batch_size: int = _f(8, "prompts generated together")

    def __post_init__(self) -> None:
        check(self.max_tokens >= 1, "training.eval.max_tokens", f"must be >= 1, got {self.max_tokens}")
        check(self.temperature >= 0, "training.eval.temperature", f"must be >= 0, got {self.temperature}")
        check(self.batch_size >= 1, "training.eval.batch_size", f"must be >= 1, got {self.batch_size}")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """One training run (section `training`): the model and method, data, optimisation and
    checkpoints; `jobs` (where the service runs jobs) and `eval` (evaluation) are nested sections.

    Each field says whether it enters the checkpoint fingerprint (`fingerprint_settings`): the
    run-time ones (step budget, checkpoint cadence, threads ...) do not change the weights a step
    produces, so changing them keeps resuming possible.
    """

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = PRESETS

    preset: str = _f("", "a named recipe filling the settings not given with it: '' (none) or "
                         "inverse_instruct_paper (docs/training.md)", fingerprint=False)
    # --- model and method
    model: str = _f("default", "base model: a local Hugging Face folder, or 'default' for the embedded SmolLM2")
    mode: Literal["lora", "full"] = _f("lora", "LoRA adapters (default) or full fine-tuning")
    dtype: Literal["float32", "bfloat16"] = _f("float32", "training dtype of the weights")
    lora_r: int = _f(16, "LoRA rank")
    lora_alpha: int = _f(32, "LoRA scaling alpha")
    lora_dropout: float = _f(0.0, "dropout on the LoRA path")
    lora_target_modules: tuple[str, ...] = _f(
        ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        "module names that get LoRA adapters (those missing in the model are skipped)")
    merge_lora: bool = _f(False, "write the LoRA-merged full model as the output folder (adapter kept in adapter/)",
                          fingerprint=False)
    # --- data
    prompt_format: PromptFormat = dataclasses.field(default="chat", metadata={
        "help": "chat (the model's chat template), alpaca or magicoder", "fingerprint": True})
    max_length: int = _f(1024, "tokens per example; longer examples are truncated")
    dynamic_padding: bool = _f(True, "pad each batch to its longest example (off: pad to max_length)")
    curriculum: bool = _f(False, "keep the dataset order, ranked or not; disables shuffling")
    shuffle: bool | None = _f(None, "shuffle examples every epoch (seeded): unset keeps a ranked dataset's "
                                    "order (records carrying a curriculum rank, docs/training.md) and shuffles "
                                    "any other; true always shuffles; false never")
    # --- optimisation
    epochs: float = _f(1.0, "epochs when there is a single stage (fractions allowed)")
    batch_size: int = _f(4, "examples per micro-batch (per process under torchrun)")
    gradient_accumulation_steps: int = _f(1, "micro-batches per optimizer step")
    effective_batch_size: int = _f(0, "examples per optimizer step over all processes; 0: batch_size x "
                                      "gradient_accumulation_steps (x processes); set: the accumulation is "
                                      "derived from it and must come out whole")
    optimizer: Literal["adamw", "adafactor"] = _f(
        "adamw", "adamw (torch) or adafactor (transformers, at the fixed learning rate of the schedule: no "
                 "relative step, no parameter scaling)")
    learning_rate: float = _f(2e-4, "peak learning rate (per stage unless the stage sets its own)")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = _f(
        "linear", "learning-rate schedule over each stage's planned steps")
    warmup_ratio: float = _f(0.0, "fraction of each stage's steps spent warming up")
    warmup_steps: int = _f(0, "optimizer steps spent warming up in each stage; 0: use warmup_ratio")
    weight_decay: float = _f(0.0, "optimizer weight decay")
    max_grad_norm: float = _f(1.0, "gradient clipping norm; 0 disables")
    max_steps: int | None = _f(None, "stop after this many optimizer steps in total (the schedule is not shortened)",
                               fingerprint=False)
    seed: int = _f(0, "seed of weights init (LoRA), shuffling and dropout")
    num_threads: int = _f(0, "torch CPU threads; 0 keeps torch's default", fingerprint=False)
    # --- checkpoints and output
    save_every_steps: int = _f(50, "checkpoint every N optimizer steps (and at the end)", fingerprint=False)
    keep_checkpoints: int = _f(2, "most recent checkpoints kept on disk", fingerprint=False)
    resume: bool = _f(True, "resume from the latest checkpoint in the output folder", fingerprint=False)
    # The trainer fingerprints each stage with its data instead of these raw entries.
    stages: tuple[dict[str, Any], ...] = _f(
        (), "training stages: {name, data, epochs, learning_rate}; empty: one stage on the given data",
        fingerprint=False)
    # --- nested sections (never in the fingerprint)
    jobs: JobsConfig = dataclasses.field(default_factory=JobsConfig, metadata={
        "help": "where the training service runs jobs (backend, job store, TrainJob)"})
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig, metadata={
        "help": "HumanEval settings of evaluation"})

    def __post_init__(self) -> None:
        check(self.lora_r >= 1, "training.lora_r", f"must be >= 1, got {self.lora_r}")
        check(self.lora_alpha >= 1, "training.lora_alpha", f"must be >= 1, got {self.lora_alpha}")
        check(0.0 <= self.lora_dropout < 1.0, "training.lora_dropout", f"must be in [0, 1), got {self.lora_dropout}")
        check(bool(self.lora_target_modules), "training.lora_target_modules", "must name at least one module")
        check(16 <= self.max_length <= 131072, "training.max_length", f"must be 16..131072, got {self.max_length}")
        check(self.epochs > 0, "training.epochs", f"must be > 0, got {self.epochs}")
        check(self.batch_size >= 1, "training.batch_size", f"must be >= 1, got {self.batch_size}")
        check(self.gradient_accumulation_steps >= 1, "training.gradient_accumulation_steps",
              f"must be >= 1, got {self.gradient_accumulation_steps}")
        check(self.learning_rate > 0, "training.learning_rate", f"must be > 0, got {self.learning_rate}")
        check(0.0 <= self.warmup_ratio < 1.0, "training.warmup_ratio", f"must be in [0, 1), got {self.warmup_ratio}")
        check(self.warmup_steps >= 0, "training.warmup_steps", f"must be >= 0, got {self.warmup_steps}")
        check(not (self.warmup_steps and self.warmup_ratio), "training.warmup_steps",
              f"set warmup_steps ({self.warmup_steps}) or warmup_ratio ({self.warmup_ratio}), not both")
        check(self.effective_batch_size >= 0, "training.effective_batch_size",
              f"must be >= 0, got {self.effective_batch_size}")
        check(not (self.effective_batch_size and self.gradient_accumulation_steps != 1),
              "training.effective_batch_size", f"set effective_batch_size ({self.effective_batch_size}) or "
              f"gradient_accumulation_steps ({self.gradient_accumulation_steps}), not both")
        self.accumulation_steps(1)
        check(not (self.curriculum and self.shuffle), "training.shuffle",
              "shuffle: true contradicts curriculum: true (which keeps the dataset order)")
        check(self.preset in ("", *self.PRESETS), "training.preset",
              f"unknown preset {self.preset!r}; known: {sorted(self.PRESETS)}")
        check(self.weight_decay >= 0, "training.weight_decay", f"must be >= 0, got {self.weight_decay}")
        check(self.max_grad_norm >= 0, "training.max_grad_norm", f"must be >= 0, got {self.max_grad_norm}")
        check(self.max_steps is None or self.max_steps >= 1, "training.max_steps",
              f"must be >= 1 when set, got {self.max_steps}")
        check(self.num_threads >= 0, "training.num_threads", f"must be >= 0, got {self.num_threads}")
        check(self.save_every_steps >= 1, "training.save_every_steps", f"must be >= 1, got {self.save_every_steps}")
        check(self.keep_checkpoints >= 1, "training.keep_checkpoints", f"must be >= 1, got {self.keep_checkpoints}")
        stages_from(self)  # validates the stage entries

    @classmethod
    def with_preset(cls, preset: str, **values: Any) -> TrainingConfig:
        """The preset's values with `values` over them (what `training: {preset: ..., ...}` in a file gives)."""
        from codeinstruct.core.config import build

        return build(cls, "training", data={"training": {"preset": preset, **values}}, use_env=False)

    def accumulation_steps(self, world: int = 1) -> int:
        """Micro-batches per optimizer step on each of `world` processes."""
        if not self.effective_batch_size:
            return self.gradient_accumulation_steps
        per_micro_step = self.batch_size * world
        check(self.effective_batch_size % per_micro_step == 0, "training.effective_batch_size",
              f"{self.effective_batch_size} is not a multiple of batch_size {self.batch_size} x {world} "
              f"process(es) = {per_micro_step}")
        return self.effective_batch_size // per_micro_step

    def fingerprint_settings(self) -> dict[str, Any]:
        """What changes the weights a training step produces (the checkpoint fingerprint): every field
        declared `fingerprint=True`; the nested jobs and eval sections never do."""
        values = to_mapping(self)
        return {f.name: values[f.name] for f in dataclasses.fields(self) if f.metadata.get("fingerprint", False)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly values (paths as strings, tuples as lists): what a worker is handed."""
        return to_mapping(self)


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of a schedule: its own data, epochs and learning rate.

    `data` is a path to a records JSONL or the records themselves (a list of Record).
    """

    name: str
    data: Any = None
    epochs: float | None = None
    learning_rate: float | None = None

    def __post_init__(self) -> None:
        where = f"training.stages[{self.name}]"
        check(bool(self.name), where, "a stage needs a name")
        check(self.epochs is None or self.epochs > 0, f"{where}.epochs", f"must be > 0, got {self.epochs}")
        check(self.learning_rate is None or self.learning_rate > 0, f"{where}.learning_rate",
              f"must be > 0, got {self.learning_rate}")


_STAGE_KEYS = {"name", "data", "epochs", "learning_rate"}


def stages_from(config: TrainingConfig) -> list[Stage]:
    """The configured stages as Stage values (data given as paths); [] when none are configured."""
    stages = []
    for index, raw in enumerate(config.stages):
        where = f"training.stages[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"{where} must be a mapping with name, data, epochs, learning_rate", field=where)
        unknown = sorted(set(raw) - _STAGE_KEYS)
        if unknown:
            raise InvalidInput(f"{where} has unknown key(s) {unknown}; known: {sorted(_STAGE_KEYS)}", field=where)
        try:
            epochs = None if raw.get("epochs") is None else float(raw["epochs"])
            lr = None if raw.get("learning_rate") is None else float(raw["learning_rate"])
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: epochs and learning_rate must be numbers", field=where) from None
        stages.append(Stage(name=str(raw.get("name") or f"stage{index + 1}"), data=raw.get("data"),
                            epochs=epochs, learning_rate=lr))
    names = [s.name for s in stages]
    check(len(names) == len(set(names)), "training.stages", f"stage names must be unique, got {names}")
    return stages

