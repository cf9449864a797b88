"""The fast runtimes give the right tokens: LiteRT fp32 = the Keras reference, int8 within its
documented bounds, a batched conversation = the same conversation alone, and the Keras XLA step
compiles once. Speed itself is measured by bench/generate.py (bench/RESULTS.md)."""

import threading
import time

import numpy as np
import pytest

from ariane.generate import Generator
from ariane.litert import INT8_MIN_GREEDY_AGREEMENT, INT8_MAX_LOGIT_ERROR
from ariane.settings import GenerationConfig

GREEDY = GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=20, max_seconds=600)
QUESTIONS = [
    "I'm stuck on the overflowing inbox, any hint?",
    "hi",
    "My manager keeps emailing me at night and I can't switch off. What can I do about it, concretely, this week?",
    "What is burnout?",
]


@pytest.fixture(scope="module")
def litert_cache(tmp_path_factory):
    """Converted models shared by this module's generators (each conversion costs ~2 s)."""
    return tmp_path_factory.mktemp("litert")


@pytest.fixture(scope="module")
def prompts(tiny_model):
    fmt, tok = tiny_model.chat_format, tiny_model.tokenizer
    return [fmt.encode(tok, [{"role": "user", "content": q}], max_tokens=400) for q in QUESTIONS]


@pytest.fixture(scope="module")
def reference(tiny_model):
    return Generator(tiny_model, runtime="keras", jit=False)


def litert(model, cache, **kw):
    return Generator(model, runtime="litert", cache_dir=cache, **kw)


def test_litert_fp32_gives_the_reference_greedy_tokens(tiny_model, prompts, reference, litert_cache):
    fast = litert(tiny_model, litert_cache, precision="fp32")
    assert len({len(p) for p in prompts}) == len(prompts)  # different prompt lengths
    for p in prompts:
        ref = reference.generate(p, GREEDY)
        out = fast.generate(p, GREEDY)
        assert out.token_ids == ref.token_ids and out.text == ref.text and out.stop_reason == ref.stop_reason


def test_litert_streams_and_stops_like_the_reference(tiny_model, prompts, reference, litert_cache):
    fast = litert(tiny_model, litert_cache, precision="fp32")
    p = prompts[0]
    full = reference.generate(p, GREEDY)
    s = fast.stream(p, GREEDY)
    deltas = list(s)
    assert len(deltas) > 1 and "".join(deltas) == s.text == full.text and s.first_token_s <= s.total_s
    stop = tiny_model.tokenizer.decode(full.token_ids[5:7])
    cut = fast.generate(p, GREEDY, stop_strings=(stop,))
    assert cut.stop_reason == "stop_string" and stop not in cut.text and full.text.startswith(cut.text)
    fast.end_token_id = full.token_ids[3]
    eot = fast.generate(p, GREEDY)
    assert eot.stop_reason == "end_of_turn" and eot.token_ids == full.token_ids[: full.token_ids.index(full.token_ids[3])]


def test_litert_stops_when_the_context_window_is_full(litert_cache):
    from ariane.model import build_model

    small = build_model(max_sequence_length=64, seed=1)
    s = litert(small, litert_cache, precision="fp32").generate(list(range(1, 60)), GenerationConfig(temperature=0, max_new_tokens=40))
    assert s.stop_reason == "context_full" and len(s.token_ids) == 64 - 59


def relative_error(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_int8_stays_within_its_documented_fidelity_bounds(tiny_model, prompts, litert_cache):
    """Random weights are the hard case for int8: their top two logits are nearly tied."""
    from ariane.decoder import DecoderWeights
    from ariane.litert import LiteRTDecoder

    w = DecoderWeights.from_backbone(tiny_model.lm.backbone)
    fp32, int8 = LiteRTDecoder(w, "fp32", cache_dir=litert_cache), LiteRTDecoder(w, "int8", cache_dir=litert_cache)
    errors, agree = [], []
    for p in prompts:
        for n in range(8, len(p) + 1, 4):  # teacher-forced: the next token after each prefix
            a, b = fp32.prefill(p[:n])[0], int8.prefill(p[:n])[0]
            errors.append(relative_error(b, a))
            agree.append(int(np.argmax(a) == np.argmax(b)))
    assert len(agree) > 40
    assert 0 < max(errors) < INT8_MAX_LOGIT_ERROR, max(errors)  # > 0: the weights really are int8
    assert np.mean(agree) >= INT8_MIN_GREEDY_AGREEMENT, np.mean(agree)


def run_together(gen, cases):
    """Start every (prompt, config) at once from its own thread; return the finished streams."""
    out = [None] * len(cases)
    barrier = threading.Barrier(len(cases))

    def one(i):
        barrier.wait()
        out[i] = gen.generate(*cases[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return out


@pytest.mark.parametrize("precision,kv_cache", [("fp32", "fp32"), ("int8", "fp32"), ("int8", "int8")])
def test_batched_conversations_get_exactly_what_they_get_alone(tiny_model, prompts, litert_cache, precision, kv_cache):
    lengths = [20, 7, 31, 12]  # they finish at different steps
    cases = [(p, GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=n, max_seconds=600)) for p, n in zip(prompts, lengths)]
    alone = litert(tiny_model, litert_cache, precision=precision, kv_cache=kv_cache)
    expected = [alone.generate(*c).token_ids for c in cases]
    batched = litert(tiny_model, litert_cache, precision=precision, kv_cache=kv_cache, batching=True, slots=3)
    got = run_together(batched, cases + cases[:2])  # 6 streams for 3 slots: some wait for a free row
    assert [s.token_ids for s in got] == expected + expected[:2]
    assert [len(s.token_ids) for s in got[:4]] == lengths
    sched = batched.scheduler()
    assert sched.decoder.kv_cache == kv_cache
    assert sched.rows_decoded > sched.steps  # steps really were shared
    assert sched.active == 0


def test_sampled_batched_streams_are_reproducible_with_a_seed(tiny_model, prompts, litert_cache):
    cfg = GenerationConfig(temperature=1.0, top_k=50, top_p=0.95, max_new_tokens=16, seed=7, max_seconds=600)
    alone = litert(tiny_model, litert_cache, precision="fp32").generate(prompts[0], cfg).token_ids
    got = run_together(litert(tiny_model, litert_cache, precision="fp32", batching=True, slots=4), [(p, cfg) for p in prompts])
    assert got[0].token_ids == alone


def test_an_abandoned_stream_frees_its_row(tiny_model, prompts, litert_cache):
    gen = litert(tiny_model, litert_cache, precision="fp32", batching=True, slots=2)
    s = gen.stream(prompts[2], GenerationConfig(temperature=0, max_new_tokens=200, max_seconds=600))
    it = iter(s)
    next(it)
    it.close()  # the consumer walks away (a guard replaced the reply, the page was closed)
    deadline = time.time() + 10
    while gen.scheduler().active and time.time() < deadline:
        time.sleep(0.01)
    assert gen.scheduler().active == 0
    assert gen.generate(prompts[1], GREEDY).token_ids  # the scheduler still serves


def test_keras_xla_decode_compiles_once(tiny_model, prompts, reference):
    gen = Generator(tiny_model, runtime="keras", jit=True)
    cfg = GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=40, max_seconds=600)
    gen.generate(prompts[0], cfg)  # compiles for this prompt's shapes
    t = time.perf_counter()
    s = gen.generate(prompts[0], cfg)
    per_token = (time.perf_counter() - t) / len(s.token_ids)
    assert s.token_ids == reference.generate(prompts[0], cfg).token_ids
    assert per_token < 0.05, f"{per_token:.3f} s per token: is XLA recompiling for each position?"


def test_a_closed_scheduler_finishes_its_streams_and_restarts_on_use(tiny_model, prompts, litert_cache):
    gen = litert(tiny_model, litert_cache, precision="fp32", batching=True, slots=2)
    s = gen.stream(prompts[0], GREEDY)
    it = iter(s)
    first = next(it)
    gen.close()
    assert first + "".join(it) == s.text and len(s.token_ids) == GREEDY.max_new_tokens  # the open stream completes
    deadline = time.time() + 10
    while gen.scheduler()._thread is not None and time.time() < deadline:
        time.sleep(0.01)
    assert gen.scheduler()._thread is None
    assert gen.generate(prompts[1], GREEDY).token_ids  # used again: a new thread
