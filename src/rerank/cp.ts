/**
 * CP (calibrated popularity) re-ranking, docs/numeric-contract.md §11.
 *
 * 1. Base scores with item 0, user 0 and the user's train and valid items set to −∞
 *    (`maskScores`), min-max normalised over all finite scores of the whole users × items
 *    matrix (`minMaxNormalizeFinite`, float32 arithmetic like the reference:
 *    s ← (s − min) / max(s − min)).
 * 2. Per user the top-m candidates by normalised score (ties: lower item id first).
 * 3. Greedy: n times, add the candidate maximising
 *      (1 − λ)·Σ_{i∈L∪{c}} s_i − λ·JSD(P_u, Q(L ∪ {c})),
 *    JSD in the normalised-ε variant (add ε = 1e-10 to each distribution, renormalise,
 *    M = (P+Q)/2, base 2). P_u and Q are rounded to float32 and the relevance sum is
 *    accumulated in float32 in list order, as the reference does, so that near-ties resolve
 *    the same way.
 *
 * Speed: the JSD term only depends on the list's group counts, so at every step the G
 * possible values JSD(P, counts + e_g) are computed once and each candidate costs one
 * multiply-add and a compare — O(n·(m + G²)) per user, no allocation per candidate.
 *
 * Tie-breaking (deterministic): candidates are scanned in score order (higher normalised
 * score first, then lower item id) and a candidate replaces the best only if its utility is
 * strictly greater, so on an exact utility tie the earlier candidate in score order wins.
 *
 * A user with no train items (P = 0, target undefined) gets the plain top-n of the base
 * scores (no calibration possible). A user with fewer than n finite-score candidates gets
 * a shorter list padded with −1. Row 0 (padding user) is all −1.
 *
 * Steps 1–2 (masking, normalisation, top-m) live in cp-candidates.ts and are re-exported here.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { prepareCpCandidates, type CpCandidates } from './cp-candidates.js';

export {
  maskScores,
  minMaxNormalizeFinite,
  prepareCpCandidates,
  topCandidates,
  type CpCandidates,
} from './cp-candidates.js';

/** ε added to both distributions in CP's JSD (docs/numeric-contract.md §11). */
export const CP_EPS = 1e-10;

/** CP's input: base scores (or ready candidates), item groups, user targets P, the λ values, m and n. */
export interface CpOptions {
  /** Masked base scores, nUsers × nItems (−∞ = never recommend). Normalised internally (input untouched). */
  readonly scores?: Float32Array;
  readonly nItems?: number;
  /** Or ready candidates (already normalised scores, rows sorted best first). */
  readonly candidates?: CpCandidates;
  /** Popularity group per item (item 0 → −1). */
  readonly itemGroup: Int32Array;
  /** Row-major nUsers × nGroups targets P. */
  readonly targets: Float64Array;
  readonly nGroups: number;
  readonly lambdas: readonly number[];
  /** Candidates per user (default 100). */
  readonly m?: number;
  /** List length (default 10). */
  readonly n?: number;
  /** Worker threads: 0 or 1 → this thread; undefined → automatic. */
  readonly workers?: number;
}

/** CP's lists, one nUsers × n matrix per λ, and how many worker threads made them. */
export interface CpResult {
  readonly lambdas: number[];
  /** Per λ: row-major nUsers × n lists (−1 = empty slot; row 0 all −1). */
  readonly lists: Int32Array[];
  readonly n: number;
  readonly workersUsed: number;
}

/** KL(a‖b) with the normalised-ε treatment, a and b given as float32-valued arrays of length G. */
function klNormEps(a: Float64Array, b: Float64Array, G: number): number {
  let sa = 0,
    sb = 0;
  for (let g = 0; g < G; g++) {
    sa += a[g]! + CP_EPS;
    sb += b[g]! + CP_EPS;
  }
  let kl = 0;
  for (let g = 0; g < G; g++) {
    const x = (a[g]! + CP_EPS) / sa;
    const y = (b[g]! + CP_EPS) / sb;
    kl += x * Math.log2(x / y);
  }
  return kl;
}

/** Scratch buffers for one thread. */
export interface CpScratch {
  p: Float64Array;
  q: Float64Array;
  mid: Float64Array;
  jsd: Float64Array;
  counts: Int32Array;
  used: Uint8Array;
  groups: Int32Array;
}

/** Scratch buffers for G groups and m candidates. */
export function cpScratch(G: number, m: number): CpScratch {
  return {
    p: new Float64Array(G),
    q: new Float64Array(G),
    mid: new Float64Array(G),
    jsd: new Float64Array(G),
    counts: new Int32Array(G),
    used: new Uint8Array(m),
    groups: new Int32Array(m),
  };
}

/**
 * JSD (normalised-ε variant, base 2) of P (float32-rounded, in scratch.p) and Q = the group
 * distribution of a list with the given counts and length (rounded to float32 like the
 * reference's category_dist).
 */
function jsdForCounts(s: CpScratch, G: number, len: number): number {
  const { p, q, mid, counts } = s;
  for (let g = 0; g < G; g++) {
    q[g] = Math.fround(counts[g]! / len);
    mid[g] = Math.fround(p[g]! + q[g]!) * 0.5;
  }
  return 0.5 * (klNormEps(p, mid, G) + klNormEps(q, mid, G));
}

/** Normalised-ε JSD of two distributions (exported for tests). */
export function jsdNormalizedEps(P: ArrayLike<number>, Q: ArrayLike<number>): number {
  const G = P.length;
  const a = Float64Array.from(P),
    b = Float64Array.from(Q),
    m = new Float64Array(G);
  for (let g = 0; g < G; g++) m[g] = 0.5 * (a[g]! + b[g]!);
  return 0.5 * (klNormEps(a, m, G) + klNormEps(b, m, G));
}

function validateLambda(l: number): void {
  if (typeof l !== 'number' || !(l >= 0 && l <= 1)) throw new UserError(`CP λ must be in [0, 1], got ${l}`);
}

/**
 * The greedy CP core for users [u0, u1) and one λ, writing rows of `out` (nUsers × n).
 * `candIds`/`candScores` rows are indexed by (u − candRow0).
 */
export function cpRerankRange(
  candIds: Int32Array,
  candScores: Float32Array,
  candRow0: number,
  m: number,
  itemGroup: Int32Array,
  targets: Float64Array,
  targetRow0: number,
  G: number,
  lambda: number,
  n: number,
  u0: number,
  u1: number,
  out: Int32Array,
  outRow0: number,
  scratch?: CpScratch,
): void {
  validateLambda(lambda);
  const s = scratch ?? cpScratch(G, m);
  const { p, jsd, counts, used, groups } = s;
  const wRel = 1 - lambda;
  for (let u = u0; u < u1; u++) {
    const outOff = (u - outRow0) * n;
    out.fill(-1, outOff, outOff + n);
    if (u === 0) continue;
    const cOff = (u - candRow0) * m;
    const tOff = (u - targetRow0) * G;
    let avail = 0;
    while (avail < m && candIds[cOff + avail]! >= 0) avail++;
    let pSum = 0;
    for (let g = 0; g < G; g++) {
      p[g] = Math.fround(targets[tOff + g]!);
      pSum += p[g]!;
    }
    if (pSum === 0) {
      // No target (no train items): plain top-n.
      for (let t = 0; t < n && t < avail; t++) out[outOff + t] = candIds[cOff + t]!;
      continue;
    }
    for (let c = 0; c < avail; c++) {
      const g = itemGroup[candIds[cOff + c]!]!;
      if (!(g >= 0 && g < G)) throw new UserError(`candidate item ${candIds[cOff + c]} has no popularity group`);
      groups[c] = g;
      used[c] = 0;
    }
    counts.fill(0);
    let rel = 0; // float32 running sum of the list's scores
    const steps = Math.min(n, avail);
    for (let t = 0; t < steps; t++) {
      const len = t + 1;
      for (let g = 0; g < G; g++) {
        counts[g]!++;
        jsd[g] = lambda * jsdForCounts(s, G, len);
        counts[g]!--;
      }
      let best = -Infinity,
        bestC = -1;
      for (let c = 0; c < avail; c++) {
        if (used[c]) continue;
        const util = wRel * Math.fround(rel + candScores[cOff + c]!) - jsd[groups[c]!]!;
        if (util > best) {
          best = util;
          bestC = c;
        }
      }
      if (bestC < 0) break;
      used[bestC] = 1;
      counts[groups[bestC]!]!++;
      rel = Math.fround(rel + candScores[cOff + bestC]!);
      out[outOff + t] = candIds[cOff + bestC]!;
    }
  }
}

function resolveCandidates(opts: CpOptions, m: number): CpCandidates {
  if (opts.candidates) {
    const c = opts.candidates;
    if (c.m < m) throw new UserError(`candidates hold ${c.m} per user, fewer than m = ${m}`);
    if (c.ids.length !== c.nUsers * c.m || c.scores.length !== c.nUsers * c.m)
      throw new UserError('candidate arrays do not match nUsers × m');
    return c;
  }
  if (!opts.scores || opts.nItems === undefined)
    throw new UserError('cpRerank needs either scores (+ nItems) or candidates');
  const nUsers = opts.scores.length / opts.nItems;
  if (!Number.isInteger(nUsers))
    throw new UserError(`scores length ${opts.scores.length} is not a multiple of nItems ${opts.nItems}`);
  return prepareCpCandidates(opts.scores, nUsers, opts.nItems, m);
}

function validate(opts: CpOptions): { m: number; n: number } {
  const m = opts.m ?? 100,
    n = opts.n ?? 10;
  if (!Number.isInteger(n) || n < 1) throw new UserError(`CP list length n must be a positive integer, got ${n}`);
  if (!Number.isInteger(m) || m < n) throw new UserError(`CP needs m ≥ n (m = ${m}, n = ${n})`);
  if (opts.lambdas.length === 0) throw new UserError('CP needs at least one λ');
  for (const l of opts.lambdas) validateLambda(l);
  if (!Number.isInteger(opts.nGroups) || opts.nGroups < 1)
    throw new UserError(`nGroups must be a positive integer, got ${opts.nGroups}`);
  return { m, n };
}

/** CP in this thread. */
export function cpRerankSync(opts: CpOptions): CpResult {
  const { m, n } = validate(opts);
  const c = resolveCandidates(opts, m);
  checkTargets(opts, c.nUsers);
  const scratch = cpScratch(opts.nGroups, c.m);
  const lists = opts.lambdas.map((lambda) => {
    const out = new Int32Array(c.nUsers * n);
    cpRerankRange(
      c.ids,
      c.scores,
      0,
      c.m,
      opts.itemGroup,
      opts.targets,
      0,
      opts.nGroups,
      lambda,
      n,
      0,
      c.nUsers,
      out,
      0,
      scratch,
    );
    return out;
  });
  return { lambdas: [...opts.lambdas], lists, n, workersUsed: 0 };
}

function checkTargets(opts: CpOptions, nUsers: number): void {
  if (opts.targets.length !== nUsers * opts.nGroups) {
    throw new UserError(`targets have ${opts.targets.length} values, expected ${nUsers}×${opts.nGroups}`);
  }
}

/** Message a worker receives (see cp-worker.ts). */
export interface CpWorkerTask {
  u0: number;
  u1: number;
  m: number;
  n: number;
  G: number;
  candIds: Int32Array;
  candScores: Float32Array;
  targets: Float64Array;
  itemGroup: Int32Array;
  lambdas: number[];
}
/** A worker's answer: the lists of its users per λ, or the error. */
export interface CpWorkerReply {
  ok: boolean;
  lists?: Int32Array[];
  error?: string;
  userError?: boolean;
}

/** Work below this many user×λ greedy runs stays in this thread (worker start-up costs more). */
const AUTO_WORKER_THRESHOLD = 20_000;

/**
 * CP for every user and λ. Users are split into contiguous slices, one per worker thread
 * (`workers` ≥ 2), each running `cpRerankRange`; results are identical to `cpRerankSync`.
 */
export async function cpRerank(opts: CpOptions): Promise<CpResult> {
  const { m, n } = validate(opts);
  const c = resolveCandidates(opts, m);
  checkTargets(opts, c.nUsers);
  let workers = opts.workers;
  if (workers === undefined) {
    workers = c.nUsers * opts.lambdas.length < AUTO_WORKER_THRESHOLD ? 1 : Math.min(availableParallelism(), 8);
  }
  workers = Math.max(1, Math.min(Math.floor(workers), Math.max(1, c.nUsers)));
  if (workers <= 1) return cpRerankSync({ ...opts, candidates: c, scores: undefined });
  const G = opts.nGroups;
  const per = Math.ceil(c.nUsers / workers);
  const url = new URL('./cp-worker.js', import.meta.url);
  const jobs: Promise<{ u0: number; lists: Int32Array[] }>[] = [];
  for (let w = 0; w < workers; w++) {
    const u0 = w * per,
      u1 = Math.min(c.nUsers, u0 + per);
    if (u0 >= u1) break;
    const task: CpWorkerTask = {
      u0,
      u1,
      m: c.m,
      n,
      G,
      candIds: c.ids.slice(u0 * c.m, u1 * c.m),
      candScores: c.scores.slice(u0 * c.m, u1 * c.m),
      targets: opts.targets.slice(u0 * G, u1 * G),
      itemGroup: opts.itemGroup,
      lambdas: [...opts.lambdas],
    };
    jobs.push(
      new Promise((resolve, reject) => {
        const worker = new Worker(url, { workerData: task });
        let done = false;
        worker.once('message', (r: CpWorkerReply) => {
          done = true;
          void worker.terminate();
          if (r.ok && r.lists) resolve({ u0, lists: r.lists });
          else
            reject(
              r.userError ? new UserError(r.error ?? 'CP worker failed') : new Error(r.error ?? 'CP worker failed'),
            );
        });
        worker.once('error', (e) => {
          done = true;
          reject(e);
        });
        worker.once('exit', (code) => {
          if (!done) reject(new Error(`CP worker exited with code ${code}`));
        });
      }),
    );
  }
  const parts = await Promise.all(jobs);
  const lists = opts.lambdas.map(() => new Int32Array(c.nUsers * n));
  for (const part of parts) {
    for (let l = 0; l < lists.length; l++) lists[l]!.set(part.lists[l]!, part.u0 * n);
  }
  return { lambdas: [...opts.lambdas], lists, n, workersUsed: parts.length };
}
