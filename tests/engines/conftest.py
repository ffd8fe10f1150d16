import pytest
import torch


@pytest.fixture(scope="session")
def engine():
    """The embedded model on the transformers engine, one thread (robust on a busy 2-core machine)."""
    from codeinstruct.engines import EngineConfig, load_engine

    threads = torch.get_num_threads()
    loaded = load_engine(EngineConfig(threads=1, batch_size=4))
    yield loaded
    loaded.close()
    torch.set_num_threads(threads)
