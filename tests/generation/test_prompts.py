"""Prompt templates are versioned files that render in one pass (fast)."""

import pytest

from codeinstruct.core.errors import InvalidInput, NotFound
from codeinstruct.generation import prompts
from codeinstruct.generation.common import TEMPLATES
from codeinstruct.generation.methods.evol_instruct import heuristics


def test_every_template_the_methods_use_loads_with_a_version_and_source():
    for names in TEMPLATES.values():
        for name in names:
            template = prompts.load(name)
            assert template.version >= 1 and template.source
            assert template.ref.startswith(f"{name}@v{template.version}#")


def test_render_inserts_values_verbatim_in_one_pass():
    template = prompts.load("semi_instruct.draft")
    code = "def f(d):\n    return {'code': d, 'x': '{language}'}"
    text = template.render(language="python", code=code, answer_type="function f", test_format="calls")
    assert code in text  # braces and a placeholder-looking string inside a value are left alone
    with pytest.raises(InvalidInput, match="needs"):
        template.render(language="python")


def test_evol_prompt_is_the_wizardcoder_prompt():
    text = prompts.load("evol_instruct.evolve").render(method="M", instruction="I")
    assert text.startswith("Please increase the difficulty of the given programming test question a bit.")
    assert text.endswith("#Given Test#\nI\n\n#Rewritten Test#")


def test_five_heuristics_with_complexity_rarer():
    rows = heuristics(("constraints", "less_common", "more_steps", "erroneous_code", "complexity"))
    assert [key for key, _, _ in rows] == ["constraints", "less_common", "more_steps", "erroneous_code", "complexity"]
    weights = {key: weight for key, _, weight in rows}
    assert weights["complexity"] < weights["constraints"]


def test_inverse_prefixes_are_the_papers():
    assert prompts.load("inverse_instruct.prefixes").lines() == [
        "Write a", "Create a", "Implement a", "Develop a", "Design a", "Build a", "I want a"]


def test_unknown_template_or_version():
    with pytest.raises(NotFound):
        prompts.load("nope")
    with pytest.raises(NotFound, match="versions"):
        prompts.load("answer", version=99)
