"""`python app.py` on its default generation runtime (LiteRT int8, batched, int8 key/value cache where
its kernel builds), as a Space runs it.

The other tests run the keras reference (tests/conftest.py sets ARIANE_RUNTIME=keras); this one
removes that setting, so the page is served exactly as players get it: the model is converted
on first start, cached under ARIANE_HOME, and simultaneous chats share decode steps.
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ariane.kv_cache import load_kernel
from ariane.web.testing import free_port, stop, wait_until_listening

gradio_client = pytest.importorskip("gradio_client")

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 180


def test_page_serves_litert_int8_with_batching_by_default(tiny_model_dir, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARIANE_")}
    env.update(ARIANE_HOME=str(tmp_path / "home"), ARIANE_MODEL=str(tiny_model_dir), ARIANE_LOG_LEVEL="INFO",
               ARIANE_TEMPERATURE="0", ARIANE_MAX_NEW_TOKENS="16", GRADIO_SERVER_NAME="127.0.0.1",
               GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")  # fmt: skip
    log = tmp_path / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, port, log, START_TIMEOUT_S)
        text = log.read_text()
        kv = "int8" if load_kernel(str(tmp_path / "kernels")) is not None else "fp32"  # AVX-512 VNNI and a C compiler
        assert f"(litert int8, {kv} kv cache, batched x8)" in text, f"the page is not on its default runtime:\n{text[-3000:]}"
        assert list((tmp_path / "home" / "cache" / "litert").glob("gpt2-*-int8.tflite")), "the converted model was not cached"
        if kv == "int8":
            assert list((tmp_path / "home" / "cache" / "kernels").glob("kv_attention-*.so")), "the kernel was not cached"
        else:  # the kernel may still be compiled (that is how its instruction set is learnt); the log says why it is off
            assert "int8 key/value cache off, float32 instead" in text, text[-3000:]

        results = [None, None]

        def chat(i):  # small talk goes to the model: two players at once share the batched decode
            client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
            results[i] = client.predict("hello there", [], "", "", "", api_name="/chat")

        threads = [threading.Thread(target=chat, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for reply in results:
            assert reply is not None, f"a chat did not finish:\n{log.read_text()[-3000:]}"
            text, info = reply
            assert text.strip() and info["mode"] == "generated", info
        # greedy, same message, same model: batching must not change what a conversation gets
        assert results[0][0] == results[1][0]
    finally:
        stop(proc, 30)


def test_replies_generated_at_once_default_to_two_and_can_be_raised(monkeypatch):
    """2 at once by default, batched runtime or not (measured faster on 2 cores); a bigger machine
    raises it with ARIANE_ENGINE_CONCURRENCY, and a bad value says what is wrong."""
    from ariane.web.chat import engine_concurrency

    monkeypatch.delenv("ARIANE_ENGINE_CONCURRENCY", raising=False)
    assert engine_concurrency() == 2
    monkeypatch.setenv("ARIANE_ENGINE_CONCURRENCY", "8")
    assert engine_concurrency() == 8
    monkeypatch.setenv("ARIANE_ENGINE_CONCURRENCY", "many")
    with pytest.raises(ValueError, match="ARIANE_ENGINE_CONCURRENCY='many': expected a whole number"):
        engine_concurrency()
