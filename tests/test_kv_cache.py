"""The int8 key/value cache: its C kernel attends like float attention, within int8's error, on
both of its code paths; rows move without changing; the decoder using it stays within the int8
bounds of the float32 cache; and without a compiler the runtime says so and keeps float32."""

import numpy as np
import pytest

from ariane import kv_cache
from ariane.kv_cache import Int8KVCache, build_kernel

H, D = 4, 32  # heads, dims per head (the kernel needs a multiple of 16)
MAX_ERROR = 0.03  # measured ~1.2%: int8 keys, values and query, int16 softmax weights


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """{"native": this CPU's build, "portable": the plain C path} (the same file where the CPU has no VNNI)."""
    d = tmp_path_factory.mktemp("kernels")
    return {"native": build_kernel(d), "portable": build_kernel(d, portable=True)}


def float_attention(keys, values, qkv, scale):
    """Reference: a row's new token (qkv [3 H D]) attends to keys/values [T, H, D] and to itself."""
    q, k, v = (qkv[i * H * D : (i + 1) * H * D].reshape(H, D) for i in range(3))
    keys, values = np.concatenate([keys, k[None]]), np.concatenate([values, v[None]])
    s = np.einsum("hd,thd->ht", q, keys) * scale
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("ht,thd->hd", p, values).reshape(-1)


def filled(kernel, lengths, rng, slots=None, length=64):
    cache = Int8KVCache(layers=2, heads=H, head_dim=D, kernel=kernel)
    cache.reserve(slots or len(lengths), length)
    keys = rng.standard_normal((len(lengths), length, H, D)).astype(np.float32) * 2
    values = rng.standard_normal((len(lengths), length, H, D)).astype(np.float32)
    for row, n in enumerate(lengths):
        k = np.stack([keys[row, :n].transpose(1, 0, 2)] * 2)  # [layers, H, n, D]
        v = np.stack([values[row, :n].transpose(1, 0, 2)] * 2)
        cache.write(row, k, v)
    return cache, keys, values


@pytest.mark.parametrize("path", ["native", "portable"])
def test_the_kernel_attends_like_float_attention_within_int8_error(kernels, path):
    rng = np.random.default_rng(0)
    lengths = [1, 17, 40]  # a lone token, a partial key block, an odd and an even count of value pairs
    cache, keys, values = filled(kernels[path], lengths, rng)
    qkv = rng.standard_normal((3, 3 * H * D)).astype(np.float32)
    out = np.zeros((3, H * D), np.float32)
    cache.positions[:] = lengths
    cache.attend(1, qkv, out)
    for row, n in enumerate(lengths):
        ref = float_attention(keys[row, :n], values[row, :n], qkv[row], cache.scale)
        err = np.linalg.norm(out[row] - ref) / np.linalg.norm(ref)
        assert 0 < err < MAX_ERROR, (row, err)  # > 0: the cache really is int8
    # the new tokens were stored: attending again from the next position sees them
    again = np.zeros_like(out)
    cache.positions[:] = [n + 1 for n in lengths]
    cache.attend(1, qkv, again)
    for row, n in enumerate(lengths):
        k, v = qkv[row, H * D : 2 * H * D].reshape(1, H, D), qkv[row, 2 * H * D :].reshape(1, H, D)
        ref = float_attention(np.concatenate([keys[row, :n], k]), np.concatenate([values[row, :n], v]), qkv[row], cache.scale)
        assert np.linalg.norm(again[row] - ref) / np.linalg.norm(ref) < MAX_ERROR


def test_both_code_paths_compute_the_same_numbers(kernels):
    if not kernels["native"].vnni:
        pytest.skip("this CPU has no AVX-512 VNNI: both builds are the portable path")
    qkv = np.random.default_rng(1).standard_normal((2, 3 * H * D)).astype(np.float32)
    outs = []
    for path in ("native", "portable"):
        cache, _, _ = filled(kernels[path], [9, 33], np.random.default_rng(1))  # the same cache content
        out = np.zeros((2, H * D), np.float32)
        cache.positions[:] = [9, 33]
        cache.attend(0, qkv, out)
        outs.append(out)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)  # the same integers; float sums may differ in order


def test_rows_keep_their_content_when_the_cache_is_laid_out_again(kernels):
    rng = np.random.default_rng(2)
    cache, _, _ = filled(kernels["native"], [20, 30, 12], rng)
    qkv = rng.standard_normal((3, 3 * H * D)).astype(np.float32)
    before = np.zeros((3, H * D), np.float32)
    cache.positions[:] = [20, 30, 12]
    cache.attend(0, qkv.copy(), before)
    cache.reserve(2, 128, keep=[(0, 2), (1, 1)])  # row 0 finished: 2 moves up, and the cache grows
    after = np.zeros((2, H * D), np.float32)
    cache.positions[:] = [12, 30]
    cache.attend(0, qkv[[2, 1]].copy(), after)
    np.testing.assert_array_equal(after, before[[2, 1]])


def test_bad_positions_are_refused_with_what_was_wrong(kernels):
    cache, _, _ = filled(kernels["native"], [5], np.random.default_rng(3), length=32)
    cache.positions[:] = [32]
    with pytest.raises(ValueError, match=r"positions \[32\] for a cache of 32"):
        cache.attend(0, np.zeros((1, 3 * H * D), np.float32), np.zeros((1, H * D), np.float32))
    with pytest.raises(ValueError, match="do not fit"):
        cache.write(0, np.zeros((2, H, 40, D), np.float32), np.zeros((2, H, 40, D), np.float32))
    with pytest.raises(ValueError, match="at most 2048 positions per row, not 2064"):
        cache.reserve(1, 2050)


def test_the_int8_cache_decoder_stays_within_the_int8_bounds(tiny_model, tmp_path):
    """The same int8 model, float32 cache vs int8 cache: ten decode steps of three rows."""
    from ariane.decoder import DecoderWeights
    from ariane.litert import INT8_MAX_LOGIT_ERROR, LiteRTDecoder

    w = DecoderWeights.from_backbone(tiny_model.lm.backbone)
    f32 = LiteRTDecoder(w, "int8", cache_dir=tmp_path, kv_cache="fp32")
    i8 = LiteRTDecoder(w, "int8", cache_dir=tmp_path, kv_cache="int8")
    assert (f32.kv_cache, i8.kv_cache) == ("fp32", "int8")
    rng = np.random.default_rng(4)
    prompts = [rng.integers(0, 50000, n) for n in (5, 17, 33)]
    for dec in (f32, i8):
        dec.reserve(3, 64)
        for row, p in enumerate(prompts):
            dec.write(row, *dec.prefill(p)[1:])
    tokens, positions = np.array([1, 2, 3]), np.array([len(p) for p in prompts])
    errors, agree = [], []
    for _ in range(10):
        a, b = f32.decode(tokens, positions), i8.decode(tokens, positions)
        errors.append(np.linalg.norm(a - b) / np.linalg.norm(a))
        agree.extend(a.argmax(-1) == b.argmax(-1))
        tokens, positions = a.argmax(-1), positions + 1
    assert 0 < max(errors) < INT8_MAX_LOGIT_ERROR, errors
    assert np.mean(agree) >= 0.85, agree


def test_without_a_compiler_the_runtime_says_why_and_keeps_float32(tiny_model, tmp_path, monkeypatch):
    from ariane.decoder import DecoderWeights
    from ariane.litert import LiteRTDecoder

    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setenv("ARIANE_HOME", str(tmp_path / "home"))  # nothing compiled there yet
    kv_cache._load_kernel.cache_clear()  # built once per process: forget it
    try:
        w = DecoderWeights.from_backbone(tiny_model.lm.backbone)
        with pytest.raises(RuntimeError, match="no C compiler.*'no-such-compiler'.*Use 'auto' or 'fp32'"):
            LiteRTDecoder(w, "int8", cache_dir=tmp_path, kv_cache="int8")
        assert LiteRTDecoder(w, "int8", cache_dir=tmp_path).kv_cache == "fp32"
        with pytest.raises(ValueError, match="kv_cache must be one of"):
            LiteRTDecoder(w, "int8", cache_dir=tmp_path, kv_cache="int4")
    finally:
        kv_cache._load_kernel.cache_clear()
