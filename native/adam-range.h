// Adam's element update shared by the optimizer kernels (native/optim.cc defines it; see its
// comment for the arithmetic).
#pragma once
#include <cmath>
#include <cstddef>

struct AdamArgs {
  float* p;
  float* g;
  float* g2;  // nullptr: no second gradient buffer
  float* m;
  float* v;
  double b1, b2, stepSize, inv, eps, wd;
  bool zero;
};

// Adam's element update once the gradient gi (weight decay added) and the weight pi of entry i are
// known: m, v rounded to float32, then p, in float64 without contraction. Expects b1, b2, omb1,
// omb2, stepSize, inv, eps and the arrays p, m, v in scope: every kernel of the Adam step uses it,
// so all of them give the TypeScript loop's bits.
#define CALITUNE_ADAM_ELEMENT(i, pi, gi)                                           \
  do {                                                                             \
    const float mi_ = (float)(b1 * (double)m[i] + omb1 * (gi));                    \
    const float vi_ = (float)(b2 * (double)v[i] + omb2 * (gi) * (gi));             \
    m[i] = mi_;                                                                    \
    v[i] = vi_;                                                                    \
    p[i] = (float)((pi) - stepSize * (double)mi_ / (std::sqrt((double)vi_) * inv + eps)); \
  } while (0)

// The update of entries [lo, hi): g = grad (+ g2, rounded to float) + wd·p, then m, v, p; with
// a.zero the gradient entries read are set to 0.
void adam_range(size_t lo, size_t hi, const AdamArgs& a);
