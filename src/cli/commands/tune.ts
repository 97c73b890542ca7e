import { availableParallelism } from 'node:os';
import { tune, type TuneResult } from '../../pipeline/tune.js';
import { bool, choice, int, requireStr, str } from '../args.js';
import { UserError } from '../../util/errors.js';
import type { Command, CommandContext, ParsedValues } from '../command.js';
import { DATA_HELP, DATA_OPTIONS, readOptionsFrom } from '../data-options.js';
import { printTrain } from './train.js';

/** `calitune tune`: hyper-parameter search for a backbone, with ASHA early stopping of trials. */
export const tuneCommand: Command = {
  name: 'tune',
  summary: "Tune a backbone's hyper-parameters: seeded trials from a search space, ASHA early stopping, resumable",
  usage:
    'tune [--data PATH] --run RUN --model bpr|dmf|multivae --space SPACE.yaml --trials N ' +
    '[--scheduler asha|none] [--workers N | --queue URL] [--budget-epochs E] [--seed S] [--study NAME] ' +
    '[--train-best [--force]]',
  options: {
    ...DATA_OPTIONS,
    run: { type: 'string' },
    model: { type: 'string' },
    space: { type: 'string' },
    trials: { type: 'string' },
    scheduler: { type: 'string' },
    workers: { type: 'string' },
    queue: { type: 'string' },
    'budget-epochs': { type: 'string' },
    seed: { type: 'string' },
    'split-seed': { type: 'string' },
    study: { type: 'string' },
    'train-best': { type: 'boolean' },
    force: { type: 'boolean' },
  },
  help: `Options:
  --data PATH          interaction file or dataset folder: creates RUN when it is not a run yet
  --run DIR            run directory (its split is what every trial trains and validates on)
  --model NAME         bpr, dmf or multivae
  --space FILE.yaml    search space: per configuration key a list of values, {uniform: [lo, hi]},
                       {loguniform: [lo, hi]} or {int: [lo, hi]} (optional log: true)
  --trials N           trials sampled from the space (a rerun with a larger N extends the study)
  --scheduler NAME     asha (default): a trial goes past a rung (5, 15, 45, 135 … epochs) only in
                       the top third of the trials that reached it; none: every trial trains to its end
  --workers N          trial processes at a time (default: one per core = ${availableParallelism()}); one BLAS
                       thread each, so results do not depend on N
  --queue URL          run the trials as jobs on a Redis queue (redis://HOST:PORT, rediss://… for TLS)
                       for 'calitune worker --queue URL' processes on machines that see RUN at the
                       same path; this process decides the rungs, so the results equal a local tune's
  --budget-epochs E    the most epochs a trial trains (ASHA's maximum; default: the epoch caps of
                       the space, else the backbone's)
  --seed S             seed of the sampling and of every trial's training (default 42)
  --split-seed S       seed of the split when RUN is created (default: --seed)
  --study NAME         the study's name in the registry (default MODEL-SCHEDULER)
  --train-best         train the best configuration as the run's backbone afterwards
  --force              with --train-best: replace a backbone that has a CP set or experiments
${DATA_HELP}
Every trial is recorded in RUN/registry.sqlite ('calitune runs list --run RUN --kind tune',
'calitune runs show --run RUN TRIAL'); the best configuration goes to RUN/tune/STUDY/best.yaml,
which 'calitune train --config' reads. Rerunning the same command after an interruption
continues the study: ended trials are kept, interrupted ones train again (with --queue too:
the trials the killed process had on the queue start again).

Example:
  calitune tune --data ../shared/data/ml-100k --run runs/ml-100k --model bpr \\
    --space examples/tune-bpr.yaml --trials 24 --workers 2 --train-best`,
  async run(v, _pos, ctx) {
    const data = str(v, 'data');
    const r = await tune(
      {
        run: requireStr(v, 'run'),
        data,
        read: data !== undefined ? readOptionsFrom(v) : undefined,
        model: requireStr(v, 'model'),
        space: requireStr(v, 'space'),
        trials: requiredInt(v, 'trials'),
        scheduler: choice(v, 'scheduler', ['asha', 'none'] as const),
        workers: int(v, 'workers', { min: 1, max: 256 }),
        queue: str(v, 'queue'),
        budgetEpochs: int(v, 'budget-epochs', { min: 1 }),
        seed: int(v, 'seed'),
        splitSeed: int(v, 'split-seed'),
        study: str(v, 'study'),
        trainBest: bool(v, 'train-best'),
        force: bool(v, 'force'),
      },
      ctx,
    );
    return finishTune(r, ctx);
  },
};

function requiredInt(v: ParsedValues, name: string): number {
  const n = int(v, name, { min: 1, max: 100_000 });
  if (n === undefined) throw new UserError(`--${name} is required`);
  return n;
}

function finishTune(r: TuneResult, ctx: CommandContext): TuneResult {
  if (r.trained) printTrain(r.trained, ctx);
  ctx.info(
    `study ${r.study}: ${r.trials} trial(s), ${r.epochsTrained} epochs trained; wall time ${r.seconds.toFixed(1)} s` +
      `; 'calitune runs list --run ${r.run} --kind tune' lists the trials`,
  );
  if (r.failed > 0) {
    throw new Error(
      `${r.failed} of ${r.trials} trial(s) failed (recorded in the registry: ` +
        `'calitune runs list --run ${r.run} --kind tune')${r.failed < r.trials ? '; the others finished' : ''}`,
    );
  }
  return r;
}
