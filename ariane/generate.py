"""Streaming generation with GPT-2's key/value cache.

KerasHub's `generate()` returns only when the whole reply is done and pads the prompt and cache
to `max_length`. `Generator.stream` yields text as each token is produced: the prompt runs once
(prefill), then one token per step against the cache. Two runtimes do the steps:

- "keras": KerasHub's own layers (any Keras backend; XLA or jax.jit with `jit`), fp32, one
  stream per call. The reference (`ariane.keras_decoder`).
- "litert": the same network on LiteRT with XNNPACK (`ariane.litert`), fp32 or int8 weights,
  ~2x (fp32) and ~5x (int8) the decode speed of transformers on 2 CPU cores (bench/RESULTS.md).
  Its streams go through a `BatchScheduler` (`ariane.batching`): with `batching`, simultaneous
  conversations are decoded together, one batched step for all of them.

Settings (used when the argument is None): ARIANE_RUNTIME (litert | keras; default litert, the
fastest path measured in bench/RESULTS.md), ARIANE_PRECISION (int8 | fp32; default int8 on litert,
whose fidelity to fp32 is reported there; keras is fp32 only), ARIANE_BATCHING (0 | 1; default 1
on litert), ARIANE_BATCH_SLOTS (8), ARIANE_JIT (1, keras only), ARIANE_THREADS (all cores). The
tests set ARIANE_RUNTIME=keras (no conversion per tiny model) and test litert explicitly.

Example:
    >>> gen = Generator(model, precision="int8", batching=True)  # doctest: +SKIP
    >>> gen.warm_up()                                            # doctest: +SKIP
    >>> stream = gen.stream(prompt_ids, GenerationConfig(temperature=0))
    >>> "".join(stream), stream.stop_reason                      # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ariane.sampling import SeenTokens, next_token
from ariane.settings import GenerationConfig

CACHE_BUCKETS = (64, 128, 256, 512, 768, 1024)  # cache lengths (tokens); compiled functions are reused per bucket
PROMPT_BUCKET = 32  # keras runtime: prompts are right-padded to a multiple of this (fewer distinct prefill shapes)
RUNTIMES = ("keras", "litert")
PRECISIONS = ("fp32", "int8")
WARM_BATCH_LENGTH = 512  # litert, batching: cache positions per row prepared at start (a 300-token prompt and its reply; longer rows grow it)


def bucket(n: int, buckets=CACHE_BUCKETS, limit: int | None = None) -> int:
    """Smallest bucket >= n (capped at `limit`)."""
    for b in buckets:
        if b >= n and (limit is None or b <= limit):
            return b
    if limit is not None and n <= limit:
        return limit
    raise ValueError(f"{n} tokens do not fit the model's context window ({limit or buckets[-1]} tokens)")


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


class Generator:
    """Token-by-token decoding of a `ChatModel` with a key/value cache.

    Building a Generator is cheap; the runtime is prepared on first use or by `warm_up()`.

    Args:
        model: ariane.model.ChatModel. The model, tokenizer and chat format.
        jit: bool | None. keras runtime: compile the steps (XLA / jax.jit). None reads ARIANE_JIT
            (default on; the tests turn it off to skip compile time on tiny models).
        runtime: str | None. "litert" or "keras"; None reads ARIANE_RUNTIME (litert; see the module doc).
        precision: str | None. "int8" or "fp32" (keras: fp32 only); None reads ARIANE_PRECISION
            (int8 on litert, fp32 on keras).
        batching: bool | None. litert: decode simultaneous streams together; None reads
            ARIANE_BATCHING (on for litert; off: streams take turns).
        slots: int | None. Streams decoded together when batching; None reads ARIANE_BATCH_SLOTS (8).
        threads: int | None. litert interpreter threads; None reads ARIANE_THREADS (all cores).
        kv_cache: str | None. litert key/value cache: "auto", "int8" or "fp32" (`ariane.litert`);
            None reads ARIANE_KV_CACHE (auto: int8 with int8 weights where its C kernel builds).
        cache_dir: litert: where converted models are kept (None = ARIANE_HOME/cache/litert,
            False = nowhere). A converted file shipped in the model's folder is used first.
    """

    def __init__(self, model, jit: bool | None = None, runtime: str | None = None, precision: str | None = None,
                 batching: bool | None = None, slots: int | None = None, threads: int | None = None, cache_dir=None,
                 kv_cache: str | None = None):
        if jit is None:
            jit = _env("ARIANE_JIT", "1") != "0"
        if runtime is None:
            explicit = precision not in (None, "fp32") or batching  # asked for what only litert does
            runtime = _env("ARIANE_RUNTIME", "litert") if not explicit else "litert"
        if precision is None:
            precision = _env("ARIANE_PRECISION", "int8" if runtime == "litert" else "fp32")
        if batching is None:
            batching = _env("ARIANE_BATCHING", "1" if runtime == "litert" else "0") not in ("0", "false", "no")
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r} (ARIANE_RUNTIME)")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r} (ARIANE_PRECISION)")
        if runtime == "keras" and (precision != "fp32" or batching):
            raise ValueError("int8 weights and batching need runtime='litert' (ARIANE_RUNTIME=litert)")
        self.model = model
        self.lm = model.lm
        self.backbone = model.lm.backbone
        self.end_token_id = model.tokenizer.end_token_id
        self.max_length = int(self.backbone.max_sequence_length)
        self.jit = jit
        self.runtime = runtime
        self.precision = precision
        self.batching = batching
        self.slots = int(slots or _env("ARIANE_BATCH_SLOTS", "8")) if batching else 1
        self.threads = threads
        self.kv_cache = kv_cache
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._keras = None
        self._scheduler = None

    @property
    def name(self) -> str:
        """What decodes, for logs and benchmarks: e.g. 'litert int8, batched x8'."""
        if self.runtime == "keras":
            return f"keras {'jit' if self.jit else 'eager'} fp32"
        kv = f", {self._scheduler.decoder.kv_cache} kv cache" if self._scheduler is not None else ""
        return f"litert {self.precision}{kv}" + (f", batched x{self.slots}" if self.batching else "")

    @property
    def _prefill_fn(self):
        """The prepared prefill step (None until the model is first used); tests read it to check
        that a turn never reached the model."""
        if self._keras is not None and self._keras._fns is not None:
            return self._keras._fns[0]
        return self._scheduler.decoder if self._scheduler is not None else None

    # ---- runtimes (built on first use) -------------------------------------------------------
    def keras_decoder(self):
        from ariane.keras_decoder import KerasDecoder

        with self._lock:
            if self._keras is None:
                self._keras = KerasDecoder(self.lm, self.jit)
        return self._keras

    def scheduler(self):
        """The litert runtime's `BatchScheduler` (converting or loading the model the first time)."""
        with self._lock:
            if self._scheduler is None:
                from ariane.batching import BatchScheduler
                from ariane.decoder import DecoderWeights
                from ariane.litert import LiteRTDecoder

                weights = DecoderWeights.from_backbone(self.backbone)
                decoder = LiteRTDecoder(weights, self.precision, threads=self.threads, cache_dir=self.cache_dir,
                                        model_source=getattr(self.model, "source", None), kv_cache=self.kv_cache)
                # Grow the buffers once, now, rather than stall every stream when a longer prompt
                # or one more conversation first shows up.
                decoder.prepare(self.slots, self.max_length if self.slots == 1 else WARM_BATCH_LENGTH, self.max_length)
                self._scheduler = BatchScheduler(decoder, self.slots)
        return self._scheduler

    def close(self) -> None:
        """Let the litert runtime's decoding thread end (it restarts if the generator is used again)."""
        if self._scheduler is not None:
            self._scheduler.close()

    def warm_up(self, prompt_tokens: int = 300) -> float:
        """Prepare the runtime (convert or load, compile) and run one short reply; returns seconds.

        The app calls it before serving so that the first player does not pay for it."""
        t = time.perf_counter()
        n = min(prompt_tokens, self.max_length - 8)
        prompt = [int(i) for i in np.arange(n) % 1000 + 200]
        self.generate(prompt, GenerationConfig(temperature=0, max_new_tokens=4, max_seconds=600))
        return time.perf_counter() - t

    # ---- public API -----------------------------------------------------------------------
    def stream(self, prompt_ids, config: GenerationConfig, stop_strings=()) -> "Stream":
        """A `Stream` of text deltas for `prompt_ids`; see `Stream` for the stop conditions."""
        return Stream(self, list(prompt_ids), config, tuple(stop_strings))

    def generate(self, prompt_ids, config: GenerationConfig, stop_strings=()) -> "Stream":
        """Run a stream to the end and return it (`.text`, `.token_ids`, `.stop_reason`)."""
        s = self.stream(prompt_ids, config, stop_strings)
        for _ in s:
            pass
        return s


@dataclass
class Stream:
    """Iterating yields text deltas; afterwards the fields below describe what happened.

    Stops at the end-of-turn token, after `max_new_tokens`, after `max_seconds`, when the context
    window is full, or when the text reaches one of `stop_strings` (which is not emitted).
    """

    generator: Generator
    prompt_ids: list
    config: GenerationConfig
    stop_strings: tuple = ()
    token_ids: list = field(default_factory=list)  # generated ids (without the end-of-turn token)
    text: str = ""  # everything emitted
    stop_reason: str | None = None  # end_of_turn | max_new_tokens | time_limit | stop_string | context_full
    first_token_s: float | None = None  # time to first token
    total_s: float | None = None

    def __iter__(self):
        gen = self.generator
        n = len(self.prompt_ids)
        if n == 0:
            raise ValueError("prompt_ids is empty: nothing to continue")
        if n >= gen.max_length:
            raise ValueError(f"the prompt has {n} tokens; the model's window is {gen.max_length}")
        self._start = time.perf_counter()
        self._rng = np.random.default_rng(self.config.seed)
        self._decoder = gen.model.tokenizer.stream_decoder()
        self._seen = SeenTokens(self.prompt_ids)  # what the repetition penalty applies to
        self._held = ""  # text withheld because it may be the start of a stop string
        length = bucket(min(n + self.config.max_new_tokens, gen.max_length), limit=gen.max_length)
        deltas = self._scheduled(length) if gen.runtime == "litert" else self._keras(length)
        for delta in deltas:
            self.text += delta
            yield delta
        self.total_s = time.perf_counter() - self._start

    def _keras(self, length: int):
        dec = self.generator.keras_decoder()
        n = len(self.prompt_ids)
        padded = min(-(-n // PROMPT_BUCKET) * PROMPT_BUCKET, length)
        logits, caches = dec.start(self.prompt_ids, length, padded)
        index = n
        while True:
            out = self._take(self._pick(logits), index, length)
            if out:
                yield out
            if self.stop_reason is not None:
                break
            logits, caches = dec.step(self.token_ids[-1], caches, index)
            index += 1
        tail = self._tail()
        if tail:
            yield tail

    def _scheduled(self, length: int):
        from ariane.batching import wait_deltas

        row = self.generator.scheduler().submit(self, length)
        try:
            yield from wait_deltas(row)
        finally:
            row.cancelled = True  # the consumer stopped early: free the row

    # ---- one token (the batch scheduler calls these from its thread) ----------------------------
    def _pick(self, logits) -> int:
        return next_token(logits, self._seen, self.config, self._rng)

    def _take(self, token: int, index: int, length: int) -> str:
        """Record `token` (to be fed at position `index` of a `length`-position cache); return
        the text it releases and set `stop_reason` when the stream ends here."""
        if self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self._start
        if token == self.generator.end_token_id:
            self.stop_reason = "end_of_turn"
            return ""
        self.token_ids.append(token)
        self._seen.add(token)
        self._held += self._decoder.feed(token)
        cut = _stop_at(self._held, self.stop_strings)
        if cut is not None:
            self._held = self._held[:cut]
            self.stop_reason = "stop_string"
            return ""
        keep = _partial_stop(self._held, self.stop_strings)
        out, self._held = self._held[: len(self._held) - keep], self._held[len(self._held) - keep :]
        if len(self.token_ids) >= self.config.max_new_tokens:
            self.stop_reason = "max_new_tokens"
        elif time.perf_counter() - self._start > self.config.max_seconds:
            self.stop_reason = "time_limit"
        elif index + 1 >= length:  # the window holds no more tokens
            self.stop_reason = "context_full"
        return out

    def _tail(self) -> str:
        """Text still held back once the stream has stopped."""
        tail = self._held + (self._decoder.flush() if self.stop_reason != "stop_string" else "")
        self._held = ""
        return tail


def _stop_at(text: str, stops) -> int | None:
    hits = [text.find(s) for s in stops if s and s in text]
    return min(hits) if hits else None


def _partial_stop(text: str, stops) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of a stop string."""
    best = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:k]):
                best = max(best, k)
                break
    return best
