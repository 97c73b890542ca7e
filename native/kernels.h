// Kernels of the N-API binding beyond GEMM (see gemm.cc for the module and its GEMM/sparse
// functions): each file registers its functions on the module's exports.
#pragma once
#include <napi.h>

// Element-wise loops get AVX-512 and AVX2 clones picked at load time on x86-64 (else the baseline
// loop): IEEE operations give the same bits in any lane width, and the build has neither FMA
// contraction (-ffp-contract=off, no -mfma) nor fast-math, so results match the TypeScript loops.
// AVX-512 mostly halves the instructions of the float<->double conversions these loops are made of
// (about 15 % off dense Adam, 5 % off BPR's gradient pass on a Zen 4 core); its CPUs pick it.
#if defined(__x86_64__) && defined(__GNUC__)
#define CALITUNE_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CALITUNE_VECTOR_CLONES
#endif

// optim.cc: adamStep (dense Adam), adamRows (lazy Adam over listed rows), radamRows (row-sparse
// RAdam's rectified step).
void RegisterOptimizerKernels(Napi::Env env, Napi::Object exports);
// bpr.cc: bprScores, bprGrads (BPR's fused forward/backward around the loss).
void RegisterBprKernels(Napi::Env env, Napi::Object exports);
// bpr-draw.cc: bprDrawEpoch (one BPR epoch's shuffle, pairs and negatives).
void RegisterBprDrawKernels(Napi::Env env, Napi::Object exports);
// rows.cc: gatherRows, scatterAddRows, radamCatchUpRows (the fine-tuner's candidate rows and RAdam catch-up).
void RegisterRowKernels(Napi::Env env, Napi::Object exports);
// topk.cc: topkRows, topkRow (row-wise top-k of score rows, src/math/topk.ts; a hinted row for the fine-tuner).
void RegisterTopkKernels(Napi::Env env, Napi::Object exports);
// adam-stamped.cc: adamStampedRows (dense Adam over stamped gradient rows, BPR's halves).
void RegisterStampedAdamKernels(Napi::Env env, Napi::Object exports);
