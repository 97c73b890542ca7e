import { USER_GROUP_NAMES } from '../../eval/user-groups.js';
import { prepare, type PrepareResult } from '../../pipeline/prepare.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { choice, floatList, requireStr, str } from '../args.js';
import type { Command } from '../command.js';

/** Prints a prepare result: the popularity groups, user groups and users without train items. */
export function printPrepare(r: PrepareResult, out: Reporter): void {
  const ties = r.user_groups.tie_break === 'lowerIdFirst' ? 'lower' : 'higher';
  out.info(
    `popularity groups (${r.popularity_source === 'all' ? 'train+valid+test' : 'train only'}, ` +
      `proportions ${r.proportions.join('/')}):`,
  );
  for (let g = 0; g < r.n_groups; g++) {
    out.info(
      `  ${r.group_names[g]!.padEnd(5)} ${String(r.items_per_group[g]).padStart(7)} items  ` +
        `${(100 * r.interaction_mass_per_group[g]!).toFixed(2).padStart(6)}% of interactions  ` +
        `popularity ${r.max_count_per_group[g]}…${r.min_count_per_group[g]}`,
    );
  }
  out.info(
    `user targets: ${r.users} users, mean ${r.target_mean.map((x) => x.toFixed(4)).join(' / ')}; ` +
      `${r.empty_users.length} without train items`,
  );
  out.info(
    `user groups (${ties} id first on ties): ` +
      `${USER_GROUP_NAMES.map((n, g) => `${n} ${r.user_groups.sizes[g]}`).join(', ')}`,
  );
  out.info(`wrote ${r.dir} (${r.files.popularity}, ${r.files.userbaseline}, …) in ${r.seconds.toFixed(2)} s`);
}

/** `calitune prepare`: popularity groups, user targets and user groups of a run. */
export const prepareCommand: Command = {
  name: 'prepare',
  summary: 'Item popularity groups, per-user target distributions and user groups of a run',
  usage:
    'prepare --run RUN [--proportions 0.2,0.6,0.2] [--popularity-source train|all] ' +
    '[--user-group-ties lower|higher] [--dataset NAME]',
  options: {
    run: { type: 'string' },
    proportions: { type: 'string' },
    'popularity-source': { type: 'string' },
    'user-group-ties': { type: 'string' },
    dataset: { type: 'string' },
  },
  help: `Options:
  --run DIR                 run directory (from 'calitune train' or 'calitune import')
  --proportions P1,P2,…     popularity group shares of the interactions, head first; they
                            must sum to 1 (default 0.2,0.6,0.2 → head / mid / tail)
  --popularity-source S     'train' (default: train split only) or 'all' (train+valid+test,
                            the reference's choice — use it to reproduce its numbers)
  --user-group-ties T       order of users with equal head share when forming the user groups
                            (mainstream / diverse / niche): 'lower' id first (default)
                            or 'higher' id first (what the reference's NumPy sort did on ML-100K)
  --dataset NAME            stem of the reference-format files (default: from the run's source)

Writes RUN/prepare/: summary.json, item_groups.npy, item_popularity.npy, user_targets.npy
(float64), user_groups.npy, and <dataset>.popularity / <dataset>.userbaseline in the
reference's formats. Users with no train items get a zero target, are listed in
summary.json ('empty_users') and are left out of fine-tuning (a warning names them).

Example:
  calitune prepare --run runs/oracle --popularity-source all`,
  async run(v, _pos, ctx) {
    const r = await prepare(
      {
        run: requireStr(v, 'run'),
        proportions: floatList(v, 'proportions'),
        popularitySource: choice(v, 'popularity-source', ['train', 'all'] as const),
        userGroupTies: choice(v, 'user-group-ties', ['lower', 'higher'] as const),
        dataset: str(v, 'dataset'),
      },
      ctx,
    );
    printPrepare(r, ctx);
    return r;
  },
};
