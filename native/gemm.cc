// Minimal N-API binding to OpenBLAS: just what the project's GEMM seam needs.
// Arguments are validated in TypeScript (src/math/gemm.ts); here we only check types and
// bounds cheaply so a bad call throws instead of reading out of bounds.
#include <napi.h>
#include <cblas.h>
#include <string>
#include <cmath>

extern "C" {
char* openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

static bool fits(size_t len, int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return true;
  return (size_t)(rows - 1) * (size_t)ld + (size_t)cols <= len;
}

static Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 13) {
    Napi::TypeError::New(env, "sgemm expects 13 arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool transA = info[0].As<Napi::Boolean>().Value();
  bool transB = info[1].As<Napi::Boolean>().Value();
  int M = info[2].As<Napi::Number>().Int32Value();
  int N = info[3].As<Napi::Number>().Int32Value();
  int K = info[4].As<Napi::Number>().Int32Value();
  float alpha = info[5].As<Napi::Number>().FloatValue();
  if (!info[6].IsTypedArray() || !info[8].IsTypedArray() || !info[11].IsTypedArray()) {
    Napi::TypeError::New(env, "sgemm expects Float32Arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Float32Array A = info[6].As<Napi::Float32Array>();
  int lda = info[7].As<Napi::Number>().Int32Value();
  Napi::Float32Array B = info[8].As<Napi::Float32Array>();
  int ldb = info[9].As<Napi::Number>().Int32Value();
  float beta = info[10].As<Napi::Number>().FloatValue();
  Napi::Float32Array C = info[11].As<Napi::Float32Array>();
  int ldc = info[12].As<Napi::Number>().Int32Value();
  if (M < 0 || N < 0 || K < 0 ||
      !fits(A.ElementLength(), transA ? K : M, transA ? M : K, lda) ||
      !fits(B.ElementLength(), transB ? N : K, transB ? K : N, ldb) ||
      !fits(C.ElementLength(), M, N, ldc)) {
    Napi::RangeError::New(env, "sgemm: buffer too small for the given shape").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (M == 0 || N == 0) return env.Undefined();
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A.Data(), lda, B.Data(), ldb, beta, C.Data(), ldc);
  return env.Undefined();
}


// ---------------------------------------------------------------------------------------
// Sparse rows × dense matrix (the sparse first layers of DMF and MultiVAE).
//
// spmmRows(n, indptr, indices, values|null, rowSel|null, src, srcRows, outF, dst, dstRows,
//          dstMap|null, accumulate, nThreads):
//   for k in 0..n:  r = rowSel ? rowSel[k] : k,  d = dstMap ? dstMap[k] : k
//     dst[d, :] (+)= Σ_{q in indptr[r]..indptr[r+1])  (values ? values[q] : 1) · src[indices[q], :]
// (rowSel lets a batch read selected rows of a whole CSR matrix without copying them.)
// Forward of a sparse linear layer: rows = batch rows, src = W [in × out], dstMap = null.
// Backward (dW += Xᵀ·dy): spmmRowsT below transposes the batch and runs the same kernel
// with rows = the features that occur, src = dy, dstMap = the feature ids, accumulate = true. Each output row is written by exactly one
// thread (rows are split into nnz-balanced contiguous ranges), so no atomics are needed.
// Columns are processed in register blocks (64 floats with AVX2+FMA, picked at load time).
#include <functional>
#include <thread>
#include <vector>
#include <algorithm>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

constexpr int CB = 32;

// Portable kernel (any x86-64 / ARM): columns in blocks of CB floats.
void spmm_range_generic(int k0, int k1, const int32_t* indptr, const int32_t* indices, const float* values,
                        const int32_t* rowSel, const float* src, int outF, float* dst, const int32_t* dstMap, bool accumulate) {
  for (int k = k0; k < k1; k++) {
    const int rr = rowSel ? rowSel[k] : k;
    const int lo = indptr[rr], hi = indptr[rr + 1];
    float* out = dst + (size_t)(dstMap ? dstMap[k] : k) * outF;
    int c = 0;
    for (; c + CB <= outF; c += CB) {
      float acc[CB];
      for (int j = 0; j < CB; j++) acc[j] = 0.f;
      for (int q = lo; q < hi; q++) {
        const float v = values ? values[q] : 1.f;
        const float* w = src + (size_t)indices[q] * outF + c;
        for (int j = 0; j < CB; j++) acc[j] += v * w[j];
      }
      if (accumulate) for (int j = 0; j < CB; j++) out[c + j] += acc[j];
      else for (int j = 0; j < CB; j++) out[c + j] = acc[j];
    }
    for (; c < outF; c++) {
      float a = 0.f;
      for (int q = lo; q < hi; q++) a += (values ? values[q] : 1.f) * src[(size_t)indices[q] * outF + c];
      if (accumulate) out[c] += a; else out[c] = a;
    }
  }
}

#if defined(__x86_64__)
// AVX2 + FMA kernel: 64 columns (8 ymm accumulators) per pass over a row's non-zeros.
__attribute__((target("avx2,fma")))
void spmm_range_avx2(int k0, int k1, const int32_t* indptr, const int32_t* indices, const float* values,
                     const int32_t* rowSel, const float* src, int outF, float* dst, const int32_t* dstMap, bool accumulate) {
  for (int k = k0; k < k1; k++) {
    const int rr = rowSel ? rowSel[k] : k;
    const int lo = indptr[rr], hi = indptr[rr + 1];
    float* out = dst + (size_t)(dstMap ? dstMap[k] : k) * outF;
    int c = 0;
    for (; c + 64 <= outF; c += 64) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      for (int q = lo; q < hi; q++) {
        const float* w = src + (size_t)indices[q] * outF + c;
        if (q + 2 < hi) _mm_prefetch((const char*)(src + (size_t)indices[q + 2] * outF + c), _MM_HINT_T0);
        const __m256 v = _mm256_set1_ps(values ? values[q] : 1.f);
        a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w), a0);
        a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 8), a1);
        a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 16), a2);
        a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 24), a3);
        a4 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 32), a4);
        a5 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 40), a5);
        a6 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 48), a6);
        a7 = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 56), a7);
      }
      float* o = out + c;
      if (accumulate) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(o)); a1 = _mm256_add_ps(a1, _mm256_loadu_ps(o + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(o + 16)); a3 = _mm256_add_ps(a3, _mm256_loadu_ps(o + 24));
        a4 = _mm256_add_ps(a4, _mm256_loadu_ps(o + 32)); a5 = _mm256_add_ps(a5, _mm256_loadu_ps(o + 40));
        a6 = _mm256_add_ps(a6, _mm256_loadu_ps(o + 48)); a7 = _mm256_add_ps(a7, _mm256_loadu_ps(o + 56));
      }
      _mm256_storeu_ps(o, a0); _mm256_storeu_ps(o + 8, a1); _mm256_storeu_ps(o + 16, a2); _mm256_storeu_ps(o + 24, a3);
      _mm256_storeu_ps(o + 32, a4); _mm256_storeu_ps(o + 40, a5); _mm256_storeu_ps(o + 48, a6); _mm256_storeu_ps(o + 56, a7);
    }
    for (; c + 8 <= outF; c += 8) {
      __m256 a = _mm256_setzero_ps();
      for (int q = lo; q < hi; q++) {
        a = _mm256_fmadd_ps(_mm256_set1_ps(values ? values[q] : 1.f), _mm256_loadu_ps(src + (size_t)indices[q] * outF + c), a);
      }
      if (accumulate) a = _mm256_add_ps(a, _mm256_loadu_ps(out + c));
      _mm256_storeu_ps(out + c, a);
    }
    for (; c < outF; c++) {
      float a = 0.f;
      for (int q = lo; q < hi; q++) a += (values ? values[q] : 1.f) * src[(size_t)indices[q] * outF + c];
      if (accumulate) out[c] += a; else out[c] = a;
    }
  }
}
#endif

using SpmmFn = void (*)(int, int, const int32_t*, const int32_t*, const float*, const int32_t*, const float*, int, float*, const int32_t*, bool);

SpmmFn pick_spmm() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return spmm_range_avx2;
#endif
  return spmm_range_generic;
}

const SpmmFn spmm_range = pick_spmm();

}  // namespace

// Runs spmm_range over rows [0, n) on up to nThreads threads, ranges balanced by nnz.
static void spmm_parallel(int n, const int32_t* ip, const int32_t* ix, const float* vp, const int32_t* sel,
                          const float* sp, int outF, float* dp, const int32_t* mp, bool accumulate, int nThreads) {
  auto rowLen = [&](int k) -> size_t { const int r = sel ? sel[k] : k; return (size_t)(ip[r + 1] - ip[r]); };
  size_t nnz = 0;
  for (int k = 0; k < n; k++) nnz += rowLen(k);
  if (nThreads < 1) nThreads = 1;
  // below ~64K multiply-adds a thread costs more than it saves
  if ((nnz + (size_t)n) * (size_t)outF < 65536 || n < 2) nThreads = 1;
  nThreads = std::min(nThreads, n);
  if (nThreads == 1) { spmm_range(0, n, ip, ix, vp, sel, sp, outF, dp, mp, accumulate); return; }
  std::vector<int> bounds(nThreads + 1, n);
  bounds[0] = 0;
  const double per = (double)(nnz + n) / nThreads;
  double done = 0;
  int t = 1;
  for (int k = 0; k < n && t < nThreads; k++) {
    done += (double)rowLen(k) + 1;
    if (done >= per * t) bounds[t++] = k + 1;
  }
  std::vector<std::thread> pool;
  for (int i = 1; i < nThreads; i++) {
    if (bounds[i] < bounds[i + 1]) pool.emplace_back(spmm_range, bounds[i], bounds[i + 1], ip, ix, vp, sel, sp, outF, dp, mp, accumulate);
  }
  spmm_range(bounds[0], bounds[1], ip, ix, vp, sel, sp, outF, dp, mp, accumulate);
  for (auto& th : pool) th.join();
}

// Shared argument checks of the sparse operand (indptr, indices, values, rowSel); returns
// nullptr when fine, else the error message. `nCols` bounds the column indices.
static const char* check_sparse(int n, const Napi::Int32Array& indptr, const Napi::Int32Array& indices,
                                bool hasValues, const Napi::Float32Array& values, bool hasSel,
                                const Napi::Int32Array& rowSel, int nCols) {
  if (n < 0) return "negative row count";
  const size_t nPtr = indptr.ElementLength();
  if (nPtr < 1) return "indptr is empty";
  const int32_t* ip = indptr.Data();
  if (hasSel) {
    if (rowSel.ElementLength() < (size_t)n) return "row selection too short";
  } else if (nPtr < (size_t)n + 1) {
    return "indptr too short";
  }
  const size_t nRowsPtr = hasSel ? nPtr - 1 : (size_t)n;
  if (ip[0] < 0) return "bad indptr";
  for (size_t r = 0; r < nRowsPtr; r++) if (ip[r + 1] < ip[r]) return "indptr not monotone";
  const size_t nnzEnd = (size_t)ip[nRowsPtr];
  if (nnzEnd > indices.ElementLength() || (hasValues && nnzEnd > values.ElementLength())) return "indices/values too short";
  if (hasSel) {
    const int32_t* sel = rowSel.Data();
    for (int k = 0; k < n; k++) if (sel[k] < 0 || (size_t)sel[k] >= nRowsPtr) return "selected row out of range";
  }
  const int32_t* ix = indices.Data();
  for (size_t q = (size_t)ip[0]; q < nnzEnd; q++) if (ix[q] < 0 || ix[q] >= nCols) return "index out of range";
  return nullptr;
}

// spmmRows(n, indptr, indices, values|null, rowSel|null, src, srcRows, outF, dst, dstRows,
//          dstMap|null, accumulate, nThreads)
static Napi::Value SpmmRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) { Napi::RangeError::New(env, std::string("spmmRows: ") + m).ThrowAsJavaScriptException(); return env.Undefined(); };
  if (info.Length() != 13) return fail("expects 13 arguments");
  if (!info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[5].IsTypedArray() || !info[8].IsTypedArray()) return fail("typed arrays expected");
  const int n = info[0].As<Napi::Number>().Int32Value();
  Napi::Int32Array indptr = info[1].As<Napi::Int32Array>();
  Napi::Int32Array indices = info[2].As<Napi::Int32Array>();
  const bool hasValues = info[3].IsTypedArray();
  Napi::Float32Array values;
  if (hasValues) values = info[3].As<Napi::Float32Array>();
  const bool hasSel = info[4].IsTypedArray();
  Napi::Int32Array rowSel;
  if (hasSel) rowSel = info[4].As<Napi::Int32Array>();
  Napi::Float32Array src = info[5].As<Napi::Float32Array>();
  const int srcRows = info[6].As<Napi::Number>().Int32Value();
  const int outF = info[7].As<Napi::Number>().Int32Value();
  Napi::Float32Array dst = info[8].As<Napi::Float32Array>();
  const int dstRows = info[9].As<Napi::Number>().Int32Value();
  const bool hasMap = info[10].IsTypedArray();
  Napi::Int32Array dstMap;
  if (hasMap) dstMap = info[10].As<Napi::Int32Array>();
  const bool accumulate = info[11].As<Napi::Boolean>().Value();
  const int nThreads = info[12].As<Napi::Number>().Int32Value();
  if (outF < 0 || srcRows < 0 || dstRows < 0) return fail("negative size");
  if ((size_t)srcRows * outF > src.ElementLength()) return fail("src too small");
  if ((size_t)dstRows * outF > dst.ElementLength()) return fail("dst too small");
  if (hasMap && dstMap.ElementLength() < (size_t)n) return fail("dstMap too short");
  if (!hasMap && n > dstRows) return fail("more rows than dst holds");
  if (const char* e = check_sparse(n, indptr, indices, hasValues, values, hasSel, rowSel, srcRows)) return fail(e);
  const int32_t* mp = hasMap ? dstMap.Data() : nullptr;
  if (mp) for (int k = 0; k < n; k++) if (mp[k] < 0 || mp[k] >= dstRows) return fail("dstMap entry out of range");
  if (n == 0 || outF == 0) return env.Undefined();
  spmm_parallel(n, indptr.Data(), indices.Data(), hasValues ? values.Data() : nullptr, hasSel ? rowSel.Data() : nullptr,
                src.Data(), outF, dst.Data(), mp, accumulate, nThreads);
  return env.Undefined();
}

// spmmRowsT(n, indptr, indices, values|null, rowSel|null, dy, outF, dW, nFeatures, nThreads):
//   dW[j, :] += Σ over entries (k, j) of the n sparse rows: value · dy[k, :]
// (the weight gradient of a sparse linear layer). The batch is transposed here (counting
// sort over the features that occur); each thread then owns a range of features.
static Napi::Value SpmmRowsT(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) { Napi::RangeError::New(env, std::string("spmmRowsT: ") + m).ThrowAsJavaScriptException(); return env.Undefined(); };
  if (info.Length() != 10) return fail("expects 10 arguments");
  if (!info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[5].IsTypedArray() || !info[7].IsTypedArray()) return fail("typed arrays expected");
  const int n = info[0].As<Napi::Number>().Int32Value();
  Napi::Int32Array indptr = info[1].As<Napi::Int32Array>();
  Napi::Int32Array indices = info[2].As<Napi::Int32Array>();
  const bool hasValues = info[3].IsTypedArray();
  Napi::Float32Array values;
  if (hasValues) values = info[3].As<Napi::Float32Array>();
  const bool hasSel = info[4].IsTypedArray();
  Napi::Int32Array rowSel;
  if (hasSel) rowSel = info[4].As<Napi::Int32Array>();
  Napi::Float32Array dy = info[5].As<Napi::Float32Array>();
  const int outF = info[6].As<Napi::Number>().Int32Value();
  Napi::Float32Array dW = info[7].As<Napi::Float32Array>();
  const int nFeatures = info[8].As<Napi::Number>().Int32Value();
  const int nThreads = info[9].As<Napi::Number>().Int32Value();
  if (outF < 0 || nFeatures < 0) return fail("negative size");
  if ((size_t)n * outF > dy.ElementLength()) return fail("dy too small");
  if ((size_t)nFeatures * outF > dW.ElementLength()) return fail("dW too small");
  if (const char* e = check_sparse(n, indptr, indices, hasValues, values, hasSel, rowSel, nFeatures)) return fail(e);
  if (n == 0 || outF == 0) return env.Undefined();
  const int32_t* ip = indptr.Data();
  const int32_t* ix = indices.Data();
  const int32_t* sel = hasSel ? rowSel.Data() : nullptr;
  const float* vp = hasValues ? values.Data() : nullptr;
  std::vector<int32_t> count(nFeatures + 1, 0);
  size_t nnz = 0;
  for (int k = 0; k < n; k++) {
    const int r = sel ? sel[k] : k;
    for (int q = ip[r]; q < ip[r + 1]; q++) count[ix[q] + 1]++;
    nnz += (size_t)(ip[r + 1] - ip[r]);
  }
  std::vector<int32_t> feats;
  std::vector<int32_t> tptr(1, 0);
  std::vector<int32_t> pos(nFeatures, 0);
  int32_t acc = 0;
  for (int j = 0; j < nFeatures; j++) {
    pos[j] = acc;
    if (count[j + 1] > 0) { feats.push_back(j); acc += count[j + 1]; tptr.push_back(acc); }
  }
  std::vector<int32_t> trows(nnz);
  std::vector<float> tvals(vp ? nnz : 0);
  for (int k = 0; k < n; k++) {
    const int r = sel ? sel[k] : k;
    for (int q = ip[r]; q < ip[r + 1]; q++) {
      const int32_t p = pos[ix[q]]++;
      trows[p] = k;
      if (vp) tvals[p] = vp[q];
    }
  }
  spmm_parallel((int)feats.size(), tptr.data(), trows.data(), vp ? tvals.data() : nullptr, nullptr,
                dy.Data(), outF, dW.Data(), feats.data(), true, nThreads);
  return env.Undefined();
}

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
#if defined(__x86_64__) && defined(__GNUC__)
#define CALITUNE_ADAM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CALITUNE_ADAM_CLONES
#endif
struct AdamArgs {
  float* p;
  float* g;
  float* g2;  // nullptr: no second gradient buffer
  float* m;
  float* v;
  double b1, b2, stepSize, inv, eps, wd;
  bool zero;
};

CALITUNE_ADAM_CLONES
static void adam_range(size_t lo, size_t hi, const AdamArgs& a) {
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
      const float mi = (float)(b1 * (double)m[i] + omb1 * gi);
      const float vi = (float)(b2 * (double)v[i] + omb2 * gi * gi);
      m[i] = mi;
      v[i] = vi;
      p[i] = (float)((double)p[i] - stepSize * (double)mi / (std::sqrt((double)vi) * inv + eps));
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
    const float mi = (float)(b1 * (double)m[i] + omb1 * gi);
    const float vi = (float)(b2 * (double)v[i] + omb2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = (float)(pi - stepSize * (double)mi / (std::sqrt((double)vi) * inv + eps));
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
  if (nThreads < 1) nThreads = 1;
  // below ~128K elements a thread costs more than it saves
  if (n < 131072) nThreads = 1;
  if (nThreads == 1) { adam_range(0, n, a); return env.Undefined(); }
  std::vector<std::thread> pool;
  const size_t per = (n + nThreads - 1) / nThreads;
  for (int t = 1; t < nThreads; t++) {
    const size_t lo = std::min(n, per * t), hi = std::min(n, per * (t + 1));
    if (lo < hi) pool.emplace_back(adam_range, lo, hi, std::cref(a));
  }
  adam_range(0, std::min(n, per), a);
  for (auto& th : pool) th.join();
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
CALITUNE_ADAM_CLONES
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
  int nThreads = info[13].As<Napi::Number>().Int32Value();
  // below ~64K elements a thread costs more than it saves
  if (nThreads < 2 || (size_t)count * d < 65536) {
    span(0, count);
    return env.Undefined();
  }
  const int64_t mid = count / 2;
  std::thread other(span, mid, count);
  span(0, mid);
  other.join();
  return env.Undefined();
}

// ---------------------------------------------------------------------------------------
// BPR's fused forward/backward (src/models/bpr.ts, bprKernel) in two passes around the
// loss, which stays in TypeScript (its exp/log are V8's): the weights do not change within a
// pass, so splitting the kernel at the loss changes no value.
//   bprScores: for t in [start, end), xs[t − start] = (float)(Σ_even u·p + Σ_odd u·p) −
//              (float)(Σ_even u·n + Σ_odd u·n), accumulated in double in bprKernel's order
//              (two chains each, pairs of columns, then the odd column);
//   bprGrads:  for t in order, with g = gs[t − start], per column q:
//              gU[u,q] += g·(p_q − n_q); gI[pos,q] += g·u_q; gI[neg,q] −= g·u_q (double, stored float).
// bprScores(U, I, d, users, pos, neg, start, end, xs) / bprGrads(U, I, gU, gI, d, users, pos, neg, start, end, gs)
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
  for (int64_t t = b.start; t < b.end; t++) {
    if (us[t] < 0 || us[t] >= nU || ps[t] < 0 || ps[t] >= nI || ns[t] < 0 || ns[t] >= nI) return "id out of range";
  }
  b.U = U.Data();
  b.I = I.Data();
  b.d = (size_t)d;
  b.users = us.Data();
  b.pos = ps.Data();
  b.neg = ns.Data();
  return nullptr;
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
  double* xs = X.Data();
  const size_t d = b.d;
  for (int64_t t = b.start; t < b.end; t++) {
    const float* u = b.U + (size_t)b.users[t] * d;
    const float* p = b.I + (size_t)b.pos[t] * d;
    const float* n = b.I + (size_t)b.neg[t] * d;
    double a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    size_t j = 0;
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
    xs[t - b.start] = (double)(float)(a0 + a1) - (double)(float)(b0 + b1);
  }
  return env.Undefined();
}

CALITUNE_ADAM_CLONES
static void bpr_grad_row(float* __restrict gu, float* gp, float* gn, const float* __restrict u, const float* p,
                         const float* n, size_t d, double g) {
  for (size_t q = 0; q < d; q++) {
    const double uq = u[q], pq = p[q], nq = n[q];
    gu[q] = (float)((double)gu[q] + g * (pq - nq));
    gp[q] = (float)((double)gp[q] + g * uq);
    gn[q] = (float)((double)gn[q] - g * uq);
  }
}

static Napi::Value BprGrads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) {
    Napi::RangeError::New(env, std::string("bprGrads: ") + m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 11) return fail("expects 11 arguments");
  BprTriples b;
  if (const char* err = bpr_triples(info, 0, 1, 4, b)) return fail(err);
  for (int a : {2, 3}) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      return fail("gU and gI must be Float32Arrays");
    }
  }
  Napi::Float32Array GU = info[2].As<Napi::Float32Array>(), GI = info[3].As<Napi::Float32Array>();
  Napi::Float32Array U = info[0].As<Napi::Float32Array>(), I = info[1].As<Napi::Float32Array>();
  if (GU.ElementLength() != U.ElementLength() || GI.ElementLength() != I.ElementLength()) {
    return fail("gU, gI must match U, I");
  }
  if (!info[10].IsTypedArray() || info[10].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    return fail("gs must be a Float64Array");
  }
  Napi::Float64Array G = info[10].As<Napi::Float64Array>();
  if (G.ElementLength() < (size_t)(b.end - b.start)) return fail("gs too short");
  const double* gs = G.Data();
  float* gU = GU.Data();
  float* gI = GI.Data();
  const size_t d = b.d;
  for (int64_t t = b.start; t < b.end; t++) {
    const size_t uo = (size_t)b.users[t] * d, po = (size_t)b.pos[t] * d, no = (size_t)b.neg[t] * d;
    bpr_grad_row(gU + uo, gI + po, gI + no, b.U + uo, b.I + po, b.I + no, d, gs[t - b.start]);
  }
  return env.Undefined();
}

static Napi::Value Config(const Napi::CallbackInfo& info) {
  // openblas_get_config() already starts with "OpenBLAS <version>" and, with DYNAMIC_ARCH,
  // names the kernel set picked at load time (e.g. Haswell), which doctor reports.
  return Napi::String::New(info.Env(), std::string(openblas_get_config()));
}

static Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), openblas_get_num_threads());
}

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("config", Napi::Function::New(env, Config));
  exports.Set("numThreads", Napi::Function::New(env, NumThreads));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("spmmRows", Napi::Function::New(env, SpmmRows));
  exports.Set("spmmRowsT", Napi::Function::New(env, SpmmRowsT));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
  exports.Set("radamRows", Napi::Function::New(env, RadamRows));
  exports.Set("bprScores", Napi::Function::New(env, BprScores));
  exports.Set("bprGrads", Napi::Function::New(env, BprGrads));
  return exports;
}

NODE_API_MODULE(calitune_blas, Init)
