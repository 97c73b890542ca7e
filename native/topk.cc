// Row-wise top-k of the binding (src/math/topk.ts topkRow, the same lists): per row a size-k
// min-heap under the order "higher score first, then lower index"; −∞ and NaN are never
// returned; a row with fewer than k finite scores is padded with −1. The order is strict and
// total, so the k best of a row and their order are unique: any correct method gives the
// TypeScript loop's output, element for element.
// Once the heap is full, items only enter by beating its worst score (an item that ties it has
// a higher index and loses), so the scan compares blocks of 16 scores against that threshold
// first; almost every block is rejected without heap work (vectorised in the clones).
//   topkRows(scores, offset, rows, n, k, out, outOff, threads): row r is scores[offset + r·n ..
//   + n), its k best indices (within the row) go to out[outOff + r·k ..); rows split between
//   `threads` (1 or 2) std::threads.
#include "kernels.h"
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
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
  const int64_t half = rows / 2;
  std::thread second(topk_rows, s, half, rows, n, k, out);
  topk_rows(s, 0, half, n, k, out);
  second.join();
  return env.Undefined();
}

}  // namespace

void RegisterTopkKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("topkRows", Napi::Function::New(env, TopkRows));
}
