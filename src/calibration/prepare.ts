/**
 * Preparation (issue 3 item 1, DESIGN §3): item popularity groups, per-user target
 * distributions and user groups of a run, written once into RUN/prepare/ and read back by
 * evaluate, postprocess and the fine-tuner (`loadPrepared`).
 *
 * Layout:
 *   RUN/prepare/summary.json            settings, group sizes, empty users, file names
 *   RUN/prepare/item_groups.npy         int32, nItems (item 0 → −1)
 *   RUN/prepare/item_popularity.npy     int32, nItems (distinct users per item, per the source)
 *   RUN/prepare/user_targets.npy        float64, nUsers × G (row 0 and users without train items: zeros)
 *   RUN/prepare/user_groups.npy         int32, nUsers (0 mainstream, 1 diverse, 2 niche; user 0 → −1)
 *   RUN/prepare/<dataset>.popularity    the reference's formats (header + [PAD] row)
 *   RUN/prepare/<dataset>.userbaseline
 *
 * Users without train items: their target is the zero vector (P undefined). They are listed
 * in summary.json (`empty_users`), left out of fine-tuning, get the plain top-n in CP, and
 * are still evaluated (NDCG as usual, JSD with P = 0 + ε — finite, never NaN). In the user
 * grouping their head share is 0, so they sort towards the niche end.
 *
 * User-group tie-break: DESIGN's `lowerIdFirst` by default; `higherIdFirst` reproduces the
 * oracle's per-group numbers (see src/eval/user-groups.ts). It is chosen at prepare time and
 * recorded, so every later stage uses the same groups.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SplitDataset } from '../data/types.js';
import { encodeNpy, readNpy, writeNpy } from '../data/npy.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { InputError, UserError, type Naming } from '../util/errors.js';
import { DEFAULT_PROPORTIONS, popularityGroupsFromSplit, validateProportions, type PopularitySource } from './popularity.js';
import { userTargets } from './user-targets.js';
import { writePopularityFile, writeUserBaselineFile } from './reference-files.js';
import { USER_GROUP_NAMES, userGroups, type UserGroups, type UserGroupTieBreak } from '../eval/user-groups.js';

export const PREPARE_FORMAT_VERSION = 1;
export const DEFAULT_USER_GROUP_TIE_BREAK: UserGroupTieBreak = 'lowerIdFirst';

export function preparePaths(run: string) {
  const dir = join(run, 'prepare');
  return {
    dir,
    summary: join(dir, 'summary.json'),
    itemGroups: join(dir, 'item_groups.npy'),
    itemPopularity: join(dir, 'item_popularity.npy'),
    userTargets: join(dir, 'user_targets.npy'),
    userGroups: join(dir, 'user_groups.npy'),
    popularityFile: (dataset: string) => join(dir, `${dataset}.popularity`),
    userBaselineFile: (dataset: string) => join(dir, `${dataset}.userbaseline`),
  };
}

export interface PrepareOptions {
  proportions?: readonly number[];
  popularitySource?: PopularitySource;
  /** Name used for the reference files (`<dataset>.popularity`). */
  dataset: string;
  userGroupTieBreak?: UserGroupTieBreak;
}

export interface PrepareSummary {
  format_version: number;
  created: string;
  dataset: string;
  popularity_source: PopularitySource;
  proportions: number[];
  n_groups: number;
  group_names: string[];
  items_per_group: number[];
  interaction_mass_per_group: number[];
  min_count_per_group: number[];
  max_count_per_group: number[];
  total_count: number;
  users: number;
  items: number;
  target_mean: number[];
  empty_users: number[];
  user_groups: { names: string[]; tie_break: UserGroupTieBreak; proportions: number[]; sizes: number[] };
  files: { item_groups: string; item_popularity: string; user_targets: string; user_groups: string; popularity: string; userbaseline: string };
}

export interface Prepared {
  readonly itemGroup: Int32Array;
  readonly nGroups: number;
  /** nUsers × nGroups, row-major. */
  readonly targets: Float64Array;
  readonly popularity: Int32Array;
  readonly userGroups: UserGroups;
  readonly summary: PrepareSummary;
}

/** A float64 .npy (npy.ts writes f4/i4 only; targets are kept exact). */
function encodeNpyF64(shape: number[], data: Float64Array): Uint8Array {
  // Reuse the i4 header layout, then patch the dtype and append the 8-byte data.
  const stub = encodeNpy('<i4', shape, new Int32Array(0));
  const headerText = Buffer.from(stub.subarray(0, stub.length)).toString('latin1').replace("'<i4'", "'<f8'");
  const head = Buffer.from(headerText, 'latin1');
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), head.length);
  return out;
}

/** A safe file-name stem for the reference files. */
export function datasetNameFor(sourcePath: string | undefined): string {
  if (!sourcePath) return 'dataset';
  const b = basename(sourcePath.replace(/[\\/]+$/, ''));
  const stem = b.replace(/\.(inter|csv|tsv|dat|data|txt)$/i, '');
  return stem.replace(/[^A-Za-z0-9._-]/g, '_') || 'dataset';
}

/** Computes and writes everything of RUN/prepare. */
export function prepareRun(run: string, ds: SplitDataset, opts: PrepareOptions): Prepared {
  const proportions = [...(opts.proportions ?? DEFAULT_PROPORTIONS)];
  validateProportions(proportions);
  const source = opts.popularitySource ?? 'train';
  const tieBreak = opts.userGroupTieBreak ?? DEFAULT_USER_GROUP_TIE_BREAK;
  if (!/^[A-Za-z0-9._-]+$/.test(opts.dataset)) throw new UserError(`dataset name '${opts.dataset}' may only use letters, digits, '.', '_' and '-'`);
  const pg = popularityGroupsFromSplit(ds, source, proportions);
  const G = pg.nGroups;
  const tg = userTargets(ds.train, pg.itemGroup, G);
  const ug = userGroups(tg.targets, ds.nUsers, G, { tieBreak });
  const p = preparePaths(run);
  writeNpy(p.itemGroups, '<i4', [ds.nItems], pg.itemGroup);
  writeNpy(p.itemPopularity, '<i4', [ds.nItems], pg.popularity);
  writeFileAtomic(p.userTargets, encodeNpyF64([ds.nUsers, G], tg.targets));
  writeNpy(p.userGroups, '<i4', [ds.nUsers], ug.userGroup);
  writePopularityFile(p.popularityFile(opts.dataset), pg.itemGroup, G, ds.itemMap.tokens);
  writeUserBaselineFile(p.userBaselineFile(opts.dataset), tg.targets, G);
  const nonEmpty = ds.nUsers - 1 - tg.emptyUsers.length;
  const targetMean = new Array<number>(G).fill(0);
  for (let u = 1; u < ds.nUsers; u++) for (let g = 0; g < G; g++) targetMean[g]! += tg.targets[u * G + g]!;
  const summary: PrepareSummary = {
    format_version: PREPARE_FORMAT_VERSION,
    created: new Date().toISOString(),
    dataset: opts.dataset,
    popularity_source: source,
    proportions,
    n_groups: G,
    group_names: G === 3 ? ['head', 'mid', 'tail'] : Array.from({ length: G }, (_, g) => `group_${g + 1}`),
    items_per_group: pg.summary.itemsPerGroup,
    interaction_mass_per_group: pg.summary.massPerGroup,
    min_count_per_group: pg.summary.minCount,
    max_count_per_group: pg.summary.maxCount,
    total_count: pg.summary.total,
    users: ds.nUsers - 1,
    items: ds.nItems - 1,
    target_mean: targetMean.map((s) => (nonEmpty > 0 ? s / nonEmpty : 0)),
    empty_users: Array.from(tg.emptyUsers),
    user_groups: { names: [...USER_GROUP_NAMES], tie_break: tieBreak, proportions: [0.2, 0.6, 0.2], sizes: ug.members.map((m) => m.length) },
    files: {
      item_groups: 'item_groups.npy', item_popularity: 'item_popularity.npy', user_targets: 'user_targets.npy',
      user_groups: 'user_groups.npy', popularity: `${opts.dataset}.popularity`, userbaseline: `${opts.dataset}.userbaseline`,
    },
  };
  writeJsonAtomic(p.summary, summary);
  return { itemGroup: pg.itemGroup, nGroups: G, targets: tg.targets, popularity: pg.popularity, userGroups: ug, summary };
}

export function hasPrepared(run: string): boolean {
  return existsSync(preparePaths(run).summary);
}

/**
 * Reads RUN/prepare (UserError when `calitune prepare` has not run). With `expect`, the sizes
 * are checked against the run's split.
 */
export function loadPrepared(run: string, expect?: { nUsers: number; nItems: number }): Prepared {
  const p = preparePaths(run);
  const again = (names: Naming) => `re-run '${names.step('prepare', { run })}'`;
  if (!existsSync(p.summary)) {
    throw new InputError((n) => `${run} has no popularity groups / user targets yet: run '${n.step('prepare', { run })}' first`);
  }
  let summary: PrepareSummary;
  try {
    summary = JSON.parse(readFileSync(p.summary, 'utf8')) as PrepareSummary;
  } catch (e) {
    const why = (e as Error).message;
    throw new InputError((n) => `not valid JSON (${why}); ${again(n)}`, { file: p.summary });
  }
  if (summary.format_version !== PREPARE_FORMAT_VERSION) {
    const v = String(summary.format_version);
    throw new InputError((n) => `prepare format_version ${v} is not supported (this version reads ${PREPARE_FORMAT_VERSION}); ${again(n)}`, { file: p.summary });
  }
  const G = summary.n_groups;
  const ig = readNpy(p.itemGroups);
  const pop = readNpy(p.itemPopularity);
  const tg = readNpy(p.userTargets);
  const ugA = readNpy(p.userGroups);
  if (!(ig.data instanceof Int32Array) || !(pop.data instanceof Int32Array) || !(ugA.data instanceof Int32Array)) {
    throw new InputError((n) => `prepare files must be int32; ${again(n)}`, { file: p.dir });
  }
  if (!(tg.data instanceof Float64Array) || tg.shape.length !== 2 || tg.shape[1] !== G) {
    throw new InputError((n) => `expected a float64 users × ${G} array; ${again(n)}`, { file: p.userTargets });
  }
  const nUsers = tg.shape[0]!, nItems = ig.data.length;
  if (expect && (expect.nUsers !== nUsers || expect.nItems !== nItems)) {
    const sizes = `${expect.nUsers}×${expect.nItems}`;
    throw new InputError((n) => `prepared for ${nUsers}×${nItems} users×items, the run has ${sizes}: ${again(n)}`, { file: p.dir });
  }
  if (ugA.data.length !== nUsers) throw new UserError(`user groups cover ${ugA.data.length} users, targets ${nUsers}`, p.userGroups);
  const userGroup = ugA.data;
  const K = summary.user_groups.names.length;
  const lists: number[][] = Array.from({ length: K }, () => []);
  for (let u = 1; u < nUsers; u++) { const g = userGroup[u]!; if (g >= 0 && g < K) lists[g]!.push(u); }
  return {
    itemGroup: ig.data, nGroups: G, targets: tg.data, popularity: pop.data,
    userGroups: { userGroup, nGroups: K, members: lists.map((l) => Int32Array.from(l)) },
    summary,
  };
}
