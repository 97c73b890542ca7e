// Dense Adam over rows whose gradient buffers are stamped rather than cleared (src/nn/adam.ts
// adamStampedRowsUpdate, BPR's two gradient halves; native/bpr.cc bprGrads clears and stamps a
// row before its first addition of a batch). For rows [rowLo, rowHi) of a (rows × cols) tensor:
// a row's gradient in g is its row of g when stamp1[r] == stamp, else zeros (the batch did not
// touch it in that half); likewise g2 with stamp2. Then adam_range's update on the row with
// both buffers, as dense Adam on cleared buffers does: the same bits, without clearing whole
// tables after each step or reading the rows a batch did not touch.
//   adamStampedRows(p, g, g2, m, v, cols, rowLo, rowHi, stamp1, stamp2, stamp,
//                   beta1, beta2, stepSize, invBc2Sqrt, eps, weightDecay)
#include "kernels.h"
#include "adam-range.h"
#include <cmath>
#include <string>

// adam_range's update with two gradient buffers (native/optim.cc) on entry i: the halves' values
// x, y summed in double and rounded to float, weight decay added, then the shared element update.
#define CALITUNE_STAMPED_ELEMENT(x, y)                      \
  do {                                                      \
    const double pi = p[i];                                 \
    const double gi = (double)(float)((x) + (y)) + wd * pi; \
    CALITUNE_ADAM_ELEMENT(i, pi, gi);                       \
  } while (0)

// A row whose half ga (gb) is null reads 0.0 for it, the value (double)0.0f of a cleared buffer,
// without loading anything.
CALITUNE_VECTOR_CLONES
static void stamped_row(const AdamArgs& a, const float* __restrict ga, const float* __restrict gb, size_t d) {
  float* __restrict p = a.p;
  float* __restrict m = a.m;
  float* __restrict v = a.v;
  const double b1 = a.b1, b2 = a.b2, stepSize = a.stepSize, inv = a.inv, eps = a.eps, wd = a.wd;
  const double omb1 = 1 - b1, omb2 = 1 - b2;
  if (ga != nullptr && gb != nullptr) {
    for (size_t i = 0; i < d; i++) CALITUNE_STAMPED_ELEMENT((double)ga[i], (double)gb[i]);
  } else if (ga != nullptr) {
    for (size_t i = 0; i < d; i++) CALITUNE_STAMPED_ELEMENT((double)ga[i], 0.0);
  } else if (gb != nullptr) {
    for (size_t i = 0; i < d; i++) CALITUNE_STAMPED_ELEMENT(0.0, (double)gb[i]);
  } else {
    for (size_t i = 0; i < d; i++) CALITUNE_STAMPED_ELEMENT(0.0, 0.0);
  }
}

static const char* stamped_args(const Napi::CallbackInfo& info, size_t& cols, int64_t& lo, int64_t& hi) {
  if (info.Length() != 17) return "expects 17 arguments";
  for (int a : {0, 1, 2, 3, 4}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      return "p, g, g2, m, v must be Float32Arrays";
  }
  for (int a : {8, 9}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      return "stamp1, stamp2 must be Int32Arrays";
  }
  const size_t n = info[0].As<Napi::Float32Array>().ElementLength();
  for (int a : {1, 2, 3, 4})
    if (info[a].As<Napi::Float32Array>().ElementLength() != n) return "g, g2, m, v must match p";
  const int64_t c = info[5].As<Napi::Number>().Int64Value();
  if (c <= 0 || n % (size_t)c != 0) return "cols must divide the tensor size";
  cols = (size_t)c;
  const size_t nRows = n / cols;
  for (int a : {8, 9})
    if (info[a].As<Napi::Int32Array>().ElementLength() != nRows) return "stamps must have one entry per row";
  lo = info[6].As<Napi::Number>().Int64Value();
  hi = info[7].As<Napi::Number>().Int64Value();
  if (lo < 0 || hi < lo || (size_t)hi > nRows) return "needs 0 <= rowLo <= rowHi <= rows";
  return nullptr;
}

static Napi::Value AdamStampedRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t d = 0;
  int64_t lo = 0, hi = 0;
  if (const char* err = stamped_args(info, d, lo, hi)) {
    Napi::RangeError::New(env, std::string("adamStampedRows: ") + err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto f32 = [&](int a) { return info[a].As<Napi::Float32Array>().Data(); };
  const int32_t* s1 = info[8].As<Napi::Int32Array>().Data();
  const int32_t* s2 = info[9].As<Napi::Int32Array>().Data();
  const int32_t stamp = info[10].As<Napi::Number>().Int32Value();
  AdamArgs a;
  a.p = f32(0);
  a.m = f32(3);
  a.v = f32(4);
  a.b1 = info[11].As<Napi::Number>().DoubleValue();
  a.b2 = info[12].As<Napi::Number>().DoubleValue();
  a.stepSize = info[13].As<Napi::Number>().DoubleValue();
  a.inv = info[14].As<Napi::Number>().DoubleValue();
  a.eps = info[15].As<Napi::Number>().DoubleValue();
  a.wd = info[16].As<Napi::Number>().DoubleValue();
  a.zero = false;
  float *g = f32(1), *g2 = f32(2);
  // a half's rows are read with gaps (the rows the batch skipped), which stops the hardware
  // prefetcher's stream: fetch the rows two ahead (10k items: 85 → 65 ms an epoch, one thread)
  auto prefetch = [d](const float* row) {
    for (size_t j = 0; j < d; j += 16) __builtin_prefetch(row + j);
  };
  for (int64_t r = lo; r < hi; r++) {
    if (r + 2 < hi) {
      if (s1[r + 2] == stamp) prefetch(g + (size_t)(r + 2) * d);
      if (s2[r + 2] == stamp) prefetch(g2 + (size_t)(r + 2) * d);
    }
    const size_t o = (size_t)r * d;
    AdamArgs row = a;
    row.p += o;
    row.m += o;
    row.v += o;
    stamped_row(row, s1[r] == stamp ? g + o : nullptr, s2[r] == stamp ? g2 + o : nullptr, d);
  }
  return env.Undefined();
}

void RegisterStampedAdamKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("adamStampedRows", Napi::Function::New(env, AdamStampedRows));
}
