"""Engine configuration: which backend, which model, how to run it.

The engine settings are the nested `engine:` section of the `generation` and `scoring` sections
(`GenerationConfig.engine`, `ScoringConfig.engine`), so generation and scoring can use different
engines from one file:

    generation:
      engine: {engine: transformers, model: default, batch_size: 8}
    scoring:
      engine: {engine: openai, base_url: http://vllm:8000/v1, model: my-model}

Environment overrides use the section name plus `_ENGINE`, e.g.
`CODEINSTRUCT_GENERATION_ENGINE__MODEL=/models/coder` or `CODEINSTRUCT_SCORING_ENGINE__BATCH_SIZE=32`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar, Literal

from codeinstruct.core.config import check, to_mapping

EngineName = Literal["transformers", "vllm", "openai"]


@dataclasses.dataclass(frozen=True)
class EngineConfig:
    """One engine (nested `engine:` mapping of the `generation` or `scoring` section)."""

    SHORTHAND: ClassVar[str] = "engine"  # `engine: vllm` in a file means `engine: {engine: vllm}`

    engine: EngineName = field(default="transformers", metadata={
        "help": "backend: transformers (default, CPU or GPU), vllm (offline batched, GPU), "
                "openai (an OpenAI-compatible server, e.g. `vllm serve`)"})
    model: str = field(default="default", metadata={
        "help": "'default' (the embedded SmolLM2-135M-Instruct), a model folder (Hugging Face folder, full "
                "fine-tuning output), a LoRA adapter folder written by training (applied to its base model), or "
                "(vllm only) a model id; for openai the served model name"})
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = field(default="auto", metadata={
        "help": "weights dtype; auto: float32 on CPU (batch-invariant LM-Score), bfloat16 on GPUs that "
                "support it, else float16"})
    device: str = field(default="auto", metadata={"help": "transformers device: auto, cpu, cuda, cuda:1 ..."})
    batch_size: int = field(default=8, metadata={
        "help": "sequences per forward pass (transformers) or per request batch (openai)"})
    max_model_len: int = field(default=4096, metadata={
        "help": "prompt + completion token budget; longer prompts are cut from the left"})
    threads: int = field(default=0, metadata={"help": "torch CPU threads (0: torch's default)"})
    base_url: str = field(default="", metadata={"help": "openai: server URL ending in /v1"})
    api_key: str = field(default="", metadata={
        "secret": True, "help": "openai: bearer key (prefer CODEINSTRUCT_<SECTION>_ENGINE__API_KEY over the file)"})
    request_timeout_s: float = field(default=120.0, metadata={"help": "openai: per-request timeout"})
    max_retries: int = field(default=3, metadata={
        "help": "openai: retries on 5xx and connection errors (never on 4xx)"})
    concurrency: int = field(default=4, metadata={"help": "openai: requests in flight"})
    gpu_memory_utilization: float = field(default=0.9, metadata={"help": "vllm: fraction of GPU memory"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "vllm: GPUs per model"})
    enforce_eager: bool = field(default=False, metadata={
        "help": "vllm: skip CUDA graphs / compilation (starts in ~30 s on CPU instead of minutes)"})
    trust_remote_code: bool = field(default=False, metadata={"help": "allow model repos' own code"})

    def __post_init__(self) -> None:
        check(bool(self.model), "engine.model", "must not be empty")
        check(1 <= self.batch_size <= 1024, "engine.batch_size", f"must be 1..1024, got {self.batch_size}")
        check(128 <= self.max_model_len <= 1_000_000, "engine.max_model_len",
              f"must be 128..1000000, got {self.max_model_len}")
        check(0 <= self.threads <= 512, "engine.threads", f"must be 0..512, got {self.threads}")
        check(self.request_timeout_s > 0, "engine.request_timeout_s", f"must be > 0, got {self.request_timeout_s}")
        check(0 <= self.max_retries <= 20, "engine.max_retries", f"must be 0..20, got {self.max_retries}")
        check(1 <= self.concurrency <= 256, "engine.concurrency", f"must be 1..256, got {self.concurrency}")
        check(0.05 <= self.gpu_memory_utilization <= 1.0, "engine.gpu_memory_utilization",
              f"must be 0.05..1, got {self.gpu_memory_utilization}")
        check(self.tensor_parallel_size >= 1, "engine.tensor_parallel_size",
              f"must be >= 1, got {self.tensor_parallel_size}")
        if self.engine == "openai":
            check(self.base_url.startswith(("http://", "https://")), "engine.base_url",
                  f"the openai engine needs an http(s) base_url, got {self.base_url!r}")

    def public_dict(self) -> dict[str, Any]:
        """Settings without secrets (for logs, fingerprints and job specs)."""
        return to_mapping(self)

