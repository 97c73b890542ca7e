/**
 * A seeded generator of long-tailed implicit-feedback data for demos, tests and scale benchmarks.
 *
 * Model. Items get a random popularity rank r (0 = most popular). Two item distributions:
 * - popularity-driven: p_pop(i) ∝ (r_i + o)^(−popularityExponent), o = popularityOffset·items
 *   (Zipf–Mandelbrot: the offset keeps the head from collapsing onto a handful of items, since a
 *   user can take each item once);
 * - niche-driven: p_niche(i) ∝ (r_i + o)^(−nicheExponent) beyond the head (the top headFraction
 *   of ranks); head items get nicheHeadWeight times the first non-head weight.
 * Each user u draws a taste m_u ~ Beta(tasteAlpha, tasteBeta) — the weight of the popular
 * distribution — and a latent vector p_u; each item a latent vector q_i (dot products ~ N(0,1)).
 * User u's items are drawn without replacement from
 *   w_u(i) ∝ (m_u·p_pop(i) + (1 − m_u)·p_niche(i)) · exp(latentStrength · ⟨p_u, q_i⟩)
 * with a Fenwick tree (exact, O(log items) per draw). Activity per user: minPerUser plus a
 * log-normal share of the rest, capped at maxUserFraction of the catalogue; the total is exact.
 * Items never drawn are swapped in for repeated items so every catalogue item appears.
 * Finally the whole log is shuffled (like u.data) and ids assigned by first appearance; tokens
 * are the 1-based catalogue numbers as decimal strings.
 */
import { Rng } from '../math/rng.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { InteractionLog } from './types.js';
import { IdMapBuilder } from './idmap.js';

export interface SyntheticOptions {
  users?: number;
  items?: number;
  interactions?: number;
  seed?: number;
  /** Zipf–Mandelbrot exponent of the popularity-driven distribution (default 3). */
  popularityExponent?: number;
  /** Zipf–Mandelbrot offset, as a share of the item count (default 0.05). */
  popularityOffset?: number;
  /** Share of ranks counted as head for the niche distribution (default 0.2). */
  headFraction?: number;
  /** Relative weight of head items in the niche distribution (default 0.15). */
  nicheHeadWeight?: number;
  /** Zipf exponent of the niche distribution over the non-head ranks (default 2). */
  nicheExponent?: number;
  /** Beta parameters of the per-user weight on the popular distribution (default 4, 1.5). */
  tasteAlpha?: number;
  tasteBeta?: number;
  /** Latent factor dimension (default 8) and strength (default 0.8). */
  latentDim?: number;
  latentStrength?: number;
  /** Minimum interactions per user (default min(20, ⌊interactions / (2·users)⌋), at least 1). */
  minPerUser?: number;
  /** Spread (σ) of the log-normal user activity (default 1.0). */
  activitySigma?: number;
  /** A user has at most this share of all items (default 0.6). */
  maxUserFraction?: number;
}

export const SYNTHETIC_PRESETS = {
  'ml-100k-like': { users: 943, items: 1682, interactions: 100_000 },
  'ml-1m-like': { users: 6040, items: 3706, interactions: 1_000_209 },
} as const satisfies Record<string, SyntheticOptions>;
export type SyntheticPreset = keyof typeof SYNTHETIC_PRESETS;

export interface SyntheticResult {
  log: InteractionLog;
  /** Per internal user id (index 0 = padding, NaN): the weight m_u on the popular distribution. */
  taste: Float64Array;
  /** Per internal item id (index 0 = padding, -1): the generating popularity rank (0 = most popular). */
  rank: Int32Array;
}

function posInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new UserError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function posNum(name: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new UserError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`);
  }
  return v;
}

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

function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/** Generates a synthetic log; see the module comment for the model. */
export function generateSyntheticWithTruth(options: SyntheticOptions = {}): SyntheticResult {
  const nU = posInt('users', options.users ?? 943);
  const nI = posInt('items', options.items ?? 1682);
  const total = posInt('interactions', options.interactions ?? 100_000);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new UserError(`seed must be an integer, got ${seed}`);
  const zipf = posNum('popularityExponent', options.popularityExponent ?? 3, true);
  const offset = Math.max(1, posNum('popularityOffset', options.popularityOffset ?? 0.05, true) * nI);
  const headFraction = posNum('headFraction', options.headFraction ?? 0.2);
  const nicheHead = posNum('nicheHeadWeight', options.nicheHeadWeight ?? 0.15, true);
  const nicheExp = posNum('nicheExponent', options.nicheExponent ?? 2, true);
  const ta = posNum('tasteAlpha', options.tasteAlpha ?? 4);
  const tb = posNum('tasteBeta', options.tasteBeta ?? 1.5);
  const dim = posInt('latentDim', options.latentDim ?? 8);
  const strength = posNum('latentStrength', options.latentStrength ?? 0.8, true);
  const sigma = posNum('activitySigma', options.activitySigma ?? 1.0, true);
  const maxFrac = posNum('maxUserFraction', options.maxUserFraction ?? 0.6);
  const minPer = posInt('minPerUser', options.minPerUser ?? Math.max(1, Math.min(20, Math.floor(total / (2 * nU)))));
  const cap = Math.min(nI, Math.max(minPer, Math.floor(maxFrac * nI)));
  if (minPer > nI) throw new UserError(`minPerUser (${minPer}) exceeds the number of items (${nI})`);
  if (total < nU * minPer) {
    throw new UserError(`${total} interactions cannot give ${nU} users at least ${minPer} each`);
  }
  if (total > nU * cap) {
    throw new UserError(`${total} interactions do not fit: ${nU} users × at most ${cap} items each (maxUserFraction ${maxFrac})`);
  }
  if (total < nI) throw new UserError(`${total} interactions are fewer than ${nI} items: every item needs one`);

  const rng = new Rng(seed);

  // Items: popularity rank, the two base distributions, latent vectors.
  const rankOf = rng.permutation(nI);
  const pop = new Float64Array(nI);
  const niche = new Float64Array(nI);
  const headRanks = Math.max(1, Math.round(headFraction * nI));
  let sp = 0;
  let sn = 0;
  for (let i = 0; i < nI; i++) {
    const r = rankOf[i]!;
    pop[i] = Math.pow(r + offset, -zipf);
    niche[i] = r < headRanks ? nicheHead * Math.pow(headRanks + offset, -nicheExp) : Math.pow(r + offset, -nicheExp);
    sp += pop[i]!;
    sn += niche[i]!;
  }
  for (let i = 0; i < nI; i++) {
    pop[i]! /= sp;
    niche[i]! /= sn;
  }
  const scale = 1 / Math.pow(dim, 0.25);
  const q = new Float64Array(nI * dim);
  for (let k = 0; k < q.length; k++) q[k] = rng.normal() * scale;

  // Users: taste, latent vector, activity.
  const taste = new Float64Array(nU);
  const pu = new Float64Array(nU * dim);
  const act = new Float64Array(nU);
  for (let u = 0; u < nU; u++) {
    taste[u] = beta(rng, ta, tb);
    for (let k = 0; k < dim; k++) pu[u * dim + k] = rng.normal() * scale;
    act[u] = Math.exp(sigma * rng.normal());
  }
  const count = distributeActivity(rng, act, total - nU * minPer, cap - minPer);
  for (let u = 0; u < nU; u++) count[u]! += minPer;

  // Draw each user's items without replacement (Fenwick tree over weights).
  const rawUser = new Int32Array(total);
  const rawItem = new Int32Array(total);
  const tree = new Float64Array(nI + 1);
  const w = new Float64Array(nI);
  let top = 1;
  while (top * 2 <= nI) top *= 2;
  let pos = 0;
  for (let u = 0; u < nU; u++) {
    const m = taste[u]!;
    const po = u * dim;
    for (let i = 0; i < nI; i++) {
      let dot = 0;
      const qo = i * dim;
      for (let k = 0; k < dim; k++) dot += pu[po + k]! * q[qo + k]!;
      // The tiny floor keeps every item drawable (exp underflow, nicheHeadWeight = 0).
      w[i] = (m * pop[i]! + (1 - m) * niche[i]!) * Math.exp(strength * dot) + 1e-30;
    }
    // O(n) Fenwick build; redone when the running mass has shrunk so far that rounding matters.
    const build = (): number => {
      let s = 0;
      for (let i = 1; i <= nI; i++) {
        tree[i] = w[i - 1]!;
        s += w[i - 1]!;
      }
      for (let i = 1; i <= nI; i++) {
        const j = i + (i & -i);
        if (j <= nI) tree[j]! += tree[i]!;
      }
      return s;
    };
    let mass = build();
    let builtMass = mass;
    const n = count[u]!;
    for (let t = 0; t < n; t++) {
      let target = rng.nextFloat() * mass;
      // Descend: the smallest index whose prefix sum exceeds target.
      let idx = 0;
      for (let step = top; step > 0; step >>= 1) {
        const nx = idx + step;
        if (nx <= nI && tree[nx]! <= target) {
          idx = nx;
          target -= tree[nx]!;
        }
      }
      let item = idx < nI ? idx : nI - 1; // 0-based
      if (w[item] === 0) {
        // Rounding put us on a removed item: take the nearest remaining one.
        let a = item;
        while (a < nI && w[a] === 0) a++;
        if (a === nI) {
          a = item;
          while (a >= 0 && w[a] === 0) a--;
        }
        item = a;
      }
      rawUser[pos] = u;
      rawItem[pos] = item;
      pos++;
      const wi = w[item]!;
      mass -= wi;
      w[item] = 0;
      for (let j = item + 1; j <= nI; j += j & -j) tree[j]! -= wi;
      if (mass < 1e-6 * builtMass && t + 1 < n) {
        mass = build();
        builtMass = mass;
      }
    }
  }
  coverAllItems(rng, rawItem, nI);

  // Shuffle the log, then ids by first appearance.
  const order = rng.permutation(total);
  const userMap = new IdMapBuilder('user_id');
  const itemMap = new IdMapBuilder('item_id');
  const uId = new Int32Array(nU).fill(-1);
  const iId = new Int32Array(nI).fill(-1);
  const users = new Int32Array(total);
  const items = new Int32Array(total);
  for (let p = 0; p < total; p++) {
    const k = order[p]!;
    const u = rawUser[k]!;
    const i = rawItem[k]!;
    if (uId[u]! < 0) uId[u] = userMap.idOf(String(u + 1));
    if (iId[i]! < 0) iId[i] = itemMap.idOf(String(i + 1));
    users[p] = uId[u]!;
    items[p] = iId[i]!;
  }
  const tasteById = new Float64Array(userMap.size);
  tasteById[0] = NaN;
  for (let u = 0; u < nU; u++) if (uId[u]! > 0) tasteById[uId[u]!] = taste[u]!;
  const rankById = new Int32Array(itemMap.size);
  rankById[0] = -1;
  for (let i = 0; i < nI; i++) if (iId[i]! > 0) rankById[iId[i]!] = rankOf[i]!;
  const source = `synthetic:users=${nU},items=${nI},interactions=${total},seed=${seed}`;
  return { log: { users, items, userMap: userMap.build(), itemMap: itemMap.build(), source }, taste: tasteById, rank: rankById };
}

/** Generates a synthetic InteractionLog (see generateSyntheticWithTruth). */
export function generateSynthetic(options: SyntheticOptions = {}): InteractionLog {
  return generateSyntheticWithTruth(options).log;
}

/**
 * Splits `extra` over users proportionally to act[u], each at most capExtra, summing exactly
 * to extra (largest shares by a scale search, the remainder one by one at random).
 */
function distributeActivity(rng: Rng, act: Float64Array, extra: number, capExtra: number): Int32Array {
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

/** Replaces repeated items by never-drawn ones so every catalogue item appears at least once. */
function coverAllItems(rng: Rng, rawItem: Int32Array, nI: number): void {
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

/**
 * Writes a log as a RecBole atomic .inter file (`user_id:token\titem_id:token`), atomically.
 * Reading it back with readInteractions gives the same log.
 */
export function writeInterFile(path: string, log: InteractionLog): void {
  const ut = log.userMap.tokens;
  const it = log.itemMap.tokens;
  const parts: Buffer[] = [Buffer.from('user_id:token\titem_id:token\n')];
  const n = log.users.length;
  const BLOCK = 65536;
  for (let s = 0; s < n; s += BLOCK) {
    const e = Math.min(n, s + BLOCK);
    let chunk = '';
    for (let k = s; k < e; k++) chunk += ut[log.users[k]!] + '\t' + it[log.items[k]!] + '\n';
    parts.push(Buffer.from(chunk, 'utf8'));
  }
  writeFileAtomic(path, parts);
}
