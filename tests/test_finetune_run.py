"""The smoke config end to end: train 2 epochs, `--resume` a third, serve the result."""

import json

import numpy as np
import pytest
import yaml
from finetune_fixtures import SMOKE, write_dataset

from finetune.__main__ import main
from finetune.progress import read_metrics


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """`python -m finetune --config smoke.yaml --train.epochs 2 --export.litert ""` (no LiteRT file),
    then `--resume RUN --train.epochs 3 --export.litert int8`."""
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("ARIANE_HOME", str(home))
    try:
        version = write_dataset(home)
        assert main(["--config", str(SMOKE), "--train.epochs", "2", "--export.litert", ""]) == 0
        (run,) = (home / "runs").iterdir()
        after_two = read_metrics(run / "metrics.jsonl")
        state_two = json.loads((run / "checkpoints" / "epoch-002" / "state.json").read_text())
        litert_two = sorted(p.name for p in (run / "model").rglob("*.tflite"))
        assert main(["--resume", run.name, "--train.epochs", "3", "--export.litert", "int8"]) == 0
    finally:
        mp.undo()
    return home, run, after_two, state_two, version, litert_two


def test_run_directory_holds_everything(smoke_run):
    _, run, _, _, version, _ = smoke_run
    for name in ("config.yaml", "ariane_chat_format.json", "metrics.jsonl", "loss.png", "README.md", "summary.json",
                 "model/config.json", "model/model.weights.h5", "model/ariane_chat_format.json", "model/ariane_config.json",
                 "model/README.md"):
        assert (run / name).is_file(), name
    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert resolved["train"]["epochs"] == 3  # the resumed run's override
    assert resolved["data"]["version"] == version  # "latest" pinned to the splits it trained on
    card = (run / "README.md").read_text()
    assert f"Data version `{version}`" in card and "not a therapist" in card and "| 3 | 12 |" in card
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_resume_continues_step_count_and_optimizer(smoke_run):
    _, run, after_two, state_two, _, _ = smoke_run
    rows = read_metrics(run / "metrics.jsonl")
    epochs = [r for r in rows if r["type"] == "epoch"]
    assert [(r["epoch"], r["step"]) for r in epochs] == [(1, 4), (2, 8), (3, 12)]
    assert rows[: len(after_two)] == after_two  # the log goes on; nothing rewritten
    resumed = [r for r in rows[len(after_two):] if r["type"] == "train"]
    assert resumed[0]["step"] == 9  # not 1: the step counter carried on
    state = json.loads((run / "checkpoints" / "epoch-003" / "state.json").read_text())
    with np.load(run / "checkpoints" / "epoch-003" / "optimizer.npz") as opt3, \
            np.load(run / "checkpoints" / "epoch-002" / "optimizer.npz") as opt2:
        iterations = state["optimizer"].index(next(n for n in state["optimizer"] if n.endswith("iteration")))
        assert int(opt2[f"v{iterations:04d}"]) == 8 and int(opt3[f"v{iterations:04d}"]) == 12
        # AdamW's second moments only grow from their epoch-2 values (v_t >= beta2 · v_{t-1} over 4 steps):
        # they were restored, not restarted from zero.
        slot = next(i for i, n in enumerate(state["optimizer"]) if "velocity" in n and "embedding" in n)
        v2, v3 = opt2[f"v{slot:04d}"], opt3[f"v{slot:04d}"]
        assert (v3 >= 0.99 ** 4 * v2 - 1e-12).all() and v2.max() > 0
    assert state["best_epoch"] in (1, 2, 3) and state_two["epoch"] == 2


def test_export_ships_the_litert_files_its_config_names(smoke_run):
    """export.litert: [] writes none; [int8] writes model/litert/gpt2-<fingerprint>-int8.tflite, named
    by the fingerprint of the weights as the server reads them back, so the page uses it."""
    from ariane.decoder import DecoderWeights
    from ariane.model import load_model

    _, run, _, _, _, litert_two = smoke_run
    assert litert_two == []
    assert yaml.safe_load((run / "config.yaml").read_text())["export"]["litert"] == ["int8"]
    served = DecoderWeights.from_backbone(load_model(str(run / "model")).lm.backbone).fingerprint()
    assert sorted(p.name for p in (run / "model").rglob("*.tflite")) == [f"gpt2-{served}-int8.tflite"]
    assert (run / "model" / "litert" / f"gpt2-{served}-int8.tflite").read_bytes()[4:8] == b"TFL3"  # a LiteRT flatbuffer


def test_training_loss_falls_clearly(smoke_run):
    _, run, _, _, version, _ = smoke_run
    train = [r for r in read_metrics(run / "metrics.jsonl") if r["type"] == "train"]
    assert train[0]["step"] == 1 and train[0]["loss"] > 10.5  # ln(50257) = 10.8: random weights
    assert train[-1]["loss"] < train[0]["loss"] - 1.5
    epochs = [r for r in read_metrics(run / "metrics.jsonl") if r["type"] == "epoch"]
    assert epochs[-1]["val_loss"] < epochs[0]["val_loss"]
    assert epochs[-1]["val_perplexity"] == pytest.approx(np.exp(epochs[-1]["val_loss"]), rel=1e-3)


def test_the_exported_model_loads_and_generates(smoke_run):
    from ariane.generate import Generator
    from ariane.model import load_model
    from ariane.settings import GenerationConfig

    _, run, _, _, version, _ = smoke_run
    model = load_model(str(run / "model"))
    assert model.model_id == run.name and model.chat_format.version == "ariane-chat-v1"
    assert model.config["data_version"] == version and model.config["finetune"]["base"] == "random:tiny"
    prompt = model.chat_format.encode(model.tokenizer, [{"role": "user", "content": "hint please"}], max_tokens=200)
    out = Generator(model, jit=False).generate(prompt, GenerationConfig(temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=8, seed=0))
    assert out.stop_reason in ("end_of_turn", "max_new_tokens") and out.first_token_s is not None
    assert out.text == model.tokenizer.decode(out.token_ids)


def test_runs_lists_the_run(smoke_run, capsys, monkeypatch):
    home, run, _, _, version, _ = smoke_run
    monkeypatch.setenv("ARIANE_HOME", str(home))
    assert main(["runs"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(run.name))
    summary = json.loads((run / "summary.json").read_text())
    assert f"{summary['best_val_loss']:.4f}" in line and version in line and "finished" in line


def test_mixed_bfloat16_trains_and_exports_a_float32_preset(tmp_path, monkeypatch):
    """runtime.precision mixed_bfloat16 (the CPU/GPU speed option): it trains, the global Keras policy
    is given back, and the exported preset is float32 so serving computes as before."""
    import keras

    from ariane.model import load_model

    monkeypatch.setenv("ARIANE_HOME", str(tmp_path))
    write_dataset(tmp_path)
    before = keras.config.dtype_policy().name
    assert main(["--config", str(SMOKE), "--train.epochs", "1", "--runtime.precision", "mixed_bfloat16"]) == 0
    assert keras.config.dtype_policy().name == before
    (run,) = (tmp_path / "runs").iterdir()
    assert yaml.safe_load((run / "config.yaml").read_text())["runtime"]["precision"] == "mixed_bfloat16"
    (epoch,) = [r for r in read_metrics(run / "metrics.jsonl") if r.get("type") == "epoch"]
    assert np.isfinite(epoch["val_loss"]) and epoch["val_loss"] > 0
    keras_files = ("config.json", "task.json", "preprocessor.json")  # ariane_config.json records the training config
    assert not [name for name in keras_files if "mixed_bfloat16" in (run / "model" / name).read_text()]
    served = load_model(str(run / "model"))
    assert served.lm.backbone.dtype_policy.name == "float32"
    # the LiteRT file converted under the training policy is named for the float32 weights the server reads
    from ariane.decoder import DecoderWeights

    fingerprint = DecoderWeights.from_backbone(served.lm.backbone).fingerprint()
    assert (run / "model" / "litert" / f"gpt2-{fingerprint}-int8.tflite").is_file()


def test_a_precision_outside_the_list_is_refused():
    from finetune.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="runtime.precision is 'bfloat16'; use one of float32, mixed_bfloat16"):
        load_config(str(SMOKE), ["--runtime.precision", "bfloat16"])
