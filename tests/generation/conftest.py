import pytest
import torch

from codeinstruct.generation.config import GenerationConfig

# Small budgets: the slow tests check mechanics, not quality (a 135M model writes wrong code).
SMALL = dict(max_tokens=64, evol_max_tokens=48, inverse_samples=2, inverse_max_tokens=24, semi_samples=1,
             wavecoder_tasks_per_seed=1, seeds_per_batch=2)


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
    return GenerationConfig(**SMALL)


@pytest.fixture
def small_settings():
    return dict(SMALL)
