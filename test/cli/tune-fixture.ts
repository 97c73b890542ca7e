/** A small synthetic interaction file and search space for the `calitune tune` tests. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Rng } from '../../src/math/rng.js';
import { registryPath } from '../../src/experiments/registry.js';

/**
 * 300 users × 150 items, about 3,000 interactions: each user takes items from a popular head and
 * from its own cluster of 30 items, so that a few epochs of BPR separate good and bad settings.
 */
export function writeSmallLog(dir: string): string {
  const rng = new Rng(11);
  const rows = new Set<string>();
  for (let u = 0; u < 300; u++) {
    const n = 8 + rng.nextInt(23);
    for (let j = 0; j < n; j++) {
      const item = rng.nextFloat() < 0.6 ? Math.floor(rng.nextFloat() ** 3 * 150) : (u % 5) * 30 + rng.nextInt(30);
      rows.add(`u${u}\ti${item}`);
    }
  }
  const path = join(dir, 'small.inter');
  writeFileSync(path, `user_id:token\titem_id:token\n${[...rows].join('\n')}\n`);
  return path;
}

/** A BPR search space: embedding size, learning rate and batch size. */
export function writeBprSpace(dir: string): string {
  const path = join(dir, 'space.yaml');
  writeFileSync(path, 'dim: [8, 16, 32]\nlr: {loguniform: [1.0e-3, 1.0e-1]}\nbatchSize: [256, 1024]\n');
  return path;
}

/** The trials of a run's registry without what varies from run to run (times, attempts). */
export function trialOutcomes(run: string): unknown[] {
  const db = new Database(registryPath(run), { readonly: true });
  try {
    return db
      .prepare(
        'SELECT id, study, idx, config, status, stopped_at, rungs, curve, epochs_run, best_epoch, best_valid_ndcg, ' +
          'error FROM trials ORDER BY study, idx',
      )
      .all();
  } finally {
    db.close();
  }
}

/**
 * A BPR study on the small log and space (written into `dir`): the `calitune tune` arguments for a
 * run folder, `trials` trials of up to 20 epochs from `seed`.
 */
export function bprStudyArgs(dir: string, trials: number, seed: number): (run: string) => string[] {
  const data = writeSmallLog(dir);
  const space = writeBprSpace(dir);
  return (run) => [
    'tune',
    ...['--data', data, '--run', run, '--model', 'bpr', '--space', space],
    ...['--trials', String(trials), '--budget-epochs', '20', '--seed', String(seed)],
  ];
}

/** Trials per status in the run's registry (empty before it exists or while it is created). */
export function statusCounts(run: string): Record<string, number> {
  if (!existsSync(registryPath(run))) return {};
  try {
    const db = new Database(registryPath(run), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT status, COUNT(*) AS n FROM trials GROUP BY status').all() as Array<{
        status: string;
        n: number;
      }>;
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    } finally {
      db.close();
    }
  } catch {
    return {}; // the tables are being created
  }
}
