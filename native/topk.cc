// Row-wise top-k of the binding (src/math/topk.ts topkRow, the same lists): per row a size-k
// min-heap under the order "higher score first, then lower index"; −∞ and NaN are never
// returned; a row with fewer than k finite scores is padded with −1. The order is strict and
// total, so the k best of a row and their order are unique: any correct method gives the
// TypeScript loop's output, element for element.
// Once the heap is full, items only enter by beating its worst score (an item that ties it has
// a higher index and loses), so the scan compares blocks of 16 scores against that threshold
// first; almost every block is rejected without heap work (vectorised in the clones).
//   topkRows(scores, offset, rows, n, k, out, outOff, threads): row r is scores[offset + r·n ..
//   + n), its k best indices (within the row) go to out[outOff + r·k ..); with `threads` 2 the rows
//   are shared with the helper thread (helper-thread.h).
// And one row with a hint (src/calibration/row-topk.ts, the fine-tuner's candidates):
//   topkRow(scores, offset, n, k, out, outOff[, hinted]): out[outOff .. outOff+k) = best items of scores[offset ..+n)
// With `hinted`, out[outOff ..) holds k items on entry (say the user's previous candidates):
// the lowest of their scores, t, is at most the k-th best score if they are k distinct items,
// so the items scoring ≥ t hold the top k; they are collected and sorted. Whether the hint was
// good is checked, not assumed: at least k items score ≥ t exactly when t ≤ the k-th best
// score; otherwise (or when too many qualify) the heap runs as without a hint.
#include "kernels.h"
#include "helper-thread.h"
#include <cmath>
#include <cstring>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace {

inline bool worse(float sa, int32_t ia, float sb, int32_t ib) { return sa < sb || (sa == sb && ia > ib); }

// Sifts (s, j) down from the root of the heap hs/hi of `size` entries.
inline void sift_down(float* hs, int32_t* hi, int64_t size, float s, int32_t j) {
  int64_t c = 0;
  for (;;) {
    const int64_t l = 2 * c + 1;
    if (l >= size) break;
    int64_t m = l;
    if (l + 1 < size && worse(hs[l + 1], hi[l + 1], hs[l], hi[l])) m = l + 1;
    if (!worse(hs[m], hi[m], s, j)) break;
    hs[c] = hs[m];
    hi[c] = hi[m];
    c = m;
  }
  hs[c] = s;
  hi[c] = j;
}

// Adds (s, j) to a heap of `size` entries that has room (sift up).
inline void sift_up(float* hs, int32_t* hi, int64_t size, float s, int32_t j) {
  int64_t c = size;
  while (c > 0) {
    const int64_t p = (c - 1) >> 1;
    if (!worse(s, j, hs[p], hi[p])) break;
    hs[c] = hs[p];
    hi[c] = hi[p];
    c = p;
  }
  hs[c] = s;
  hi[c] = j;
}

// Whether any of the 16 scores at p beats thr, scalar (the baseline build).
inline bool any_above16(const float* p, float thr) {
  for (int q = 0; q < 16; q++) {
    if (p[q] > thr) return true;
  }
  return false;
}

// The heap of a full row scan: the first k finite scores, then every score beating the worst kept.
// `Above16` tests a block of 16 scores against the threshold (scalar or SIMD: the same answer).
template <bool (*Above16)(const float*, float)>
inline int64_t fill_heap(const float* row, int64_t n, int64_t k, float* hs, int32_t* hi) {
  int64_t size = 0, j = 0;
  for (; j < n && size < k; j++) {
    const float s = row[j];
    if (!(s > -INFINITY)) continue;  // −∞ and NaN never enter
    sift_up(hs, hi, size++, s, (int32_t)j);
  }
  if (size < k) return size;
  float thr = hs[0];
  for (; j + 16 <= n; j += 16) {
    if (!Above16(row + j, thr)) continue;
    for (int q = 0; q < 16; q++) {
      if (row[j + q] > thr) {
        sift_down(hs, hi, k, row[j + q], (int32_t)(j + q));
        thr = hs[0];
      }
    }
  }
  for (; j < n; j++) {
    if (row[j] > thr) {
      sift_down(hs, hi, k, row[j], (int32_t)j);
      thr = hs[0];
    }
  }
  return size;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// Ordered greater-than (false for NaN), as the scalar test.
__attribute__((target("avx2"))) inline bool any_above16_avx2(const float* p, float thr) {
  const __m256 t = _mm256_set1_ps(thr);
  const __m256 a = _mm256_cmp_ps(_mm256_loadu_ps(p), t, _CMP_GT_OQ);
  const __m256 b = _mm256_cmp_ps(_mm256_loadu_ps(p + 8), t, _CMP_GT_OQ);
  return _mm256_movemask_ps(_mm256_or_ps(a, b)) != 0;
}

__attribute__((target("avx2"))) int64_t fill_heap_avx2(const float* row, int64_t n, int64_t k, float* hs,
                                                        int32_t* hi) {
  return fill_heap<any_above16_avx2>(row, n, k, hs, hi);
}
#endif

// The row's heap, the AVX2 scan where the CPU has it.
int64_t fill_row_heap(const float* row, int64_t n, int64_t k, float* hs, int32_t* hi) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return fill_heap_avx2(row, n, k, hs, hi);
#endif
  return fill_heap<any_above16>(row, n, k, hs, hi);
}

// One row: the heap, then popped worst-first into the back of out (−1 where the row ran short).
void topk_row(const float* row, int64_t n, int64_t k, int32_t* out, float* hs, int32_t* hi) {
  int64_t size = fill_row_heap(row, n, k, hs, hi);
  for (int64_t pos = k - 1; pos >= 0; pos--) {
    if (pos >= size) {
      out[pos] = -1;
      continue;
    }
    out[pos] = hi[0];
    size--;
    sift_down(hs, hi, size, hs[size], hi[size]);
  }
}

void topk_rows(const float* scores, int64_t r0, int64_t r1, int64_t n, int64_t k, int32_t* out) {
  std::vector<float> hs((size_t)k);
  std::vector<int32_t> hi((size_t)k);
  for (int64_t r = r0; r < r1; r++) topk_row(scores + r * n, n, k, out + r * k, hs.data(), hi.data());
}

Napi::Value TopkRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) {
    Napi::RangeError::New(env, std::string("topkRows: ") + m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 8) return fail("expects 8 arguments");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    return fail("scores must be a Float32Array");
  }
  if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    return fail("out must be an Int32Array");
  }
  auto num = [&](int a) { return info[a].As<Napi::Number>().Int64Value(); };
  const int64_t offset = num(1), rows = num(2), n = num(3), k = num(4), outOff = num(6), threads = num(7);
  Napi::Float32Array S = info[0].As<Napi::Float32Array>();
  Napi::Int32Array O = info[5].As<Napi::Int32Array>();
  if (offset < 0 || rows < 0 || n < 0 || k < 0 || outOff < 0 || n > INT32_MAX) return fail("negative size");
  if ((size_t)(offset + rows * n) > S.ElementLength()) return fail("scores too short");
  if ((size_t)(outOff + rows * k) > O.ElementLength()) return fail("out too short");
  if (k == 0 || rows == 0) return env.Undefined();
  const float* s = S.Data() + offset;
  int32_t* out = O.Data() + outOff;
  if (threads < 2 || rows < 2) {
    topk_rows(s, 0, rows, n, k, out);
    return env.Undefined();
  }
  // chunks of about 16K scores, on this thread and the helper thread
  const size_t chunk = (size_t)std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n));
  parallel_chunks((size_t)rows, chunk, true, [=](size_t lo, size_t hi) { topk_rows(s, lo, hi, n, k, out); });
  return env.Undefined();
}

// Whether any of s[0..8) is ≥ t (NaN is not); inlined into the clones of its caller.
inline bool any_at_least8(const float* s, float t) {
  int hit = 0;
  for (int q = 0; q < 8; q++) hit |= s[q] >= t;
  return hit != 0;
}

// One integer per (score, index) that orders as the ranking does: a larger key ranks higher
// (higher score, then lower index). The score's bits are mapped to an unsigned order (−0 as +0,
// since the two compare equal); the index goes in the low half, complemented.
inline uint64_t rank_key(float v, int32_t idx) {
  uint32_t b;
  const float z = v == 0.0f ? 0.0f : v;
  std::memcpy(&b, &z, sizeof b);
  const uint32_t u = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  return ((uint64_t)u << 32) | (uint32_t)~(uint32_t)idx;
}

// The first k of c distinct keys in descending order, as indices, into out: each key's rank
// is the number of larger keys (branch-free, vectorised by the clones) for small c, else a sort.
inline void rank_sorted(uint64_t* key, int64_t c, int64_t k, int32_t* out) {
  if (c <= 160) {
    for (int64_t i = 0; i < c; i++) {
      const uint64_t ki = key[i];
      int64_t r = 0;
      for (int64_t j = 0; j < c; j++) r += key[j] > ki;
      if (r < k) out[r] = (int32_t)~(uint32_t)ki;
    }
    return;
  }
  std::sort(key, key + c, [](uint64_t a, uint64_t b) { return a > b; });
  for (int64_t q = 0; q < k; q++) out[q] = (int32_t)~(uint32_t)key[q];
}

// The hinted top k (see the comment at the top of the file); false when the hint does not settle it.
CALITUNE_VECTOR_CLONES
bool hinted_topk_row(const float* s, int64_t n, int64_t k, int32_t* out) {
  float t = INFINITY;
  for (int64_t c = 0; c < k; c++) {
    const int32_t it = out[c];
    if (it < 0 || it >= n) return false;
    const float v = s[it];
    t = v > -INFINITY ? std::min(t, v) : -INFINITY;
  }
  if (!(t > -INFINITY)) return false;
  static thread_local std::vector<int32_t> found;
  const int64_t cap = 4 * k + 64;
  if ((int64_t)found.size() < cap + 16) found.resize(cap + 16);
  int32_t* f = found.data();
  int64_t c = 0, j = 0;
  for (; j + 8 <= n && c <= cap; j += 8) {
    if (!any_at_least8(s + j, t)) continue;
    for (int64_t q = j; q < j + 8; q++) {
      f[c] = (int32_t)q;
      c += s[q] >= t;
    }
  }
  for (; j < n && c <= cap; j++) {
    f[c] = (int32_t)j;
    c += s[j] >= t;
  }
  if (c < k || c > cap) return false;
  static thread_local std::vector<uint64_t> keys;
  if ((int64_t)keys.size() < c) keys.resize(cap + 16);
  uint64_t* key = keys.data();
  for (int64_t q = 0; q < c; q++) key[q] = rank_key(s[f[q]], f[q]);
  rank_sorted(key, c, k, out);
  return true;
}

Napi::Value TopkRow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto fail = [&](const char* why) {
    Napi::RangeError::New(env, std::string("topkRow: ") + why).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 6 && info.Length() != 7) return fail("expects 6 or 7 arguments");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    return fail("scores must be a Float32Array");
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return fail("out must be an Int32Array");
  const int64_t off = info[1].As<Napi::Number>().Int64Value(), n = info[2].As<Napi::Number>().Int64Value();
  const int64_t k = info[3].As<Napi::Number>().Int64Value(), outOff = info[5].As<Napi::Number>().Int64Value();
  Napi::Float32Array S = info[0].As<Napi::Float32Array>();
  Napi::Int32Array O = info[4].As<Napi::Int32Array>();
  if (off < 0 || n < 0 || off + n > (int64_t)S.ElementLength()) return fail("the row lies outside the scores");
  if (k < 0) return fail("k must be ≥ 0");
  if (n > INT32_MAX) return fail("a row holds at most 2^31 − 1 items");
  if (outOff < 0 || outOff + k > (int64_t)O.ElementLength()) return fail("out too small");
  const bool hinted = info.Length() == 7 && info[6].ToBoolean().Value();
  if (k == 0) return env.Undefined();
  const float* row = S.Data() + off;
  int32_t* out = O.Data() + outOff;
  if (hinted && hinted_topk_row(row, n, k, out)) return env.Undefined();
  topk_rows(row, 0, 1, n, k, out);
  return env.Undefined();
}

}  // namespace

void RegisterTopkKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("topkRows", Napi::Function::New(env, TopkRows));
  exports.Set("topkRow", Napi::Function::New(env, TopkRow));
}
