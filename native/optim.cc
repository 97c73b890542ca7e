// Optimizer steps of the binding: dense Adam (BPR, DMF), lazy Adam over listed rows (BPR on
// large catalogues) and row-sparse RAdam's rectified step
// (CaliTune fine-tuning), bit-identical to src/nn/adam.ts, src/nn/sparse-adam.ts and
// src/nn/row-sparse-radam.ts.
#include "kernels.h"
#include "helper-thread.h"
#include "adam-range.h"
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>
#include <algorithm>

// ---------------------------------------------------------------------------------------
// Adam step over one parameter tensor (src/nn/adam.ts, adamUpdate): for i in [0, n)
//   g = grad[i] (+ grad2[i], rounded to float) + wd·p
//   m = (float)(β1·m + (1−β1)·g);  v = (float)(β2·v + (1−β2)·g²)
//   p = (float)(p − stepSize·m / (sqrt(v)·invBc2Sqrt + eps))
// with the same double-precision arithmetic and float32 roundings as the TypeScript loop, so
// the results are bit-identical (no -ffast-math: the compiler may not reassociate). With
// zeroGrads the gradient entries read are set to 0 in the same pass (the caller's next
// backward starts from zero without a separate sweep over the buffers).
// adamStep(p, g, g2|null, m, v, beta1, beta2, stepSize, invBc2Sqrt, eps, weightDecay, threads[, zeroGrads])
// Vectorised (an AVX2 clone picked at load time, else baseline SSE2): element-wise IEEE
// operations give the same bits in any lane width; no FMA (-ffp-contract=off, no -mfma).
// Work split with the helper thread (helper-thread.h) in chunks of about this many elements: below
// two chunks the split costs more than it saves.
constexpr size_t ADAM_CHUNK = 16384;

// Rows of width d per chunk of a row-wise step: about ADAM_CHUNK / 4 elements, at least one row.
static size_t rows_per_chunk(size_t d) { return std::max<size_t>(1, ADAM_CHUNK / 4 / d); }

CALITUNE_VECTOR_CLONES
void adam_range(size_t lo, size_t hi, const AdamArgs& a) {
  float* __restrict p = a.p;
  float* __restrict g = a.g;
  float* __restrict g2 = a.g2;
  float* __restrict m = a.m;
  float* __restrict v = a.v;
  const double b1 = a.b1, b2 = a.b2, stepSize = a.stepSize, inv = a.inv, eps = a.eps, wd = a.wd;
  const double omb1 = 1 - b1, omb2 = 1 - b2;
  const bool zero = a.zero;
  if (g2 == nullptr && wd == 0) {
    for (size_t i = lo; i < hi; i++) {
      const double gi = g[i];
      if (zero) g[i] = 0;
      CALITUNE_ADAM_ELEMENT(i, (double)p[i], gi);
    }
    return;
  }
  for (size_t i = lo; i < hi; i++) {
    const double pi = p[i];
    const double gi = (g2 != nullptr ? (double)(float)((double)g[i] + (double)g2[i]) : (double)g[i]) + wd * pi;
    if (zero) {
      g[i] = 0;
      if (g2 != nullptr) g2[i] = 0;
    }
    CALITUNE_ADAM_ELEMENT(i, pi, gi);
  }
}

static Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) {
    Napi::RangeError::New(env, std::string("adamStep: ") + m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 12 && info.Length() != 13) return fail("expects 12 or 13 arguments");
  for (int a : {0, 1, 3, 4}) if (!info[a].IsTypedArray()) return fail("p, g, m, v must be Float32Arrays");
  const bool hasG2 = !info[2].IsNull() && !info[2].IsUndefined();
  if (hasG2 && !info[2].IsTypedArray()) return fail("g2 must be a Float32Array or null");
  Napi::Float32Array P = info[0].As<Napi::Float32Array>();
  Napi::Float32Array G = info[1].As<Napi::Float32Array>();
  Napi::Float32Array G2;
  if (hasG2) G2 = info[2].As<Napi::Float32Array>();
  Napi::Float32Array M = info[3].As<Napi::Float32Array>();
  Napi::Float32Array V = info[4].As<Napi::Float32Array>();
  if (P.TypedArrayType() != napi_float32_array || G.TypedArrayType() != napi_float32_array ||
      M.TypedArrayType() != napi_float32_array || V.TypedArrayType() != napi_float32_array ||
      (hasG2 && G2.TypedArrayType() != napi_float32_array)) return fail("arrays must be Float32Arrays");
  const size_t n = P.ElementLength();
  if (G.ElementLength() < n || M.ElementLength() < n || V.ElementLength() < n || (hasG2 && G2.ElementLength() < n)) {
    return fail("g, g2, m, v must be at least as long as p");
  }
  AdamArgs a;
  a.p = P.Data();
  a.g = G.Data();
  a.g2 = hasG2 ? G2.Data() : nullptr;
  a.m = M.Data();
  a.v = V.Data();
  a.b1 = info[5].As<Napi::Number>().DoubleValue();
  a.b2 = info[6].As<Napi::Number>().DoubleValue();
  a.stepSize = info[7].As<Napi::Number>().DoubleValue();
  a.inv = info[8].As<Napi::Number>().DoubleValue();
  a.eps = info[9].As<Napi::Number>().DoubleValue();
  a.wd = info[10].As<Napi::Number>().DoubleValue();
  int nThreads = info[11].As<Napi::Number>().Int32Value();
  a.zero = info.Length() == 13 && info[12].ToBoolean().Value();
  // chunks of 16K elements (64 KB of each array) on this thread and the helper thread
  const bool split = nThreads >= 2 && n >= 2 * ADAM_CHUNK;
  parallel_chunks(n, ADAM_CHUNK, split, [&a](size_t lo, size_t hi) { adam_range(lo, hi, a); });
  return env.Undefined();
}

// ---------------------------------------------------------------------------------------
// Lazy (row-sparse) Adam over listed rows (src/nn/sparse-adam.ts, sparseAdamRows): for k in
// [lo, hi), row rows[k] of a (rows × cols) tensor gets adam_range over its cols entries, i.e.
// exactly the dense element update with the global step's bias corrections; rows not listed
// keep their weights and moments. With zeroGrads the row's gradient entries (and g2's) are
// cleared as they are read. The listed rows must be distinct (they may be split between two
// threads) and in range. With a slot map gradSlot (one entry per row of p) the gradient of
// listed row r is row gradSlot[r] of g (and g2): the batch's gradients in compact
// [slots × cols] buffers instead of whole tables.
// adamRows(p, g, g2|null, m, v, cols, rows, lo, hi, beta1, beta2, stepSize, invBc2Sqrt, eps, weightDecay,
//          zeroGrads, threads[, gradSlot|null])
// adam_range on listed rows rows[lo..hi) of width d, their gradients at the same rows of g, g2
// or (slot given) at rows slot[r] of compact g, g2; split between two threads when asked and
// worth it.
static void adam_listed_rows(const AdamArgs& a, const int32_t* rows, const int32_t* slot, size_t d, int64_t lo,
                             int64_t hi, int threads) {
  auto span = [&a, rows, d, slot](int64_t from, int64_t to) {
    for (int64_t k = from; k < to; k++) {
      if (slot == nullptr) {
        adam_range((size_t)rows[k] * d, (size_t)rows[k] * d + d, a);
        continue;
      }
      // the same element update on shifted pointers: weights and moments at the table's row,
      // gradients at the row's slot of the compact buffers
      AdamArgs row = a;
      const size_t o = (size_t)rows[k] * d, go = (size_t)slot[rows[k]] * d;
      row.p += o;
      row.m += o;
      row.v += o;
      row.g += go;
      if (row.g2 != nullptr) row.g2 += go;
      adam_range(0, d, row);
    }
  };
  const size_t chunk = rows_per_chunk(d);
  const bool split = threads >= 2 && (size_t)(hi - lo) >= 2 * chunk;
  parallel_chunks((size_t)(hi - lo), chunk, split, [&span, lo](size_t a, size_t b) { span(lo + a, lo + b); });
}

static Napi::Value AdamRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) {
    Napi::RangeError::New(env, std::string("adamRows: ") + m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 17 && info.Length() != 18) return fail("expects 17 or 18 arguments");
  for (int a : {0, 1, 3, 4, 6}) if (!info[a].IsTypedArray()) return fail("p, g, m, v, rows must be typed arrays");
  const bool hasG2 = !info[2].IsNull() && !info[2].IsUndefined();
  if (hasG2 && !info[2].IsTypedArray()) return fail("g2 must be a Float32Array or null");
  auto isF32 = [&](int a) { return info[a].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array; };
  for (int a : {0, 1, 3, 4}) if (!isF32(a)) return fail("p, g, m, v must be Float32Arrays");
  if (hasG2 && !isF32(2)) return fail("g2 must be a Float32Array");
  if (info[6].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) return fail("rows must be an Int32Array");
  Napi::Float32Array P = info[0].As<Napi::Float32Array>(), G = info[1].As<Napi::Float32Array>();
  Napi::Float32Array M = info[3].As<Napi::Float32Array>(), V = info[4].As<Napi::Float32Array>();
  Napi::Int32Array R = info[6].As<Napi::Int32Array>();
  const size_t n = P.ElementLength();
  const bool compact = info.Length() == 18 && !info[17].IsNull() && !info[17].IsUndefined();
  if (compact && (!info[17].IsTypedArray() || info[17].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)) {
    return fail("gradSlot must be an Int32Array or null");
  }
  const int64_t cols = info[5].As<Napi::Number>().Int64Value();
  const int64_t lo = info[7].As<Napi::Number>().Int64Value(), hi = info[8].As<Napi::Number>().Int64Value();
  if (cols <= 0 || n % (size_t)cols != 0) return fail("cols must divide the tensor size");
  if (lo < 0 || hi < lo || (size_t)hi > R.ElementLength()) return fail("needs 0 <= lo <= hi <= rows.length");
  if (M.ElementLength() != n || V.ElementLength() != n) return fail("m, v must match p");
  // compact: g and g2 hold whole rows, as many as g's length allows (g2 at least as many)
  const size_t gLen = G.ElementLength();
  if (compact ? gLen % (size_t)cols != 0 : gLen != n) return fail("g must match p (or hold whole rows)");
  if (hasG2) {
    const size_t g2Len = info[2].As<Napi::Float32Array>().ElementLength();
    if (compact ? g2Len < gLen : g2Len != n) return fail("g2 must match p (or be as long as g)");
  }
  const size_t nRows = n / (size_t)cols;
  const int32_t* rows = R.Data();
  for (int64_t k = lo; k < hi; k++) if (rows[k] < 0 || (size_t)rows[k] >= nRows) return fail("row out of range");
  const int32_t* slot = nullptr;
  if (compact) {
    Napi::Int32Array S = info[17].As<Napi::Int32Array>();
    if (S.ElementLength() != nRows) return fail("gradSlot must have one entry per row of p");
    slot = S.Data();
    const int64_t gRows = (int64_t)(gLen / (size_t)cols);
    for (int64_t k = lo; k < hi; k++) if (slot[rows[k]] < 0 || slot[rows[k]] >= gRows) return fail("slot out of range");
  }
  AdamArgs a;
  a.p = P.Data();
  a.g = G.Data();
  a.g2 = hasG2 ? info[2].As<Napi::Float32Array>().Data() : nullptr;
  a.m = M.Data();
  a.v = V.Data();
  a.b1 = info[9].As<Napi::Number>().DoubleValue();
  a.b2 = info[10].As<Napi::Number>().DoubleValue();
  a.stepSize = info[11].As<Napi::Number>().DoubleValue();
  a.inv = info[12].As<Napi::Number>().DoubleValue();
  a.eps = info[13].As<Napi::Number>().DoubleValue();
  a.wd = info[14].As<Napi::Number>().DoubleValue();
  a.zero = info[15].ToBoolean().Value();
  adam_listed_rows(a, rows, slot, (size_t)cols, lo, hi, info[16].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

// ---------------------------------------------------------------------------------------
// Row-sparse RAdam's rectified step over listed rows (src/nn/row-sparse-radam.ts, updateRow
// and catchUpAndUpdateRow), the same float64 arithmetic and float32 roundings, so the same
// bits. For listed row r (offset r·cols) with factors f[3k..3k+2] = (S, β1^j, β2^j):
//   S is NaN: the row is up to date; m = (float)(β1·m + (1−β1)·g), v likewise with g²,
//             p −= coef·m / (sqrt(v) + eps);
//   else:     the j skipped steps in closed form, then this step, fused (see the TypeScript).
// With zeroGrads the row's gradient is set to 0 afterwards. The listed rows must be distinct
// (they are split between `threads` ≤ 2 threads).
// radamRows(p, g, m, v, cols, rows, count, factors, beta1, beta2, coef, eps, zeroGrads, threads)
CALITUNE_VECTOR_CLONES
static void radam_row(float* __restrict p, float* __restrict g, float* __restrict m, float* __restrict v,
                      size_t d, const double* f, double b1, double b2, double coef, double eps, bool zero) {
  const double omb1 = 1 - b1, omb2 = 1 - b2;
  if (std::isnan(f[0])) {
    for (size_t i = 0; i < d; i++) {
      const double gi = g[i];
      const float mi = (float)(b1 * (double)m[i] + omb1 * gi);
      const float vi = (float)(b2 * (double)v[i] + omb2 * gi * gi);
      m[i] = mi;
      v[i] = vi;
      p[i] = (float)((double)p[i] - (coef * (double)mi) / (std::sqrt((double)vi) + eps));
    }
  } else {
    const double S = f[0], b1j = f[1], b2j = f[2];
    // The branch below keeps the loop scalar. A row whose moments are all non-zero (every row
    // after its first update, in practice) takes the branch-free copy of the first case, which
    // vectorises: the same operations per element, so the same bits.
    int fresh = 0;
    for (size_t i = 0; i < d; i++) fresh |= (m[i] == 0.0f) & (v[i] == 0.0f);
    if (!fresh) {
      for (size_t i = 0; i < d; i++) {
        const double m0 = m[i], v0 = v[i], gi = g[i];
        const double x = std::sqrt(v0) + eps;
        const double sm = S * m0;
        const double m1 = (float)(m0 * b1j), v1 = (float)(v0 * b2j);
        const float mi = (float)(b1 * m1 + omb1 * gi);
        const float vi = (float)(b2 * v1 + omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        const double y = std::sqrt((double)vi) + eps;
        p[i] = (float)((double)p[i] - (sm * y + coef * (double)mi * x) / (x * y));
      }
      if (zero) std::memset(g, 0, d * sizeof(float));
      return;
    }
    for (size_t i = 0; i < d; i++) {
      double m0 = m[i], v0 = v[i];
      const double gi = g[i];
      if (m0 != 0 || v0 != 0) {
        const double x = std::sqrt(v0) + eps;
        const double sm = S * m0;
        m0 = (float)(m0 * b1j);
        v0 = (float)(v0 * b2j);
        const float mi = (float)(b1 * m0 + omb1 * gi);
        const float vi = (float)(b2 * v0 + omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        const double y = std::sqrt((double)vi) + eps;
        p[i] = (float)((double)p[i] - (sm * y + coef * (double)mi * x) / (x * y));
      } else {
        const float mi = (float)(omb1 * gi);
        const float vi = (float)(omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        p[i] = (float)((double)p[i] - (coef * (double)mi) / (std::sqrt((double)vi) + eps));
      }
    }
  }
  if (zero) std::memset(g, 0, d * sizeof(float));
}

static Napi::Value RadamRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* msg) {
    Napi::RangeError::New(env, std::string("radamRows: ") + msg).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 14) return fail("expects 14 arguments");
  for (int a : {0, 1, 2, 3, 5, 7}) if (!info[a].IsTypedArray()) return fail("arrays expected");
  Napi::TypedArray arrs[4] = {info[0].As<Napi::TypedArray>(), info[1].As<Napi::TypedArray>(),
                              info[2].As<Napi::TypedArray>(), info[3].As<Napi::TypedArray>()};
  for (auto& a : arrs) if (a.TypedArrayType() != napi_float32_array) return fail("p, g, m, v must be Float32Arrays");
  if (info[5].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) return fail("rows must be an Int32Array");
  if (info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    return fail("factors must be a Float64Array");
  }
  Napi::Float32Array P = info[0].As<Napi::Float32Array>(), G = info[1].As<Napi::Float32Array>();
  Napi::Float32Array M = info[2].As<Napi::Float32Array>(), V = info[3].As<Napi::Float32Array>();
  Napi::Int32Array R = info[5].As<Napi::Int32Array>();
  Napi::Float64Array F = info[7].As<Napi::Float64Array>();
  const int64_t cols = info[4].As<Napi::Number>().Int64Value();
  const int64_t count = info[6].As<Napi::Number>().Int64Value();
  const size_t n = P.ElementLength();
  if (cols <= 0 || n % (size_t)cols != 0) return fail("cols must divide the tensor size");
  if (G.ElementLength() != n || M.ElementLength() != n || V.ElementLength() != n) return fail("g, m, v must match p");
  if (count < 0 || (size_t)count > R.ElementLength() || 3 * (size_t)count > F.ElementLength()) {
    return fail("count exceeds rows or factors");
  }
  const size_t nRows = n / (size_t)cols;
  const int32_t* rows = R.Data();
  for (int64_t k = 0; k < count; k++) if (rows[k] < 0 || (size_t)rows[k] >= nRows) return fail("row out of range");
  const double b1 = info[8].As<Napi::Number>().DoubleValue(), b2 = info[9].As<Napi::Number>().DoubleValue();
  const double coef = info[10].As<Napi::Number>().DoubleValue(), eps = info[11].As<Napi::Number>().DoubleValue();
  const bool zero = info[12].ToBoolean().Value();
  const size_t d = (size_t)cols;
  // rows are distinct, so listed rows [lo, hi) can be updated on another thread
  auto span = [&, rows](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; k++) {
      const size_t o = (size_t)rows[k] * d;
      radam_row(P.Data() + o, G.Data() + o, M.Data() + o, V.Data() + o, d, F.Data() + 3 * k, b1, b2, coef, eps, zero);
    }
  };
  const int nThreads = info[13].As<Napi::Number>().Int32Value();
  const size_t chunk = rows_per_chunk(d);
  const bool split = nThreads >= 2 && (size_t)count >= 2 * chunk;
  parallel_chunks((size_t)count, chunk, split, [&span](size_t lo, size_t hi) { span(lo, hi); });
  return env.Undefined();
}

void RegisterOptimizerKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
  exports.Set("adamRows", Napi::Function::New(env, AdamRows));
  exports.Set("radamRows", Napi::Function::New(env, RadamRows));
}
