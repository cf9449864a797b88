/* Ariane's attention over an int8 key/value cache: one layer of a batched decode step.
 *
 * Built and loaded by ariane/kv_cache.py (cc -O3 -ffast-math -march=native, once per machine). Decoding GPT-2
 * reads every cached key and value once per token; in int8 they are a quarter of the float32 bytes.
 *
 * Layout, per layer: S rows (conversations), L positions allocated (a multiple of 16), H heads of
 * D dims (L at most 2048, H at most 64, D a multiple of 16 up to 256):
 *   keys    k[S][L/16][H][D/4][16][4] uint8: int8 + 128, 16 positions side by side with 4 dims each
 *                                              (the operand layout of AVX-512 VNNI's VPDPBUSD);
 *           ks[S][L/16][H][16] float: one scale per position and head (absmax / 127);
 *   values  v[S][L/2][H][D][2] int8: 2 positions side by side (VPDPWSSD's layout);
 *           vs[S][H][L] float.
 * Arguments: qkv [S][3*H*D] float, the new token's query, key and value of each row; pos [S], the
 * position the token takes (its key/value are quantized into the cache there, then the row
 * attends to positions 0..pos). out [S][H*D] float. scratch: at least 2*H*L floats.
 *
 * Precision: keys and values int8 with a scale per position and head; the query int8 per head;
 * softmax in float; the softmax weights times the value scales as int16 (13 bits) per head.
 * The portable C path (no AVX-512 VNNI) computes exactly the same integers. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && !defined(ARIANE_PORTABLE)
#include <immintrin.h>
#define ARIANE_VNNI 1
#else
#define ARIANE_VNNI 0
#endif

#define KB 16        /* positions per key block */
#define WMAX 8191.f  /* largest int16 weight: MAX_L positions x 8191 x 127 < 2^31 */
#define MAX_L 2048
#define MAX_H 64
#define MAX_D 256
#ifndef PREFETCH /* bytes ahead: the cache is read once, front to back, faster than the prefetchers guess */
#define PREFETCH 4096
#endif

int ariane_kv_isa(void) { return ARIANE_VNNI; } /* 1: AVX-512 VNNI kernels, 0: portable C */

static int round_int(float y) { return (int)rintf(y); } /* to nearest even, as numpy's rint */

static float quantize(const float *x, int D, int8_t *q) {
  float m = 0.f;
  for (int d = 0; d < D; d++) m = fabsf(x[d]) > m ? fabsf(x[d]) : m;
  float inv = m > 0.f ? 127.f / m : 0.f;
  for (int d = 0; d < D; d++) q[d] = (int8_t)round_int(x[d] * inv);
  return m / 127.f;
}

/* The key/value of a token into position p of one row; head h's are at key + h * head_stride. */
static void store(int L, int H, int D, int p, const float *key, const float *value, size_t head_stride, uint8_t *k, float *ks, int8_t *v, float *vs) {
  int8_t q[MAX_D];
  for (int h = 0; h < H; h++) {
    ks[((size_t)(p / KB) * H + h) * KB + p % KB] = quantize(key + h * head_stride, D, q);
    uint8_t *kb = k + ((size_t)(p / KB) * H + h) * D * KB + (p % KB) * 4;
    for (int d = 0; d < D; d++) kb[(d / 4) * KB * 4 + d % 4] = (uint8_t)(q[d] + 128);
    vs[(size_t)h * L + p] = quantize(value + h * head_stride, D, q);
    int8_t *vb = v + ((size_t)(p / 2) * H + h) * D * 2 + p % 2;
    for (int d = 0; d < D; d++) vb[2 * d] = q[d];
  }
}

/* sc[h][l] = q_h . k_l * scale for l < n (blocks of 16: a few entries past n are computed too). */
static void scores(int L, int H, int D, int n, const int8_t *q8, const float *qscale, const int *qsum, const uint8_t *k, const float *ks, float *sc) {
  const int nb = (n + KB - 1) / KB;
  for (int b = 0; b < nb; b++) { /* block-major: the row's keys are read front to back */
    for (int h = 0; h < H; h++) {
      const uint8_t *blk = k + ((size_t)b * H + h) * D * KB;
      const float *scale = ks + ((size_t)b * H + h) * KB;
      const int8_t *qh = q8 + h * D;
      float *out = sc + (size_t)h * L + b * KB;
#if ARIANE_VNNI
      __m512i a0 = _mm512_setzero_si512(), a1 = a0;
      for (int g = 0; g < D / 4; g += 4) _mm_prefetch((const char *)blk + PREFETCH + (size_t)g * 64, _MM_HINT_T0);
      for (int g = 0; g < D / 4; g += 2) {
        int32_t q0, q1;
        memcpy(&q0, qh + 4 * g, 4);
        memcpy(&q1, qh + 4 * g + 4, 4);
        a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(blk + (size_t)g * 64), _mm512_set1_epi32(q0));
        a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(blk + (size_t)(g + 1) * 64), _mm512_set1_epi32(q1));
      }
      __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_add_epi32(a0, a1), _mm512_set1_epi32(128 * qsum[h])));
      _mm512_storeu_ps(out, _mm512_mul_ps(dot, _mm512_mul_ps(_mm512_loadu_ps(scale), _mm512_set1_ps(qscale[h]))));
#else
      for (int j = 0; j < KB; j++) {
        int acc = 0;
        for (int d = 0; d < D; d++) acc += (int)blk[(d / 4) * KB * 4 + j * 4 + d % 4] * qh[d];
        out[j] = (float)(acc - 128 * qsum[h]) * (scale[j] * qscale[h]);
      }
#endif
    }
  }
}

/* out_h = sum_l w16[h][l] * v_l * wscale[h]. */
static void weighted_values(int L, int H, int D, int n, const int16_t *w16, const float *wscale, const int8_t *v, float *out) {
  const int pairs = (n + 1) / 2;
#if ARIANE_VNNI
  __m512i acc[MAX_H * MAX_D / 16];
  for (int i = 0; i < H * D / 16; i++) acc[i] = _mm512_setzero_si512();
  for (int t = 0; t < pairs; t++) { /* position-major: the row's values are read front to back */
    const int8_t *vp = v + (size_t)t * H * D * 2;
    for (int i = 0; i < H * D * 2; i += 64) _mm_prefetch((const char *)vp + PREFETCH + i, _MM_HINT_T0);
    for (int h = 0; h < H; h++) {
      int32_t wp;
      memcpy(&wp, w16 + (size_t)h * L + 2 * t, 4);
      const __m512i wb = _mm512_set1_epi32(wp);
      for (int j = 0; j < D / 16; j++) {
        __m512i vv = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(vp + (size_t)(h * D + 16 * j) * 2)));
        acc[h * (D / 16) + j] = _mm512_dpwssd_epi32(acc[h * (D / 16) + j], vv, wb);
      }
    }
  }
  for (int h = 0; h < H; h++)
    for (int j = 0; j < D / 16; j++)
      _mm512_storeu_ps(out + h * D + 16 * j, _mm512_mul_ps(_mm512_cvtepi32_ps(acc[h * (D / 16) + j]), _mm512_set1_ps(wscale[h])));
#else
  int32_t acc[MAX_H * MAX_D];
  memset(acc, 0, sizeof(int32_t) * H * D);
  for (int t = 0; t < pairs; t++) {
    const int8_t *vp = v + (size_t)t * H * D * 2;
    for (int h = 0; h < H; h++) {
      const int32_t w0 = w16[(size_t)h * L + 2 * t], w1 = w16[(size_t)h * L + 2 * t + 1];
      for (int d = 0; d < D; d++) acc[h * D + d] += w0 * vp[(h * D + d) * 2] + w1 * vp[(h * D + d) * 2 + 1];
    }
  }
  for (int h = 0; h < H; h++)
    for (int d = 0; d < D; d++) out[h * D + d] = (float)acc[h * D + d] * wscale[h];
#endif
}

/* A prompt's keys and values (key, value: [H][T][D] float, positions 0..T-1) into one row of one
   layer (k, ks, v, vs: that row's part of the layout above). */
int ariane_kv_write(int L, int H, int D, int T, const float *key, const float *value, uint8_t *k, float *ks, int8_t *v, float *vs) {
  if (L > MAX_L || H > MAX_H || D > MAX_D || D % 16 || L % KB || T > L) return 1;
  for (int t = 0; t < T; t++) store(L, H, D, t, key + (size_t)t * D, value + (size_t)t * D, (size_t)T * D, k, ks, v, vs);
  if (T % 2) /* the other half of the last value pair: zero, so that no stale value is ever read */
    for (int h = 0; h < H; h++)
      for (int d = 0; d < D; d++) v[((size_t)(T / 2) * H + h) * D * 2 + 2 * d + 1] = 0;
  return 0;
}

int ariane_kv_attend(int S, int L, int H, int D, float scale, const float *qkv, const int32_t *pos,
                     uint8_t *k, float *ks, int8_t *v, float *vs, float *out, float *scratch) {
  if (L > MAX_L || H > MAX_H || D > MAX_D || D % 16 || L % KB) return 1;
  for (int s = 0; s < S; s++)
    if (pos[s] < 0 || pos[s] >= L) return 2;
#if ARIANE_VNNI
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040); /* denormals to zero: exp() of scores far below the max */
#endif
  const int HD = H * D;
  float *sc = scratch;                                  /* [H][L] scores, then weights */
  int16_t *w16 = (int16_t *)(scratch + (size_t)H * L);  /* [H][L] */
  for (int s = 0; s < S; s++) {
    const int p = pos[s], n = p + 1;
    const float *row = qkv + (size_t)s * 3 * HD;
    uint8_t *kr = k + (size_t)s * L * HD;
    float *ksr = ks + (size_t)s * L * H;
    int8_t *vr = v + (size_t)s * L * HD;
    float *vsr = vs + (size_t)s * L * H;
    store(L, H, D, p, row + HD, row + 2 * HD, D, kr, ksr, vr, vsr);
    int8_t q8[MAX_H * MAX_D];
    float qscale[MAX_H], wscale[MAX_H];
    int qsum[MAX_H];
    for (int h = 0; h < H; h++) {
      qscale[h] = quantize(row + h * D, D, q8 + h * D) * scale;
      qsum[h] = 0;
      for (int d = 0; d < D; d++) qsum[h] += q8[h * D + d];
    }
    scores(L, H, D, n, q8, qscale, qsum, kr, ksr, sc);
    for (int h = 0; h < H; h++) {
      float *w = sc + (size_t)h * L, m = w[0], sum = 0.f, wm = 0.f;  /* no INFINITY: built with -ffast-math */
      const float *vsh = vsr + (size_t)h * L;
      for (int l = 0; l < n; l++) m = w[l] > m ? w[l] : m;
      for (int l = 0; l < n; l++) { w[l] = expf(w[l] - m); sum += w[l]; }
      for (int l = 0; l < n; l++) { w[l] *= vsh[l]; wm = w[l] > wm ? w[l] : wm; }
      const float winv = wm > 0.f ? WMAX / wm : 0.f;
      int16_t *wh = w16 + (size_t)h * L;
      for (int l = 0; l < n; l++) wh[l] = (int16_t)(int)(w[l] * winv + 0.5f);
      if (n % 2) wh[n] = 0;
      wscale[h] = wm / WMAX / sum;
    }
    weighted_values(L, H, D, n, w16, wscale, vr, out + (size_t)s * HD);
  }
#if ARIANE_VNNI
  _mm_setcsr(csr);
#endif
  return 0;
}
