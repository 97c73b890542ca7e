import { KEEP_POLICIES } from '../../calibration/checkpoints.js';
import { SELECTION_MODE_LABELS, SELECTION_MODES } from '../../selection/modes.js';
import { finetune, type FinetuneResult } from '../../pipeline/finetune.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { UserError } from '../../util/errors.js';
import { bool, choice, requireStr, str } from '../args.js';
import type { Command, ParsedValues } from '../command.js';

function sets(v: ParsedValues): string[] {
  const x = v.set;
  if (x === undefined) return [];
  const arr = Array.isArray(x) ? x : [x];
  return arr.map((s) => {
    if (typeof s !== 'string') throw new UserError('--set needs key=value');
    return s;
  });
}

/** Prints a fine-tuning result as text: why it stopped, the metrics before and after, the selected epochs. */
export function printFinetune(r: FinetuneResult, out: Reporter): void {
  const k = r.config.top_k_ndcg;
  const f4 = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(5));
  out.info(`stopped: ${r.stopReason} after epoch ${r.epochsRun} (${r.seconds.toFixed(1)} s this session)`);
  if (r.rollbacks > 0) {
    const floor = `below ${r.config.accuracy_floor} × epoch 0's valid NDCG@${k}`;
    out.info(`collapse guard: ${r.rollbacks} epoch(s) fell ${floor}, were rolled back and are never selected`);
  }
  out.info(`before fine-tuning: valid NDCG@${k} ${f4(r.initial.validNdcg)}, test-list JSD@${k} ${f4(r.initial.jsd)}`);
  out.info(
    `last epoch:         valid NDCG@${k} ${f4(r.final.validNdcg)}, test-list JSD@${k} ${f4(r.final.jsd)}, ` +
      `trade-off ${f4(r.final.tradeoff)}`,
  );
  out.info(`(test-list JSD: JSD@${k} of the test-time lists against the user targets — no test labels)`);
  out.info('selected on validation:');
  for (const mode of SELECTION_MODES) {
    const s = r.selected[mode];
    const text = s
      ? `epoch ${String(s.epoch).padStart(4)}  valid NDCG ${f4(s.validNdcg)}  test-list JSD ${f4(s.jsd)}  ` +
        `trade-off ${f4(s.tradeoff)}${s.checkpoint ? '' : '  (no checkpoint)'}`
      : '—';
    out.info(`  ${SELECTION_MODE_LABELS[mode].padEnd(22)} ${text}`);
  }
  out.info(
    `checkpoints: ${r.checkpointEpochs.length} epochs with lists and metrics, ` +
      `weights kept for ${r.weights_kept.length} (--keep ${r.keep})`,
  );
  out.info(`wrote ${r.dir}`);
}

/** `calitune finetune`: CaliTune fine-tuning of a run's backbone. */
export const finetuneCommand: Command = {
  name: 'finetune',
  summary: "CaliTune fine-tuning of the run's backbone (checkpoints, epoch log, validation-selected epochs)",
  usage:
    'finetune --run RUN --config FILE.yaml --name NAME ' +
    '[--set key=value …] ' +
    '[--keep all|frontier|last] [--resume]',
  options: {
    run: { type: 'string' },
    config: { type: 'string' },
    name: { type: 'string' },
    set: { type: 'string', multiple: true },
    keep: { type: 'string' },
    resume: { type: 'boolean' },
    'popularity-source': { type: 'string' },
  },
  optionFlags: { experiment: 'name', configFile: 'config', overrides: 'set' },
  help: `Options:
  --run DIR              run directory with a backbone ('calitune train' / 'import') and
                         popularity groups / user targets ('calitune prepare')
  --config FILE.yaml     fine-tuning configuration: the reference's keys (random_seed, num_epochs,
                         train_batch_size, learning_rate, freeze_item_emb, combined_mode_alpha,
                         k_candidates, target_metric, …); see examples/ml-100k-finetune.yaml.
                         Ours on top: candidates_per_group (default 0) adds the n best items of
                         every popularity group outside the top k_candidates to the candidates;
                         user_adapter (default false; DMF) trains a per-user offset on the user
                         representation instead of the shared user tower.
                         With --resume it may be left out (the saved configuration is used).
  --name NAME            experiment name: output goes to RUN/experiments/NAME/
  --set key=value        override a config key (repeatable), e.g. --set combined_mode_alpha=1.0
  --keep POLICY          which checkpoint weights to keep: all, frontier (default: the
                         validation Pareto front of NDCG/JSD plus the newest), last. Lists and
                         metrics of every improvement epoch are always kept.
  --resume               continue an interrupted run from its last finished epoch
  --popularity-source S  check that 'prepare' used this popularity source (train|all)

Writes RUN/experiments/NAME/: experiment.json, config.json, log.jsonl (one line per epoch:
lr, loss terms, valid NDCG@k, test_list_jsd = JSD@k of the test-time lists (no test labels),
trade-off, seconds per phase),
checkpoints/epoch_N/{weights.safetensors,valid_lists.npy,test_lists.npy,metrics.json},
checkpoints/checkpoints.json, resume.safetensors and summary.json (the epoch selected on
validation for each selection mode). Epochs are selected without test labels.

Example:
  calitune prepare --run runs/oracle --popularity-source all
  calitune finetune --run runs/oracle --config examples/ml-100k-finetune.yaml --name c0.5_frozen`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const experiment = requireStr(v, 'name');
    const r = await finetune(
      {
        run,
        experiment,
        resume: bool(v, 'resume'),
        keep: choice(v, 'keep', KEEP_POLICIES),
        popularitySource: choice(v, 'popularity-source', ['train', 'all'] as const),
        overrides: sets(v),
        configFile: str(v, 'config'),
      },
      ctx,
    );
    printFinetune(r, ctx);
    return r;
  },
};
