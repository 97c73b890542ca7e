/**
 * RUN/prepare: what `prepare` computes (src/calibration/prepare.ts), written once and read
 * back by evaluate, postprocess and the fine-tuner.
 *   RUN/prepare/summary.json            settings, group sizes, empty users, file names
 *   RUN/prepare/item_groups.npy         int32, nItems (item 0 → −1)
 *   RUN/prepare/item_popularity.npy     int32, nItems (distinct users per item, per the source)
 *   RUN/prepare/user_targets.npy        float64, nUsers × G (row 0 and users without train items: zeros)
 *   RUN/prepare/user_groups.npy         int32, nUsers (0 mainstream, 1 diverse, 2 niche; user 0 → −1)
 *   RUN/prepare/<dataset>.popularity    the reference's formats (header + [PAD] row;
 *   RUN/prepare/<dataset>.userbaseline  src/calibration/reference-files.ts)
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { SplitDataset } from '../data/types.js';
import { encodeNpy, readNpy, writeNpy } from '../data/npy.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { InputError, UserError, type Naming } from '../util/errors.js';
import {
  computePrepared,
  PREPARE_FORMAT_VERSION,
  userGroupsFromVector,
  type Prepared,
  type PreparedCore,
  type PrepareOptions,
  type PrepareSummary,
} from '../calibration/prepare.js';
import { writePopularityFile, writeUserBaselineFile } from '../calibration/reference-files.js';
import { finiteNumber, schemaProblem, wholeNumber } from '../util/json-schema.js';
import { readJsonFile } from './json-files.js';
import { checkPreparedArrays } from './prepare-checks.js';
import { currentSetFolder, freshSetFolder, recoverSetFolder, swapInSetFolder, type FolderSet } from './folder-sets.js';

const FILES = {
  item_groups: 'item_groups.npy',
  item_popularity: 'item_popularity.npy',
  user_targets: 'user_targets.npy',
  user_groups: 'user_groups.npy',
} as const;

/** RUN/prepare as a set written whole (./folder-sets.ts), complete with its summary. */
const prepareSet = (run: string): FolderSet => ({ parent: run, name: 'prepare', marker: 'summary.json' });

/**
 * The prepare folder and its files (the reference-format ones are named after the dataset): RUN/prepare,
 * or the complete old one a crash left during a swap (./folder-sets.ts).
 */
export function preparePaths(run: string) {
  return prepareFilesIn(currentSetFolder(prepareSet(run)) ?? join(run, 'prepare'));
}

/** The prepare files inside folder `dir`. */
function prepareFilesIn(dir: string) {
  return {
    dir,
    summary: join(dir, 'summary.json'),
    itemGroups: join(dir, FILES.item_groups),
    itemPopularity: join(dir, FILES.item_popularity),
    userTargets: join(dir, FILES.user_targets),
    userGroups: join(dir, FILES.user_groups),
    /** The reference-format `.popularity` file for a dataset stem. */
    popularityFile: (dataset: string) => join(dir, `${dataset}.popularity`),
    /** The reference-format `.userbaseline` file for a dataset stem. */
    userBaselineFile: (dataset: string) => join(dir, `${dataset}.userbaseline`),
  };
}

/** A safe file-name stem for the reference files, from the interaction file's path. */
export function datasetNameFor(sourcePath: string | undefined): string {
  if (!sourcePath) return 'dataset';
  const b = basename(sourcePath.replace(/[\\/]+$/, ''));
  const stem = b.replace(/\.(inter|csv|tsv|dat|data|txt)$/i, '');
  return stem.replace(/[^A-Za-z0-9._-]/g, '_') || 'dataset';
}

function checkDatasetName(dataset: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(dataset))
    throw new UserError(`dataset name '${dataset}' may only use letters, digits, '.', '_' and '-'`);
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

/**
 * Writes everything of RUN/prepare as one set: into a temp folder, summary last, then swapped in
 * (./folder-sets.ts); returns the preparation with its summary as written.
 */
export function writePrepared(run: string, ds: SplitDataset, core: PreparedCore): Prepared {
  const dataset = core.summary.dataset;
  checkDatasetName(dataset);
  recoverSetFolder(prepareSet(run));
  const fresh = freshSetFolder(prepareSet(run));
  const p = prepareFilesIn(fresh);
  const G = core.nGroups;
  writeNpy(p.itemGroups, '<i4', [ds.nItems], core.itemGroup);
  writeNpy(p.itemPopularity, '<i4', [ds.nItems], core.popularity);
  writeFileAtomic(p.userTargets, encodeNpyF64([ds.nUsers, G], core.targets));
  writeNpy(p.userGroups, '<i4', [ds.nUsers], core.userGroups.userGroup);
  writePopularityFile(p.popularityFile(dataset), core.itemGroup, G, ds.itemMap.tokens);
  writeUserBaselineFile(p.userBaselineFile(dataset), core.targets, G);
  const summary: PrepareSummary = {
    ...core.summary,
    files: { ...FILES, popularity: `${dataset}.popularity`, userbaseline: `${dataset}.userbaseline` },
  };
  writeJsonAtomic(p.summary, summary);
  swapInSetFolder(prepareSet(run), fresh);
  return { ...core, summary };
}

/** Computes the preparation of a run's split and writes it into RUN/prepare. */
export function prepareRun(run: string, ds: SplitDataset, opts: PrepareOptions): Prepared {
  checkDatasetName(opts.dataset);
  return writePrepared(run, ds, computePrepared(ds, opts));
}

/** Whether `prepare` has run on the run (its summary exists). */
export function hasPrepared(run: string): boolean {
  return existsSync(preparePaths(run).summary);
}

const positiveInt = z.number().int().positive();
const finiteList = z.array(finiteNumber);

/** summary.json of RUN/prepare, as far as readers use it (other keys are kept). */
const prepareSummarySchema = z
  .object({
    format_version: z.number(),
    dataset: z.string(),
    popularity_source: z.string(),
    proportions: finiteList,
    n_groups: positiveInt,
    group_names: z.array(z.string()),
    items_per_group: z.array(wholeNumber),
    total_count: wholeNumber,
    users: wholeNumber,
    items: wholeNumber,
    target_mean: finiteList,
    empty_users: z.array(wholeNumber),
    user_groups: z
      .object({
        names: z.array(z.string()).min(1),
        tie_break: z.string(),
        proportions: finiteList,
        sizes: z.array(wholeNumber),
      })
      .passthrough(),
  })
  .passthrough();

/** What to do about a missing or stale preparation, in the caller's words. */
const again = (n: Naming, run: string) => `re-run '${n.step('prepare', { run })}'`;

/** summary.json of RUN/prepare, checked for its format version and its schema. */
function readPrepareSummary(run: string): PrepareSummary {
  const p = preparePaths(run);
  if (!existsSync(p.summary)) {
    throw new InputError(
      (n) => `${run} has no popularity groups / user targets yet: run '${n.step('prepare', { run })}' first`,
    );
  }
  let value: unknown;
  try {
    value = readJsonFile(p.summary);
  } catch (e) {
    const why = (e as Error).message;
    throw new InputError((n) => `${why}; ${again(n, run)}`);
  }
  const summary = value as PrepareSummary;
  if (summary?.format_version !== PREPARE_FORMAT_VERSION) {
    const v = String(summary?.format_version);
    throw new InputError(
      (n) =>
        `prepare format_version ${v} is not supported (this version reads ${PREPARE_FORMAT_VERSION}); ${again(n, run)}`,
      { file: p.summary },
    );
  }
  const problem = schemaProblem(prepareSummarySchema, value);
  if (problem !== undefined) throw new InputError((n) => `${problem}; ${again(n, run)}`, { file: p.summary });
  return summary;
}

/**
 * Reads RUN/prepare (UserError when `prepare` has not run). With `expect`, the sizes are
 * checked against the run's split.
 */
export function loadPrepared(run: string, expect?: { nUsers: number; nItems: number }): Prepared {
  const p = preparePaths(run);
  const summary = readPrepareSummary(run);
  const G = summary.n_groups;
  const ig = readNpy(p.itemGroups);
  const pop = readNpy(p.itemPopularity);
  const tg = readNpy(p.userTargets);
  const ugA = readNpy(p.userGroups);
  if (!(ig.data instanceof Int32Array) || !(pop.data instanceof Int32Array) || !(ugA.data instanceof Int32Array)) {
    throw new InputError((n) => `prepare files must be int32; ${again(n, run)}`, { file: p.dir });
  }
  if (!(tg.data instanceof Float64Array) || tg.shape.length !== 2 || tg.shape[1] !== G) {
    throw new InputError((n) => `expected a float64 users × ${G} array; ${again(n, run)}`, { file: p.userTargets });
  }
  const nUsers = tg.shape[0]!,
    nItems = ig.data.length;
  if (expect && (expect.nUsers !== nUsers || expect.nItems !== nItems)) {
    const sizes = `${expect.nUsers}×${expect.nItems}`;
    throw new InputError(
      (n) => `prepared for ${nUsers}×${nItems} users×items, the run has ${sizes}: ${again(n, run)}`,
      { file: p.dir },
    );
  }
  if (ugA.data.length !== nUsers)
    throw new UserError(`user groups cover ${ugA.data.length} users, targets ${nUsers}`, p.userGroups);
  checkPreparedArrays(
    {
      itemGroup: { data: ig.data, file: p.itemGroups },
      popularity: { data: pop.data, file: p.itemPopularity },
      targets: { data: tg.data, file: p.userTargets },
      userGroup: { data: ugA.data, file: p.userGroups },
    },
    G,
    summary.user_groups.names.length,
  );
  return {
    itemGroup: ig.data,
    nGroups: G,
    targets: tg.data,
    popularity: pop.data,
    userGroups: userGroupsFromVector(ugA.data, summary.user_groups.names.length),
    summary,
  };
}
