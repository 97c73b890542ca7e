// Row gathers and scatter-adds of the fine-tuner's candidate path (src/math/row-blocks.ts,
// used by src/models/bpr.ts): copying an embedding table's listed rows into a compact block
// and adding a compact block of gradients back into the listed rows, bit-identical to the
// TypeScript loops (a float32 add here; the TypeScript adds in float64 and rounds to float32,
// the same bits, since float64 has more than twice float32's precision: no double rounding).
//   gatherRows(src, d, rows, count, dst):     dst[k·d .. k·d+d) = src[rows[k]·d ..), k in [0, count)
//   scatterAddRows(dst, d, rows, count, src): dst[rows[k]·d + j] += src[k·d + j], k in order
#include "kernels.h"
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

void RegisterRowKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
}
