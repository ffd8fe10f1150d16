"""The transformers engine: the default backend (CPU here, any GPU elsewhere).

Batches are left-padded and sorted by length. Sampling is done by our own logits processor so that
every row has its own temperature, top_p, repetition penalty, token budget and RANDOM GENERATOR:
a record's samples depend on its seed only, not on which other prompts shared its batch (up to
floating-point effects of padding). The processor returns a one-hot distribution and generation
runs in greedy mode, so transformers just takes the token we drew. Stop strings are checked per
row on the decoded tail and cut from the returned text.

LM-Score is one forward pass per batch with explicit position ids (left padding must not shift
positions) and `logits_to_keep=1`, so only the last position's logits are computed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import torch

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.engines import lm_score as lm
from codeinstruct.engines.base import Conversation, Engine, SamplingParams, per_prompt, truncate_at_stop
from codeinstruct.engines.config import EngineConfig
from codeinstruct.engines.models import load_causal_lm, resolve_model

logger = logging.getLogger(__name__)


def _pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _pick_dtype(name: str, device: torch.device) -> torch.dtype:
    if name != "auto":
        return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[name]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    # CPU: float32. In bf16 the SAME prompt scores differently when padded into a batch (kernel
    # rounding differs by sequence shape: up to 0.06 LM-Score measured on SmolLM2), float32 agrees
    # to 1e-5, which LM-Score ranking and reproducible sampling need.
    return torch.float32


class _Row:
    """One sequence being generated: the prompt index, its sample index and its settings."""

    __slots__ = ("generator", "params", "prompt_index", "sample_index")

    def __init__(self, prompt_index: int, sample_index: int, params: SamplingParams, device: torch.device):
        self.prompt_index = prompt_index
        self.sample_index = sample_index
        self.params = params
        self.generator: torch.Generator | None = None
        if not params.greedy:
            seed = params.sample_seed(sample_index)
            if seed is None:  # unseeded: follow torch's global RNG (torch.manual_seed still applies)
                seed = int(torch.randint(0, 2**62, (1,)).item())
            self.generator = torch.Generator(device=device).manual_seed(seed)


class _RowSampler:
    """Logits processor: per-row repetition penalty, token budget, temperature, top_p and RNG."""

    def __init__(self, rows: list[_Row], pad_lengths: list[int], prompt_width: int, eos_id: int):
        self.rows = rows
        self.pad_lengths = pad_lengths
        self.prompt_width = prompt_width
        self.eos_id = eos_id

    def __call__(self, input_ids: torch.LongTensor, raw_scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = raw_scores.float()
        generated = input_ids.shape[1] - self.prompt_width
        chosen = torch.empty(len(self.rows), dtype=torch.long, device=scores.device)
        for i, row in enumerate(self.rows):
            logits = scores[i]
            p = row.params
            if generated >= p.max_tokens:  # this row's budget is used up: end it (others may go on)
                chosen[i] = self.eos_id
                continue
            if p.repetition_penalty != 1.0:
                seen = input_ids[i, self.pad_lengths[i]:].unique()
                values = logits[seen]
                logits = logits.clone()
                logits[seen] = torch.where(values < 0, values * p.repetition_penalty, values / p.repetition_penalty)
            if p.greedy:
                chosen[i] = int(torch.argmax(logits))
                continue
            logits = logits / p.temperature
            if p.top_p < 1.0:
                sorted_logits, order = torch.sort(logits, descending=True)
                cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
                remove = cumulative - torch.softmax(sorted_logits, dim=-1) >= p.top_p  # keep the first token
                sorted_logits[remove] = -torch.inf
                logits = torch.full_like(logits, -torch.inf).scatter(0, order, sorted_logits)
            probs = torch.softmax(logits, dim=-1)
            chosen[i] = int(torch.multinomial(probs, 1, generator=row.generator))
        out = torch.full_like(scores, -torch.inf)
        out[torch.arange(len(self.rows), device=scores.device), chosen] = 0.0
        return out  # type: ignore[return-value]


class _StopOnStrings:
    """Stopping criterion: a row is done once its decoded completion contains one of its stop strings."""

    def __init__(self, tokenizer: Any, rows: list[_Row], prompt_width: int):
        self.tokenizer = tokenizer
        self.stops = [row.params.stop for row in rows]
        self.prompt_width = prompt_width
        longest = max((len(s) for stops in self.stops for s in stops), default=0)
        self.window = longest + 8  # every token is at least one character

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for i, stops in enumerate(self.stops):
            if not stops:
                continue
            tail = input_ids[i, max(self.prompt_width, input_ids.shape[1] - self.window):]
            text = self.tokenizer.decode(tail, skip_special_tokens=True)
            done[i] = any(s in text for s in stops)
        return done  # type: ignore[return-value]


class TransformersEngine(Engine):
    engine_name = "transformers"

    def __init__(self, config: EngineConfig):
        self.config = config
        if config.threads:
            torch.set_num_threads(config.threads)
        started = time.monotonic()
        self.resolved = resolve_model(config.model)
        if self.resolved.hub:
            raise InvalidInput(f"engine.model {config.model!r} is not 'default' or an existing local folder "
                               "(this platform never downloads models)", field="engine.model")
        self.device = _pick_device(config.device)
        self.dtype = _pick_dtype(config.dtype, self.device)
        try:
            model, self.tokenizer = load_causal_lm(self.resolved, self.dtype, config.trust_remote_code)
            self.model: Any = model.to(self.device).eval()  # type: ignore[arg-type]
        except (OSError, ValueError) as exc:
            raise Unavailable(f"could not load model {config.model!r} ({self.resolved.base}): {exc}") from exc
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.eos_id = int(self.tokenizer.eos_token_id)
        self.model_name = self.resolved.name
        self._answer_tokens = lm.AnswerTokens(lambda t: self.tokenizer.encode(t, add_special_tokens=False),
                                              self.model_name)
        logger.info("transformers engine: %s (%s, %s) loaded in %.1f s", self.model_name, self.device,
                    str(self.dtype).removeprefix("torch."), time.monotonic() - started)

    # -- text helpers --------------------------------------------------------------------------
    def apply_chat_template(self, messages: Conversation, add_generation_prompt: bool = True) -> str:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)
        return str(text)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def info(self) -> dict[str, Any]:
        return {**super().info(), **self.resolved.info(), "path": self.resolved.base, "device": str(self.device),
                "dtype": str(self.dtype).removeprefix("torch."), "batch_size": self.config.batch_size}

    def _encode(self, texts: list[str], budget: int) -> dict[str, torch.Tensor]:
        """Left-padded batch; prompts longer than `budget` tokens keep their last `budget` tokens."""
        ids = [self.tokenizer.encode(t, add_special_tokens=False) for t in texts]
        for i, seq in enumerate(ids):
            if len(seq) > budget:
                logger.warning("prompt of %d tokens cut to its last %d (engine.max_model_len)", len(seq), budget)
                ids[i] = seq[-budget:]
        width = max(len(seq) for seq in ids)
        input_ids = torch.full((len(ids), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, seq in enumerate(ids):
            if seq:
                input_ids[i, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
                mask[i, width - len(seq):] = 1
        return {"input_ids": input_ids.to(self.device), "attention_mask": mask.to(self.device)}

    # -- generation ----------------------------------------------------------------------------
    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        plist = per_prompt(params, len(prompts))
        rows = [(i, j) for i, p in enumerate(plist) for j in range(p.n)]
        lengths = {i: len(prompts[i]) for i in range(len(prompts))}
        # sort by prompt length so a batch's rows need little padding
        rows.sort(key=lambda r: (lengths[r[0]], r[0], r[1]))
        results: list[list[str]] = [[""] * p.n for p in plist]
        size = self.config.batch_size
        for start in range(0, len(rows), size):
            deadline.check()
            chunk = [_Row(i, j, plist[i], self.device) for i, j in rows[start:start + size]]
            texts = self._generate_rows([prompts[r.prompt_index] for r in chunk], chunk)
            for row, text in zip(chunk, texts, strict=True):
                results[row.prompt_index][row.sample_index] = text
        return results

    def _generate_rows(self, prompts: list[str], rows: list[_Row]) -> list[str]:
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        max_new = max(r.params.max_tokens for r in rows)
        batch = self._encode(prompts, max(16, self.config.max_model_len - max_new))
        width = batch["input_ids"].shape[1]
        pads = [int(width - m.sum()) for m in batch["attention_mask"]]
        gen_config = GenerationConfig(max_new_tokens=max_new, do_sample=False, num_beams=1,
                                      pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.eos_id)
        criteria = StoppingCriteriaList()
        if any(r.params.stop for r in rows):
            criteria.append(_StopOnStrings(self.tokenizer, rows, width))  # type: ignore[arg-type]
        with torch.inference_mode():
            out = self.model.generate(
                **batch, generation_config=gen_config,
                logits_processor=LogitsProcessorList([_RowSampler(rows, pads, width, self.eos_id)]),  # type: ignore[list-item]
                stopping_criteria=criteria)
        texts = []
        for i, row in enumerate(rows):
            tokens = out[i, width:width + row.params.max_tokens]
            text = str(self.tokenizer.decode(tokens, skip_special_tokens=True))
            texts.append(truncate_at_stop(text, row.params.stop))
        return texts

    # -- LM-Score ------------------------------------------------------------------------------
    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        if len(instructions) != len(codes):
            raise InvalidInput(f"lm_score got {len(instructions)} instructions and {len(codes)} codes",
                               field="codes")
        if not instructions:
            return []
        answer_ids = self._answer_tokens.ids()  # before any batch: fail fast without work
        prompts = [self.apply_chat_template([{"role": "user", "content": lm.prompt_text(ins, code)}])
                   for ins, code in zip(instructions, codes, strict=True)]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        scores = [0.0] * len(prompts)
        size = self.config.batch_size
        for start in range(0, len(order), size):
            deadline.check()
            idx = order[start:start + size]
            for i, value in zip(idx, self._lm_score_batch([prompts[i] for i in idx], answer_ids), strict=True):
                scores[i] = value
        return scores

    def _lm_score_batch(self, prompts: list[str], answer_ids: tuple[list[int], list[int]]) -> list[float]:
        batch = self._encode(prompts, self.config.max_model_len - 1)
        # left padding: positions must count real tokens only, or padded rows see shifted positions
        position_ids = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        with torch.inference_mode():
            logits = self.model(**batch, position_ids=position_ids, logits_to_keep=1, use_cache=False).logits
        logprobs = torch.log_softmax(logits[:, -1, :].float(), dim=-1)
        yes_ids, no_ids = answer_ids
        yes = logprobs[:, yes_ids].tolist()
        no = logprobs[:, no_ids].tolist()
        return [lm.score_from_logprobs(y, n) for y, n in zip(yes, no, strict=True)]

    def close(self) -> None:
        self.model = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
