import { loadRunData } from '../../experiments/run-dir.js';
import { datasetNameFor, preparePaths, prepareRun } from '../../calibration/prepare.js';
import { DEFAULT_PROPORTIONS, validateProportions, type PopularitySource } from '../../calibration/popularity.js';
import { USER_GROUP_NAMES, type UserGroupTieBreak } from '../../eval/user-groups.js';
import { UserError } from '../../util/errors.js';
import { choice, floatList, requireStr, str } from '../args.js';
import type { Command } from '../command.js';

export const prepareCommand: Command = {
  name: 'prepare',
  summary: 'Item popularity groups, per-user target distributions and user groups of a run',
  usage: 'prepare --run RUN [--proportions 0.2,0.6,0.2] [--popularity-source train|all] [--user-group-ties lower|higher] [--dataset NAME]',
  options: {
    run: { type: 'string' }, proportions: { type: 'string' }, 'popularity-source': { type: 'string' },
    'user-group-ties': { type: 'string' }, dataset: { type: 'string' },
  },
  help: `Options:
  --run DIR                 run directory (from 'calitune train' or 'calitune import')
  --proportions P1,P2,…     popularity group shares of the interactions, head first; they
                            must sum to 1 (default 0.2,0.6,0.2 → head / mid / tail)
  --popularity-source S     'train' (default: train split only) or 'all' (train+valid+test,
                            the reference's choice — use it to reproduce its numbers)
  --user-group-ties T       order of users with equal head share when forming the user groups
                            (mainstream / diverse / niche): 'lower' id first (default, DESIGN)
                            or 'higher' id first (what the reference's NumPy sort did on ML-100K)
  --dataset NAME            stem of the reference-format files (default: from the run's source)

Writes RUN/prepare/: summary.json, item_groups.npy, item_popularity.npy, user_targets.npy
(float64), user_groups.npy, and <dataset>.popularity / <dataset>.userbaseline in the
reference's formats. Users with no train items get a zero target, are listed in
summary.json ('empty_users') and are left out of fine-tuning (a warning names them).

Example:
  calitune prepare --run runs/oracle --popularity-source all`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const proportions = floatList(v, 'proportions') ?? [...DEFAULT_PROPORTIONS];
    try {
      validateProportions(proportions);
    } catch (e) {
      throw new UserError(`--proportions: ${(e as Error).message}`);
    }
    const source: PopularitySource = choice(v, 'popularity-source', ['train', 'all'] as const) ?? 'train';
    const ties = choice(v, 'user-group-ties', ['lower', 'higher'] as const) ?? 'lower';
    const tieBreak: UserGroupTieBreak = ties === 'lower' ? 'lowerIdFirst' : 'higherIdFirst';
    const { info, ds } = loadRunData(run);
    const dataset = str(v, 'dataset') ?? datasetNameFor(info.source.path);
    const t0 = performance.now();
    const prep = prepareRun(run, ds, { proportions, popularitySource: source, dataset, userGroupTieBreak: tieBreak });
    const secs = (performance.now() - t0) / 1000;
    const s = prep.summary;
    const p = preparePaths(run);
    if (s.empty_users.length > 0) {
      const shown = s.empty_users.slice(0, 10).join(', ');
      ctx.warn(`warning: ${s.empty_users.length} user(s) have no train items (${shown}${s.empty_users.length > 10 ? ', …' : ''}); ` +
        'their target is undefined (zeros): they are left out of fine-tuning, get the plain top-n in CP, and are listed in summary.json');
    }
    ctx.info(`popularity groups (${source === 'all' ? 'train+valid+test' : 'train only'}, proportions ${s.proportions.join('/')}):`);
    for (let g = 0; g < s.n_groups; g++) {
      ctx.info(`  ${s.group_names[g]!.padEnd(5)} ${String(s.items_per_group[g]).padStart(7)} items  ${(100 * s.interaction_mass_per_group[g]!).toFixed(2).padStart(6)}% of interactions  ` +
        `popularity ${s.max_count_per_group[g]}…${s.min_count_per_group[g]}`);
    }
    ctx.info(`user targets: ${s.users} users, mean ${s.target_mean.map((x) => x.toFixed(4)).join(' / ')}; ${s.empty_users.length} without train items`);
    ctx.info(`user groups (${ties} id first on ties): ${USER_GROUP_NAMES.map((n, g) => `${n} ${s.user_groups.sizes[g]}`).join(', ')}`);
    ctx.info(`wrote ${p.dir} (${s.files.popularity}, ${s.files.userbaseline}, …) in ${secs.toFixed(2)} s`);
    return { run, dir: p.dir, seconds: secs, ...s };
  },
};
