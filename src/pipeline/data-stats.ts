/** Sizes, density, per-user / per-item counts and split sizes of a dataset or of a run. */
import { z } from 'zod';
import { randomSplit } from '../data/split.js';
import { readInteractionFile, type ReadOptions } from '../data/readers.js';
import { splitWarnings } from '../data/split-checks.js';
import { logStats, splitStats, type DataStats } from '../data/stats.js';
import { loadRunData } from '../store/run.js';
import { InputError } from '../util/errors.js';
import { parseOptions } from './options.js';
import { silentReporter, type Reporter } from './reporter.js';
import { DEFAULT_SEED } from '../util/seed.js';

/** Options of {@link dataStats}: exactly one of an existing `run` or a `data` file (split 80/10/10 with `seed`). */
export const dataStatsOptionsSchema = z
  .object({
    /** An existing run: statistics of its split. */
    run: z.string().min(1).optional(),
    /** Or an interaction file or dataset folder, split 80/10/10 with `seed`. */
    data: z.string().min(1).optional(),
    /** How to read `data`. */
    read: z
      .custom<ReadOptions>((v) => v !== null && typeof v === 'object', { message: 'must be an object of read options' })
      .default({}),
    /** Seed of the split shown for `data`. */
    seed: z.number().int().default(DEFAULT_SEED),
  })
  .strict();

/** What {@link dataStats} takes: `run`, or `data` with its `read` options and the split `seed`. */
export type DataStatsOptions = z.input<typeof dataStatsOptionsSchema>;
/** Sizes, density and per-user / per-item count summaries of a log and its split. */
export type DataStatsResult = DataStats;

/**
 * Statistics of a run's split or of an interaction file; writes nothing. For a file, the notes of
 * its reading (ids trimmed) and warnings about a small or empty valid/test split go to `reporter`.
 */
export async function dataStats(
  options: DataStatsOptions,
  reporter: Reporter = silentReporter,
): Promise<DataStatsResult> {
  const o = parseOptions(dataStatsOptionsSchema, options);
  if ((o.run === undefined) === (o.data === undefined)) {
    throw new InputError((n) => `give exactly one of ${n.option('data')} PATH or ${n.option('run')} RUN`, {
      field: o.run === undefined ? 'data' : 'run',
    });
  }
  if (o.run !== undefined) return splitStats(loadRunData(o.run).ds, o.run);
  const { log, notes } = readInteractionFile(o.data!, o.read);
  for (const note of notes) reporter.warn(`data stats: note: ${note}`);
  const ds = randomSplit(log, o.seed);
  for (const w of splitWarnings(ds)) reporter.warn(`data stats: ${w}`);
  return logStats(log, ds);
}
