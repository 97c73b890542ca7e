// BPR's fused forward/backward of the binding, bit-identical to src/models/bpr-kernel.ts bprKernel.
#include "kernels.h"
#include <cstring>
#include <string>
#include <utility>
#include <vector>

// ---------------------------------------------------------------------------------------
// BPR's fused forward/backward (src/models/bpr-kernel.ts, bprKernel) in two passes around the
// loss, which stays in TypeScript (its exp/log are V8's): the weights do not change within a
// pass, so splitting the kernel at the loss changes no value.
//   bprScores: for t in [start, end), xs[t − start] = (float)(Σ_even u·p + Σ_odd u·p) −
//              (float)(Σ_even u·n + Σ_odd u·n), accumulated in double in bprKernel's order
//              (two chains each, pairs of columns, then the odd column);
//   bprGrads:  for t in order, with g = gs[t − start], per column q:
//              gU[u,q] += g·(p_q − n_q); gI[pos,q] += g·u_q; gI[neg,q] −= g·u_q (double, stored float);
//              with slot maps (lazy Adam's compact gradients) the rows of gU, gI are uSlot[u], iSlot[pos],
//              iSlot[neg] instead: each gradient row gets the same additions in the same order.
//              with row stamps (whole tables) a row is cleared before its first addition of the
//              batch instead of after Adam read it (see GradRows);
// bprScores(U, I, d, users, pos, neg, start, end, xs) /
// bprGrads(U, I, gU, gI, d, users, pos, neg, start, end, gs[, uSlot, iSlot[, uStamp, iStamp, stamp]])
//   (the stamped form passes null slot maps)
struct BprTriples {
  const float* U;
  const float* I;
  size_t d;
  const int32_t* users;
  const int32_t* pos;
  const int32_t* neg;
  int64_t start, end;
};

static const char* bpr_triples(const Napi::CallbackInfo& info, int u, int it, int dArg, BprTriples& b) {
  for (int a : {u, it}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      return "U and I must be Float32Arrays";
    }
  }
  for (int a : {dArg + 1, dArg + 2, dArg + 3}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      return "users, pos, neg must be Int32Arrays";
    }
  }
  Napi::Float32Array U = info[u].As<Napi::Float32Array>(), I = info[it].As<Napi::Float32Array>();
  Napi::Int32Array us = info[dArg + 1].As<Napi::Int32Array>(), ps = info[dArg + 2].As<Napi::Int32Array>();
  Napi::Int32Array ns = info[dArg + 3].As<Napi::Int32Array>();
  const int64_t d = info[dArg].As<Napi::Number>().Int64Value();
  b.start = info[dArg + 4].As<Napi::Number>().Int64Value();
  b.end = info[dArg + 5].As<Napi::Number>().Int64Value();
  if (d <= 0 || U.ElementLength() % (size_t)d != 0 || I.ElementLength() % (size_t)d != 0) return "bad d";
  if (b.start < 0 || b.end < b.start || (size_t)b.end > us.ElementLength() || (size_t)b.end > ps.ElementLength() ||
      (size_t)b.end > ns.ElementLength()) {
    return "triple range out of bounds";
  }
  const int64_t nU = (int64_t)(U.ElementLength() / (size_t)d), nI = (int64_t)(I.ElementLength() / (size_t)d);
  b.U = U.Data();
  b.I = I.Data();
  b.d = (size_t)d;
  b.users = us.Data();
  b.pos = ps.Data();
  b.neg = ns.Data();
  for (int64_t t = b.start; t < b.end; t++) {
    const int32_t u = b.users[t], p = b.pos[t], n = b.neg[t];
    if (u < 0 || u >= nU || p < 0 || p >= nI || n < 0 || n >= nI) return "id out of range";
  }
  return nullptr;
}

// A triple's score from column j on, its chains a0, a1 (u·p on even, odd columns) and b0, b1 (u·n)
// holding the sums of the columns before j: the pairs of columns, then the odd last column.
static double bpr_score_finish(const float* u, const float* p, const float* n, size_t j, size_t d, double a0,
                               double a1, double b0, double b1) {
  for (; j + 1 < d; j += 2) {
    const double u0 = u[j], u1 = u[j + 1];
    a0 += u0 * (double)p[j];
    a1 += u1 * (double)p[j + 1];
    b0 += u0 * (double)n[j];
    b1 += u1 * (double)n[j + 1];
  }
  for (; j < d; j++) {
    a0 += (double)u[j] * (double)p[j];
    b0 += (double)u[j] * (double)n[j];
  }
  return (double)(float)(a0 + a1) - (double)(float)(b0 + b1);
}

// One triple's score, scalar.
static double bpr_score_one(const BprTriples& b, int64_t t) {
  const size_t d = b.d;
  const float* u = b.U + (size_t)b.users[t] * d;
  return bpr_score_finish(u, b.I + (size_t)b.pos[t] * d, b.I + (size_t)b.neg[t] * d, 0, d, 0, 0, 0, 0);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CALITUNE_SCORES_AVX2 1

// The scores of a group of SCORE_GROUP triples, four columns at a step: the products of a step
// are exact doubles (float times float), and a triple's chains a0, a1 (b0, b1) are the two lanes
// of one register that take the step's even/odd products in column order, the low half (columns
// j, j+1) before the high half (j+2, j+3): the additions of bpr_score_one in its order, so the
// same bits. The group's independent chains keep the adders busy while each waits on latency.
#define SCORE_GROUP 4
__attribute__((target("avx2"))) static void bpr_scores_group_avx2(const BprTriples& b, int64_t t, double* xs) {
  const size_t d = b.d;
  const float *u[SCORE_GROUP], *p[SCORE_GROUP], *n[SCORE_GROUP];
  __m128d A[SCORE_GROUP], B[SCORE_GROUP];
  for (int k = 0; k < SCORE_GROUP; k++) {
    u[k] = b.U + (size_t)b.users[t + k] * d;
    p[k] = b.I + (size_t)b.pos[t + k] * d;
    n[k] = b.I + (size_t)b.neg[t + k] * d;
    A[k] = B[k] = _mm_setzero_pd();
  }
  size_t j = 0;
  for (; j + 3 < d; j += 4) {
    for (int k = 0; k < SCORE_GROUP; k++) {
      const __m256d ud = _mm256_cvtps_pd(_mm_loadu_ps(u[k] + j));
      const __m256d pp = _mm256_mul_pd(ud, _mm256_cvtps_pd(_mm_loadu_ps(p[k] + j)));
      const __m256d nn = _mm256_mul_pd(ud, _mm256_cvtps_pd(_mm_loadu_ps(n[k] + j)));
      A[k] = _mm_add_pd(_mm_add_pd(A[k], _mm256_castpd256_pd128(pp)), _mm256_extractf128_pd(pp, 1));
      B[k] = _mm_add_pd(_mm_add_pd(B[k], _mm256_castpd256_pd128(nn)), _mm256_extractf128_pd(nn, 1));
    }
  }
  for (int k = 0; k < SCORE_GROUP; k++) {
    double a[2], c[2];
    _mm_storeu_pd(a, A[k]);
    _mm_storeu_pd(c, B[k]);
    xs[t + k - b.start] = bpr_score_finish(u[k], p[k], n[k], j, d, a[0], a[1], c[0], c[1]);
  }
}

__attribute__((target("avx2"))) static void bpr_scores_avx2(const BprTriples& b, double* xs) {
  int64_t t = b.start;
  for (; t + SCORE_GROUP <= b.end; t += SCORE_GROUP) bpr_scores_group_avx2(b, t, xs);
  for (; t < b.end; t++) xs[t - b.start] = bpr_score_one(b, t);
}
#endif

// The scores of the triples [b.start, b.end) into xs (AVX2 groups where the CPU has it).
static void bpr_scores_range(const BprTriples& b, double* xs) {
#ifdef CALITUNE_SCORES_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return bpr_scores_avx2(b, xs);
#endif
  for (int64_t t = b.start; t < b.end; t++) xs[t - b.start] = bpr_score_one(b, t);
}

static Napi::Value BprScores(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) {
    Napi::RangeError::New(env, std::string("bprScores: ") + m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 9) return fail("expects 9 arguments");
  BprTriples b;
  if (const char* err = bpr_triples(info, 0, 1, 2, b)) return fail(err);
  if (!info[8].IsTypedArray() || info[8].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    return fail("xs must be a Float64Array");
  }
  Napi::Float64Array X = info[8].As<Napi::Float64Array>();
  if (X.ElementLength() < (size_t)(b.end - b.start)) return fail("xs too short");
  bpr_scores_range(b, X.Data());
  return env.Undefined();
}

CALITUNE_VECTOR_CLONES
static void bpr_grad_row(float* __restrict gu, float* gp, float* gn, const float* __restrict u, const float* p,
                         const float* n, size_t d, double g) {
  for (size_t q = 0; q < d; q++) {
    const double uq = u[q], pq = p[q], nq = n[q];
    gu[q] = (float)((double)gu[q] + g * (pq - nq));
    gp[q] = (float)((double)gp[q] + g * uq);
    gn[q] = (float)((double)gn[q] - g * uq);
  }
}

// Where bprGrads accumulates: a row's gradient at its row of gU / gI, or (compact) at the row
// given by the slot maps uSlot / iSlot (row of the table -> row of a [slots x d] buffer).
// With stamps (whole tables only) the buffers are not cleared between batches: a row whose stamp
// (uStamp[u], iStamp[i]) is not this batch's `stamp` holds an old batch's gradient: it is cleared
// and stamped before its first addition, so each row gets a cleared buffer's bits while rows the
// batch does not touch are neither cleared nor read.
struct GradRows {
  float* gU;
  float* gI;
  const int32_t* uSlot;  // nullptr: gU, gI are whole tables indexed by row
  const int32_t* iSlot;
  int64_t uSlots, iSlots;
  int32_t* uStamp;  // nullptr: the buffers were cleared before the batch
  int32_t* iStamp;
  int32_t stamp;
};

// Stamps of the 16-argument form (slot maps null): one per row of U and I, and this batch's.
static const char* grad_stamps(const Napi::CallbackInfo& info, const BprTriples& b, GradRows& r) {
  if (!info[11].IsNull() || !info[12].IsNull()) return "stamps go with whole-table gradients (null slot maps)";
  for (int a : {13, 14}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      return "uStamp and iStamp must be Int32Arrays";
    }
  }
  Napi::Int32Array US = info[13].As<Napi::Int32Array>(), IS = info[14].As<Napi::Int32Array>();
  const size_t nU = info[0].As<Napi::Float32Array>().ElementLength() / b.d;
  const size_t nI = info[1].As<Napi::Float32Array>().ElementLength() / b.d;
  if (US.ElementLength() != nU || IS.ElementLength() != nI) return "uStamp, iStamp must have one entry per row of U, I";
  r.uStamp = US.Data();
  r.iStamp = IS.Data();
  r.stamp = info[15].As<Napi::Number>().Int32Value();
  return nullptr;
}

static const char* grad_rows(const Napi::CallbackInfo& info, const BprTriples& b, GradRows& r) {
  for (int a : {2, 3}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      return "gU and gI must be Float32Arrays";
    }
  }
  Napi::Float32Array GU = info[2].As<Napi::Float32Array>(), GI = info[3].As<Napi::Float32Array>();
  Napi::Float32Array U = info[0].As<Napi::Float32Array>(), I = info[1].As<Napi::Float32Array>();
  r.gU = GU.Data();
  r.gI = GI.Data();
  r.uSlot = r.iSlot = nullptr;
  r.uStamp = r.iStamp = nullptr;
  r.stamp = 0;
  if (info.Length() == 11 || info.Length() == 16) {
    if (GU.ElementLength() != U.ElementLength() || GI.ElementLength() != I.ElementLength()) {
      return "gU, gI must match U, I";
    }
    return info.Length() == 16 ? grad_stamps(info, b, r) : nullptr;
  }
  for (int a : {11, 12}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      return "uSlot and iSlot must be Int32Arrays";
    }
  }
  Napi::Int32Array US = info[11].As<Napi::Int32Array>(), IS = info[12].As<Napi::Int32Array>();
  if (US.ElementLength() * b.d != U.ElementLength() || IS.ElementLength() * b.d != I.ElementLength()) {
    return "uSlot, iSlot must have one entry per row of U, I";
  }
  r.uSlot = US.Data();
  r.iSlot = IS.Data();
  r.uSlots = (int64_t)(GU.ElementLength() / b.d);
  r.iSlots = (int64_t)(GI.ElementLength() / b.d);
  for (int64_t t = b.start; t < b.end; t++) {
    const int32_t u = r.uSlot[b.users[t]], p = r.iSlot[b.pos[t]], n = r.iSlot[b.neg[t]];
    if (u < 0 || u >= r.uSlots || p < 0 || p >= r.iSlots || n < 0 || n >= r.iSlots) return "slot out of range";
  }
  return nullptr;
}

static Napi::Value BprGrads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) {
    Napi::RangeError::New(env, std::string("bprGrads: ") + m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 11 && info.Length() != 13 && info.Length() != 16) return fail("expects 11, 13 or 16 arguments");
  BprTriples b;
  if (const char* err = bpr_triples(info, 0, 1, 4, b)) return fail(err);
  GradRows r;
  if (const char* err = grad_rows(info, b, r)) return fail(err);
  if (!info[10].IsTypedArray() || info[10].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    return fail("gs must be a Float64Array");
  }
  Napi::Float64Array G = info[10].As<Napi::Float64Array>();
  if (G.ElementLength() < (size_t)(b.end - b.start)) return fail("gs too short");
  const double* gs = G.Data();
  const size_t d = b.d;
  auto uRow = [&](int64_t t) { return (size_t)(r.uSlot ? r.uSlot[b.users[t]] : b.users[t]) * d; };
  auto pRow = [&](int64_t t) { return (size_t)(r.iSlot ? r.iSlot[b.pos[t]] : b.pos[t]) * d; };
  auto nRow = [&](int64_t t) { return (size_t)(r.iSlot ? r.iSlot[b.neg[t]] : b.neg[t]) * d; };
  // a stamped row not yet touched in this batch is cleared before its first addition
  auto fresh = [&](int32_t* stamps, int32_t row, float* g) {
    if (stamps == nullptr || stamps[row] == r.stamp) return;
    stamps[row] = r.stamp;
    std::memset(g, 0, d * sizeof(float));
  };
  for (int64_t t = b.start; t < b.end; t++) {
    const int32_t u = b.users[t], p = b.pos[t], n = b.neg[t];
    const size_t uo = (size_t)u * d, po = (size_t)p * d, no = (size_t)n * d;
    float *gu = r.gU + uRow(t), *gp = r.gI + pRow(t), *gn = r.gI + nRow(t);
    fresh(r.uStamp, u, gu);
    fresh(r.iStamp, p, gp);
    fresh(r.iStamp, n, gn);
    bpr_grad_row(gu, gp, gn, b.U + uo, b.I + po, b.I + no, d, gs[t - b.start]);
  }
  return env.Undefined();
}

void RegisterBprKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("bprScores", Napi::Function::New(env, BprScores));
  exports.Set("bprGrads", Napi::Function::New(env, BprGrads));
  // bprGrads takes slot maps and adamRows compactGrads (older builds lack this flag)
  exports.Set("compactGrads", Napi::Boolean::New(env, true));
  // bprGrads takes row stamps and adamStampedRows exists (older builds lack this flag)
  exports.Set("gradStamps", Napi::Boolean::New(env, true));
}
