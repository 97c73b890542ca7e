/** `calitune runs prune`: remove the resume states of a run's completed experiments. */
import { prune } from '../../pipeline/prune.js';
import { bool, requireStr } from '../args.js';
import type { Command, ParsedValues } from '../command.js';

/** The repeated --experiment values (none: every experiment). */
function experimentNames(v: ParsedValues): string[] {
  const given = v.experiment;
  const list = Array.isArray(given) ? given : given === undefined ? [] : [given];
  return list.filter((e): e is string => typeof e === 'string');
}

/** `calitune runs prune`: the resume state of each completed experiment removed, bytes freed reported. */
export const runsPruneCommand: Command = {
  name: 'runs prune',
  summary: "Remove completed experiments' resume states (resume.safetensors); everything else stays readable",
  usage: 'runs prune --run RUN [--experiment NAME …] [--dry-run]',
  options: {
    run: { type: 'string' },
    experiment: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
  },
  optionFlags: { experiments: 'experiment' },
  help: `Options:
  --run DIR           run directory
  --experiment NAME   prune only this experiment (repeatable; default: every experiment of the run)
  --dry-run           only print what would be removed and the bytes it would free

A fine-tuning's resume state (RUN/experiments/NAME/resume.safetensors: weights, optimizer
moments, RNG, candidates) is only needed to continue it. For each completed experiment
(summary.json written and the log not past it) it is removed and the prune recorded in
RUN/experiments/NAME/resume-pruned.json; an unfinished experiment (killed, interrupted, a
resume still running) keeps it. Checkpoints, log, summary and results stay, so evaluate,
report, serve and 'runs show' / 'runs frontier' work as before, and a grid re-run does not
retrain a pruned point. A pruned experiment cannot be continued with 'finetune --resume'.
Each experiment is pruned under its lock: one that finetune or evaluate is writing is left
alone and named (exit code 2) once the others are done.

Examples:
  calitune runs prune --run runs/ml-20m --dry-run
  calitune runs prune --run runs/ml-20m --experiment c0.5_frozen`,
  async run(v, _pos, ctx) {
    return prune({ run: requireStr(v, 'run'), experiments: experimentNames(v), dryRun: bool(v, 'dry-run') }, ctx);
  },
};
