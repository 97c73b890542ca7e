import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { KEEP_POLICIES } from '../../calibration/checkpoints.js';
import { registryPath } from '../../experiments/registry.js';
import { grid, type GridResult, type GridView } from '../../pipeline/grid.js';
import { nestedReporter } from '../../pipeline/reporter.js';
import { bool, choice, int, requireStr, str } from '../args.js';
import type { Command, CommandContext, ParsedValues } from '../command.js';
import { printPostprocess } from './postprocess.js';

/** Help text of `--workers`, shared by grid and experiments. */
export const WORKERS_HELP =
  `  --workers N        worker processes, one point each (default: one per core = ${availableParallelism()});\n` +
  `                     OpenBLAS threads per worker = max(1, cores / workers)`;

/** Help text of `--queue` and `--attempts`, shared by grid and experiments. */
export const QUEUE_HELP =
  `  --queue URL        run the points as jobs on this Redis queue (redis://HOST:PORT, redis://:PASSWORD@HOST:PORT,\n` +
  `                     rediss://… for TLS) instead of local workers; start 'calitune worker --queue URL' on\n` +
  `                     machines that see RUN at the same path. This process records and prints as usual.\n` +
  `  --attempts N       with --queue: attempts per point before it is recorded as failed (default 3)`;

/** The queue flags' values: `queue` and `attempts`, each omitted when not given. */
export function queueFlags(v: ParsedValues): { queue?: string; attempts?: number } {
  const queue = str(v, 'queue');
  const attempts = int(v, 'attempts', { min: 1, max: 100 });
  return { ...(queue !== undefined ? { queue } : {}), ...(attempts !== undefined ? { attempts } : {}) };
}

/** `calitune grid`: grid search over fine-tuning configurations. */
export const gridCommand: Command = {
  name: 'grid',
  summary: 'Grid search: fine-tune and evaluate every combination of config values, in parallel, resumable',
  usage:
    'grid --run RUN --grid GRID.yaml [--workers N | --queue URL [--attempts N]] [--keep all|frontier|last] [--yes]',
  options: {
    run: { type: 'string' },
    grid: { type: 'string' },
    workers: { type: 'string' },
    queue: { type: 'string' },
    attempts: { type: 'string' },
    yes: { type: 'boolean' },
    keep: { type: 'string' },
  },
  optionFlags: { gridFile: 'grid', allowLarge: 'yes' },
  help: `Options:
  --run DIR          run directory with a backbone and 'calitune prepare' done
  --grid FILE.yaml   base config (a file or inline keys) + lists of values for any config keys
${WORKERS_HELP}
${QUEUE_HELP}
  --keep POLICY      checkpoint weights to keep per point (default: the grid file's 'keep', else frontier)
  --yes              allow a grid of more than 10,000 points

Every point is fine-tuned (RUN/experiments/NAME) and evaluated (RUN/results/NAME.json) in its
own worker process; NAME follows the reference: c{α}__{frozen|unfrozen}_itememb__selection_{s}__k{k}__lr{lr}
(+ __KEYvalue for other varied keys). CP is computed once per run (RUN/postprocess) and reused.
The registry RUN/registry.sqlite records every point (status, timings, error, selected epochs
with test metrics, frontier). Re-running the same grid skips finished points and resumes
interrupted or failed ones from their last finished epoch. A failing point (e.g. a diverged
loss) is recorded as failed; the others go on; the exit code is then 1.

Grid file:
  base: ml-100k-finetune.yaml      # or a mapping of config keys
  grid:
    combined_mode_alpha: [0.0, 0.5, 1.0]
    freeze_item_emb: [true, false]
    k_candidates: [50, 100]

Example:
  calitune grid --run runs/oracle --grid examples/ml-100k-grid.yaml --workers 2
  calitune runs frontier --run runs/oracle
On many machines (README: "Run a grid on many machines"):
  calitune grid --run /shared/runs/oracle --grid examples/ml-100k-grid.yaml --queue redis://10.0.0.5:6379
  calitune worker --queue redis://10.0.0.5:6379          # on each machine`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const r = await grid(
      {
        run,
        gridFile: requireStr(v, 'grid'),
        workers: int(v, 'workers', { min: 1, max: 256 }),
        ...queueFlags(v),
        keep: choice(v, 'keep', KEEP_POLICIES),
        allowLarge: bool(v, 'yes'),
      },
      ctx,
      gridView(run, ctx),
    );
    return finishGrid(run, r, ctx);
  },
};

/** The CLI's view of a grid run: live progress, and the run-wide CP step named as its command. */
export function gridView(run: string, ctx: CommandContext): GridView {
  return {
    showProgress: ctx.showProgress,
    cpStarting: () => ctx.info(`computing CP once for the run (calitune postprocess --run ${run}) …`),
    cpDone: (r) => printPostprocess(r, nestedReporter(ctx)),
  };
}

/** The closing line; failed points make the command fail (exit code 1) once everything is recorded. */
export function finishGrid(run: string, r: GridResult, ctx: CommandContext): GridResult {
  ctx.info(
    `${r.done} done, ${r.skipped} skipped (done before), ${r.failed} failed; wall time ${r.seconds.toFixed(1)} s` +
      `; registry ${registryPath(resolve(run))}; 'calitune runs frontier --run ${run}' compares with CP`,
  );
  if (r.failed > 0)
    throw new Error(
      `${r.failed} of ${r.ran} point(s) failed ` +
        `(recorded in the registry: 'calitune runs list --run ${run}'); the others finished`,
    );
  return r;
}
