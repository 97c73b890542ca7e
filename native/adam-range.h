// Adam's element update shared by the optimizer kernels (native/optim.cc defines it; see its
// comment for the arithmetic).
#pragma once
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

// The update of entries [lo, hi): g = grad (+ g2, rounded to float) + wd·p, then m, v, p; with
// a.zero the gradient entries read are set to 0.
void adam_range(size_t lo, size_t hi, const AdamArgs& a);
