import { randomSplit } from '../../data/split.js';
import { logStats } from '../../data/stats.js';
import { loadRunData } from '../../experiments/run-dir.js';
import { splitStats } from '../../data/stats.js';
import { UserError } from '../../util/errors.js';
import { int, str } from '../args.js';
import { DATA_HELP, DATA_OPTIONS, readDataFrom } from '../data-options.js';
import type { Command } from '../command.js';

export const dataStatsCommand: Command = {
  name: 'data stats',
  summary: 'Sizes, density, per-user/per-item counts and split sizes of a dataset or a run',
  usage: 'data stats (--data PATH [--seed N] | --run RUN)',
  options: { ...DATA_OPTIONS, run: { type: 'string' }, seed: { type: 'string' } },
  help: `Options:
  --run DIR      statistics of an existing run's split
  --seed N       seed of the 80/10/10 split shown for --data (default 920)
${DATA_HELP}

Example:
  calitune data stats --data ../shared/data/ml-100k/ml-100k.inter`,
  async run(v, _pos, ctx) {
    const run = str(v, 'run');
    const dataPath = str(v, 'data');
    if ((run === undefined) === (dataPath === undefined)) throw new UserError('give exactly one of --data PATH or --run RUN');
    let stats;
    if (run !== undefined) {
      const { ds } = loadRunData(run);
      stats = splitStats(ds, run);
    } else {
      const { log } = readDataFrom(dataPath!, v);
      stats = logStats(log, randomSplit(log, int(v, 'seed') ?? 920));
    }
    ctx.info(`source        ${stats.source}`);
    ctx.info(`users         ${stats.users}`);
    ctx.info(`items         ${stats.items}`);
    ctx.info(`interactions  ${stats.interactions}`);
    ctx.info(`density       ${(stats.density * 100).toFixed(3)}%`);
    const c = (s: { min: number; median: number; mean: number; max: number }) =>
      `min ${s.min}  median ${s.median}  mean ${s.mean.toFixed(1)}  max ${s.max}`;
    ctx.info(`per user      ${c(stats.perUser)}`);
    ctx.info(`per item      ${c(stats.perItem)}`);
    if (stats.split) {
      ctx.info(`split         train ${stats.split.train}  valid ${stats.split.valid}  test ${stats.split.test}`);
      ctx.info(`              users with valid items ${stats.split.usersWithValid}, with test items ${stats.split.usersWithTest}`);
    }
    return stats;
  },
};
