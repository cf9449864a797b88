"""Shared fixtures: a tiny GPT-2 with the real GPT-2 tokenizer, and a private ARIANE_HOME."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# XLA compile costs ~10 s per function on 2 cores; tiny test models run faster without it.
# The compiled path is tested explicitly (Generator(..., jit=True)).
os.environ.setdefault("ARIANE_JIT", "0")
# The served default is LiteRT int8 with batching (ariane/generate.py); most tests run the keras
# reference instead, so that each tiny model is not converted first. LiteRT is tested explicitly
# (tests/test_speed.py), and tests/test_app_runtime.py serves the page on the default.
os.environ.setdefault("ARIANE_RUNTIME", "keras")

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("ARIANE_REAL_WEIGHTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs real GPT-2 weights: set ARIANE_REAL_WEIGHTS=1 on a connected machine")
    for item in items:
        if "real_weights" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_model():
    """A 2-layer, 64-wide GPT-2 with the real 50,257-token vocabulary (random weights, seed 0)."""
    from ariane.model import build_model

    return build_model(seed=0)


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tmp_path_factory):
    """The tiny model saved as a preset folder, as `python -m finetune` writes it."""
    from ariane.model import save_model

    return save_model(tiny_model, tmp_path_factory.mktemp("models") / "tiny", {"run_name": "tiny-test"})


@pytest.fixture
def ariane_home(tmp_path, monkeypatch):
    """ARIANE_HOME in a fresh temporary folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("ARIANE_HOME", str(home))
    return home


@pytest.fixture(scope="session", autouse=True)
def shared_embeddings_cache(tmp_path_factory):
    """One MiniLM vector cache for the whole session (vectors depend only on the text), so each
    test's fresh ARIANE_HOME does not embed the knowledge base again."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("embeddings") / "embeddings.sqlite"
        mp.setenv("ARIANE_EMBEDDINGS_CACHE", str(path))
        yield path
