/**
 * Prepare a run for calibration: item popularity groups, per-user target distributions and
 * user groups (written to RUN/prepare by src/calibration/prepare.ts).
 */
import { z } from 'zod';
import { loadRunData } from '../store/run.js';
import { withRunLock } from '../store/run-locks.js';
import { datasetNameFor, preparePaths, prepareRun } from '../store/prepare-files.js';
import type { PrepareSummary } from '../calibration/prepare.js';
import { DEFAULT_PROPORTIONS, validateProportions } from '../calibration/popularity.js';
import { InputError } from '../util/errors.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';

/**
 * Options of {@link prepare}: group proportions, the popularity source, the tie order of user groups and
 * the reference files' stem.
 */
export const prepareOptionsSchema = z
  .object({
    run: z.string().min(1),
    /** Popularity group shares of the interactions, head first; they sum to 1. */
    proportions: z.array(z.number()).default([...DEFAULT_PROPORTIONS]),
    /** Interactions counted for popularity: the train split only, or train+valid+test (the reference's). */
    popularitySource: z.enum(['train', 'all']).default('train'),
    /** Order of users with equal head share when forming user groups: lower or higher id first. */
    userGroupTies: z.enum(['lower', 'higher']).default('lower'),
    /** Stem of the reference-format files (default: from the run's source). */
    dataset: z.string().min(1).optional(),
  })
  .strict();

/**
 * What {@link prepare} takes: `run`, optionally `proportions` ([0.2, 0.6, 0.2]), `popularitySource`
 * ('train'), `userGroupTies` ('lower') and `dataset`.
 */
export type PrepareOptions = z.input<typeof prepareOptionsSchema>;
/** The prepare folder and summary: group sizes and interaction mass, mean targets, user groups, empty users. */
export type PrepareResult = { run: string; dir: string; seconds: number } & PrepareSummary;

/**
 * Computes item popularity groups, per-user target distributions and user groups for a run and writes
 * them to RUN/prepare; CP, fine-tuning and JSD need them. Holds the run lock meanwhile.
 */
export async function prepare(options: PrepareOptions, reporter: Reporter = silentReporter): Promise<PrepareResult> {
  const o = parseOptions(prepareOptionsSchema, options);
  try {
    validateProportions(o.proportions);
  } catch (e) {
    const why = (e as Error).message;
    throw new InputError((n) => `${n.option('proportions')}: ${why}`, { field: 'proportions' });
  }
  const note = (line: string) => reporter.warn(line);
  return withRunLock({ run: o.run, target: 'run', command: 'prepare', note }, () => prepareLocked(o, reporter));
}

/** prepare once the run lock is held. */
async function prepareLocked(o: z.output<typeof prepareOptionsSchema>, reporter: Reporter): Promise<PrepareResult> {
  const { info, ds } = loadRunData(o.run);
  const dataset = o.dataset ?? datasetNameFor(info.source.path);
  const t0 = performance.now();
  const prep = prepareRun(o.run, ds, {
    proportions: o.proportions,
    popularitySource: o.popularitySource,
    dataset,
    userGroupTieBreak: o.userGroupTies === 'lower' ? 'lowerIdFirst' : 'higherIdFirst',
  });
  const seconds = (performance.now() - t0) / 1000;
  const s = prep.summary;
  if (s.empty_users.length > 0) {
    const shown = s.empty_users.slice(0, 10).join(', ');
    reporter.warn(
      `warning: ${s.empty_users.length} user(s) have no train items ` +
        `(${shown}${s.empty_users.length > 10 ? ', …' : ''}); ` +
        'their target is undefined (zeros): they are left out of fine-tuning, ' +
        'get the plain top-n in CP, and are listed in summary.json',
    );
  }
  return { run: o.run, dir: preparePaths(o.run).dir, seconds, ...s };
}
