"""One fine-tuning run: data → batches → Keras `fit` epoch by epoch → checkpoint → export.

`train(cfg)` creates `ARIANE_HOME/runs/<YYYYmmdd-HHMMSS>-<name>/`; `train(cfg, resume=RUN)` goes on
from a run's last checkpoint with its step counter and AdamW state. After each epoch: validation
loss and perplexity, a checkpoint, and early stopping. At the end the best epoch's weights are
exported as a KerasHub preset (`model/`, LoRA merged) with the chat format, a model card and its
LiteRT conversion (`model/litert/`, `export.litert`).
"""

from __future__ import annotations

import dataclasses
import io
import math
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from finetune.config import FinetuneConfig, dump_config


def say(*parts) -> None:
    print(*parts, flush=True)


@contextmanager
def token_inputs(lm):
    """Feed `lm` token ids directly: KerasHub's fit/evaluate would otherwise run its preprocessor on them."""
    preprocessor, lm.preprocessor = lm.preprocessor, None
    try:
        yield lm
    finally:
        lm.preprocessor = preprocessor


def compile_for_training(lm, optimizer, runtime) -> None:
    """Masked cross-entropy loss, exact per-token validation metrics, XLA and steps per execution."""
    import keras

    from finetune.optim import masked_loss

    lm.compile(
        optimizer=optimizer,
        loss=masked_loss(),
        # Weighted means over all tokens of all batches: exact per-assistant-token averages.
        weighted_metrics=[
            keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="nll"),
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        ],
        jit_compile=runtime.jit_compile,
        steps_per_execution=runtime.steps_per_execution,
    )
    optimizer.build(lm.trainable_variables)  # create AdamW's slots now, so a checkpoint can fill them


def _history(state: dict) -> list[dict]:
    return list(state.get("history", []))


def train(cfg: FinetuneConfig, resume: str | None = None, home=None) -> Path:
    """Run (or resume) fine-tuning; returns the run directory."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(cfg.runtime.precision)  # layers built from here on compute in it
    try:
        return _train(cfg, resume, home)
    finally:
        keras.config.set_dtype_policy(previous)  # a caller's later models (tests, notebooks) are not affected


def _train(cfg: FinetuneConfig, resume: str | None, home) -> Path:
    from finetune.distribute import is_chief, make_strategy, replicas

    strategy = make_strategy(cfg.runtime.strategy, cfg.runtime.cpu_devices)  # before TensorFlow does anything else

    import keras

    from ariane.settings import Settings
    from finetune import base as base_lib
    from finetune.batches import encode_rows, pack_rows, padding_fraction, plan_epoch, to_dataset
    from finetune.checkpoint import load_weights, restore_checkpoint, save_checkpoint
    from finetune.data import knowledge, load_splits
    from finetune.optim import make_optimizer
    from finetune.metrics import MetricsLog
    from finetune.progress import Progress
    from finetune.runs import find_run, new_run_dir, perplexity

    home = Path(home) if home is not None else Settings.from_env().home
    chief = is_chief()
    n_replicas = replicas(strategy)
    if cfg.train.batch_size % n_replicas:
        raise ValueError(f"train.batch_size {cfg.train.batch_size} must be a multiple of the {n_replicas} replicas")
    if resume:
        run_dir = find_run(home, resume)
    else:
        run_dir = new_run_dir(home, cfg.name) if chief else Path(tempfile.mkdtemp(prefix="ariane-worker-"))
    keras.utils.set_random_seed(cfg.seed)

    splits = load_splits(cfg.data.version, home, cfg.data.limit_train, cfg.data.limit_validation)
    # Pin "latest" to the version found, so config.yaml and --resume use these splits even after a rebuild.
    pinned = splits.path.name if splits.path.parent == Path(home) / "datasets" else str(splits.path)
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, version=pinned))
    with strategy.scope():
        model = base_lib.load_base(cfg.base, cfg.seed, dtype=cfg.runtime.precision)
        counts = base_lib.prepare(model, cfg)
    lm = model.lm
    context = int(lm.backbone.max_sequence_length)
    if cfg.data.sequence_length > context:
        raise ValueError(f"data.sequence_length {cfg.data.sequence_length} is longer than the model's context ({context} tokens)")

    entries, scenario = knowledge()
    L = cfg.data.sequence_length
    train_rows, skipped = encode_rows(splits.train, model.chat_format, model.tokenizer, entries, scenario, L)
    val_rows, val_skipped = encode_rows(splits.validation, model.chat_format, model.tokenizer, entries, scenario, L)
    n_dialogues, dialogue_rows = len(train_rows), train_rows
    if cfg.data.batching == "pack":
        train_rows = pack_rows(train_rows, L)
    B = cfg.train.batch_size
    plan = dict(batching=cfg.data.batching, sequence_length=L, pad_to_multiple=cfg.data.pad_to_multiple, bucket_pool=cfg.data.bucket_pool)
    steps_per_epoch = math.ceil(len(train_rows) / B)
    total_steps = steps_per_epoch * cfg.train.epochs
    val_batches = plan_epoch(val_rows, B, **{**plan, "batching": "bucket" if cfg.data.batching == "pack" else cfg.data.batching}, shuffle=False)
    first = plan_epoch(train_rows, B, **plan, seed=[cfg.seed, 0])
    padding = padding_fraction(first)
    padding_pad = padding_fraction(plan_epoch(dialogue_rows, B, **{**plan, "batching": "pad"}, shuffle=False))

    with strategy.scope():
        optimizer = make_optimizer(cfg.train, total_steps)
        compile_for_training(lm, optimizer, cfg.runtime)

    log = MetricsLog(run_dir / "metrics.jsonl", enabled=chief)
    state = {"epoch": 0, "best_val_loss": None, "best_epoch": None, "bad_epochs": 0, "history": [], "train_seconds": 0.0}
    if resume:
        with strategy.scope():
            state = restore_checkpoint(run_dir, lm, optimizer)
        say(f"resuming {run_dir.name} after epoch {state['epoch']} at step {int(optimizer.iterations.numpy())}")
    if chief:  # a resumed run records its overrides (e.g. more epochs) too
        dump_config(cfg, run_dir / "config.yaml")
        model.chat_format.save(run_dir)

    say(f"run {run_dir}")
    say(f"data {splits.version}: {n_dialogues} training dialogues ({skipped} too long), {len(val_rows)} validation ({val_skipped} too long)")
    say(f"model {cfg.base}, {cfg.method}: {counts['trainable_weights']:,} of {counts['weights']:,} weights trained"
        + (f" ({counts['lora_projections']} LoRA projections)" if counts["lora_projections"] else ""))
    say(f"batches {B} x <= {L} tokens, {cfg.data.batching}: padding {100 * padding:.1f}% (padding every row to the longest: {100 * padding_pad:.1f}%); "
        f"{steps_per_epoch} steps/epoch, {total_steps} steps, {n_replicas} replica(s)")

    started = time.time()
    epoch_time0 = state.get("train_seconds", 0.0)
    stop_reason = "finished"
    for epoch in range(state["epoch"], cfg.train.epochs):
        batches = first if epoch == 0 else plan_epoch(train_rows, B, **plan, seed=[cfg.seed, epoch])
        step0 = int(optimizer.iterations.numpy())
        progress = Progress([b.tokens for b in batches], epoch, cfg.train.epochs, step0, total_steps, log,
                            every=cfg.runtime.log_every, start_time=started - epoch_time0,
                            stream=sys.stdout if chief else io.StringIO())
        t0 = time.time()
        with token_inputs(lm):
            hist = lm.fit(to_dataset(batches), epochs=epoch + 1, initial_epoch=epoch, steps_per_epoch=len(batches),
                          callbacks=[progress], shuffle=False, verbose=0)  # batches come shuffled
            train_s = time.time() - t0
            val = lm.evaluate(to_dataset(val_batches), steps=len(val_batches), return_dict=True, verbose=0)
        step = int(optimizer.iterations.numpy())
        row = {"type": "epoch", "epoch": epoch + 1, "step": step, "loss": round(float(hist.history["loss"][-1]), 5),
               "val_loss": round(float(val["nll"]), 5), "val_perplexity": round(perplexity(float(val["nll"])), 4),
               "val_accuracy": round(float(val["accuracy"]), 5), "tokens_per_s": round(sum(b.tokens for b in batches) / train_s, 1),
               "padding_fraction": round(padding_fraction(batches), 4), "epoch_seconds": round(train_s, 2),
               "data_version": splits.version}
        improved = state["best_val_loss"] is None or row["val_loss"] < state["best_val_loss"]
        if improved:
            state.update(best_val_loss=row["val_loss"], best_epoch=epoch + 1, bad_epochs=0)
        else:
            state["bad_epochs"] += 1
        state["history"] = _history(state) + [row]
        state.update(epoch=epoch + 1, step=step, train_seconds=epoch_time0 + time.time() - started)
        if chief:
            save_checkpoint(run_dir, lm, optimizer, state, keep=cfg.runtime.keep_checkpoints, protect=state["best_epoch"])
        log.write(**row)
        say(f"epoch {epoch + 1}/{cfg.train.epochs}: loss {row['loss']:.4f}  val loss {row['val_loss']:.4f}  "
            f"val ppl {row['val_perplexity']:.2f}  {row['tokens_per_s']:,.0f} tok/s" + ("  (best)" if improved else ""))
        patience = cfg.train.early_stopping_patience
        if patience and state["bad_epochs"] >= patience and epoch + 1 < cfg.train.epochs:
            stop_reason = "stopped early"
            say(f"stopping early after epoch {epoch + 1}: no lower validation loss for {patience} epochs")
            break

    if not state["history"]:
        raise RuntimeError(f"{run_dir.name}: nothing trained (already at epoch {state['epoch']} of {cfg.train.epochs}); pass --epochs N to go further")
    if not chief:  # other workers of a multi-worker run: the chief exports
        shutil.rmtree(run_dir, ignore_errors=True)
        return run_dir
    if state["best_epoch"] != state["epoch"]:
        with strategy.scope():
            load_weights(run_dir, lm, state["best_epoch"])
        say(f"exporting epoch {state['best_epoch']}, the best on validation loss")
    return export(run_dir, model, cfg, state, splits, counts, n_dialogues, len(val_rows), padding, padding_pad, stop_reason, n_replicas)


def export(run_dir, model, cfg, state, splits, counts, n_train, n_val, padding, padding_pad, status, n_replicas) -> Path:
    """Write model/ (preset + chat format + config + LiteRT files), summary.json, loss.png and the model card."""
    from ariane.model import save_model
    from finetune.card import plot_loss, write_card, write_summary

    history = state["history"]
    best = next(r for r in history if r["epoch"] == state["best_epoch"])
    summary = {
        "status": status, "data_version": splits.version, "train_dialogues": n_train, "validation_dialogues": n_val,
        "epochs_done": state["epoch"], "steps": state["step"], "best_epoch": state["best_epoch"],
        "best_val_loss": best["val_loss"], "best_val_perplexity": best["val_perplexity"],
        "train_seconds": round(state["train_seconds"], 1),
        "tokens_per_s": round(sum(r["tokens_per_s"] for r in history) / len(history), 1),
        "padding_fraction": round(padding, 4), "padding_fraction_if_padded_to_longest": round(padding_pad, 4),
        "replicas": n_replicas, "chat_format": model.chat_format.version, **counts, "epochs": history,
    }
    model_dir = Path(run_dir) / "model"
    shutil.rmtree(model_dir, ignore_errors=True)
    meta = {"run_name": Path(run_dir).name, "base": cfg.base, "method": cfg.method, "data_version": splits.version,
            "best_val_loss": best["val_loss"], "best_val_perplexity": best["val_perplexity"], "finetune": cfg.to_dict()}
    save_model(model, model_dir, meta)
    if cfg.export.litert:  # the page then serves it without converting, wherever the folder goes
        from ariane.litert_convert import write_into_model

        t = time.time()
        files = write_into_model(model_dir, cfg.export.litert)
        say(f"LiteRT {', '.join(cfg.export.litert)} written to {model_dir / 'litert'} ({time.time() - t:.1f} s; "
            f"{sum(f.stat().st_size for f in files) / 1e6:.1f} MB)")
    write_summary(run_dir, summary)
    plot_loss(Path(run_dir) / "metrics.jsonl", Path(run_dir) / "loss.png")
    write_card(run_dir, cfg.to_dict(), summary)
    say(f"model written to {model_dir} (serve it with ARIANE_MODEL={model_dir}, or `python -m finetune promote {Path(run_dir).name}`)")
    return Path(run_dir)
