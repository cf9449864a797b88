"""An int8 key/value cache and the C kernel that attends over it, for batched decode steps.

Each decoded token reads every cached key and value of its conversation. In float32, at 8
conversations of 128 positions, that is 75 MB per step next to GPT-2 124M's 124 MB of int8
weights, and LiteRT's built-in kernels have no attention that reads a narrower cache (an int8
cache converted in the graph was slower: bench/RESULTS.md). So the int8 runtime cuts its decode
step around attention (`ariane.decoder`: `step_0` .. `step_{layers}`) and runs the attention here:
`kernels/kv_attention.c`, AVX-512 VNNI integer dot products over keys and values stored in int8
with one scale per position and head (a quarter of the bytes).

The kernel is compiled on first use with the machine's C compiler (`$CC`, else `cc`; ~0.7 s), for
this CPU (`-march=native`), and kept in ARIANE_HOME/cache/kernels under a name made from the
source, the compiler and the CPU's flags. Where there is no compiler, or the CPU has no AVX-512
VNNI (the portable C build is correct, but ~9x slower than the VNNI one at 8 x 128 in an ad hoc
run: slower than LiteRT's float32 attention), `load_kernel()` says why and the runtime keeps the
float32 cache (`ariane.litert`).

Example:
    >>> kernel = load_kernel()                         # doctest: +SKIP
    >>> cache = Int8KVCache(layers=12, heads=12, head_dim=64, kernel=kernel)   # doctest: +SKIP
    >>> cache.reserve(slots=8, length=128)             # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("kernels") / "kv_attention.c"
BLOCK = 16  # positions per key block (the kernel's KB); cache lengths are multiples of it
MAX_LENGTH = 2048  # positions per row (the kernel's MAX_L: its int32 sums of int16 weights x int8 values stay exact)
FLAGS = ("-O3", "-ffast-math", "-fPIC", "-shared")  # fast-math: vectorised max/sum/exp loops; the source avoids inf and NaN


@dataclass
class Kernel:
    """The compiled kernel: its two C functions, and which code path they run."""

    attend: object  # ctypes function ariane_kv_attend
    write: object  # ctypes function ariane_kv_write
    vnni: bool  # AVX-512 VNNI path (fast); False: portable C (the same integer arithmetic, slower)


def unsupported(heads: int, head_dim: int, positions: int) -> str | None:
    """Why the kernel cannot hold a model of this shape, or None if it can."""
    if head_dim % 16 or head_dim > 256 or heads > 64 or positions > MAX_LENGTH:
        return (f"the int8 key/value cache needs at most 64 heads of a multiple of 16 dims (up to 256) and at most "
                f"{MAX_LENGTH} positions (this model: {heads} x {head_dim}, {positions})")
    return None


def kernel_dir(litert_cache_dir=None) -> Path:
    """Where compiled kernels are kept: beside the converted models' cache (`ariane.litert`'s
    cache_dir: ARIANE_HOME/cache/litert -> ARIANE_HOME/cache/kernels), or under ARIANE_HOME."""
    if litert_cache_dir:
        return Path(litert_cache_dir).parent / "kernels"
    from ariane.settings import Settings

    return Settings.from_env().home / "cache" / "kernels"


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return platform.processor()


def build_kernel(directory: Path | None = None, portable: bool = False) -> Kernel:
    """Compile (or find already compiled) and load the kernel. Raises RuntimeError saying why not.

    Args:
        directory: where compiled kernels are kept (None: `kernel_dir()`).
        portable: build the portable C path even where AVX-512 VNNI exists (tests compare both).
    """
    directory = Path(directory) if directory is not None else kernel_dir()
    cc = os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        raise RuntimeError(f"no C compiler ({cc!r} is not on PATH; set CC or install gcc)")
    flags = [*FLAGS, "-march=native"] + (["-DARIANE_PORTABLE"] if portable else [])
    key = hashlib.blake2b(SOURCE.read_bytes() + " ".join([cc, *flags, _cpu_flags()]).encode(), digest_size=8).hexdigest()
    path = directory / f"kv_attention-{key}.so"
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            out = Path(tmp) / path.name
            p = subprocess.run([cc, *flags, str(SOURCE), "-o", str(out), "-lm"], capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"{cc} could not compile {SOURCE.name}: {p.stderr.strip()[-1000:]}")
            os.replace(out, path)
    # PyDLL: calls keep the GIL. Each takes ~0.1 ms, and a thread that gives the GIL up may wait
    # a whole switch interval (5 ms) to get it back while another thread runs Python.
    lib = ctypes.PyDLL(str(path))
    attend, write = lib.ariane_kv_attend, lib.ariane_kv_write
    attend.restype = write.restype = ctypes.c_int
    attend.argtypes = [ctypes.c_int] * 4 + [ctypes.c_float] + [ctypes.c_void_p] * 8
    write.argtypes = [ctypes.c_int] * 4 + [ctypes.c_void_p] * 6
    return Kernel(attend, write, bool(lib.ariane_kv_isa()))


_build_lock = threading.Lock()


def load_kernel(directory: str | None = None) -> Kernel | None:
    """The fast kernel for this machine, or None (logged: why, and that float32 is used instead).
    Built once per process (a second caller waits for the first)."""
    with _build_lock:
        return _load_kernel(directory)


def start_loading_kernel(directory: str | None = None) -> None:
    """Compile the kernel in the background (a fresh ARIANE_HOME: ~0.7 s of cc), while the caller
    loads the model; `load_kernel(directory)` then waits for it or finds it done."""
    threading.Thread(target=load_kernel, args=(directory,), name="ariane-kv-kernel", daemon=True).start()


@functools.lru_cache(maxsize=None)
def _load_kernel(directory: str | None) -> Kernel | None:
    try:
        kernel = build_kernel(Path(directory) if directory else None)
    except (RuntimeError, OSError) as exc:
        log.info("int8 key/value cache off, float32 instead: %s", exc)
        return None
    if not kernel.vnni:
        log.info("int8 key/value cache off, float32 instead: this CPU has no AVX-512 VNNI")
        return None
    return kernel


class Int8KVCache:
    """Keys and values of `slots` conversations, `length` positions each, in int8 (layout: kernel
    source). Rows are conversations; the caller (`ariane.litert.LiteRTDecoder`) says which row goes
    where, as with its float32 cache.

    Args:
        layers, heads, head_dim: int. The model's shape (head_dim: a multiple of 16, at most 256).
        kernel: Kernel. From `load_kernel` or `build_kernel`.
    """

    def __init__(self, layers: int, heads: int, head_dim: int, kernel: Kernel):
        why = unsupported(heads, head_dim, 0)
        if why:
            raise ValueError(why)
        self.layers, self.heads, self.head_dim, self.kernel = layers, heads, head_dim, kernel
        self.scale = 1.0 / float(np.sqrt(head_dim))
        self.slots, self.length = 0, 0
        self._alloc(0, 0)

    def _alloc(self, slots: int, length: int) -> None:
        H, D = self.heads, self.head_dim
        self.k = [np.zeros((slots, length // BLOCK, H, D // 4, BLOCK, 4), np.uint8) for _ in range(self.layers)]
        self.ks = [np.zeros((slots, length // BLOCK, H, BLOCK), np.float32) for _ in range(self.layers)]
        self.v = [np.zeros((slots, length // 2, H, D, 2), np.int8) for _ in range(self.layers)]
        self.vs = [np.zeros((slots, H, length), np.float32) for _ in range(self.layers)]
        self.positions = np.zeros(slots, np.int32)
        self._scratch = np.zeros(2 * H * max(length, BLOCK), np.float32)
        self._ptrs = [(k.ctypes.data, ks.ctypes.data, v.ctypes.data, vs.ctypes.data) for k, ks, v, vs in zip(self.k, self.ks, self.v, self.vs)]

    def reserve(self, slots: int, length: int, keep=()) -> None:
        """Room for `slots` rows of `length` positions (rounded up to 16); `keep`: (new_row, old_row)
        pairs whose content moves to the new layout (positions beyond the new length are dropped)."""
        length = -(-length // BLOCK) * BLOCK
        if length > MAX_LENGTH:
            raise ValueError(f"the int8 cache holds at most {MAX_LENGTH} positions per row, not {length}")
        keep = list(keep)
        if (slots, length) == (self.slots, self.length) and all(a == b for a, b in keep):
            return
        old = (self.k, self.ks, self.v, self.vs)
        n = min(length, self.length)
        self._alloc(slots, length)
        for new_row, old_row in keep:
            for i in range(self.layers):
                self.k[i][new_row, : n // BLOCK] = old[0][i][old_row, : n // BLOCK]
                self.ks[i][new_row, : n // BLOCK] = old[1][i][old_row, : n // BLOCK]
                self.v[i][new_row, : n // 2] = old[2][i][old_row, : n // 2]
                self.vs[i][new_row, :, :n] = old[3][i][old_row, :, :n]
        self.slots, self.length = slots, length

    def write(self, slot: int, k: np.ndarray, v: np.ndarray) -> None:
        """A prompt's keys/values [layers, heads, T, head_dim] (float) into row `slot`, positions 0..T-1."""
        T = k.shape[2]
        if not 0 <= slot < self.slots or T > self.length:
            raise ValueError(f"{T} positions in row {slot} do not fit a cache of {self.slots} rows x {self.length}")
        k, v = np.ascontiguousarray(k, np.float32), np.ascontiguousarray(v, np.float32)
        for i in range(self.layers):
            rows = (self.k[i][slot], self.ks[i][slot], self.v[i][slot], self.vs[i][slot])
            if self.kernel.write(self.length, self.heads, self.head_dim, T, k[i].ctypes.data, v[i].ctypes.data, *(r.ctypes.data for r in rows)):
                raise ValueError(f"kv_attention cannot hold a cache of {self.length} positions (at most {MAX_LENGTH})")

    def attend(self, layer: int, qkv: np.ndarray, out: np.ndarray) -> None:
        """One layer: store each row's new key/value (qkv [slots, 3 * heads * head_dim], float32,
        C-contiguous) at `self.positions`, then write the attention output into out [slots, heads * head_dim]."""
        k, ks, v, vs = self._ptrs[layer]
        err = self.kernel.attend(self.slots, self.length, self.heads, self.head_dim, self.scale, qkv.ctypes.data,
                                 self.positions.ctypes.data, k, ks, v, vs, out.ctypes.data, self._scratch.ctypes.data)
        if err:
            raise ValueError(f"kv_attention rejected its arguments (code {err}): positions {self.positions.tolist()} "
                             f"for a cache of {self.length}, {self.heads} heads of {self.head_dim}")
