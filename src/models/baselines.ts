/**
 * Non-learned floors for every evaluation table:
 * - MostPop: score(u, i) = train popularity of i (number of distinct train users), the same
 *   list for everyone (train items are masked by the evaluation as for any model);
 * - Random: seeded uniform scores, a pure function of (seed, user, item), so a user's list
 *   does not depend on the block it is scored in.
 * Both implement the Recommender interface without trainable parameters: the candidate path
 * returns the same scores and its backward is a no-op. MostPop's popularity vector is saved
 * as the tensor `item_popularity` (flagged itemSide; no gradient ever flows into it).
 */
import type { Csr } from '../math/csr.js';
import { UserError } from '../util/errors.js';
import { registerModel } from './model-file.js';
import type { Parameter } from '../nn/parameter.js';
import { checkPositiveInt } from '../util/checks.js';
import type { ModelType, Recommender } from './recommender.js';

/** Item popularity in a train matrix: distinct users per item (item 0 → 0). */
export function trainPopularity(train: Csr): Float32Array {
  const pop = new Float32Array(train.nCols);
  const n = train.indptr[train.nRows]!;
  for (let q = 0; q < n; q++) pop[train.indices[q]!]! += 1;
  pop[0] = 0;
  return pop;
}

abstract class Baseline implements Recommender {
  abstract readonly type: ModelType;
  readonly nUsers: number;
  readonly nItems: number;
  abstract readonly hyper: Readonly<Record<string, unknown>>;
  private last: Float32Array | undefined;

  constructor(nUsers: unknown, nItems: unknown) {
    this.nUsers = checkPositiveInt('nUsers', nUsers);
    this.nItems = checkPositiveInt('nItems', nItems);
  }

  protected abstract score(u: number, i: number): number;

  scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
    const n = users.length,
      ni = this.nItems;
    const res = out ?? new Float32Array(n * ni);
    if (res.length < n * ni) throw new RangeError(`scoreAll: output holds ${res.length} values, needs ${n * ni}`);
    for (let r = 0; r < n; r++) {
      const u = users[r]!;
      if (u < 0 || u >= this.nUsers) throw new RangeError(`scoreAll: user ${u} out of range`);
      this.fillRow(u, res, r * ni);
    }
    return res;
  }

  protected fillRow(u: number, out: Float32Array, off: number): void {
    for (let i = 0; i < this.nItems; i++) out[off + i] = this.score(u, i);
  }

  forwardCandidates(users: Int32Array, candidates: Int32Array, k: number): Float32Array {
    if (candidates.length !== users.length * k)
      throw new RangeError(`forwardCandidates: ${candidates.length} candidates for ${users.length}×${k}`);
    const out = new Float32Array(candidates.length);
    for (let r = 0; r < users.length; r++) {
      for (let q = 0; q < k; q++) out[r * k + q] = this.score(users[r]!, candidates[r * k + q]!);
    }
    this.last = out;
    return out;
  }

  backwardCandidates(dScores: Float32Array): void {
    if (!this.last) throw new Error('backwardCandidates called without forwardCandidates');
    if (dScores.length !== this.last.length) throw new RangeError('backwardCandidates: dScores shape mismatch');
  }

  abstract parameters(): Parameter[];

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad.fill(0);
  }
}

/** The MostPop baseline: every user gets items ranked by train popularity; nothing is trained. */
export class MostPopModel extends Baseline {
  readonly type: ModelType = 'mostpop';
  readonly hyper: Readonly<Record<string, unknown>>;
  readonly popularity: Parameter;

  /** `popularity` (length nItems) defaults to zeros; use MostPopModel.fromTrain to count it. */
  constructor(hyper: { nUsers: unknown; nItems: unknown }, popularity?: Float32Array) {
    super(hyper.nUsers, hyper.nItems);
    this.hyper = { nUsers: this.nUsers, nItems: this.nItems };
    const v = new Float32Array(this.nItems);
    if (popularity) {
      if (popularity.length !== this.nItems)
        throw new UserError(`MostPop: popularity has ${popularity.length} entries, expected ${this.nItems}`);
      v.set(popularity);
    }
    this.popularity = {
      name: 'item_popularity',
      shape: [this.nItems],
      value: v,
      grad: new Float32Array(this.nItems),
      itemSide: true,
    };
  }

  static fromTrain(train: Csr): MostPopModel {
    return new MostPopModel({ nUsers: train.nRows, nItems: train.nCols }, trainPopularity(train));
  }

  protected score(_u: number, i: number): number {
    return this.popularity.value[i]!;
  }

  protected override fillRow(_u: number, out: Float32Array, off: number): void {
    out.set(this.popularity.value, off);
  }

  parameters(): Parameter[] {
    return [this.popularity];
  }
}

/** splitmix32-style avalanche of (seed, user, item) → uniform [0, 1). */
function hash3(seed: number, u: number, i: number): number {
  let h = (seed ^ Math.imul(u, 0x9e3779b1) ^ Math.imul(i + 0x632be5ab, 0x85ebca6b)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  h ^= h >>> 15;
  h = Math.imul(h ^ Math.imul(u ^ 0x27d4eb2f, 0x165667b1), 0x85ebca77);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}

/** The Random baseline: seeded uniform scores that depend only on (seed, user, item). */
export class RandomModel extends Baseline {
  readonly type: ModelType = 'random';
  readonly hyper: Readonly<Record<string, unknown>>;
  readonly seed: number;

  constructor(hyper: { nUsers: unknown; nItems: unknown; seed?: unknown }) {
    super(hyper.nUsers, hyper.nItems);
    const seed = hyper.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isInteger(seed))
      throw new UserError(`Random: seed must be an integer (got ${String(seed)})`);
    this.seed = seed;
    this.hyper = { nUsers: this.nUsers, nItems: this.nItems, seed };
  }

  protected score(u: number, i: number): number {
    return hash3(this.seed, u, i);
  }

  parameters(): Parameter[] {
    return [];
  }
}

registerModel('mostpop', (h) => new MostPopModel({ nUsers: h.nUsers, nItems: h.nItems }));
registerModel('random', (h, seed) => new RandomModel({ nUsers: h.nUsers, nItems: h.nItems, seed: h.seed ?? seed }));
