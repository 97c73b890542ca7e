// Row gathers and scatter-adds of the fine-tuner's candidate path (src/math/row-blocks.ts,
// used by src/models/bpr.ts): copying an embedding table's listed rows into a compact block
// and adding a compact block of gradients back into the listed rows, bit-identical to the
// TypeScript loops (a float32 add here; the TypeScript adds in float64 and rounds to float32,
// the same bits, since float64 has more than twice float32's precision: no double rounding).
//   gatherRows(src, d, rows, count, dst):     dst[k·d .. k·d+d) = src[rows[k]·d ..), k in [0, count)
//   scatterAddRows(dst, d, rows, count, src): dst[rows[k]·d + j] += src[k·d + j], k in order
// And the top-k of one row of scores (src/math/topk.ts's topkRow, the same lists: the order —
// higher score, then lower index — is total, so the top k are one set in one order whatever
// the algorithm; −∞ and NaN never enter, a row with fewer finite scores is padded with −1):
//   topkRow(scores, offset, n, k, out, outOff[, hinted]): out[outOff .. outOff+k) = best items of scores[offset ..+n)
// With `hinted`, out[outOff ..) holds k items on entry (say the user's previous candidates):
// the lowest of their scores, t, is at most the k-th best score if they are k distinct items,
// so the items scoring ≥ t hold the top k; they are collected and sorted. Whether the hint was
// good is checked, not assumed: at least k items score ≥ t exactly when t ≤ the k-th best
// score; otherwise (or when too many qualify) the heap runs as without a hint.
#include "kernels.h"
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

CALITUNE_VECTOR_CLONES
static void add_row(float* __restrict dst, const float* __restrict src, size_t d) {
  for (size_t j = 0; j < d; j++) dst[j] += src[j];
}

// Checks (table, d, rows, count, block) and returns an error or nullptr; `table` holds whole rows.
static const char* row_args(const Napi::CallbackInfo& info, int tableArg, int blockArg, size_t& d, size_t& count) {
  if (info.Length() != 5) return "expects 5 arguments";
  for (int a : {tableArg, blockArg}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      return "the table and the block must be Float32Arrays";
    }
  }
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    return "rows must be an Int32Array";
  }
  const int64_t dd = info[1].As<Napi::Number>().Int64Value(), cc = info[3].As<Napi::Number>().Int64Value();
  const size_t tableLen = info[tableArg].As<Napi::Float32Array>().ElementLength();
  if (dd <= 0 || tableLen % (size_t)dd != 0) return "d must divide the table size";
  Napi::Int32Array R = info[2].As<Napi::Int32Array>();
  if (cc < 0 || (size_t)cc > R.ElementLength()) return "count exceeds rows";
  d = (size_t)dd;
  count = (size_t)cc;
  if (info[blockArg].As<Napi::Float32Array>().ElementLength() < count * d) return "block too small";
  const int64_t nRows = (int64_t)(tableLen / d);
  const int32_t* rows = R.Data();
  for (size_t k = 0; k < count; k++) if (rows[k] < 0 || rows[k] >= nRows) return "row out of range";
  return nullptr;
}

static Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  size_t d = 0, count = 0;
  if (const char* err = row_args(info, 0, 4, d, count)) {
    Napi::RangeError::New(info.Env(), std::string("gatherRows: ") + err).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  const float* src = info[0].As<Napi::Float32Array>().Data();
  const int32_t* rows = info[2].As<Napi::Int32Array>().Data();
  float* dst = info[4].As<Napi::Float32Array>().Data();
  for (size_t k = 0; k < count; k++) std::memmove(dst + k * d, src + (size_t)rows[k] * d, d * sizeof(float));
  return info.Env().Undefined();
}

static Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  size_t d = 0, count = 0;
  if (const char* err = row_args(info, 0, 4, d, count)) {
    Napi::RangeError::New(info.Env(), std::string("scatterAddRows: ") + err).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  float* dst = info[0].As<Napi::Float32Array>().Data();
  const int32_t* rows = info[2].As<Napi::Int32Array>().Data();
  const float* src = info[4].As<Napi::Float32Array>().Data();
  for (size_t k = 0; k < count; k++) add_row(dst + (size_t)rows[k] * d, src + k * d, d);
  return info.Env().Undefined();
}

// True when (sa, ia) ranks below (sb, ib): lower score, or the same score and a higher index.
static inline bool worse(float sa, int32_t ia, float sb, int32_t ib) { return sa < sb || (sa == sb && ia > ib); }

// Sifts (s, j) down from the root of the min-heap of `size` entries (the worst at the root).
static inline void sift_down(float* hs, int32_t* hi, int64_t size, float s, int32_t j) {
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

// Whether any of s[0..8) beats thr (NaN does not); vectorised by the clones.
CALITUNE_VECTOR_CLONES
static bool any_above8(const float* s, float thr) {
  int hit = 0;
  for (int q = 0; q < 8; q++) hit |= s[q] > thr;
  return hit != 0;
}

// A size-k min-heap over the row: fill with the first k finite scores, then a newcomer must
// beat the worst kept one (scanning in ascending index, a tie loses); pop worst-first.
static void topk_row(const float* s, int64_t n, int64_t k, int32_t* out) {
  static thread_local std::vector<float> hsBuf;
  static thread_local std::vector<int32_t> hiBuf;
  if ((int64_t)hsBuf.size() < k) {
    hsBuf.resize(k);
    hiBuf.resize(k);
  }
  float* hs = hsBuf.data();
  int32_t* hi = hiBuf.data();
  int64_t size = 0, j = 0;
  for (; j < n && size < k; j++) {
    const float v = s[j];
    if (!(v > -INFINITY)) continue;
    int64_t c = size++;
    while (c > 0) {
      const int64_t p = (c - 1) >> 1;
      if (!worse(v, (int32_t)j, hs[p], hi[p])) break;
      hs[c] = hs[p];
      hi[c] = hi[p];
      c = p;
    }
    hs[c] = v;
    hi[c] = (int32_t)j;
  }
  if (size == k) {
    float thr = hs[0];
    for (; j + 8 <= n; j += 8) {
      if (!any_above8(s + j, thr)) continue;
      for (int64_t q = j; q < j + 8; q++) {
        if (s[q] > thr) {
          sift_down(hs, hi, k, s[q], (int32_t)q);
          thr = hs[0];
        }
      }
    }
    for (; j < n; j++) {
      if (s[j] > thr) {
        sift_down(hs, hi, k, s[j], (int32_t)j);
        thr = hs[0];
      }
    }
  }
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

// Whether any of s[0..8) is ≥ t (NaN is not); inlined into the clones of its caller.
static inline bool any_at_least8(const float* s, float t) {
  int hit = 0;
  for (int q = 0; q < 8; q++) hit |= s[q] >= t;
  return hit != 0;
}

// One integer per (score, index) that orders as the ranking does: a larger key ranks higher
// (higher score, then lower index). The score's bits are mapped to an unsigned order (−0 as +0,
// since the two compare equal); the index goes in the low half, complemented.
static inline uint64_t rank_key(float v, int32_t idx) {
  uint32_t b;
  const float z = v == 0.0f ? 0.0f : v;
  std::memcpy(&b, &z, sizeof b);
  const uint32_t u = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  return ((uint64_t)u << 32) | (uint32_t)~(uint32_t)idx;
}

// The first k of c distinct keys in descending order, as indices, into out: each key's rank
// is the number of larger keys (branch-free, vectorised by the clones) for small c, else a sort.
static inline void rank_sorted(uint64_t* key, int64_t c, int64_t k, int32_t* out) {
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

// The hinted top k (see the file comment); false when the hint does not settle it.
CALITUNE_VECTOR_CLONES
static bool hinted_topk_row(const float* s, int64_t n, int64_t k, int32_t* out) {
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

static Napi::Value TopkRow(const Napi::CallbackInfo& info) {
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
  if (!(hinted && hinted_topk_row(row, n, k, out))) topk_row(row, n, k, out);
  return env.Undefined();
}

// The fine-tuner's RAdam catch-up (src/nn/row-sparse-radam.ts, flush): each listed row r_q of a
// rows × cols tensor applies its skipped steps in closed form with factors (S, β1^j, β2^j) =
// f[3q .. 3q+2]: p ← p − S·m/(√v + ε), m ← β1^j·m, v ← β2^j·v in float64, each stored as float32,
// skipping elements whose m and v are both 0 — the TypeScript loop's operations in its order.
CALITUNE_VECTOR_CLONES
static void catch_up_row(float* __restrict p, float* __restrict m, float* __restrict v, size_t d, double S,
                         double b1j, double b2j, double eps) {
  for (size_t i = 0; i < d; i++) {
    const double mi = m[i], vi = v[i];
    const bool idle = mi == 0.0 && vi == 0.0;
    const float np = (float)((double)p[i] - (S * mi) / (std::sqrt(vi) + eps));
    const float nm = (float)(mi * b1j), nv = (float)(vi * b2j);
    p[i] = idle ? p[i] : np;
    m[i] = idle ? m[i] : nm;
    v[i] = idle ? v[i] : nv;
  }
}

//   radamCatchUpRows(p, m, v, cols, rows, count, factors, eps)
static Napi::Value RadamCatchUpRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto fail = [&](const char* why) {
    Napi::RangeError::New(env, std::string("radamCatchUpRows: ") + why).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 8) return fail("expects 8 arguments");
  for (int a : {0, 1, 2}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      return fail("p, m and v must be Float32Arrays");
  }
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return fail("rows must be an Int32Array");
  if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    return fail("factors must be a Float64Array");
  Napi::Float32Array P = info[0].As<Napi::Float32Array>(), M = info[1].As<Napi::Float32Array>(),
                     V = info[2].As<Napi::Float32Array>();
  Napi::Int32Array R = info[4].As<Napi::Int32Array>();
  Napi::Float64Array F = info[6].As<Napi::Float64Array>();
  const int64_t d = info[3].As<Napi::Number>().Int64Value(), count = info[5].As<Napi::Number>().Int64Value();
  const double eps = info[7].As<Napi::Number>().DoubleValue();
  const size_t len = P.ElementLength();
  if (M.ElementLength() != len || V.ElementLength() != len) return fail("p, m and v differ in length");
  if (d <= 0 || len % (size_t)d != 0) return fail("cols must divide the tensor size");
  if (count < 0 || (size_t)count > R.ElementLength() || (size_t)count * 3 > F.ElementLength())
    return fail("count exceeds the rows or the factors");
  const int64_t nRows = (int64_t)(len / (size_t)d);
  const int32_t* rows = R.Data();
  for (int64_t q = 0; q < count; q++)
    if (rows[q] < 0 || rows[q] >= nRows) return fail("row out of range");
  const double* f = F.Data();
  for (int64_t q = 0; q < count; q++) {
    const size_t o = (size_t)rows[q] * (size_t)d;
    catch_up_row(P.Data() + o, M.Data() + o, V.Data() + o, (size_t)d, f[3 * q], f[3 * q + 1], f[3 * q + 2], eps);
  }
  return env.Undefined();
}

void RegisterRowKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("radamCatchUpRows", Napi::Function::New(env, RadamCatchUpRows));
  exports.Set("topkRow", Napi::Function::New(env, TopkRow));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
}
