/**
 * The random draws behind the synthetic generator (synthetic.ts): Gamma and Beta variates, the
 * split of user activity, weighted sampling without replacement over a Fenwick tree, and the
 * swap that gives every catalogue item an interaction. Each consumes the Rng in a fixed order,
 * so a seed fixes the data.
 */
import type { Rng } from '../math/rng.js';

/** Gamma(a, 1) by Marsaglia–Tsang (with the a < 1 boost). */
function gamma(rng: Rng, a: number): number {
  if (a < 1) {
    const u = rng.nextFloat();
    return gamma(rng, a + 1) * Math.pow(u === 0 ? Number.MIN_VALUE : u, 1 / a);
  }
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.nextFloat();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), drawn in that order. */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/**
 * Splits `extra` over users proportionally to act[u], each at most capExtra, summing exactly
 * to extra (largest shares by a scale search, the remainder one by one at random).
 */
export function distributeActivity(rng: Rng, act: Float64Array, extra: number, capExtra: number): Int32Array {
  const n = act.length;
  const out = new Int32Array(n);
  const sumAt = (t: number): number => {
    let s = 0;
    for (let u = 0; u < n; u++) s += Math.min(capExtra, Math.floor(t * act[u]!));
    return s;
  };
  let lo = 0;
  let hi = 1;
  while (sumAt(hi) < extra && hi < 1e18) hi *= 2;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    if (sumAt(mid) <= extra) lo = mid;
    else hi = mid;
  }
  let s = 0;
  for (let u = 0; u < n; u++) {
    out[u] = Math.min(capExtra, Math.floor(lo * act[u]!));
    s += out[u]!;
  }
  let rest = extra - s;
  while (rest > 0) {
    const u = rng.nextInt(n);
    if (out[u]! < capExtra) {
      out[u]!++;
      rest--;
    }
  }
  return out;
}

/**
 * Weighted sampling without replacement over the weights `w` (shared with the caller, who
 * refills them before each build): a Fenwick tree of prefix sums, O(log n) per draw.
 */
export class FenwickSampler {
  private readonly n: number;
  private readonly tree: Float64Array;
  /** The largest power of two ≤ n: the first step of the descent. */
  private readonly top: number;

  /** `w`: the item weights, read by build and find, zeroed by remove. */
  constructor(readonly w: Float64Array) {
    this.n = w.length;
    this.tree = new Float64Array(this.n + 1);
    let top = 1;
    while (top * 2 <= this.n) top *= 2;
    this.top = top;
  }

  /** Rebuilds the tree from w in O(n); returns the total weight, summed in index order. */
  build(): number {
    const { n, tree, w } = this;
    let s = 0;
    for (let i = 1; i <= n; i++) {
      tree[i] = w[i - 1]!;
      s += w[i - 1]!;
    }
    for (let i = 1; i <= n; i++) {
      const j = i + (i & -i);
      if (j <= n) tree[j]! += tree[i]!;
    }
    return s;
  }

  /**
   * The 0-based index where the prefix sum first exceeds `target`; when rounding lands on a
   * removed item, the nearest remaining one (above first, then below).
   */
  find(target: number): number {
    const { n, tree, w } = this;
    let idx = 0;
    for (let step = this.top; step > 0; step >>= 1) {
      const nx = idx + step;
      if (nx <= n && tree[nx]! <= target) {
        idx = nx;
        target -= tree[nx]!;
      }
    }
    let item = idx < n ? idx : n - 1;
    if (w[item] === 0) {
      // Rounding put us on a removed item: take the nearest remaining one.
      let a = item;
      while (a < n && w[a] === 0) a++;
      if (a === n) {
        a = item;
        while (a >= 0 && w[a] === 0) a--;
      }
      item = a;
    }
    return item;
  }

  /** Takes `item` out (its weight becomes 0); returns the weight it had. */
  remove(item: number): number {
    const wi = this.w[item]!;
    this.w[item] = 0;
    for (let j = item + 1; j <= this.n; j += j & -j) this.tree[j]! -= wi;
    return wi;
  }
}

/** Replaces repeated items by never-drawn ones so every catalogue item appears at least once. */
export function coverAllItems(rng: Rng, rawItem: Int32Array, nI: number): void {
  const cnt = new Int32Array(nI);
  for (let k = 0; k < rawItem.length; k++) cnt[rawItem[k]!]!++;
  for (let j = 0; j < nI; j++) {
    if (cnt[j]! > 0) continue;
    // j was never drawn, so no user has it yet: any repeated item can make room.
    for (;;) {
      const k = rng.nextInt(rawItem.length);
      const old = rawItem[k]!;
      if (cnt[old]! < 2) continue;
      rawItem[k] = j;
      cnt[old]!--;
      cnt[j]!++;
      break;
    }
  }
}
