// Minimal N-API binding to OpenBLAS: just what the project's GEMM seam needs.
// Arguments are validated in TypeScript (src/math/gemm.ts); here we only check types and
// bounds cheaply so a bad call throws instead of reading out of bounds.
#include <napi.h>
#include <cblas.h>
#include <string>

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
  return exports;
}

NODE_API_MODULE(calitune_blas, Init)
