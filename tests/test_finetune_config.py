"""Fine-tuning config, dialogue inputs and batching: no model needed."""

import numpy as np
import pytest
from finetune_fixtures import SMOKE

from ariane.dialogues import DialogueError, dialogue_inputs
from finetune.batches import Row, make_batch, pack_rows, padding_fraction, plan_epoch
from finetune.config import ConfigError, FinetuneConfig, dump_config, load_config


def test_yaml_then_dotted_and_bare_overrides():
    cfg = load_config(SMOKE, ["--train.epochs", "5", "--lora.rank=8", "--jit_compile", "true", "--learning_rate", "1e-4"])
    assert cfg.base == "random:tiny" and cfg.name == "smoke"
    assert cfg.train.epochs == 5 and cfg.lora.rank == 8 and cfg.runtime.jit_compile is True
    assert cfg.train.learning_rate == pytest.approx(1e-4)
    assert cfg.data.limit_train == 16  # from the file


def test_config_errors_say_what_to_write():
    with pytest.raises(ConfigError, match="unknown option --epoch"):
        load_config(None, ["--epoch", "2"])
    with pytest.raises(ConfigError, match="train.epochs"):
        load_config(None, ["--train.epochs", "two"])
    with pytest.raises(ConfigError, match="method is 'qlora'"):
        load_config(None, ["--method", "qlora"])
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) train.lr"):
        load_config(None, base={"train": {"lr": 1}})


def test_resolved_config_round_trips(tmp_path):
    cfg = load_config(SMOKE, ["--lora.targets", "query,key,value"])
    path = dump_config(cfg, tmp_path / "config.yaml")
    again = load_config(path)
    assert again == cfg and again.lora.targets == ("query", "key", "value")
    assert "epochs: 3" in path.read_text()


def test_every_config_field_has_a_commented_default():
    import dataclasses
    import inspect

    from finetune import config

    for cls in (config.FinetuneConfig, config.DataConfig, config.LoraConfig, config.TrainConfig, config.RuntimeConfig,
                config.ExportConfig):
        source = inspect.getsource(cls)
        for f in dataclasses.fields(cls):
            line = next(ln for ln in source.splitlines() if ln.strip().startswith(f"{f.name}:"))
            assert "=" in line and ("#" in line or dataclasses.is_dataclass(f.default_factory)), f"{cls.__name__}.{f.name}"


def test_dialogue_inputs_resolve_sources_and_hint():
    from ariane.knowledge.entries import load_entries
    from ariane.knowledge.scenario import load_scenario

    entries, scenario = {e.id: e for e in load_entries()}, load_scenario()
    record = {"id": "d1", "messages": [{"role": "user", "content": "I'm stressed and stuck"}, {"role": "assistant", "content": "ok"}],
              "context": {"sources": ["stress-001"], "room": "open-space", "puzzle": "overflowing-inbox", "hint_level": 2}}
    messages, passages, game = dialogue_inputs(record, entries, scenario)
    assert messages[0]["role"] == "user" and [p.id for p in passages] == ["stress-001"]
    assert passages[0].answer == entries["stress-001"].answer
    assert (game.room, game.puzzle, game.hint_level, game.hint_total) == ("The Open Space", "The overflowing inbox", 2, 4)
    assert game.hint == scenario.puzzles["overflowing-inbox"].hints[1]
    plain = {"messages": record["messages"], "context": {"sources": [], "room": None, "puzzle": None, "hint_level": None}}
    assert dialogue_inputs(plain, entries, scenario)[1:] == ([], None)
    with pytest.raises(DialogueError, match="d1.*'stress-999'"):
        dialogue_inputs({**record, "context": {"sources": ["stress-999"]}}, entries, scenario)
    with pytest.raises(DialogueError, match="hint_level 9"):
        dialogue_inputs({**record, "context": {"puzzle": "overflowing-inbox", "hint_level": 9}}, entries, scenario)


def _rows(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [Row(rng.integers(0, 50000, n + 1).astype(np.int32), (rng.random(n + 1) < 0.5).astype(np.int8)) for n in lengths]


def test_labels_are_the_next_token_and_weights_follow_the_label():
    row = Row(np.array([10, 11, 12, 13, 14], np.int32), np.array([0, 0, 1, 1, 0], np.int8))
    b = make_batch([row], batch_size=2, width=6)
    assert b.token_ids[0, :4].tolist() == [10, 11, 12, 13] and b.labels[0, :4].tolist() == [11, 12, 13, 14]
    assert b.sample_weight[0].tolist() == [0, 1, 1, 0, 0, 0]  # predicting 12 and 13 is learned
    assert b.padding_mask[0].tolist() == [True] * 4 + [False] * 2
    assert not b.padding_mask[1].any() and not b.sample_weight[1].any()  # the top-up row is empty


def test_bucketing_cuts_padding_and_keeps_every_dialogue_once():
    lengths = list(np.random.default_rng(1).integers(40, 280, 200))
    rows = _rows(lengths)
    bucket = plan_epoch(rows, 8, batching="bucket", sequence_length=512, seed=[1, 0])
    pad = plan_epoch(rows, 8, batching="pad", sequence_length=512, seed=[1, 0])
    assert padding_fraction(bucket) < 0.1 < 0.3 < padding_fraction(pad)
    seen = sorted(int(b.padding_mask[i].sum()) for b in bucket for i in range(8) if b.padding_mask[i].any())
    assert seen == sorted(lengths)
    assert all(b.token_ids.shape[1] % 16 == 0 for b in bucket)
    again = plan_epoch(rows, 8, batching="bucket", sequence_length=512, seed=[1, 0])
    assert all((a.token_ids == b.token_ids).all() for a, b in zip(bucket, again))  # same seed, same order (resume)


def test_packing_fills_rows_without_splitting_dialogues():
    rows = _rows([100, 300, 200, 50, 400, 60])
    packed = pack_rows(rows, sequence_length=511)
    assert all(len(r.ids) <= 512 for r in packed)
    assert sum(len(r.ids) for r in packed) == sum(len(r.ids) for r in rows)
    assert len(packed) == 3
    batches = plan_epoch(packed, 2, batching="pack", sequence_length=511, seed=0)
    assert {b.token_ids.shape for b in batches} == {(2, 511)}
