/**
 * Recommendations for one user at a time, as a server answers them. CaliTune's point is that
 * its calibrated lists are the model's own top-k — the same work as the base model — while CP
 * re-ranks a candidate pool per request; `method: 'cp'` is here to measure that difference.
 */
import type { Prepared } from '../calibration/prepare.js';
import type { Csr } from '../math/csr.js';
import { maskBlock } from '../math/mask.js';
import { topkRow } from '../math/topk.js';
import { cpRerankRange, cpScratch, type CpScratch } from '../rerank/cp.js';
import { InputError, UserError, type Naming } from '../util/errors.js';
import type { ServingModel } from './serving-model.js';

/** How a request's list is made: the model's own top-k, or CP re-ranking of its candidates. */
export type ServeMethod = 'model' | 'cp';
/** A part of the split whose items a request can exclude. */
export type SplitPart = 'train' | 'valid' | 'test';
/** Every {@link SplitPart}. */
export const SPLIT_PARTS: readonly SplitPart[] = ['train', 'valid', 'test'];

/** One user's request: the user's token, k, the method with CP's λ and m, and the parts to exclude. */
export interface RecommendRequest {
  user: string;
  k?: number;
  method?: ServeMethod;
  /** CP trade-off λ in [0, 1] (method 'cp'). */
  lambda?: number;
  /** CP candidate pool (default 100). */
  m?: number;
  /** Which of the user's known interactions are never recommended (default all three). */
  exclude?: readonly SplitPart[];
}

/** A recommended item's token, its score, its popularity group when the run is prepared, its title when known. */
export interface RecommendedItem {
  item: string;
  score: number;
  group?: number;
  title?: string;
}

/** A request whose parameters have been checked: defaults filled in, the user's internal id. */
interface CheckedRequest {
  method: ServeMethod;
  k: number;
  u: number;
  masks: Csr[];
}

/** One user's answer: the items and how they were made. */
export interface RecommendResponse {
  user: string;
  method: ServeMethod;
  lambda?: number;
  k: number;
  items: RecommendedItem[];
  model: string;
}

/** Answers one user at a time from a served model: its top-k, or CP on its candidates. */
export class RecommendationService {
  private readonly scores: Float32Array;
  private readonly top: Int32Array;
  private readonly oneUser = new Int32Array(1);
  private cpNorm: { min: number; max: number } | undefined;
  private cpScratchBuf: CpScratch | undefined;

  /**
   * @param titles item titles by internal item id (index 0 the padding), when the dataset has them
   */
  constructor(
    readonly sm: ServingModel,
    readonly prepared?: Prepared,
    readonly titles?: readonly (string | undefined)[],
  ) {
    this.scores = new Float32Array(sm.ds.nItems);
    this.top = new Int32Array(sm.ds.nItems);
  }

  /** The number of item ids including the padding id 0 (k is at most nItems - 1). */
  get nItems(): number {
    return this.sm.ds.nItems;
  }

  /** The internal id of a user token (UserError "unknown user" when the run has no such user). */
  userId(token: string): number {
    const id = this.sm.ds.userMap.index.get(token);
    if (id === undefined || id === 0) throw new UserError(`unknown user '${token}'`);
    return id;
  }

  /** Checks a request without doing its work: a UserError for what {@link recommend} would refuse. */
  check(req: RecommendRequest): void {
    const c = this.checked(req);
    if (c.method === 'cp') this.cpParameters(req, c.k);
  }

  /** Computes CP's global score normalisation now rather than on the first CP request. */
  prepareCp(): void {
    if (this.prepared) this.cpNorm ??= this.globalNormalisation();
  }

  /** One user's list: the model's top-k or CP's re-ranking, the user's known items excluded. */
  recommend(req: RecommendRequest): RecommendResponse {
    const { method, k, u, masks } = this.checked(req);
    const nItems = this.nItems;
    this.oneUser[0] = u;
    this.sm.model.scoreAll(this.oneUser, this.scores);
    maskBlock(this.scores, this.oneUser, nItems, masks, { padding: true });
    const tokens = this.sm.ds.itemMap.tokens;
    const groupOf = (i: number) => (this.prepared ? this.prepared.itemGroup[i]! + 1 : undefined);
    const item = (i: number, score: number): RecommendedItem => {
      const g = groupOf(i);
      const it: RecommendedItem = g === undefined ? { item: tokens[i]!, score } : { item: tokens[i]!, score, group: g };
      const title = this.titles?.[i];
      if (title !== undefined) it.title = title;
      return it;
    };
    if (method === 'model') {
      topkRow(this.scores, 0, nItems, k, this.top, 0);
      const items: RecommendedItem[] = [];
      for (let j = 0; j < k; j++) {
        const i = this.top[j]!;
        if (i >= 0) items.push(item(i, this.scores[i]!));
      }
      return { user: req.user, method, k, items, model: this.sm.label };
    }
    return this.recommendCp(req, u, k, item);
  }

  /** The request's method, k, user and exclusion masks, checked in the order the messages promise. */
  private checked(req: RecommendRequest): CheckedRequest {
    const method = req.method ?? 'model';
    const k = req.k ?? 10;
    const nItems = this.nItems;
    if (!Number.isInteger(k) || k < 1 || k > nItems - 1)
      throw new UserError(`k must be an integer in 1..${nItems - 1}, got ${k}`);
    if (method !== 'model' && method !== 'cp')
      throw new UserError(`method must be 'model' or 'cp', got '${String(method)}'`);
    const u = this.userId(req.user);
    const masks: Csr[] = [];
    for (const part of req.exclude ?? SPLIT_PARTS) {
      if (!SPLIT_PARTS.includes(part))
        throw new UserError(`exclude: unknown part '${String(part)}' (train, valid, test)`);
      masks.push(this.sm.ds[part]);
    }
    return { method, k, u, masks };
  }

  /** CP's popularity groups, λ and m, checked. */
  private cpParameters(req: RecommendRequest, k: number): { prepared: Prepared; lambda: number; m: number } {
    const prepared = this.prepared;
    if (!prepared) {
      const prepare = (n: Naming) => n.step('prepare');
      throw new InputError((n) => `method 'cp' needs popularity groups: run '${prepare(n)}' on this run first`, {
        field: 'method',
      });
    }
    const lambda = req.lambda ?? 0.5;
    if (!(lambda >= 0 && lambda <= 1)) throw new UserError(`lambda must be in [0, 1], got ${lambda}`);
    const m = req.m ?? 100;
    if (!Number.isInteger(m) || m < k || m > this.nItems - 1)
      throw new UserError(`m must be an integer in ${k}..${this.nItems - 1}, got ${m}`);
    return { prepared, lambda, m };
  }

  private recommendCp(
    req: RecommendRequest,
    u: number,
    k: number,
    item: (i: number, s: number) => RecommendedItem,
  ): RecommendResponse {
    const { prepared, lambda, m } = this.cpParameters(req, k);
    this.cpNorm ??= this.globalNormalisation();
    const norm = this.cpNorm;
    const s = this.scores;
    // The same float32 steps as offline CP (minMaxNormalizeFinite), with the global min/max.
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v > -Infinity) s[i] = norm.max > 0 ? Math.fround(v - norm.min) / norm.max : Math.fround(v - norm.min);
    }
    const candIds = this.top.subarray(0, m);
    topkRow(s, 0, this.nItems, m, candIds, 0);
    const candScores = new Float32Array(m);
    for (let j = 0; j < m; j++) candScores[j] = candIds[j]! >= 0 ? s[candIds[j]!]! : -Infinity;
    const G = prepared.nGroups;
    if (!this.cpScratchBuf || this.cpScratchBuf.used.length < m) this.cpScratchBuf = cpScratch(G, m);
    const sc = this.cpScratchBuf;
    const out = new Int32Array(k);
    cpRerankRange(
      candIds,
      candScores,
      u,
      m,
      prepared.itemGroup,
      prepared.targets,
      0,
      G,
      lambda,
      k,
      u,
      u + 1,
      out,
      u,
      sc,
    );
    const items: RecommendedItem[] = [];
    for (let j = 0; j < k; j++) {
      const i = out[j]!;
      if (i >= 0) items.push(item(i, s[i]!));
    }
    return { user: req.user, method: 'cp', lambda, k, items, model: this.sm.label };
  }

  /**
   * Offline CP normalises over every user's masked scores (train and valid masked); serving
   * uses the same global min and max so that a served CP list equals the offline one.
   */
  private globalNormalisation(): { min: number; max: number } {
    const { ds, model } = this.sm;
    const block = 256;
    const users = new Int32Array(block);
    const buf = new Float32Array(block * ds.nItems);
    const masks = [ds.train, ds.valid];
    let min = Infinity;
    const pass = (fn: (v: number) => void) => {
      for (let u0 = 1; u0 < ds.nUsers; u0 += block) {
        const b = Math.min(block, ds.nUsers - u0);
        for (let r = 0; r < b; r++) users[r] = u0 + r;
        const ub = users.subarray(0, b),
          sb = buf.subarray(0, b * ds.nItems);
        model.scoreAll(ub, sb);
        maskBlock(sb, ub, ds.nItems, masks, { padding: true });
        for (let i = 0; i < sb.length; i++) {
          const v = sb[i]!;
          if (v > -Infinity) fn(v);
        }
      }
    };
    pass((v) => {
      if (v < min) min = v;
    });
    if (min === Infinity) throw new UserError('no finite score to normalise (every item is masked)');
    let max = -Infinity;
    pass((v) => {
      const d = Math.fround(v - min);
      if (d > max) max = d;
    });
    return { min, max };
  }
}
