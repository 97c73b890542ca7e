/**
 * RUN/postprocess: CP re-ranking's output, one complete set at a time.
 *   RUN/postprocess/cp_{λ}_{test,valid}.npy   int32 nUsers × n, row 0 = −1 (λ as lambdaKey writes it)
 *   RUN/postprocess/summary.json              λs, m, n, timings, the lists' paths, the inputs'
 *                                             fingerprints (provenance.ts)
 *
 * The set is what summary.json lists, nothing else in the folder. A new set is written whole into
 * RUN/.postprocess.tmp-PID-N (lists first, summary last), then swapped in by renames, with the
 * recovery rule of ./folder-sets.ts for readers (cpSetDir) and the next writer (recoverCpSet).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SplitDataset } from '../data/types.js';
import type { Recommender } from '../models/recommender.js';
import { writeJsonAtomic } from '../util/atomic.js';
import {
  computeCpLists,
  lambdaKey,
  postprocessSummary,
  type CpListsResult,
  type CpMode,
  type PostprocessOptions,
  type PostprocessSummary,
} from '../rerank/postprocess.js';
import { readListMatrix, writeListMatrix } from './list-files.js';
import { currentSetFolder, freshSetFolder, recoverSetFolder, swapInSetFolder, type FolderSet } from './folder-sets.js';
import { readPostprocessSummaryFile } from './postprocess-summary.js';
import { currentInputFingerprints, staleInputs, type InputFingerprints } from './provenance.js';

/** summary.json as stored: the summary with the fingerprints of the backbone and prepare it was computed from. */
export type StoredPostprocessSummary = PostprocessSummary & { inputs?: InputFingerprints };

/** The postprocess folder, its summary, and the path of CP's lists for a λ (number or key) and mode. */
export function postprocessPaths(run: string) {
  const dir = join(run, 'postprocess');
  return {
    dir,
    summary: join(dir, 'summary.json'),
    /** CP's lists for a λ (a number, or its key as lambdaKey writes it) and a mode. */
    cpList: (lambda: number | string, mode: CpMode) =>
      join(dir, cpListFile(typeof lambda === 'number' ? lambdaKey(lambda) : lambda, mode)),
  };
}

/** File name of the lists of λ key `key` and mode `mode` inside a CP set's folder. */
export function cpListFile(key: string, mode: CpMode): string {
  return `cp_${key}_${mode}.npy`;
}

/** RUN/postprocess as a set written whole (folder-sets.ts), complete with its summary. */
const cpSet = (run: string): FolderSet => ({ parent: run, name: 'postprocess', marker: 'summary.json' });

/**
 * The folder that holds the run's CP set under the recovery rule (folder-sets.ts): RUN/postprocess,
 * or, when a crash came between the renames of a swap, the old set; undefined when there is none.
 */
export function cpSetDir(run: string): string | undefined {
  return currentSetFolder(cpSet(run));
}

/**
 * Before a new CP set is written (the caller holds the run lock): an old set a crash left without
 * its final name is renamed back, and the temp and old folders of killed writers are removed.
 */
export function recoverCpSet(run: string): void {
  recoverSetFolder(cpSet(run));
}

/**
 * Writes every λ's lists into the folder `into` (the new set's temp folder); returns λ key → mode →
 * path, the path each list has once the set is swapped into RUN/postprocess.
 */
export function writeCpLists(
  run: string,
  into: string,
  lambdas: readonly number[],
  r: CpListsResult,
  n: number,
): PostprocessSummary['files'] {
  const p = postprocessPaths(run);
  const files: PostprocessSummary['files'] = {};
  lambdas.forEach((l, li) => {
    const key = lambdaKey(l);
    files[key] = { test: '', valid: '' };
    for (const mode of r.modes) {
      const path = p.cpList(l, mode);
      writeListMatrix(join(into, cpListFile(key, mode)), r.lists[mode]![li]!, n);
      files[key]![mode] = path;
    }
  });
  return files;
}

/**
 * CP re-ranking of the backbone (src/rerank/postprocess.ts), written as one complete set that
 * replaces RUN/postprocess (file comment); the caller holds the run lock.
 */
export async function postprocessRun(
  run: string,
  model: Recommender,
  ds: SplitDataset,
  o: PostprocessOptions,
): Promise<StoredPostprocessSummary> {
  const t0 = performance.now();
  const inputs = currentInputFingerprints(run);
  const r = await computeCpLists(model, ds, o);
  recoverCpSet(run);
  const fresh = freshSetFolder(cpSet(run));
  const tw = performance.now();
  const files = writeCpLists(run, fresh, o.lambdas, r, o.n);
  const writeS = (performance.now() - tw) / 1000;
  const summary = {
    ...postprocessSummary(o, r, files, writeS, (performance.now() - t0) / 1000, ds.nUsers),
    inputs,
  };
  writeJsonAtomic(join(fresh, 'summary.json'), summary);
  swapInSetFolder(cpSet(run), fresh);
  return summary;
}

/**
 * λ keys of the CP set with lists for `mode`, sorted by λ: exactly those summary.json lists (other
 * files in the folder are no part of the set); none without a summary.
 */
export function storedCpLambdas(run: string, mode: CpMode): string[] {
  const files = readPostprocessSummary(run)?.files;
  if (files === undefined || files === null || typeof files !== 'object') return [];
  return Object.keys(files)
    .filter((key) => Number.isFinite(Number(key)) && typeof files[key]?.[mode] === 'string' && files[key]![mode] !== '')
    .sort((a, b) => Number(a) - Number(b));
}

/**
 * The stored lists of λ key `key` (first k columns; nUsers rows, item ids below nItems), from the set
 * cpSetDir finds.
 */
export function readCpList(
  run: string,
  key: string,
  mode: CpMode,
  nUsers: number,
  k: number,
  nItems: number,
): Int32Array {
  const dir = cpSetDir(run) ?? postprocessPaths(run).dir;
  return readListMatrix(join(dir, cpListFile(key, mode)), nUsers, k, nItems);
}

/**
 * CP's stored summary (of the set cpSetDir finds), checked (src/store/postprocess-summary.ts), or
 * undefined when there is none.
 */
export function readPostprocessSummary(run: string): StoredPostprocessSummary | undefined {
  const dir = cpSetDir(run);
  if (dir === undefined) return undefined;
  const p = join(dir, 'summary.json');
  return existsSync(p) ? (readPostprocessSummaryFile(p) as StoredPostprocessSummary) : undefined;
}

/**
 * The inputs that changed since the CP set was computed ('backbone': retrained or imported again;
 * 'prepare': prepared again); empty when the set is current or records no inputs.
 */
export function staleCpInputs(run: string): (keyof InputFingerprints)[] {
  return staleInputs(run, readPostprocessSummary(run)?.inputs);
}
