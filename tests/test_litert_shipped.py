"""A model folder that ships its LiteRT file (`<model>/litert/`) is served without converting;
a file converted from other weights is never used; `python -m ariane.litert_convert --into-model`
writes the file into a folder. (The fine-tune export is checked in tests/test_finetune_run.py.)"""

import logging
import shutil
import time

import pytest

from ariane.decoder import DecoderWeights
from ariane.generate import Generator
from ariane.litert_convert import file_name, load_or_convert, main, shipped_file, write_into_model
from ariane.model import build_model, load_model, save_model
from ariane.settings import GenerationConfig

GREEDY = GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=8, max_seconds=600)


def fingerprint(model) -> str:
    return DecoderWeights.from_backbone(model.lm.backbone).fingerprint()


@pytest.fixture(scope="module")
def shipped_dir(tiny_model, tmp_path_factory):
    """The tiny model saved as a preset, with its int8 file written into it."""
    folder = save_model(tiny_model, tmp_path_factory.mktemp("models") / "tiny-shipped", {"run_name": "tiny-shipped"})
    (path,) = write_into_model(folder, ["int8"])
    assert path == folder / "litert" / file_name(fingerprint(tiny_model), "int8")
    assert path.stat().st_mode & 0o777 == 0o644  # readable by whoever serves a copy of the folder
    return folder


def test_a_shipped_int8_file_is_served_with_an_empty_cache_and_no_conversion(shipped_dir, ariane_home, caplog):
    model = load_model(str(shipped_dir))
    assert model.source == str(shipped_dir.resolve())
    gen = Generator(model, runtime="litert", precision="int8", batching=False)  # cache: ARIANE_HOME/cache/litert
    with caplog.at_level(logging.INFO, logger="ariane.litert_convert"):
        prompt = model.chat_format.encode(model.tokenizer, [{"role": "user", "content": "hint please"}], max_tokens=200)
        out = gen.generate(prompt, GREEDY)
    assert len(out.token_ids) > 0
    assert not (ariane_home / "cache" / "litert").exists(), "the model was converted although it ships its file"
    assert "LiteRT int8 model shipped with the model" in caplog.text
    assert "converted" not in caplog.text


def test_a_file_shipped_for_other_weights_is_ignored_and_the_model_converted(shipped_dir, tmp_path, caplog):
    other = build_model(seed=1)  # same architecture, other weights
    folder = save_model(other, tmp_path / "other")
    stale = shipped_dir / "litert" / file_name(fingerprint(load_model(str(shipped_dir))), "int8")
    (folder / "litert").mkdir()
    shutil.copy(stale, folder / "litert" / stale.name)  # e.g. left there by an earlier export of other weights
    cache = tmp_path / "cache"
    with caplog.at_level(logging.INFO, logger="ariane.litert_convert"):
        blob = load_or_convert(DecoderWeights.from_backbone(other.lm.backbone), "int8", cache, str(folder))
    assert blob != stale.read_bytes()
    assert [p.name for p in cache.iterdir()] == [file_name(fingerprint(other), "int8")]
    assert "ignoring " + stale.name in caplog.text and "converted the model to LiteRT int8" in caplog.text

    # --into-model replaces the stale file by this folder's own
    assert main(["--model", str(folder), "--into-model"]) == 0
    assert [p.name for p in (folder / "litert").iterdir()] == [file_name(fingerprint(other), "int8")]


def test_into_model_needs_a_model_folder(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--model", "random:tiny", "--into-model"])
    assert exit_.value.code == 2
    assert "--into-model writes into a model folder" in capsys.readouterr().err


def test_an_hf_model_without_a_reachable_file_falls_back_quietly():
    """Offline (or a repo that ships none): no error and no wait, the cache or a conversion follows."""
    t = time.monotonic()
    assert shipped_file("hf://ariane-tests/no-such-model", "gpt2-0-int8.tflite") is None
    assert time.monotonic() - t < 15
    assert shipped_file("gpt2_base_en", "gpt2-0-int8.tflite") is None  # a preset name ships nothing
    assert shipped_file("", "gpt2-0-int8.tflite") is None
