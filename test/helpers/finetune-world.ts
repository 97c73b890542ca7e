/**
 * A tiny fine-tuning world for tests: a dot-product model with hand-written forward/backward,
 * synthetic popularity-skewed interactions over 41 items in 3 groups, a validator that follows
 * docs/numeric-contract.md §10, and a small configuration.
 */
import type { Recommender } from '../../src/models/recommender.js';
import type { Parameter } from '../../src/nn/parameter.js';
import { csrFromCoo, type Csr } from '../../src/math/csr.js';
import { Rng } from '../../src/math/rng.js';
import { topkRows } from '../../src/math/topk.js';
import { ndcgAtK } from '../../src/eval/ndcg.js';
import type { FinetuneData, ValidationResult } from '../../src/calibration/finetuner.js';
import { DEFAULT_FINETUNE_CONFIG, type FinetuneConfig } from '../../src/calibration/finetune-config.js';

/** A tiny dot-product model: score(u, i) = U[u]·V[i]. */
export class DotModel implements Recommender {
  readonly type = 'bpr' as const;
  readonly hyper = {};
  readonly U: Parameter;
  readonly V: Parameter;
  private lastUsers = new Int32Array(0);
  private lastCands = new Int32Array(0);
  private lastK = 0;
  /** Test hook: poison scores from this forward call on. */
  nanAfterCalls = Infinity;
  private calls = 0;
  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    readonly dim: number,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const u = new Float32Array(nUsers * dim),
      v = new Float32Array(nItems * dim);
    for (let i = 0; i < u.length; i++) u[i] = rng.normal() * 0.5;
    for (let i = 0; i < v.length; i++) v[i] = rng.normal() * 0.5;
    this.U = {
      name: 'user_embedding.weight',
      shape: [nUsers, dim],
      value: u,
      grad: new Float32Array(u.length),
      itemSide: false,
    };
    this.V = {
      name: 'item_embedding.weight',
      shape: [nItems, dim],
      value: v,
      grad: new Float32Array(v.length),
      itemSide: true,
    };
  }
  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const d = this.dim,
      res = out ?? new Float32Array(users.length * this.nItems);
    for (let r = 0; r < users.length; r++) {
      for (let i = 0; i < this.nItems; i++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += this.U.value[users[r]! * d + k]! * this.V.value[i * d + k]!;
        res[r * this.nItems + i] = s;
      }
    }
    return res;
  }
  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    this.lastUsers = users.slice();
    this.lastCands = candidates.slice();
    this.lastK = k;
    const d = this.dim,
      out = new Float32Array(users.length * k);
    const poison = ++this.calls > this.nanAfterCalls;
    for (let b = 0; b < users.length; b++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++)
          s += this.U.value[users[b]! * d + j]! * this.V.value[candidates[b * k + c]! * d + j]!;
        out[b * k + c] = poison ? NaN : s;
      }
    }
    return out;
  }
  backwardCandidates(dScores: Float32Array): void {
    const d = this.dim,
      k = this.lastK;
    for (let b = 0; b < this.lastUsers.length; b++) {
      const u = this.lastUsers[b]!;
      for (let c = 0; c < k; c++) {
        const i = this.lastCands[b * k + c]!,
          g = dScores[b * k + c]!;
        for (let j = 0; j < d; j++) {
          this.U.grad[u * d + j]! += g * this.V.value[i * d + j]!;
          this.V.grad[i * d + j]! += g * this.U.value[u * d + j]!;
        }
      }
    }
  }
  parameters(): Parameter[] {
    return [this.U, this.V];
  }
  zeroGrad(): void {
    this.U.grad.fill(0);
    this.V.grad.fill(0);
  }
}

export const N_USERS = 31,
  N_ITEMS = 41,
  G = 3;
export const groupOf = (i: number) => (i === 0 ? -1 : i <= 8 ? 0 : i <= 24 ? 1 : 2);

export interface World {
  data: FinetuneData;
  valid: Csr;
  test: Csr;
}

/** Synthetic popularity-skewed interactions; user 7 has no train items (left out). */
export function makeWorld(): World {
  const rng = new Rng(42);
  const tr: [number, number][] = [],
    va: [number, number][] = [],
    te: [number, number][] = [];
  for (let u = 1; u < N_USERS; u++) {
    if (u === 7) continue;
    const seen = new Set<number>();
    const n = 6 + rng.nextInt(6);
    while (seen.size < n) {
      const popular = rng.nextFloat() < 0.6;
      seen.add(popular ? 1 + rng.nextInt(8) : 9 + rng.nextInt(N_ITEMS - 9));
    }
    const items = [...seen];
    for (const [k, i] of items.entries()) (k === 0 ? va : k === 1 ? te : tr).push([u, i]);
  }
  const csr = (p: [number, number][]) =>
    csrFromCoo(
      p.map((x) => x[0]),
      p.map((x) => x[1]),
      N_USERS,
      N_ITEMS,
    );
  const train = csr(tr);
  const itemGroups = new Int32Array(N_ITEMS);
  for (let i = 0; i < N_ITEMS; i++) itemGroups[i] = groupOf(i);
  const userTargets = new Float64Array(N_USERS * G);
  for (let u = 1; u < N_USERS; u++) {
    const lo = train.indptr[u]!,
      hi = train.indptr[u + 1]!;
    for (let p = lo; p < hi; p++) userTargets[u * G + groupOf(train.indices[p]!)]! += 1 / (hi - lo);
  }
  return { data: { train, itemGroups, nGroups: G, userTargets }, valid: csr(va), test: csr(te) };
}

export function jsd2(p: number[], q: number[]): number {
  const e = 1e-10;
  let s = 0;
  for (let g = 0; g < p.length; g++) {
    const a = p[g]! + e,
      b = q[g]! + e,
      m = (a + b) / 2;
    s += 0.5 * a * Math.log2(a / m) + 0.5 * b * Math.log2(b / m);
  }
  return s;
}

/** Validation as numeric contract §10: valid NDCG@k (train masked), JSD@k of test-time lists (train+valid masked). */
export function makeValidator(w: World, k = 5) {
  return (model: Recommender): ValidationResult => {
    const all = Int32Array.from({ length: N_USERS }, (_, i) => i);
    const s = model.scoreAll(all);
    const sv = s.slice(),
      st = s.slice();
    for (let u = 0; u < N_USERS; u++) {
      sv[u * N_ITEMS] = -Infinity;
      st[u * N_ITEMS] = -Infinity;
      for (let p = w.data.train.indptr[u]!; p < w.data.train.indptr[u + 1]!; p++) {
        sv[u * N_ITEMS + w.data.train.indices[p]!] = -Infinity;
        st[u * N_ITEMS + w.data.train.indices[p]!] = -Infinity;
      }
      for (let p = w.valid.indptr[u]!; p < w.valid.indptr[u + 1]!; p++)
        st[u * N_ITEMS + w.valid.indices[p]!] = -Infinity;
    }
    const validLists = topkRows(sv, N_USERS, N_ITEMS, k),
      testLists = topkRows(st, N_USERS, N_ITEMS, k);
    let nd = 0,
      js = 0,
      n = 0;
    for (let u = 1; u < N_USERS; u++) {
      if (u === 7) continue;
      nd += ndcgAtK(validLists, u * k, k, w.valid.indices, w.valid.indptr[u]!, w.valid.indptr[u + 1]!);
      const q = [0, 0, 0];
      for (let j = 0; j < k; j++) q[groupOf(testLists[u * k + j]!)]! += 1 / k;
      js += jsd2(Array.from(w.data.userTargets.subarray(u * G, u * G + G)), q);
      n++;
    }
    return { validNdcg: nd / n, jsd: js / n, validLists, testLists };
  };
}

export function cfg(over: Partial<FinetuneConfig>): FinetuneConfig {
  return {
    ...DEFAULT_FINETUNE_CONFIG,
    k_candidates: 12,
    train_batch_size: 4,
    learning_rate: 0.02,
    top_k_ndcg: 5,
    num_epochs: 10,
    ...over,
  };
}
