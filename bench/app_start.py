"""Seconds from `python app.py` to the page's first answer, with the full GPT-2 124M (random
weights, saved as a local preset), per generation setting (run by hand).

Each setting starts the app twice on one fresh ARIANE_HOME: the first start pays for every
one-time cost (LiteRT conversion, retrieval index), the second finds them cached. The clock
stops when a /chat request (sent as soon as the server answers, i.e. after its warm-up) has
streamed its whole reply. The table says where each start got its LiteRT model (from its log).

`--ship int8` first writes the int8 LiteRT file into the preset (`model/litert/`, as every
`python -m finetune` export does): the first start on a fresh ARIANE_HOME then loads it instead
of converting. `--model DIR` keeps the preset (and its files) between invocations, so that the
preparation (~1 min of conversion) can run apart, e.g. at low priority, with `--prepare-only`.

    .venv/bin/python bench/app_start.py                      # prints a Markdown table
    .venv/bin/python bench/app_start.py --settings int8
    .venv/bin/python bench/app_start.py --model /tmp/gpt2-124m --ship int8 --prepare-only
    .venv/bin/python bench/app_start.py --model /tmp/gpt2-124m --ship int8 --settings int8-batched
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SETTINGS = {  # name -> environment
    "keras-xla": {"ARIANE_RUNTIME": "keras", "ARIANE_JIT": "1"},
    "litert-fp32": {"ARIANE_RUNTIME": "litert", "ARIANE_PRECISION": "fp32"},
    "fp32-batched": {"ARIANE_RUNTIME": "litert", "ARIANE_PRECISION": "fp32", "ARIANE_BATCHING": "1"},
    "int8": {"ARIANE_PRECISION": "int8"},
    "int8-batched": {"ARIANE_PRECISION": "int8", "ARIANE_BATCHING": "1"},
    "int8-batched-f32kv": {"ARIANE_PRECISION": "int8", "ARIANE_BATCHING": "1", "ARIANE_KV_CACHE": "fp32"},
}
PORT = 7871


ORIGINS = {"converted the model": "converted", "model shipped with the model:": "shipped", "model from the cache:": "cache"}  # log line -> table


def first_answer(model_dir: Path, home: Path, env_extra: dict, log: Path) -> tuple[float, float, str]:
    """(seconds to the server answering, seconds to the end of the first /chat reply, where the
    LiteRT model came from: shipped, cache, converted, or - for the keras runtime)."""
    from gradio_client import Client

    env = {**os.environ, **env_extra, "ARIANE_HOME": str(home), "ARIANE_MODEL": str(model_dir), "GRADIO_SERVER_PORT": str(PORT),
           "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False", "ARIANE_LOG_LEVEL": "INFO"}  # fmt: skip
    t = time.monotonic()
    offset = log.stat().st_size if log.is_file() else 0
    with log.open("a") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/config", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        ready = time.monotonic() - t
        client = Client(f"http://127.0.0.1:{PORT}/", verbose=False)
        client.predict("How can I tell if I'm heading for burnout?", [], "", "", "", api_name="/chat")
        done = time.monotonic() - t
        with log.open() as f:
            f.seek(offset)
            text = f.read()
        return ready, done, next((short for line, short in ORIGINS.items() if line in text), "-")
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def prepare(model_dir: Path | None, ship: list[str]) -> Path:
    """The preset to start: `model_dir` (written with the random 124M if missing) or a temporary one,
    with the LiteRT files `ship` names written into it."""
    from ariane.model import gpt2_124m, save_model

    model_dir = (model_dir or Path(tempfile.mkdtemp(prefix="ariane-app-start-")) / "gpt2-124m-random").resolve()
    if not (model_dir / "config.json").is_file():
        save_model(gpt2_124m(), model_dir)
    if ship:
        from ariane.litert_convert import write_into_model

        t = time.perf_counter()
        files = write_into_model(model_dir, ship)
        print(f"shipped in the preset: {', '.join(f.name for f in files)} ({time.perf_counter() - t:.1f} s)", flush=True)
    return model_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated, from: {', '.join(SETTINGS)}")
    p.add_argument("--model", type=Path, help="the preset folder to start (written with the random 124M if missing; default: a temporary one)")
    p.add_argument("--ship", default="", help="comma-separated LiteRT precisions to write into the preset first (model/litert/), e.g. int8")
    p.add_argument("--prepare-only", action="store_true", help="write the preset and its shipped files, then exit (no start timed)")
    a = p.parse_args(argv)
    ship = [x for x in a.ship.split(",") if x]
    model_dir = prepare(a.model, ship)
    if a.prepare_only:
        print(f"prepared {model_dir}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="ariane-app-start-"))
    shipped = ", ".join(sorted(f.stem.rsplit("-", 1)[-1] for f in (model_dir / "litert").glob("*.tflite"))) or "none"
    rows = ["| setting | LiteRT files in the preset | first start: server up / first answer (s), LiteRT from | second start (s), LiteRT from |",
            "|---|---|---|---|"]
    for name in a.settings.split(","):
        home = tmp / f"home-{name}"  # fresh: nothing cached
        cold = first_answer(model_dir, home, SETTINGS[name], tmp / f"{name}.log")
        warm = first_answer(model_dir, home, SETTINGS[name], tmp / f"{name}.log")
        env = " ".join(f"{k}={v}" for k, v in SETTINGS[name].items())
        rows.append(f"| `{env}` | {shipped} | {cold[0]:.1f} / **{cold[1]:.1f}**, {cold[2]} | {warm[0]:.1f} / **{warm[1]:.1f}**, {warm[2]} |")
        print(rows[-1], flush=True)
    print("\n".join(rows))
    print(f"logs in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
