"""Training speed of GPT-2 124M: Ariane's KerasHub trainer (LoRA and full) next to transformers.

Run by hand, never in the tests (about 20 minutes on 2 quiet CPU cores; it waits for a quiet machine):

    .venv/bin/python bench/train_speed.py                       # every variant + transformers, one table
    .venv/bin/python bench/train_speed.py --only lora-r4 full    # some variants
    .venv/bin/python bench/train_speed.py --append-results       # also append the table to bench/RESULTS.md

Each variant runs in its own process (so peak memory is its own) through the same code as
`python -m finetune`: `finetune.base.prepare`, `finetune.optim.make_optimizer` (AdamW, warm-up,
clipping), `finetune.train.compile_for_training` (masked loss) and `keras.Model.fit`. Batches are
4 × 128 random tokens, all learned. transformers runs in bench/.venv-bench (see bench/hf_train.py).
Ratios are tokens/s against transformers' full fine-tuning.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_PYTHON = ROOT / "bench" / ".venv-bench" / "bin" / "python"
RESULTS = ROOT / "bench" / "RESULTS.md"
QUIET = [3.0, 0.0]  # (load threshold, seconds to wait for it) before each measurement; set by --quiet-load/--max-wait

# name -> config overrides (finetune/config.py fields). "+eigen" variants run with TF_ENABLE_ONEDNN_OPTS=0:
# on this 2-core machine TensorFlow's oneDNN matmul uses one core, Eigen's uses both.
VARIANTS = {
    "full": ["--method", "full"],
    "full-xla": ["--method", "full", "--runtime.jit_compile", "true"],
    "full-frozen-emb": ["--method", "full", "--train.freeze_embeddings", "true"],
    "lora-r4": ["--method", "lora", "--lora.rank", "4"],
    "lora-r4-xla": ["--method", "lora", "--lora.rank", "4", "--runtime.jit_compile", "true"],
    "lora-r4-spe4": ["--method", "lora", "--lora.rank", "4", "--runtime.steps_per_execution", "4"],
    "lora-r4-last4": ["--method", "lora", "--lora.rank", "4", "--lora.layers", "4"],
    "lora-r4-last4-xla": ["--method", "lora", "--lora.rank", "4", "--lora.layers", "4", "--runtime.jit_compile", "true"],
    "lora-r4-last2": ["--method", "lora", "--lora.rank", "4", "--lora.layers", "2"],
}
VARIANTS.update({f"{name}+eigen": args for name, args in list(VARIANTS.items())})
BF16 = ["--runtime.precision", "mixed_bfloat16"]  # bf16 matmuls (oneDNN, AVX512_BF16), float32 weights
VARIANTS.update({"full-bf16": ["--method", "full", *BF16], "lora-r4-bf16": ["--method", "lora", "--lora.rank", "4", *BF16],
                 "lora-r4-last4-bf16": ["--method", "lora", "--lora.rank", "4", "--lora.layers", "4", *BF16],
                 "lora-r4-xla-bf16": ["--method", "lora", "--lora.rank", "4", "--runtime.jit_compile", "true", *BF16]})  # fmt: skip
ENV = {name: {"TF_ENABLE_ONEDNN_OPTS": "0"} for name in VARIANTS if name.endswith("+eigen")}


def measure(name: str, batch: int, length: int, steps: int, warmup: int, threads: int = 0) -> dict:
    """Train `steps` steps of one variant in this process; tokens/s and peak memory."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import numpy as np
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)

    from finetune.base import load_base, prepare
    from finetune.config import load_config
    from finetune.optim import make_optimizer
    from finetune.train import compile_for_training, token_inputs

    cfg = load_config(None, ["--base", "random:124m", "--train.batch_size", str(batch), *VARIANTS[name]])
    import keras

    keras.config.set_dtype_policy(cfg.runtime.precision)  # as finetune.train does (this process trains once)
    model = load_base(cfg.base, seed=0, dtype=cfg.runtime.precision)
    counts = prepare(model, cfg)
    compile_for_training(model.lm, make_optimizer(cfg.train, 1000), cfg.runtime)
    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(0, 50257, (batch, length)).astype("int32"), "padding_mask": np.ones((batch, length), "int32")}
    y = rng.integers(0, 50257, (batch, length)).astype("int32")
    w = np.ones((batch, length), "float32")
    data = tf.data.Dataset.from_tensors((x, y, w)).repeat()
    spe = cfg.runtime.steps_per_execution
    warmup = -(-warmup // spe) * spe
    steps = -(-steps // spe) * spe

    class Clock(keras.callbacks.Callback):
        """Wall time of each execution (steps_per_execution steps), to take the median and the best."""

        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    with token_inputs(model.lm):
        t0 = time.perf_counter()
        model.lm.fit(data, steps_per_epoch=warmup, epochs=1, verbose=0)  # trace / compile
        compile_s = time.perf_counter() - t0
        clock = Clock()
        t0, c0 = time.perf_counter(), time.process_time()
        model.lm.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[clock])
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    step_times = np.diff([t0, *clock.ends]) / spe
    return {"name": name, **step_stats(step_times, batch * length), "cpu_s_per_step": round(cpu / steps, 3),
            "first_steps_s": round(compile_s, 1), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "trainable": counts["trainable_weights"]}


def step_stats(step_times, tokens_per_step: int) -> dict:
    """Median and best step: the cores are shared, and other work only ever slows a step down."""
    import statistics

    median, best = statistics.median(step_times), min(step_times)
    return {"tokens_per_s": round(tokens_per_step / median, 1), "best_tokens_per_s": round(tokens_per_step / best, 1),
            "step_s": round(median, 3), "best_step_s": round(best, 3)}


def wait_for_quiet(threshold: float, max_wait: float) -> None:
    """The cores are shared: wait (up to max_wait s) until the 1-minute load average is under threshold."""
    start = time.time()
    while os.getloadavg()[0] > threshold and time.time() - start < max_wait:
        time.sleep(10)


def run_child(args: list[str], python=sys.executable, extra_env=None) -> dict | None:
    wait_for_quiet(QUIET[0], QUIET[1])
    load = os.getloadavg()[0]
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), **(extra_env or {})}
    out = subprocess.run([str(python), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        print(f"  failed: {' '.join(args)}\n{out.stderr[-1500:]}", file=sys.stderr)
        return None
    return {**json.loads(lines[-1]), "load": f"{load:.1f}-{os.getloadavg()[0]:.1f}"}


def table(rows: list[dict], reference: dict | None) -> str:
    head = ("| variant | trained weights | tokens/s (best step) | vs transformers (best) | tokens/s (median step) "
            "| vs transformers (median) | CPU s/step | peak memory | first steps (trace/compile) | load avg |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        best = f"{r['best_tokens_per_s'] / reference['best_tokens_per_s']:.2f}×" if reference else "-"
        ratio = f"{r['tokens_per_s'] / reference['tokens_per_s']:.2f}×" if reference else "-"
        lines.append(f"| {r['name']} | {r['trainable']:,} | {r['best_tokens_per_s']:,.0f} | {best} | {r['tokens_per_s']:,.0f} | {ratio} "
                     f"| {r.get('cpu_s_per_step', '-')} | "
                     f"{r['peak_rss_mb']:,} MB | {r.get('first_steps_s', '-')} s | {r.get('load', '-')} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", choices=sorted(VARIANTS), help="variants to run (default: all)")
    p.add_argument("--batch", type=int, default=4)  # sequences per step
    p.add_argument("--length", type=int, default=128)  # tokens per sequence
    p.add_argument("--steps", type=int, default=10)  # timed steps (5,120 tokens at 4 × 128)
    p.add_argument("--warmup", type=int, default=2)  # untimed first steps (tracing, XLA compilation)
    p.add_argument("--threads", type=int, default=0, help="CPU threads for both libraries (0 = their default: all cores)")
    p.add_argument("--quiet-load", type=float, default=3.0, help="wait for the 1-min load average to drop under this ...")
    p.add_argument("--max-wait", type=float, default=300, help="... for at most this many seconds before each measurement")
    p.add_argument("--no-transformers", action="store_true", help="skip the transformers reference")
    p.add_argument("--hf-bf16", action="store_true", help="also run transformers with bf16 autocast (a row; ratios stay against fp32)")
    p.add_argument("--append-results", action="store_true", help="append the table to bench/RESULTS.md")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one variant in this process
    a = p.parse_args()
    if a.one:
        print(json.dumps(measure(a.one, a.batch, a.length, a.steps, a.warmup, a.threads)), flush=True)
        return

    QUIET[:] = [a.quiet_load, a.max_wait]
    shape = ["--batch", str(a.batch), "--length", str(a.length), "--steps", str(a.steps), "--warmup", str(a.warmup)]
    threads = ["--threads", str(a.threads or os.cpu_count())]
    load0 = os.getloadavg()
    references = []
    if not a.no_transformers and not BENCH_PYTHON.exists():
        sys.exit("transformers needs bench/.venv-bench: python3.11 -m venv bench/.venv-bench && "
                 "bench/.venv-bench/bin/pip install torch==2.13.0 transformers==5.23.0")

    def reference_run(when):
        print(f"transformers full ({when}) ...", flush=True)
        ref = run_child(["bench/hf_train.py", *shape, *threads], python=BENCH_PYTHON)
        if ref:
            references.append(ref)
            print(f"  {ref['best_tokens_per_s']:,.0f} tok/s best step, {ref['tokens_per_s']:,.0f} median", flush=True)

    if not a.no_transformers:
        reference_run("before")  # measured before and after the KerasHub variants: the cores are shared
    rows = []
    for name in a.only or VARIANTS:
        print(f"{name} ...", flush=True)
        row = run_child([__file__, "--one", name, *shape, "--threads", str(a.threads)], extra_env=ENV.get(name))
        if row:
            rows.append(row)
            print(f"  {row['best_tokens_per_s']:,.0f} tok/s best step, {row['tokens_per_s']:,.0f} median, {row['peak_rss_mb']:,} MB", flush=True)
    if not a.no_transformers:
        reference_run("after")
    if a.hf_bf16 and not a.no_transformers:
        print("transformers full, bf16 autocast ...", flush=True)
        bf16 = run_child(["bench/hf_train.py", *shape, *threads, "--bf16"], python=BENCH_PYTHON)
        if bf16:
            rows.append(bf16)
            print(f"  {bf16['best_tokens_per_s']:,.0f} tok/s best step, {bf16['tokens_per_s']:,.0f} median", flush=True)
    reference = None
    if references:
        reference = {**references[0], "name": "transformers full (torch CPU, AdamW), best of before/after runs ("
                     + " / ".join(f"{r['best_tokens_per_s']:.0f}" for r in references) + " tok/s)",
                     "best_tokens_per_s": max(r["best_tokens_per_s"] for r in references),
                     "tokens_per_s": max(r["tokens_per_s"] for r in references),
                     "cpu_s_per_step": round(sum(r["cpu_s_per_step"] for r in references) / len(references), 3),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in references),
                     "load": " / ".join(r["load"] for r in references)}
        rows.append(reference)
    load1 = os.getloadavg()
    text = table(rows, reference)
    print("\n" + text)
    if a.append_results:
        import tensorflow as tf

        cpus = os.cpu_count()
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        section = (
            f"\n## Training speed\n\n{stamp}, {platform.processor() or platform.machine()}, {cpus} CPU cores, no GPU; "
            f"TensorFlow {tf.__version__}, torch {reference.get('torch') if reference else '-'}; load average "
            f"{load0[0]:.1f} before, {load1[0]:.1f} after (the cores are shared).\n"
            f"GPT-2 124M (random weights), batch {a.batch} × {a.length} tokens, {a.steps} timed steps after {a.warmup}, "
            f"{a.threads or 'default (all cores)'} CPU threads.\n\n"
            f"    .venv/bin/python bench/train_speed.py {' '.join(sys.argv[1:])}\n\n{text}\n"
        )
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(section)
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
