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
import { beta, coverAllItems, distributeActivity, FenwickSampler } from './synthetic-draws.js';

/** The generator's knobs; every field is optional (defaults give an ML-100K-like log). */
export interface SyntheticOptions {
  /** Number of users (default 943). */
  users?: number;
  /** Number of catalogue items (default 1682); every one gets at least one interaction. */
  items?: number;
  /** Exact number of interactions (default 100 000). */
  interactions?: number;
  /** Seed of the one Rng behind every draw (default 42). */
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
  /** See tasteAlpha. */
  tasteBeta?: number;
  /** Latent factor dimension (default 8) and strength (default 0.8). */
  latentDim?: number;
  /** See latentDim. */
  latentStrength?: number;
  /** Minimum interactions per user (default min(20, ⌊interactions / (2·users)⌋), at least 1). */
  minPerUser?: number;
  /** Spread (σ) of the log-normal user activity (default 1.0). */
  activitySigma?: number;
  /** A user has at most this share of all items (default 0.6). */
  maxUserFraction?: number;
}

/** Sizes shaped like the MovieLens datasets. */
export const SYNTHETIC_PRESETS = {
  'ml-100k-like': { users: 943, items: 1682, interactions: 100_000 },
  'ml-1m-like': { users: 6040, items: 3706, interactions: 1_000_209 },
} as const satisfies Record<string, SyntheticOptions>;

/** The name of a SYNTHETIC_PRESETS entry. */
export type SyntheticPreset = keyof typeof SYNTHETIC_PRESETS;

/** A generated log with the hidden truth that generated it. */
export interface SyntheticResult {
  /** The generated interactions, shuffled, with ids by first appearance. */
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

/** The options with defaults applied and checked (short names as in the module comment). */
interface Settings {
  nU: number;
  nI: number;
  total: number;
  seed: number;
  zipf: number;
  /** The Zipf–Mandelbrot offset in ranks (at least 1). */
  offset: number;
  headFraction: number;
  nicheHead: number;
  nicheExp: number;
  ta: number;
  tb: number;
  dim: number;
  strength: number;
  sigma: number;
  maxFrac: number;
  minPer: number;
  /** The most items one user can have. */
  cap: number;
}

/** Applies the defaults and checks each option, then that the sizes fit together. */
function resolveSettings(options: SyntheticOptions): Settings {
  const nU = posInt('users', options.users ?? 943);
  const nI = posInt('items', options.items ?? 1682);
  const total = posInt('interactions', options.interactions ?? 100_000);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new UserError(`seed must be an integer, got ${seed}`);
  const s: Settings = {
    nU,
    nI,
    total,
    seed,
    zipf: posNum('popularityExponent', options.popularityExponent ?? 3, true),
    offset: Math.max(1, posNum('popularityOffset', options.popularityOffset ?? 0.05, true) * nI),
    headFraction: posNum('headFraction', options.headFraction ?? 0.2),
    nicheHead: posNum('nicheHeadWeight', options.nicheHeadWeight ?? 0.15, true),
    nicheExp: posNum('nicheExponent', options.nicheExponent ?? 2, true),
    ta: posNum('tasteAlpha', options.tasteAlpha ?? 4),
    tb: posNum('tasteBeta', options.tasteBeta ?? 1.5),
    dim: posInt('latentDim', options.latentDim ?? 8),
    strength: posNum('latentStrength', options.latentStrength ?? 0.8, true),
    sigma: posNum('activitySigma', options.activitySigma ?? 1.0, true),
    maxFrac: posNum('maxUserFraction', options.maxUserFraction ?? 0.6),
    minPer: posInt('minPerUser', options.minPerUser ?? Math.max(1, Math.min(20, Math.floor(total / (2 * nU))))),
    cap: 0,
  };
  s.cap = Math.min(nI, Math.max(s.minPer, Math.floor(s.maxFrac * nI)));
  checkSizes(s);
  return s;
}

function checkSizes({ nU, nI, total, minPer, cap, maxFrac }: Settings): void {
  if (minPer > nI) throw new UserError(`minPerUser (${minPer}) exceeds the number of items (${nI})`);
  if (total < nU * minPer) {
    throw new UserError(`${total} interactions cannot give ${nU} users at least ${minPer} each`);
  }
  if (total > nU * cap) {
    throw new UserError(
      `${total} interactions do not fit: ${nU} users × at most ${cap} items each (maxUserFraction ${maxFrac})`,
    );
  }
  if (total < nI) throw new UserError(`${total} interactions are fewer than ${nI} items: every item needs one`);
}

/** Per catalogue item (0-based): popularity rank, the two base distributions, latent vectors. */
interface ItemModel {
  rankOf: Int32Array;
  pop: Float64Array;
  niche: Float64Array;
  /** nI × dim, row-major. */
  q: Float64Array;
}

function drawItems(rng: Rng, s: Settings): ItemModel {
  const nI = s.nI;
  const rankOf = rng.permutation(nI);
  const pop = new Float64Array(nI);
  const niche = new Float64Array(nI);
  const headRanks = Math.max(1, Math.round(s.headFraction * nI));
  const headNiche = s.nicheHead * Math.pow(headRanks + s.offset, -s.nicheExp);
  let sp = 0;
  let sn = 0;
  for (let i = 0; i < nI; i++) {
    const r = rankOf[i]!;
    pop[i] = Math.pow(r + s.offset, -s.zipf);
    niche[i] = r < headRanks ? headNiche : Math.pow(r + s.offset, -s.nicheExp);
    sp += pop[i]!;
    sn += niche[i]!;
  }
  for (let i = 0; i < nI; i++) {
    pop[i]! /= sp;
    niche[i]! /= sn;
  }
  const scale = 1 / Math.pow(s.dim, 0.25);
  const q = new Float64Array(nI * s.dim);
  for (let k = 0; k < q.length; k++) q[k] = rng.normal() * scale;
  return { rankOf, pop, niche, q };
}

/** Per user (0-based): taste m_u, latent vector, number of interactions. */
interface UserModel {
  taste: Float64Array;
  /** nU × dim, row-major. */
  p: Float64Array;
  count: Int32Array;
}

function drawUsers(rng: Rng, s: Settings): UserModel {
  const { nU, dim } = s;
  const scale = 1 / Math.pow(dim, 0.25);
  const taste = new Float64Array(nU);
  const p = new Float64Array(nU * dim);
  const act = new Float64Array(nU);
  for (let u = 0; u < nU; u++) {
    taste[u] = beta(rng, s.ta, s.tb);
    for (let k = 0; k < dim; k++) p[u * dim + k] = rng.normal() * scale;
    act[u] = Math.exp(s.sigma * rng.normal());
  }
  const count = distributeActivity(rng, act, s.total - nU * s.minPer, s.cap - s.minPer);
  for (let u = 0; u < nU; u++) count[u]! += s.minPer;
  return { taste, p, count };
}

/** User u's sampling weights w_u(i) of the module comment, written into w. */
function userWeights(w: Float64Array, u: number, s: Settings, items: ItemModel, users: UserModel): void {
  const { dim, strength } = s;
  const m = users.taste[u]!;
  const po = u * dim;
  for (let i = 0; i < s.nI; i++) {
    let dot = 0;
    const qo = i * dim;
    for (let k = 0; k < dim; k++) dot += users.p[po + k]! * items.q[qo + k]!;
    // The tiny floor keeps every item drawable (exp underflow, nicheHeadWeight = 0).
    w[i] = (m * items.pop[i]! + (1 - m) * items.niche[i]!) * Math.exp(strength * dot) + 1e-30;
  }
}

/** The drawn log before shuffling: 0-based (user, item) pairs, grouped by user. */
interface RawPairs {
  rawUser: Int32Array;
  rawItem: Int32Array;
}

/** Each user's items, drawn without replacement (Fenwick tree over w_u), user by user. */
function drawInteractions(rng: Rng, s: Settings, items: ItemModel, users: UserModel): RawPairs {
  const rawUser = new Int32Array(s.total);
  const rawItem = new Int32Array(s.total);
  const w = new Float64Array(s.nI);
  const sampler = new FenwickSampler(w);
  let pos = 0;
  for (let u = 0; u < s.nU; u++) {
    userWeights(w, u, s, items, users);
    let mass = sampler.build();
    let builtMass = mass;
    const n = users.count[u]!;
    for (let t = 0; t < n; t++) {
      const item = sampler.find(rng.nextFloat() * mass);
      rawUser[pos] = u;
      rawItem[pos] = item;
      pos++;
      mass -= sampler.remove(item);
      // Rebuilt when the running mass has shrunk so far that rounding matters.
      if (mass < 1e-6 * builtMass && t + 1 < n) {
        mass = sampler.build();
        builtMass = mass;
      }
    }
  }
  return { rawUser, rawItem };
}

/**
 * Shuffles the log, assigns ids by first appearance (tokens: 1-based catalogue numbers) and
 * carries the truth (taste, rank) over to internal ids.
 */
function toLog(rng: Rng, s: Settings, raw: RawPairs, taste: Float64Array, rankOf: Int32Array): SyntheticResult {
  const { nU, nI, total } = s;
  const order = rng.permutation(total);
  const userMap = new IdMapBuilder('user_id');
  const itemMap = new IdMapBuilder('item_id');
  const uId = new Int32Array(nU).fill(-1);
  const iId = new Int32Array(nI).fill(-1);
  const users = new Int32Array(total);
  const items = new Int32Array(total);
  for (let p = 0; p < total; p++) {
    const k = order[p]!;
    const u = raw.rawUser[k]!;
    const i = raw.rawItem[k]!;
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
  const source = `synthetic:users=${nU},items=${nI},interactions=${total},seed=${s.seed}`;
  const log = { users, items, userMap: userMap.build(), itemMap: itemMap.build(), source };
  return { log, taste: tasteById, rank: rankById };
}

/**
 * Generates a synthetic log with its truth; see the module comment for the model. Throws
 * UserError for a bad option or sizes that do not fit together.
 */
export function generateSyntheticWithTruth(options: SyntheticOptions = {}): SyntheticResult {
  const s = resolveSettings(options);
  const rng = new Rng(s.seed);
  const items = drawItems(rng, s);
  const users = drawUsers(rng, s);
  const raw = drawInteractions(rng, s, items, users);
  coverAllItems(rng, raw.rawItem, s.nI);
  return toLog(rng, s, raw, users.taste, items.rankOf);
}

/** Generates a synthetic InteractionLog (see generateSyntheticWithTruth). */
export function generateSynthetic(options: SyntheticOptions = {}): InteractionLog {
  return generateSyntheticWithTruth(options).log;
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
