// N-API binding to OpenBLAS GEMM and the sparse products (this file), plus the optimizer and BPR
// kernels in optim.cc and bpr.cc (kernels.h); loaded by src/math/native.ts.
// Arguments are validated in TypeScript (src/math/gemm.ts); here we only check types and
// bounds cheaply so a bad call throws instead of reading out of bounds.
#include <napi.h>
#include "kernels.h"
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
  RegisterOptimizerKernels(env, exports);
  RegisterBprKernels(env, exports);
  RegisterBprDrawKernels(env, exports);
  RegisterRowKernels(env, exports);
  RegisterTopkKernels(env, exports);
  RegisterStampedAdamKernels(env, exports);
  return exports;
}

NODE_API_MODULE(calitune_blas, Init)
