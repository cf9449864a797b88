"""Hugging Face transformers' GPT-2 124M training speed, for `bench/train_speed.py` to compare against.

Runs in the bench environment (torch and transformers are not Ariane dependencies):

    python3.11 -m venv bench/.venv-bench
    bench/.venv-bench/bin/pip install torch==2.13.0 transformers==5.23.0   # torch==2.13.0: the CPU wheel
    bench/.venv-bench/bin/python bench/hf_train.py --batch 4 --length 128 --steps 8

Full fine-tuning with torch.optim.AdamW and global-norm clipping, the same step Ariane's trainer
takes. Prints one JSON line: tokens/s (median and best step) and peak resident memory. Random weights of the exact 124M
architecture (GPT2Config() defaults): speed does not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def run(batch: int, length: int, steps: int, warmup: int, threads: int, bf16: bool = False) -> dict:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config())
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    ids = torch.randint(0, 50257, (batch, length))

    import contextlib

    def step():
        # --bf16: torch's CPU autocast (bf16 matmuls, float32 weights and optimizer), the peer of Keras's mixed_bfloat16
        with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss)

    for _ in range(warmup):
        step()
    import statistics

    times = []
    cpu0 = time.process_time()
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    cpu = time.process_time() - cpu0
    median, best = statistics.median(times), min(times)
    return {
        "name": "transformers full (torch CPU, AdamW" + (", bf16 autocast)" if bf16 else ")"),
        "tokens_per_s": round(batch * length / median, 1),  # median step: the cores are shared
        "best_tokens_per_s": round(batch * length / best, 1),  # best step: least disturbed
        "step_s": round(median, 3),
        "best_step_s": round(best, 3),
        "cpu_s_per_step": round(cpu / steps, 3),  # all threads
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "trainable": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=4)  # sequences per step
    p.add_argument("--length", type=int, default=128)  # tokens per sequence
    p.add_argument("--steps", type=int, default=10)  # timed steps
    p.add_argument("--warmup", type=int, default=2)  # untimed steps first
    p.add_argument("--threads", type=int, default=2)  # torch intra-op threads (this machine: 2 cores)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (mixed precision)")
    a = p.parse_args()
    print(json.dumps(run(a.batch, a.length, a.steps, a.warmup, a.threads, a.bf16)), flush=True)


if __name__ == "__main__":
    main()
