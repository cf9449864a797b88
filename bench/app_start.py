"""Seconds from `python app.py` to the page's first answer, with the full GPT-2 124M (random
weights, saved as a local preset), per generation setting (run by hand).

Each setting starts the app twice on one fresh ARIANE_HOME: the first start pays for every
one-time cost (LiteRT conversion, retrieval index), the second finds them cached. The clock
stops when a /chat request (sent as soon as the server answers, i.e. after its warm-up) has
streamed its whole reply.

    .venv/bin/python bench/app_start.py                      # prints a Markdown table
    .venv/bin/python bench/app_start.py --settings int8
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
}
PORT = 7871


def first_answer(model_dir: Path, home: Path, env_extra: dict, log: Path) -> tuple[float, float]:
    """(seconds to the server answering, seconds to the end of the first /chat reply)."""
    from gradio_client import Client

    env = {**os.environ, **env_extra, "ARIANE_HOME": str(home), "ARIANE_MODEL": str(model_dir), "GRADIO_SERVER_PORT": str(PORT),
           "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False", "ARIANE_LOG_LEVEL": "INFO"}  # fmt: skip
    t = time.monotonic()
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
        return ready, time.monotonic() - t
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated, from: {', '.join(SETTINGS)}")
    a = p.parse_args(argv)
    from ariane.model import gpt2_124m, save_model

    tmp = Path(tempfile.mkdtemp(prefix="ariane-app-start-"))
    model_dir = save_model(gpt2_124m(), tmp / "gpt2-124m-random")
    rows = ["| setting | first start: server up / first answer (s) | second start (s) |", "|---|---|---|"]
    for name in a.settings.split(","):
        home = tmp / f"home-{name}"
        cold = first_answer(model_dir, home, SETTINGS[name], tmp / f"{name}.log")
        warm = first_answer(model_dir, home, SETTINGS[name], tmp / f"{name}.log")
        env = " ".join(f"{k}={v}" for k, v in SETTINGS[name].items())
        rows.append(f"| `{env}` | {cold[0]:.1f} / **{cold[1]:.1f}** | {warm[0]:.1f} / **{warm[1]:.1f}** |")
        print(rows[-1], flush=True)
    print("\n".join(rows))
    print(f"logs in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
