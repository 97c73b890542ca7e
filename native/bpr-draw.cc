// BPR's epoch draw of the binding (src/train/bpr-trainer.ts EpochTriples.draw), bit for bit.
#include "kernels.h"
#include <cstdint>
#include <string>
#include <vector>

// ---------------------------------------------------------------------------------------
// One epoch's triples (src/train/bpr-trainer.ts EpochTriples.draw), bit for bit: the same
// random stream as src/math/rng.ts, pure-rand's xoroshiro128+ on four 32-bit words
// (s01, s00, s11, s10: the order of its getState), nextInt(n) by rejection above the largest
// multiple of n below 2^32; a Fisher–Yates shuffle of `order`, the shuffled pairs gathered,
// then per triple a uniform negative in [1, nItems) redrawn while it is a train item of the
// user (rows of the CSR sorted ascending). The state is read from and written back to `state`.
// bprDrawEpoch(state, order, pairUsers, pairItems, users, pos, neg, indptr, indices, nItems[, maxTrainBits])
struct Xoroshiro {
  uint32_t s01, s00, s11, s10;
  uint32_t next() {
    const uint32_t out = s00 + s10;
    const uint32_t a0 = s10 ^ s00, a1 = s11 ^ s01;
    const uint32_t o00 = s00, o01 = s01;
    s00 = (o00 << 24) ^ (o01 >> 8) ^ a0 ^ (a0 << 16);
    s01 = (o01 << 24) ^ (o00 >> 8) ^ a1 ^ ((a1 << 16) | (a0 >> 16));
    s10 = (a1 << 5) ^ (a0 >> 27);
    s11 = (a0 << 5) ^ (a1 >> 27);
    return out;
  }
  uint32_t nextInt(uint32_t n) {
    const uint64_t two32 = (uint64_t)1 << 32;
    const uint64_t limit = two32 - two32 % n;
    uint32_t x = next();
    while (x >= limit) x = next();
    return x % n;
  }
};

static bool sorted_contains(const int32_t* a, int64_t lo, int64_t hi, int32_t x) {
  hi--;
  while (lo <= hi) {
    const int64_t mid = (lo + hi) >> 1;
    if (a[mid] == x) return true;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

// The train items of every user as one bit matrix (users × items), when it is small enough: a
// negative is then checked with one load instead of a binary search in the user's row (the
// same answers, so the same draws). Larger catalogues keep the search (the optional 11th
// argument of bprDrawEpoch lowers the bound, so tests reach both ways).
static const int64_t kMaxTrainBits = (int64_t)1 << 28;  // 32 MB

// Empty when a row or an item id is out of range (the caller then searches the rows, as before).
static std::vector<uint64_t> train_bits(const int32_t* ip, const int32_t* ix, size_t nIx, int64_t nUsers,
                                        int64_t nItems) {
  std::vector<uint64_t> bits((size_t)((nUsers * nItems + 63) / 64), 0);
  for (int64_t u = 0; u < nUsers; u++) {
    if (ip[u] < 0 || ip[u + 1] < ip[u] || (size_t)ip[u + 1] > nIx) return {};
    for (int32_t k = ip[u]; k < ip[u + 1]; k++) {
      if (ix[k] < 0 || ix[k] >= nItems) return {};
      const int64_t b = u * nItems + ix[k];
      bits[(size_t)(b >> 6)] |= (uint64_t)1 << (b & 63);
    }
  }
  return bits;
}

// Per triple a uniform negative in [1, nItems), redrawn while it is a train item of the user.
static void draw_negatives(Xoroshiro& g, const int32_t* ip, const int32_t* ix, size_t nIx, int64_t nUsers,
                           int64_t nItems, int64_t maxBits, const int32_t* users, int32_t* neg, size_t n) {
  const uint32_t span = (uint32_t)(nItems - 1);
  const std::vector<uint64_t> bits =
      nUsers * nItems <= maxBits ? train_bits(ip, ix, nIx, nUsers, nItems) : std::vector<uint64_t>();
  if (bits.empty()) {
    for (size_t t = 0; t < n; t++) {
      const int64_t lo = ip[users[t]], hi = ip[users[t] + 1];
      int32_t j = (int32_t)g.nextInt(span) + 1;
      while (sorted_contains(ix, lo, hi, j)) j = (int32_t)g.nextInt(span) + 1;
      neg[t] = j;
    }
    return;
  }
  auto isTrain = [&](int64_t u, int32_t j) {
    const int64_t b = u * nItems + j;
    return (bits[(size_t)(b >> 6)] >> (b & 63)) & 1;
  };
  for (size_t t = 0; t < n; t++) {
    int32_t j = (int32_t)g.nextInt(span) + 1;
    while (isTrain(users[t], j)) j = (int32_t)g.nextInt(span) + 1;
    neg[t] = j;
  }
}

static Napi::Value BprDrawEpoch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const char* m) {
    Napi::RangeError::New(env, std::string("bprDrawEpoch: ") + m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 10 && info.Length() != 11) return fail("expects 10 or 11 arguments");
  for (int a = 0; a < 9; a++) {
    if (!info[a].IsTypedArray() || info[a].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      return fail("state, order, pairs, triples, indptr, indices must be Int32Arrays");
    }
  }
  auto arr = [&](int a) { return info[a].As<Napi::Int32Array>(); };
  Napi::Int32Array St = arr(0), O = arr(1), PU = arr(2), PI = arr(3), U = arr(4), P = arr(5), N = arr(6);
  Napi::Int32Array IP = arr(7), IX = arr(8);
  const int64_t nItems = info[9].As<Napi::Number>().Int64Value();
  const size_t n = O.ElementLength();
  if (St.ElementLength() != 4) return fail("state must hold 4 words");
  if (PU.ElementLength() != n || PI.ElementLength() != n || U.ElementLength() != n || P.ElementLength() != n ||
      N.ElementLength() != n) {
    return fail("order, pairs and triples must have one entry per pair");
  }
  if (nItems < 2 || nItems > ((int64_t)1 << 31)) return fail("nItems out of range");
  const int32_t* ip = IP.Data();
  const int64_t nUsers = (int64_t)IP.ElementLength() - 1;
  int32_t* order = O.Data();
  const int32_t *pu = PU.Data(), *pi = PI.Data();
  for (size_t i = 0; i < n; i++) {
    if (order[i] < 0 || (size_t)order[i] >= n) return fail("order entry out of range");
    if (pu[i] < 0 || pu[i] >= nUsers) return fail("pair user out of range");
    const int32_t lo = ip[pu[i]], hi = ip[pu[i] + 1];
    if (lo < 0 || hi < lo || (size_t)hi > IX.ElementLength()) return fail("bad indptr");
    // a user with every item would never get a negative (the trainer refuses such data)
    if (hi - lo >= nItems - 1) return fail("a user interacted with every item");
  }
  Xoroshiro g{(uint32_t)St[0], (uint32_t)St[1], (uint32_t)St[2], (uint32_t)St[3]};
  for (size_t i = n; i-- > 1;) {
    const uint32_t j = g.nextInt((uint32_t)(i + 1));
    std::swap(order[i], order[j]);
  }
  int32_t *users = U.Data(), *pos = P.Data(), *neg = N.Data();
  for (size_t i = 0; i < n; i++) {
    users[i] = pu[order[i]];
    pos[i] = pi[order[i]];
  }
  const int64_t maxBits =
      info.Length() == 11 && info[10].IsNumber() ? info[10].As<Napi::Number>().Int64Value() : kMaxTrainBits;
  draw_negatives(g, ip, IX.Data(), IX.ElementLength(), nUsers, nItems, maxBits, users, neg, n);
  St[0] = (int32_t)g.s01;
  St[1] = (int32_t)g.s00;
  St[2] = (int32_t)g.s11;
  St[3] = (int32_t)g.s10;
  return env.Undefined();
}

void RegisterBprDrawKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("bprDrawEpoch", Napi::Function::New(env, BprDrawEpoch));
}
