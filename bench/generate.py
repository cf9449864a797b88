"""Decode speed of GPT-2 124M on this machine: Ariane's runtimes, KerasHub generate() and
Hugging Face transformers, on the same prompts, in one run (run by hand).

Every path runs in its own subprocess (clean peak memory, no shared caches), round-robin for
`--rounds` rounds so that other jobs on a shared machine hit every path alike; the best run of
each path is kept. Batch 1, a 64-token prompt, 64 new tokens (greedy, end-of-turn ignored);
time to first token also for a 300-token prompt; random weights of the exact 124M architecture
(speed does not depend on their values).

    .venv/bin/python bench/generate.py --write          # all paths; writes bench/RESULTS.md
    .venv/bin/python bench/generate.py --paths litert-int8,hf-fp32 --rounds 1

transformers runs in bench/.venv-bench (python3.11 -m venv bench/.venv-bench &&
bench/.venv-bench/bin/pip install torch==2.13.0 transformers==5.23.0); the JAX rows in
bench/.venv-jax (a venv that sees .venv's packages, plus jax==0.10.2: jax 0.12 needs Python 3.12).
Paths whose environment is missing are skipped and said so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_PY = ROOT / "bench" / ".venv-bench" / "bin" / "python"
JAX_PY = ROOT / "bench" / ".venv-jax" / "bin" / "python"

PROMPT_LEN, NEW_TOKENS, LONG_PROMPT = 64, 64, 300  # tokens
CONCURRENT = 8  # streams for the batching rows
# path -> (description, python, extra environment)
PATHS = {
    "hf-fp32": ("transformers eager fp32", BENCH_PY, {}),
    "hf-bf16": ("transformers eager bf16", BENCH_PY, {}),
    "hf-compile": ("transformers torch.compile + static cache fp32", BENCH_PY, {}),
    "kh-generate": ("KerasHub generate() (TF, XLA)", sys.executable, {"KERAS_BACKEND": "tensorflow"}),
    "kh-generate-jax": ("KerasHub generate() (JAX)", JAX_PY, {"KERAS_BACKEND": "jax"}),
    "keras-jit": ("Ariane keras runtime, TF XLA, fp32", sys.executable, {"KERAS_BACKEND": "tensorflow"}),
    "keras-jit-jax": ("Ariane keras runtime, jax.jit, fp32", JAX_PY, {"KERAS_BACKEND": "jax"}),
    "litert-fp32": ("Ariane litert fp32", sys.executable, {}),
    "litert-int8": ("Ariane litert int8", sys.executable, {}),
    "batched-int8": (f"Ariane litert int8, batching on, {CONCURRENT} streams", sys.executable, {}),
    "batched-fp32": (f"Ariane litert fp32, batching on, {CONCURRENT} streams", sys.executable, {}),
}


def prompts(n: int, count: int = 1, seed: int = 0) -> list:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [[int(t) for t in rng.integers(0, 50000, n)] for _ in range(count)]


# ---- workers: one path, in this process --------------------------------------------------------
def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ariane_generator(path: str, cache_dir: str):
    from ariane.generate import Generator
    from ariane.model import gpt2_124m

    model = gpt2_124m()
    kw = {"keras-jit": dict(runtime="keras", jit=True), "keras-jit-jax": dict(runtime="keras", jit=True),
          "litert-fp32": dict(runtime="litert", precision="fp32"), "litert-int8": dict(runtime="litert", precision="int8"),
          "batched-int8": dict(runtime="litert", precision="int8", batching=True, slots=CONCURRENT),
          "batched-fp32": dict(runtime="litert", precision="fp32", batching=True, slots=CONCURRENT)}[path]  # fmt: skip
    gen = Generator(model, cache_dir=Path(cache_dir), **kw)
    gen.end_token_id = -1  # random weights: always generate NEW_TOKENS
    return gen


def worker_ariane(path: str, repeats: int, cache_dir: str) -> dict:
    from ariane.settings import GenerationConfig

    t = time.perf_counter()
    gen = _ariane_generator(path, cache_dir)
    gen.warm_up(LONG_PROMPT)
    gen.warm_up(PROMPT_LEN)
    warm_s = time.perf_counter() - t
    cfg = GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=NEW_TOKENS, max_seconds=600)
    one = GenerationConfig(temperature=0, max_new_tokens=1, max_seconds=600)
    alone = None
    if path.startswith("batched"):  # the same model without batching, in this process, for the one-stream comparison
        alone = _ariane_generator(path.replace("batched", "litert"), cache_dir)
        alone.warm_up(LONG_PROMPT)
    runs, ttft, ttft_long, e2e, agg, unbatched, single_decode = [], [], [], [], [], [], []
    for r in range(repeats):  # the batched paths alternate: one stream without batching, one with, CONCURRENT streams
        if alone is not None:
            s = alone.generate(prompts(PROMPT_LEN)[0], cfg)
            unbatched.append((len(s.token_ids) - 1) / (s.total_s - s.first_token_s))
        s = gen.generate(prompts(PROMPT_LEN)[0], cfg)
        runs.append((len(s.token_ids) - 1) / (s.total_s - s.first_token_s))
        e2e.append(len(s.token_ids) / s.total_s)
        ttft.append(s.first_token_s)
        ttft_long.append(gen.generate(prompts(LONG_PROMPT)[0], one).first_token_s)
        if path.startswith("batched"):
            agg.append(_concurrent(gen, cfg, seed=r + 1))
            sched = gen.scheduler()  # one stream's decode-phase tokens/s, measured the same way
            steps, decode_s = sched.steps, sched.decode_s
            gen.generate(prompts(PROMPT_LEN)[0], cfg)
            single_decode.append((sched.steps - steps) / (sched.decode_s - decode_s))
    out = {"tok_s": max(runs), "tok_s_runs": [round(r, 1) for r in runs], "first_token_s": min(ttft),
           "first_token_300_s": min(ttft_long), "warm_up_s": warm_s, "e2e_tok_s": max(e2e)}  # fmt: skip
    if agg:
        out.update({"aggregate_tok_s": max(a for a, _, _ in agg), "aggregate_runs": [round(a, 1) for a, _, _ in agg],
                    "e2e_runs": [round(x, 1) for x in e2e], "mean_batch": min(b for _, b, _ in agg),
                    "decode_phase_runs": [round(d, 1) for _, _, d in agg], "single_decode_runs": [round(x, 1) for x in single_decode],
                    "unbatched_tok_s": max(unbatched), "unbatched_runs": [round(x, 1) for x in unbatched]})  # fmt: skip
    out["peak_rss_mb"] = _peak_mb()
    return out


def _concurrent(gen, cfg, seed: int) -> tuple[float, float, float]:
    """(aggregate tokens/s, mean batch, decode-phase tokens/s) of CONCURRENT streams started
    together (different 64-token prompts). The first is from the first submission to the last
    token (prefills and joins included); the last counts only the time in decode steps."""
    sched = gen.scheduler()
    steps, rows, decode_s = sched.steps, sched.rows_decoded, sched.decode_s
    streams = [gen.stream(p, cfg) for p in prompts(PROMPT_LEN, CONCURRENT, seed=seed)]
    threads = [threading.Thread(target=lambda s=s: [None for _ in s]) for s in streams]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    tok_s = sum(len(s.token_ids) for s in streams) / (time.perf_counter() - t)
    return tok_s, (sched.rows_decoded - rows) / max(sched.steps - steps, 1), (sched.rows_decoded - rows) / (sched.decode_s - decode_s)


def worker_keras_hub(repeats: int) -> dict:
    """KerasHub's own generate(): greedy, prompt padded to PROMPT_LEN + NEW_TOKENS."""
    import numpy as np

    from ariane.model import gpt2_124m

    lm = gpt2_124m().lm
    lm.preprocessor = None
    lm.compile(sampler="greedy")
    p = np.array(prompts(PROMPT_LEN)[0])

    def run(new: int) -> float:
        length = PROMPT_LEN + new
        x = np.zeros((1, length), "int32")
        x[0, :PROMPT_LEN] = p
        mask = np.zeros((1, length), bool)
        mask[0, :PROMPT_LEN] = True
        t = time.perf_counter()
        lm.generate({"token_ids": x, "padding_mask": mask}, stop_token_ids=None)
        return time.perf_counter() - t

    t = time.perf_counter()
    run(NEW_TOKENS), run(1)  # compile both shapes
    warm_s = time.perf_counter() - t
    full = [run(NEW_TOKENS) for _ in range(repeats)]
    first = [run(1) for _ in range(repeats)]
    tok_s = [(NEW_TOKENS - 1) / max(f - min(first), 1e-9) for f in full]
    return {"tok_s": max(tok_s), "tok_s_runs": [round(r, 1) for r in tok_s], "first_token_s": min(first),
            "warm_up_s": warm_s, "peak_rss_mb": _peak_mb()}  # fmt: skip


def run_worker(path: str, repeats: int, cache_dir: str, timeout: int) -> dict:
    desc, python, env = PATHS[path]
    if not Path(python).exists():
        return {"path": path, "skipped": f"{python} missing (see this script's docstring)"}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    if path.startswith("hf-"):
        prompt_file = Path(cache_dir) / "prompt.json"
        prompt_file.write_text(json.dumps({"short": prompts(PROMPT_LEN)[0], "long": prompts(LONG_PROMPT)[0]}))
        args = [str(python), str(ROOT / "bench" / "hf_generate.py"), "--prompt-file", str(prompt_file),
                "--new-tokens", str(NEW_TOKENS), "--repeats", str(repeats), "--dtype", "bfloat16" if path == "hf-bf16" else "float32"]  # fmt: skip
        args += ["--compile"] if path == "hf-compile" else []
    else:
        args = [str(python), __file__, "--worker", path, "--repeats", str(repeats), "--cache-dir", cache_dir]
    try:
        p = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"path": path, "skipped": f"over {timeout} s"}
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    if p.returncode or not lines:
        return {"path": path, "skipped": f"failed ({p.returncode}): {p.stderr.strip().splitlines()[-1:]}"}
    return {"path": path, "desc": desc, **json.loads(lines[-1]), "load": os.getloadavg()[0]}


# ---- the report ----------------------------------------------------------------------------------
def merge(rounds: list) -> dict:
    """Per path: the run with the best decode tokens/s, plus every round's figure."""
    best: dict = {}
    for r in rounds:
        if "skipped" in r:
            best.setdefault(r["path"], r)
            continue
        prev = best.get(r["path"])
        runs = (prev or {}).get("all_tok_s", []) + r["tok_s_runs"]
        if prev is None or "skipped" in prev or r["tok_s"] > prev["tok_s"]:
            best[r["path"]] = r
        best[r["path"]]["all_tok_s"] = runs
    return best


def table(best: dict, fidelity: dict | None) -> str:
    base = best.get("hf-fp32", {}).get("tok_s")
    rows = ["| path | decode tok/s (best; all runs) | × transformers fp32 | first token, 64 / 300-token prompt (s) | warm-up (s) | peak RSS (MB) |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    for key in PATHS:
        r = best.get(key)
        if r is None:
            continue
        if "skipped" in r:
            rows.append(f"| {PATHS[key][0]} | skipped: {r['skipped']} | | | | |")
            continue
        ratio = f"{r['tok_s'] / base:.2f}×" if base else "—"
        ttft = f"{r['first_token_s']:.3f} / {r['first_token_300_s']:.3f}" if "first_token_300_s" in r else f"{r['first_token_s']:.3f}"
        rows.append(f"| {r['desc']} | **{r['tok_s']:.1f}** ({', '.join(f'{x:.1f}' for x in r['all_tok_s'])}) | {ratio} | {ttft} | "
                    f"{r.get('warm_up_s', 0):.1f} | {r['peak_rss_mb']:.0f} |")  # fmt: skip
    out = "\n".join(rows)
    batched = [best[k] for k in PATHS if "aggregate_tok_s" in best.get(k, {})]
    if batched:
        out += "\n\n" + batching_table(batched)
    if fidelity:
        out += "\n\n" + fidelity_table(fidelity)
    return out


def batching_table(records: list) -> str:
    """Concurrent streams vs one, from runs taken back to back in one process (the best round);
    ratios are medians over the pairs, since the machine is shared."""
    def runs(xs):
        return ", ".join(f"{x:.0f}" for x in xs)

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(a, b))

    rows = [f"| path | {CONCURRENT} streams, aggregate tok/s end to end (runs) | one stream end to end (runs) | ratio | "
            f"decode steps only: {CONCURRENT} rows vs 1 row, tok/s | ratio | one stream: batching on vs off, decode tok/s | change |",
            "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in records:
        rows.append(
            f"| {r['desc']} | {runs(r['aggregate_runs'])} | {runs(r['e2e_runs'])} | **{ratio(r['aggregate_runs'], r['e2e_runs']):.1f}×** | "
            f"{runs(r['decode_phase_runs'])} vs {runs(r['single_decode_runs'])} | **{ratio(r['decode_phase_runs'], r['single_decode_runs']):.1f}×** | "
            f"{runs(r['tok_s_runs'])} vs {runs(r['unbatched_runs'])} | **{ratio(r['tok_s_runs'], r['unbatched_runs']) - 1:+.0%}** |"
        )
    return "\n".join(rows)


def fidelity_table(f: dict) -> str:
    rows = ["| model | int8 vs fp32, prefills: relative logit error (mean / max) | next-token agreement | "
            "decode steps (key/value cache): relative logit error (mean / max) | next-token agreement | greedy reply tokens equal |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    for name, r in f.items():
        steps = (f"{r['step_err_mean']:.2%} / {r['step_err_max']:.2%} ({r['kv_cache']} cache) | {r['step_agree']:.1%} ({r['step_n']} steps)"
                 if "step_n" in r else "— | —")  # fmt: skip
        rows.append(f"| {name} | {r['err_mean']:.2%} / {r['err_max']:.2%} | {r['agree']:.1%} ({r['n']} positions) | {steps} | {r['greedy_same']:.1%} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--paths", default=",".join(PATHS), help=f"comma-separated, from: {', '.join(PATHS)}")
    p.add_argument("--rounds", type=int, default=2, help="round-robin rounds over the paths (best run kept)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per path per round")
    p.add_argument("--timeout", type=int, default=900, help="seconds per path per round")
    p.add_argument("--fidelity", action="store_true", help="also measure int8 fidelity (bench/fidelity.py)")
    p.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md (## Generation speed)")
    p.add_argument("--from-log", help="re-render the table from a previous run's output (its JSON lines) instead of running")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--cache-dir", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        if a.worker.startswith("convert-"):
            from ariane.decoder import DecoderWeights
            from ariane.litert_convert import load_or_convert
            from ariane.model import gpt2_124m

            load_or_convert(DecoderWeights.from_backbone(gpt2_124m().lm.backbone), a.worker[8:], Path(a.cache_dir))
            return 0
        res = worker_keras_hub(a.repeats) if a.worker.startswith("kh-") else worker_ariane(a.worker, a.repeats, a.cache_dir)
        print(json.dumps(res), flush=True)
        return 0
    paths = [x for x in a.paths.split(",") if x]
    unknown = set(paths) - set(PATHS)
    if unknown:
        p.error(f"unknown paths {sorted(unknown)}; choose from {', '.join(PATHS)}")
    if a.from_log:
        lines = [json.loads(x) for x in Path(a.from_log).read_text().splitlines() if x.startswith("{")]
        results = [x for x in lines if "path" in x]
        conversion = next((x["conversion"] for x in lines if "conversion" in x), {})
        fidelity = next((x["fidelity"] for x in lines if "fidelity" in x), None)
        argv = next((x["argv"] for x in lines if "argv" in x), argv)
        if a.fidelity and fidelity is None:
            from bench.fidelity import measure

            fidelity = measure()
        return report(results, conversion, fidelity, a.write, argv)
    print(json.dumps({"argv": argv if argv is not None else sys.argv[1:]}), flush=True)
    cache = Path(tempfile.mkdtemp(prefix="ariane-bench-"))
    conversion = {}
    if any(PATHS[p][1] == sys.executable and ("litert" in p or "batched" in p) for p in paths):
        for precision in ("fp32", "int8"):  # once, in its own process: the paths then load it (~1 s)
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--worker", f"convert-{precision}", "--cache-dir", str(cache)], cwd=ROOT,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True, capture_output=True)  # fmt: skip
            conversion[precision] = time.perf_counter() - t
    print(json.dumps({"conversion": conversion}), flush=True)
    results = []
    for r in range(a.rounds):
        for path in paths if r % 2 == 0 else paths[::-1]:
            res = run_worker(path, a.repeats, str(cache), a.timeout)
            print(json.dumps(res), flush=True)
            results.append(res)
    fidelity = None
    if a.fidelity:
        from bench.fidelity import measure

        fidelity = measure()
        print(json.dumps({"fidelity": fidelity}), flush=True)
    return report(results, conversion, fidelity, a.write, argv)


def report(results: list, conversion: dict, fidelity, write: bool, argv) -> int:
    text = table(merge(results), fidelity)
    if conversion:
        text += "\n\nLiteRT conversion of GPT-2 124M, once per model (cached in ARIANE_HOME/cache/litert): " + ", ".join(
            f"{k} {v:.0f} s" for k, v in conversion.items()) + " (process start and model build included)."
    print(text)
    if write:
        loads = [r["load"] for r in results if "load" in r]  # 1-min load average as each path finished
        write_results(text, " ".join(["python bench/generate.py", *(argv if argv is not None else sys.argv[1:])]), max(loads, default=os.getloadavg()[0]))
    return 0


def write_results(report: str, command: str, load: float) -> None:
    import platform

    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.machine())
    section = (f"## Generation speed\n\n{time.strftime('%Y-%m-%d')}, {cpu}, {os.cpu_count()} cores (shared: load average "
               f"up to {load:.1f} as the paths finished), no GPU. Command: `{command}`. GPT-2 124M, random weights, batch 1, "
               f"{PROMPT_LEN}-token prompt, {NEW_TOKENS} new tokens, greedy.\n\n{report}\n")  # fmt: skip
    start = text.find("## Generation speed")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text, encoding="utf-8")
    print(f"wrote {results}")


if __name__ == "__main__":
    sys.exit(main())
