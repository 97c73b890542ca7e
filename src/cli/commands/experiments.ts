import { KEEP_POLICIES } from '../../calibration/checkpoints.js';
import { experiments } from '../../pipeline/grid.js';
import { choice, int, requireStr } from '../args.js';
import type { Command } from '../command.js';
import { finishGrid, gridView, QUEUE_HELP, queueFlags, WORKERS_HELP } from './grid.js';

/** `calitune experiments`: a list of named fine-tuning experiments, run like a grid. */
export const experimentsCommand: Command = {
  name: 'experiments',
  summary:
    "Run a list of named fine-tuning experiments (the reference's multi-experiment mode), in parallel, resumable",
  usage:
    'experiments --run RUN --file EXPERIMENTS.yaml [--workers N | --queue URL [--attempts N]] ' +
    '[--keep all|frontier|last]',
  options: {
    run: { type: 'string' },
    file: { type: 'string' },
    workers: { type: 'string' },
    queue: { type: 'string' },
    attempts: { type: 'string' },
    keep: { type: 'string' },
  },
  optionFlags: { experimentsFile: 'file' },
  help: `Options:
  --run DIR               run directory with a backbone and 'calitune prepare' done
  --file EXPERIMENTS.yaml a list of experiments, each a name and a config (file or inline keys)
${WORKERS_HELP}
${QUEUE_HELP}
  --keep POLICY           checkpoint weights to keep (default: the file's 'keep', else frontier)

Same machinery as 'calitune grid' (worker processes or a queue, registry, resume, CP once per run);
the names are yours. Two experiments with the same name are an error.

File:
  base: ml-100k-finetune.yaml        # optional: what inline configs start from
  experiments:
    - name: c0.5_frozen
      config: ml-100k-finetune.yaml
    - name: c1.0_unfrozen
      config: { combined_mode_alpha: 1.0, freeze_item_emb: false }

Example:
  calitune experiments --run runs/oracle --file examples/ml-100k-experiments.yaml`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const r = await experiments(
      {
        run,
        experimentsFile: requireStr(v, 'file'),
        workers: int(v, 'workers', { min: 1, max: 256 }),
        ...queueFlags(v),
        keep: choice(v, 'keep', KEEP_POLICIES),
      },
      ctx,
      gridView(run, ctx),
    );
    return finishGrid(run, r, ctx);
  },
};
