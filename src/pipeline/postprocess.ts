/** CP re-ranking (calibrated popularity) of the run's backbone lists for a range of λ. */
import { z } from 'zod';
import { loadRunData } from '../store/run.js';
import { withRunLock } from '../store/run-locks.js';
import { loadPrepared } from '../store/prepare-files.js';
import { DEFAULT_LAMBDAS, validateCpSettings } from '../rerank/postprocess.js';
import { postprocessPaths, postprocessRun, type StoredPostprocessSummary } from '../store/postprocess-files.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';
import { loadRunModel } from './run-model.js';

/** Options of {@link postprocess}: the run, CP's λ values, candidates `m`, list length `n`, threads, modes. */
export const postprocessOptionsSchema = z
  .object({
    run: z.string().min(1),
    /** Trade-off weights λ in [0, 1]; 0 keeps the base order. */
    lambdas: z.array(z.number()).default([...DEFAULT_LAMBDAS]),
    /** Candidates per user taken from the base scores (m ≥ n). */
    m: z.number().int().min(1).default(100),
    /** List length. */
    n: z.number().int().min(1).default(10),
    /** Worker threads (default automatic; 1 = this thread only). */
    workers: z.number().int().min(1).max(256).optional(),
    /** Which lists to re-rank: test-time (valid items masked) and/or valid-time. */
    modes: z
      .array(z.enum(['test', 'valid']))
      .min(1)
      .default(['test', 'valid']),
  })
  .strict();

/**
 * What {@link postprocess} takes: `run`, optionally `lambdas` (0.1 … 0.9), `m` (100), `n` (10), `workers`
 * and `modes` (both).
 */
export type PostprocessOptions = z.input<typeof postprocessOptionsSchema>;
/** Where CP's lists went, per λ and split, with the settings, timings and the inputs' fingerprints. */
export type PostprocessResult = { run: string; dir: string } & StoredPostprocessSummary;

/**
 * CP re-ranking of the backbone's lists for every λ, on the valid-time and test-time candidates, written
 * to RUN/postprocess; the run needs a backbone and {@link prepare}. Holds the run lock meanwhile.
 */
export async function postprocess(
  options: PostprocessOptions,
  reporter: Reporter = silentReporter,
): Promise<PostprocessResult> {
  const o = parseOptions(postprocessOptionsSchema, options);
  validateCpSettings(o.lambdas, o.m, o.n);
  const note = (line: string) => reporter.warn(line);
  return withRunLock({ run: o.run, target: 'run', command: 'postprocess', note }, () => postprocessLocked(o, reporter));
}

/** postprocess once the run lock is held. */
async function postprocessLocked(
  o: z.output<typeof postprocessOptionsSchema>,
  reporter: Reporter,
): Promise<PostprocessResult> {
  const { info, ds } = loadRunData(o.run);
  validateCpSettings(o.lambdas, o.m, o.n, ds.nItems);
  const prep = loadPrepared(o.run, { nUsers: ds.nUsers, nItems: ds.nItems });
  const { model } = loadRunModel(o.run, info, ds, 'model');
  if (prep.summary.empty_users.length > 0) {
    reporter.warn(
      `note: ${prep.summary.empty_users.length} user(s) without train items get the plain top-${o.n} ` +
        '(no target to calibrate to)',
    );
  }
  const s = await postprocessRun(o.run, model, ds, {
    lambdas: o.lambdas,
    m: o.m,
    n: o.n,
    workers: o.workers,
    modes: [...new Set(o.modes)],
    itemGroup: prep.itemGroup,
    targets: prep.targets,
    nGroups: prep.nGroups,
  });
  return { run: o.run, dir: postprocessPaths(o.run).dir, ...s };
}
