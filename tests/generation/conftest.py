import copy

import pytest

from codeinstruct.core.config import build
from codeinstruct.generation.config import GenerationConfig

# Small budgets: the slow tests check mechanics, not quality (a 135M model writes wrong code).
SMALL = {"max_tokens": 64, "seeds_per_batch": 2, "evol": {"max_tokens": 48},
         "inverse": {"samples": 2, "max_tokens": 24}, "semi": {"samples": 1}, "wavecoder": {"tasks_per_seed": 1}}


@pytest.fixture
def small_config():
    return build(GenerationConfig, "generation", data={"generation": SMALL}, use_env=False)


@pytest.fixture
def small_settings():
    return copy.deepcopy(SMALL)
