import { dataStats, type DataStatsResult } from '../../pipeline/data-stats.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { int, str } from '../args.js';
import { DATA_HELP, DATA_OPTIONS, readOptionsFrom } from '../data-options.js';
import type { Command } from '../command.js';
import { DEFAULT_SEED } from '../../util/seed.js';

/** Prints dataset statistics as aligned text lines. */
export function printDataStats(stats: DataStatsResult, out: Reporter): void {
  out.info(`source        ${stats.source}`);
  out.info(`users         ${stats.users}`);
  out.info(`items         ${stats.items}`);
  out.info(`interactions  ${stats.interactions}`);
  out.info(`density       ${(stats.density * 100).toFixed(3)}%`);
  const c = (s: { min: number; median: number; mean: number; max: number }) =>
    `min ${s.min}  median ${s.median}  mean ${s.mean.toFixed(1)}  max ${s.max}`;
  out.info(`per user      ${c(stats.perUser)}`);
  out.info(`per item      ${c(stats.perItem)}`);
  if (stats.split) {
    out.info(`split         train ${stats.split.train}  valid ${stats.split.valid}  test ${stats.split.test}`);
    out.info(
      `              users with valid items ${stats.split.usersWithValid}, ` +
        `with test items ${stats.split.usersWithTest}`,
    );
  }
}

/** `calitune data stats`: statistics of an interaction file or of a run's split. */
export const dataStatsCommand: Command = {
  name: 'data stats',
  summary: 'Sizes, density, per-user/per-item counts and split sizes of a dataset or a run',
  usage: 'data stats (--data PATH [--seed N] | --run RUN)',
  options: { ...DATA_OPTIONS, run: { type: 'string' }, seed: { type: 'string' } },
  help: `Options:
  --run DIR      statistics of an existing run's split
  --seed N       seed of the 80/10/10 split shown for --data (default ${DEFAULT_SEED})
${DATA_HELP}

Example:
  calitune data stats --data ../shared/data/ml-100k/ml-100k.inter`,
  async run(v, _pos, ctx) {
    const run = str(v, 'run');
    const data = str(v, 'data');
    const stats = await dataStats(
      {
        run,
        data,
        read: run === undefined && data !== undefined ? readOptionsFrom(v) : undefined,
        seed: int(v, 'seed'),
      },
      ctx,
    );
    printDataStats(stats, ctx);
    return stats;
  },
};
