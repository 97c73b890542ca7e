/**
 * RUN/postprocess: CP re-ranking's output, one complete set at a time.
 *   RUN/postprocess/cp_{λ}_{test,valid}.npy   int32 nUsers × n, row 0 = −1 (λ as lambdaKey writes it)
 *   RUN/postprocess/summary.json              λs, m, n, timings, the lists' paths, the inputs'
 *                                             fingerprints (provenance.ts)
 *
 * The set is what summary.json lists, nothing else in the folder. A new set is written whole into
 * RUN/.postprocess.tmp-PID-N (lists first, summary last), then swapped in by renames: the old set
 * to RUN/.postprocess.old-PID-N, the new one to RUN/postprocess, then the old one removed.
 * Recovery rule (readers, see cpSetDir): RUN/postprocess is the set when it exists; when a crash
 * came between the two renames it does not, and the set is the old one, .postprocess.old-*: the
 * new set counts only once it has its final name. The next writer (holding the run lock) first
 * renames such an old set back and removes the temp and old folders of killed writers.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
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

/** The file name of CP's lists for λ key `key` and `mode`. */
export function cpListFile(key: string, mode: CpMode): string {
  return `cp_${key}_${mode}.npy`;
}

const CP_DIR = 'postprocess';
const TEMP_PREFIX = `.${CP_DIR}.tmp-`;
const OLD_PREFIX = `.${CP_DIR}.old-`;
let setCounter = 0;

/** A unique sibling of RUN/postprocess for this process: `prefix` + PID-N. */
function siblingPath(run: string, prefix: string): string {
  setCounter++;
  return join(run, `${prefix}${process.pid}-${setCounter}`);
}

/** The sibling folders RUN/.postprocess.{tmp,old}-* that `prefix` selects, sorted by name. */
function siblings(run: string, prefix: string): string[] {
  if (!existsSync(run)) return [];
  return readdirSync(run)
    .filter((f) => f.startsWith(prefix))
    .sort()
    .map((f) => join(run, f));
}

/**
 * The folder that holds the run's CP set under the recovery rule (file comment): RUN/postprocess,
 * or, when a crash came between the renames of a swap, the old set; undefined when there is none.
 */
export function cpSetDir(run: string): string | undefined {
  const dir = postprocessPaths(run).dir;
  if (existsSync(dir)) return dir;
  return siblings(run, OLD_PREFIX).find((d) => existsSync(join(d, 'summary.json')));
}

/**
 * Before a new CP set is written (the caller holds the run lock): an old set a crash left without
 * its final name is renamed back, and the temp and old folders of killed writers are removed.
 */
export function recoverCpSet(run: string): void {
  const dir = postprocessPaths(run).dir;
  const current = cpSetDir(run);
  if (current !== undefined && current !== dir) renameSync(current, dir);
  for (const d of [...siblings(run, TEMP_PREFIX), ...siblings(run, OLD_PREFIX)]) {
    rmSync(d, { recursive: true, force: true });
  }
}

/** Swaps the complete set in `fresh` into RUN/postprocess (old set renamed away, new renamed in, old removed). */
function swapInCpSet(run: string, fresh: string): void {
  const dir = postprocessPaths(run).dir;
  if (!existsSync(dir)) {
    renameSync(fresh, dir);
    return;
  }
  const old = siblingPath(run, OLD_PREFIX);
  renameSync(dir, old);
  renameSync(fresh, dir);
  rmSync(old, { recursive: true, force: true });
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
  const fresh = siblingPath(run, TEMP_PREFIX);
  const tw = performance.now();
  const files = writeCpLists(run, fresh, o.lambdas, r, o.n);
  const writeS = (performance.now() - tw) / 1000;
  const summary = {
    ...postprocessSummary(o, r, files, writeS, (performance.now() - t0) / 1000, ds.nUsers),
    inputs,
  };
  writeJsonAtomic(join(fresh, 'summary.json'), summary);
  swapInCpSet(run, fresh);
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

/** The stored lists of λ key `key` (first k columns; nUsers rows, item ids below nItems), from the set cpSetDir finds. */
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
