"""pass@1 of a model on held-out seed pairs (Code Evol-Instruct's optional stopping rule).

A held-out item (`generation/evol_stopping.py` defines it) is an instruction, its reference `code`
(and `entry_point` for a function) and tests whose empty outputs are what the reference code gives
(computed here in the sandbox, as Semi-Instruct validation does). The model answers each
instruction greedily in its chat template; the answer's first code block passes when it passes
every test. This is not a benchmark: the items are seeds set aside before any evolution.

Example:
    with open_sandbox("inprocess", SandboxConfig()) as box:
        result = evaluate_heldout("runs/round2/model", items, sandbox=box, engine_config=EngineConfig())
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.statuses import Status
from codeinstruct.engines.config import EngineConfig

logger = logging.getLogger(__name__)

ANSWER_REQUEST = "{instruction}\n\nAnswer with the code in one ```{language} code block."


def gold_tests(item: Mapping[str, Any], sandbox: SandboxLike) -> list[dict[str, str]]:
    """The item's tests with every empty output filled by running its reference code; [] when the
    reference code does not give an output for each input (the item cannot be checked)."""
    tests = [{"input": str(t.get("input", "")), "output": str(t.get("output", ""))}
             for t in item.get("tests") or [] if str(t.get("input", "")).strip()]
    missing = [t["input"] for t in tests if not t["output"]]
    if not missing:
        return tests
    captured = sandbox.capture_outputs(str(item["code"]), str(item.get("language") or "python"),
                                       str(item.get("entry_point") or ""), missing)
    if any(c.status is not Status.OK for c in captured):
        return []
    outputs = dict(zip(missing, (c.output for c in captured), strict=True))
    return [{"input": t["input"], "output": t["output"] or outputs[t["input"]]} for t in tests]


def evaluate_heldout(model: str, items: Sequence[Mapping[str, Any]], *, sandbox: SandboxLike,
                     engine_config: EngineConfig, max_tokens: int = 384) -> dict[str, Any]:
    """{"pass@1", "n_items", "passed", "unusable", "results"} of `model` on `items`."""
    from codeinstruct.engines import SamplingParams, load_engine
    from codeinstruct.evaluation.prompts import CHAT_STOP, extract_code

    checked = [(item, tests) for item in items if (tests := gold_tests(item, sandbox))]
    if not checked:
        raise InvalidInput(f"none of the {len(items)} held-out item(s) can be checked: each needs an instruction, "
                           "reference code whose outputs the sandbox can compute, and test inputs", field="heldout")
    engine = load_engine(dataclasses.replace(engine_config, model=model))
    try:
        prompts = [engine.apply_chat_template([{"role": "user", "content": ANSWER_REQUEST.format(
            instruction=item["instruction"], language=item.get("language") or "python")}],
            add_generation_prompt=True) for item, _ in checked]
        answers = engine.generate(prompts, SamplingParams(n=1, temperature=0.0, max_tokens=max_tokens,
                                                          stop=CHAT_STOP, seed=0))
    finally:
        engine.close()
    results = []
    for (item, tests), completions in zip(checked, answers, strict=True):
        code = extract_code(completions[0])
        if not code.strip():  # nothing to run (a sandbox service rejects empty code): the item fails
            results.append({"id": str(item.get("id") or ""), "passed": False, "status": "NO_CODE"})
            continue
        verdict = sandbox.run_tests(code, str(item.get("language") or "python"), str(item.get("entry_point") or ""),
                                    tests)
        results.append({"id": str(item.get("id") or ""), "passed": verdict.passed == verdict.total == len(tests),
                        "status": str(verdict.status)})
    passed = sum(1 for r in results if r["passed"] is True)
    logger.info("held-out pass@1 of %s: %d/%d", model, passed, len(results))
    return {"pass@1": passed / len(results), "n_items": len(results), "passed": passed,
            "unusable": len(items) - len(checked), "results": results}
