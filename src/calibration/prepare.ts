/**
 * Preparation (docs/numeric-contract.md §3, §4, §8): item popularity groups, per-user target
 * distributions and user groups of a run, computed once; the run store writes them into
 * RUN/prepare/ and reads them back for evaluate, postprocess and the fine-tuner
 * (src/store/prepare-files.ts, which also lists the files).
 *
 * Users without train items: their target is the zero vector (P undefined). They are listed
 * in the summary (`empty_users`), left out of fine-tuning, get the plain top-n in CP, and
 * are still evaluated (NDCG as usual, JSD with P = 0 + ε — finite, never NaN). In the user
 * grouping their head share is 0, so they sort towards the niche end.
 *
 * User-group tie-break: `lowerIdFirst` by default; `higherIdFirst` reproduces the oracle's
 * per-group numbers (see src/eval/user-groups.ts). It is chosen at prepare time and recorded,
 * so every later stage uses the same groups.
 */
import type { SplitDataset } from '../data/types.js';
import {
  DEFAULT_PROPORTIONS,
  popularityGroupsFromSplit,
  validateProportions,
  type PopularitySource,
} from './popularity.js';
import { userTargets } from './user-targets.js';
import { USER_GROUP_NAMES, userGroups, type UserGroups, type UserGroupTieBreak } from '../eval/user-groups.js';

/** Version of RUN/prepare's format, written to its summary and checked on load. */
export const PREPARE_FORMAT_VERSION = 1;
/** Order of users with equal head share when forming user groups: lower id first. */
export const DEFAULT_USER_GROUP_TIE_BREAK: UserGroupTieBreak = 'lowerIdFirst';

/** Settings of {@link computePrepared}: group proportions, popularity source, user-group ties, file stem. */
export interface PrepareOptions {
  proportions?: readonly number[];
  popularitySource?: PopularitySource;
  /** Name used for the reference files (`<dataset>.popularity`). */
  dataset: string;
  userGroupTieBreak?: UserGroupTieBreak;
}

/** RUN/prepare/summary.json: the settings, group sizes and mass, mean targets, empty users, user groups, files. */
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
  files: {
    item_groups: string;
    item_popularity: string;
    user_targets: string;
    user_groups: string;
    popularity: string;
    userbaseline: string;
  };
}

/** What calibration needs about a run: item groups and popularity, user targets P and user groups. */
export interface Prepared {
  readonly itemGroup: Int32Array;
  readonly nGroups: number;
  /** nUsers × nGroups, row-major. */
  readonly targets: Float64Array;
  readonly popularity: Int32Array;
  readonly userGroups: UserGroups;
  readonly summary: PrepareSummary;
}

/** The summary as computed; the run store adds the names of the files it writes. */
export type PrepareSummaryCore = Omit<PrepareSummary, 'files'>;

/** What prepare computes: everything of Prepared but the files' names. */
export interface PreparedCore extends Omit<Prepared, 'summary'> {
  readonly summary: PrepareSummaryCore;
}

/** Popularity groups, user targets and user groups of a split (options as in PrepareOptions). */
export function computePrepared(ds: SplitDataset, opts: PrepareOptions): PreparedCore {
  const proportions = [...(opts.proportions ?? DEFAULT_PROPORTIONS)];
  validateProportions(proportions);
  const source = opts.popularitySource ?? 'train';
  const tieBreak = opts.userGroupTieBreak ?? DEFAULT_USER_GROUP_TIE_BREAK;
  const pg = popularityGroupsFromSplit(ds, source, proportions);
  const G = pg.nGroups;
  const tg = userTargets(ds.train, pg.itemGroup, G);
  const ug = userGroups(tg.targets, ds.nUsers, G, { tieBreak });
  const nonEmpty = ds.nUsers - 1 - tg.emptyUsers.length;
  const targetMean = new Array<number>(G).fill(0);
  for (let u = 1; u < ds.nUsers; u++) for (let g = 0; g < G; g++) targetMean[g]! += tg.targets[u * G + g]!;
  const summary: PrepareSummaryCore = {
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
    user_groups: {
      names: [...USER_GROUP_NAMES],
      tie_break: tieBreak,
      proportions: [0.2, 0.6, 0.2],
      sizes: ug.members.map((m) => m.length),
    },
  };
  return {
    itemGroup: pg.itemGroup,
    nGroups: G,
    targets: tg.targets,
    popularity: pg.popularity,
    userGroups: ug,
    summary,
  };
}

/** Per-user group lists (users 1..n−1) of a stored user-group vector with `nGroups` groups. */
export function userGroupsFromVector(userGroup: Int32Array, nGroups: number): UserGroups {
  const lists: number[][] = Array.from({ length: nGroups }, () => []);
  for (let u = 1; u < userGroup.length; u++) {
    const g = userGroup[u]!;
    if (g >= 0 && g < nGroups) lists[g]!.push(u);
  }
  return { userGroup, nGroups, members: lists.map((l) => Int32Array.from(l)) };
}
