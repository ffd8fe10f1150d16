"""The openai engine: any OpenAI-compatible server (typically `vllm serve` deployed beside us).

- `generate`: POST /v1/completions, one request per prompt (each has its own seed and n), up to
  `concurrency` in flight.
- `chat`: POST /v1/chat/completions, so the SERVER's chat template applies.
- `lm_score`: chat completion with max_tokens 1 and the top 20 logprobs of the first token; Yes/No
  variants are matched on the returned token text (absent: probability 0).
- `apply_chat_template` / `count_tokens`: the local tokenizer when the model is a local folder
  (or `default`), else vLLM's /tokenize and /detokenize endpoints.
Timeouts per request; retries with backoff on connection errors and 5xx only (a 4xx is our bug
or bad input and is raised at once).
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.engines import lm_score as lm
from codeinstruct.engines.base import Conversation, Engine, SamplingParams, per_prompt, validate_conversation
from codeinstruct.engines.config import EngineConfig
from codeinstruct.engines.embedded import DEFAULT, default_model_path

logger = logging.getLogger(__name__)
TOP_LOGPROBS = 20


class OpenAIEngine(Engine):
    engine_name = "openai"

    def __init__(self, config: EngineConfig):
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.http = httpx.Client(timeout=config.request_timeout_s, headers=headers)
        self.model_name = config.model if config.model not in ("", DEFAULT) else self._first_model()
        self._tokenizer: Any = None
        local = default_model_path() if config.model in ("", DEFAULT) else Path(config.model).expanduser()
        if local.is_dir():
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(local))

    # -- HTTP ----------------------------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, payload)

    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        delay = 0.5
        for attempt in range(self.config.max_retries + 1):
            deadline.check()
            try:
                response = self.http.request(method, url, json=payload, timeout=deadline.timeout(
                    self.config.request_timeout_s))
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    data: dict[str, Any] = response.json()
                    return data
                if response.status_code < 500:
                    raise InvalidInput(f"{method} {url} -> {response.status_code}: {response.text[:300]}",
                                       field="engine")
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
            if attempt < self.config.max_retries:
                logger.warning("%s %s failed (%s); retry %d/%d in %.1f s", method, url, problem, attempt + 1,
                               self.config.max_retries, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        raise Unavailable(f"{method} {url} failed after {self.config.max_retries + 1} attempt(s): {problem}")

    def _first_model(self) -> str:
        models = self._request("GET", "/models").get("data", [])
        if not models:
            raise Unavailable(f"{self.base_url}/models lists no model")
        return str(models[0]["id"])

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if len(items) <= 1:
            return [fn(item) for item in items]
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            return list(pool.map(fn, items))

    @staticmethod
    def _sampling(params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {"n": params.n, "temperature": params.temperature, "top_p": params.top_p,
                                "max_tokens": params.max_tokens}
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if params.repetition_penalty != 1.0:
            body["repetition_penalty"] = params.repetition_penalty  # vLLM extension
        return body

    # -- Engine --------------------------------------------------------------------------------
    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        plist = per_prompt(params, len(prompts))

        def one(job: tuple[str, SamplingParams]) -> list[str]:
            prompt, p = job
            data = self._post("/completions", {"model": self.model_name, "prompt": prompt, **self._sampling(p)})
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            return [c["text"] for c in choices]

        return self._map(one, list(zip(prompts, plist, strict=True)))

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        plist = per_prompt(params, len(conversations))
        for i, conversation in enumerate(conversations):
            validate_conversation(conversation, i)

        def one(job: tuple[Conversation, SamplingParams]) -> list[str]:
            conversation, p = job
            data = self._post("/chat/completions",
                              {"model": self.model_name, "messages": conversation, **self._sampling(p)})
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            return [c["message"]["content"] or "" for c in choices]

        return self._map(one, list(zip(conversations, plist, strict=True)))

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        if len(instructions) != len(codes):
            raise InvalidInput(f"lm_score got {len(instructions)} instructions and {len(codes)} codes", field="codes")

        def one(pair: tuple[str, str]) -> float:
            messages = [{"role": "user", "content": lm.prompt_text(*pair)}]
            data = self._post("/chat/completions", {"model": self.model_name, "messages": messages, "max_tokens": 1,
                                                    "temperature": 0.0, "logprobs": True,
                                                    "top_logprobs": TOP_LOGPROBS})
            first = data["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
            return score_from_top_logprobs({t["token"]: t["logprob"] for t in first})

        return self._map(one, list(zip(instructions, codes, strict=True)))

    def apply_chat_template(self, messages: Conversation, add_generation_prompt: bool = True) -> str:
        validate_conversation(messages)
        if self._tokenizer is not None:
            return str(self._tokenizer.apply_chat_template(messages, tokenize=False,
                                                           add_generation_prompt=add_generation_prompt))
        root = self.base_url.removesuffix("/v1")
        data = self._absolute("POST", f"{root}/tokenize", {"model": self.model_name, "messages": messages,
                                                            "add_generation_prompt": add_generation_prompt})
        text = self._absolute("POST", f"{root}/detokenize", {"model": self.model_name, "tokens": data["tokens"]})
        return str(text["prompt"])

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text, add_special_tokens=False))
        root = self.base_url.removesuffix("/v1")
        data = self._absolute("POST", f"{root}/tokenize", {"model": self.model_name, "prompt": text,
                                                            "add_special_tokens": False})
        return int(data["count"])

    def _absolute(self, method: str, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        saved = self.base_url
        try:
            self.base_url = ""
            return self._request(method, url, payload)
        finally:
            self.base_url = saved

    def info(self) -> dict[str, Any]:
        return {**super().info(), "base_url": self.base_url, "batch_size": self.config.batch_size}

    def close(self) -> None:
        self.http.close()


def score_from_top_logprobs(top: dict[str, float]) -> float:
    """LM-Score from {token text: logprob} of the first answer token (Yes/No variants summed)."""
    yes = [v for k, v in top.items() if k in lm.YES_VARIANTS]
    no = [v for k, v in top.items() if k in lm.NO_VARIANTS]
    if not yes and not no:
        return 0.5
    return lm.score_from_logprobs(yes or [-math.inf], no or [-math.inf])
