// Row gathers and scatter-adds of the fine-tuner's candidate path (src/math/row-blocks.ts,
// used by src/models/bpr.ts): copying an embedding table's listed rows into a compact block
// and adding a compact block of gradients back into the listed rows, bit-identical to the
// TypeScript loops (a float32 add here; the TypeScript adds in float64 and rounds to float32,
// the same bits, since float64 has more than twice float32's precision: no double rounding).
//   gatherRows(src, d, rows, count, dst):     dst[k·d .. k·d+d) = src[rows[k]·d ..), k in [0, count)
//   scatterAddRows(dst, d, rows, count, src): dst[rows[k]·d + j] += src[k·d + j], k in order
#include "kernels.h"
#include <cmath>
#include <cstring>
#include <string>

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
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
}
