"""Concurrent conversations decoded together: one batched step gives every active stream a token.

A decode step reads every weight once whether it serves one row or eight, so decoding the
streams of simultaneous players together multiplies the aggregate tokens/s for little extra
time per step. `BatchScheduler` owns a `LiteRTDecoder` and one thread that loops:

1. admit waiting streams (up to `max_slots`): prefill each prompt, sample its first token, and
   give it a cache row (the cache is re-laid-out for the new row count, rows keep their content);
2. one decode step for all rows: row r feeds its last token at its own position, so prompts
   of different lengths share the step and never attend to each other (`ariane.decoder`);
3. each row samples its next token and checks its stop conditions (`Stream._pick`, `Stream._take`);
   finished or abandoned rows leave and the cache is compacted.

Text goes to each stream's consumer through a queue, so `Stream` iterates exactly as it does
without batching. With `max_slots=1` streams take turns (what an un-batched LiteRT generator does).

Example:
    >>> gen = Generator(model, runtime="litert", precision="int8", batching=True)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DEFAULT_SLOTS = 8  # conversations decoded at once
CACHE_STEP = 64  # the cache holds the longest row's positions rounded up to this: attention reads all of it every step
_DONE = object()  # end of a stream's deltas


@dataclass(eq=False)
class _Row:
    stream: object  # ariane.generate.Stream
    length: int  # cache positions this conversation may use (prompt + reply, bucketed)
    out: queue.Queue = field(default_factory=queue.Queue)  # text deltas, an exception, then _DONE
    token: int = 0  # last sampled token, fed at the next step
    position: int = 0  # where that token sits
    cancelled: bool = False  # the consumer stopped reading


class BatchScheduler:
    """Decodes all submitted streams together on one `LiteRTDecoder`.

    Args:
        decoder: ariane.litert.LiteRTDecoder. The model; this scheduler becomes its only user.
        max_slots: int. Streams decoded at once; more wait for a free row.
    """

    def __init__(self, decoder, max_slots: int = DEFAULT_SLOTS):
        if max_slots < 1:
            raise ValueError(f"max_slots must be >= 1, got {max_slots}")
        self.decoder = decoder
        self.max_slots = max_slots
        self._waiting: queue.Queue = queue.Queue()
        self._rows: list[_Row] = []  # row i lives in cache slot i
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.steps = 0  # decode steps run (for tests and benchmarks)
        self.rows_decoded = 0  # row-steps run: rows_decoded / steps = mean batch size
        self.decode_s = 0.0  # seconds spent in decode steps (sampling included), for benchmarks

    # ---- called by streams ------------------------------------------------------------------
    def submit(self, stream, length: int) -> _Row:
        """Queue a stream (already validated); its deltas arrive on the returned row's `out`."""
        row = _Row(stream, length)
        with self._start_lock:
            self._waiting.put(row)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="ariane-batch-decoder", daemon=True)
                self._thread.start()
        return row

    def close(self) -> None:
        """Stop the decoding thread once the streams it holds are done (new submits restart it)."""
        self._waiting.put(None)

    @property
    def active(self) -> int:
        """Streams being decoded now."""
        return len(self._rows)

    # ---- the decoding thread ----------------------------------------------------------------
    def _loop(self) -> None:
        closing = False
        while True:
            try:
                closing = self._admit(block=not self._rows and not closing) or closing
                if self._rows:
                    self._step()
                elif closing:
                    with self._start_lock:
                        if self._waiting.empty():
                            self._thread = None
                            return
            except Exception as exc:  # noqa: BLE001 - every waiting consumer must hear about it
                log.exception("batched decoding failed")
                for row in self._rows:
                    row.out.put(exc)
                    row.out.put(_DONE)
                self._rows = []
                self._layout(keep=[])

    def _admit(self, block: bool) -> bool:
        """Start waiting streams while rows are free; True if `close()` was called."""
        joined, closed = [], False
        while len(self._rows) + len(joined) < self.max_slots:
            try:
                row = self._waiting.get(block=block and not joined)
            except queue.Empty:
                break
            if row is None:
                closed = True
                break
            if row.cancelled:
                continue
            try:
                first = self._prefill(row)
            except Exception as exc:  # noqa: BLE001 - this stream fails, the others go on
                row.out.put(exc)
                row.out.put(_DONE)
                continue
            if first is not None:
                joined.append((row, first))
        if not joined:
            return closed
        old = self._rows
        self._rows = old + [row for row, _ in joined]
        self._layout(keep=[(i, i) for i in range(len(old))])
        for slot, (row, (k, v)) in enumerate(joined, start=len(old)):
            self.decoder.write(slot, k, v)
        return closed

    def _prefill(self, row: _Row):
        """Run the prompt; emit the first token. Returns (k, v) if the row goes on, else None."""
        stream = row.stream
        logits, k, v = self.decoder.prefill(stream.prompt_ids)
        row.position = len(stream.prompt_ids)
        if self._advance(row, logits):
            return None
        return k, v

    def _advance(self, row: _Row, logits) -> bool:
        """Sample the row's next token and emit its text; True when the row is finished."""
        stream = row.stream
        if row.cancelled:
            row.out.put(_DONE)
            return True
        token = stream._pick(logits)
        delta = stream._take(token, row.position, row.length)
        if delta:
            row.out.put(delta)
        if stream.stop_reason is not None:
            tail = stream._tail()
            if tail:
                row.out.put(tail)
            row.out.put(_DONE)
            return True
        row.token = token
        return False

    def _step(self) -> None:
        start = time.perf_counter()
        rows = self._rows
        if max(r.position for r in rows) >= self.decoder.length:  # a row outgrows the cache
            self._layout(keep=[(i, i) for i in range(len(rows))])
        logits = self.decoder.decode([r.token for r in rows], [r.position for r in rows])
        self.steps += 1
        self.rows_decoded += len(rows)
        done = []
        for i, row in enumerate(rows):
            row.position += 1
            if self._advance(row, logits[i]):
                done.append(i)
        self.decode_s += time.perf_counter() - start
        if done:
            keep = [i for i in range(len(rows)) if i not in done]
            self._rows = [rows[i] for i in keep]
            self._layout(keep=list(enumerate(keep)))

    def _layout(self, keep) -> None:
        """Size the cache for the current rows: as many slots, and the positions they use now
        rounded up to CACHE_STEP (not their whole budget: attention cost grows with the length)."""
        need = max((r.position + 1 for r in self._rows), default=0)
        length = min(-(-need // CACHE_STEP) * CACHE_STEP, self.decoder.max_positions)
        self.decoder.reserve(len(self._rows), length, keep=keep)


def wait_deltas(row: _Row, timeout: float | None = None):
    """Yield a row's text deltas as the decoding thread produces them (raises its errors)."""
    while True:
        item = row.out.get(timeout=timeout)
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item

