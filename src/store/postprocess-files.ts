/**
 * RUN/postprocess: CP re-ranking's output.
 *   RUN/postprocess/cp_{λ}_{test,valid}.npy   int32 nUsers × n, row 0 = −1 (λ as lambdaKey writes it)
 *   RUN/postprocess/summary.json              λs, m, n, timings, the lists' paths
 */
import { existsSync, readdirSync } from 'node:fs';
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

/** The postprocess folder, its summary, and the path of CP's lists for a λ (number or key) and mode. */
export function postprocessPaths(run: string) {
  const dir = join(run, 'postprocess');
  return {
    dir,
    summary: join(dir, 'summary.json'),
    /** CP's lists for a λ (a number, or its key as lambdaKey writes it) and a mode. */
    cpList: (lambda: number | string, mode: CpMode) =>
      join(dir, `cp_${typeof lambda === 'number' ? lambdaKey(lambda) : lambda}_${mode}.npy`),
  };
}

/** Writes every λ's lists; returns λ key → mode → path. */
export function writeCpLists(
  run: string,
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
      writeListMatrix(path, r.lists[mode]![li]!, n);
      files[key]![mode] = path;
    }
  });
  return files;
}

/** CP re-ranking of the backbone (src/rerank/postprocess.ts), written into RUN/postprocess. */
export async function postprocessRun(
  run: string,
  model: Recommender,
  ds: SplitDataset,
  o: PostprocessOptions,
): Promise<PostprocessSummary> {
  const t0 = performance.now();
  const r = await computeCpLists(model, ds, o);
  const tw = performance.now();
  const files = writeCpLists(run, o.lambdas, r, o.n);
  const writeS = (performance.now() - tw) / 1000;
  const summary = postprocessSummary(o, r, files, writeS, (performance.now() - t0) / 1000, ds.nUsers);
  writeJsonAtomic(postprocessPaths(run).summary, summary);
  return summary;
}

/** λ keys with a stored CP list for `mode`, sorted by λ. */
export function storedCpLambdas(run: string, mode: CpMode): string[] {
  const dir = postprocessPaths(run).dir;
  if (!existsSync(dir)) return [];
  const re = new RegExp(`^cp_([0-9.eE+-]+)_${mode}\\.npy$`);
  const keys: string[] = [];
  for (const f of readdirSync(dir)) {
    const mt = re.exec(f);
    if (mt && Number.isFinite(Number(mt[1]))) keys.push(mt[1]!);
  }
  return keys.sort((a, b) => Number(a) - Number(b));
}

/** The stored lists of λ key `key` (first k columns; must have nUsers rows and item ids below nItems). */
export function readCpList(
  run: string,
  key: string,
  mode: CpMode,
  nUsers: number,
  k: number,
  nItems: number,
): Int32Array {
  return readListMatrix(postprocessPaths(run).cpList(key, mode), nUsers, k, nItems);
}

/** CP's stored summary, checked (src/store/postprocess-summary.ts), or undefined when postprocess has not run. */
export function readPostprocessSummary(run: string): PostprocessSummary | undefined {
  const p = postprocessPaths(run).summary;
  return existsSync(p) ? readPostprocessSummaryFile(p) : undefined;
}
