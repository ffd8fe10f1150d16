import copy

import pytest
import torch

from codeinstruct.core.config import build
from codeinstruct.generation.config import GenerationConfig

# Small budgets: the slow tests check mechanics, not quality (a 135M model writes wrong code).
SMALL = {"max_tokens": 64, "seeds_per_batch": 2, "evol": {"max_tokens": 48},
         "inverse": {"samples": 2, "max_tokens": 24}, "semi": {"samples": 1}, "wavecoder": {"tasks_per_seed": 1}}


@pytest.fixture(scope="session")
def engine():
    from codeinstruct.engines import EngineConfig, load_engine

    threads = torch.get_num_threads()
    loaded = load_engine(EngineConfig(threads=1, batch_size=4))
    yield loaded
    loaded.close()
    torch.set_num_threads(threads)


@pytest.fixture
def small_config():
    return build(GenerationConfig, "generation", data={"generation": SMALL}, use_env=False)


@pytest.fixture
def small_settings():
    return copy.deepcopy(SMALL)
