/**
 * Whether a backbone's training converged: early stopping decided when to stop, or the epoch cap
 * did. A backbone that hit its cap while its validation NDCG was still rising is under-trained,
 * and fine-tuning on top of it "wins" partly by training it further — comparisons with CP on
 * such a backbone flatter CaliTune. The commands that compare (demo, runs frontier, report)
 * warn about it with this one rule.
 */

/** How a backbone's training ended. */
export type ConvergenceStatus = 'early_stopped' | 'cap_still_improving' | 'cap';

/** A backbone's training end: status, epochs run, best epoch (0-based, as in the training log). */
export interface BackboneConvergence {
  readonly status: ConvergenceStatus;
  readonly epochsRun: number;
  readonly bestEpoch: number;
}

/**
 * At the cap, training counts as still improving when its best epoch lies in the last tenth of
 * the epochs run (at least the last one): the validation curve had not flattened yet.
 */
export function stillImprovingAtCap(epochsRun: number, bestEpoch: number): boolean {
  return bestEpoch >= epochsRun - Math.max(1, Math.ceil(0.1 * epochsRun));
}

/**
 * The convergence of a training record (model.json's `training`: epochs_run, best_epoch,
 * stopped_early); null for baselines and records without those fields.
 */
export function backboneConvergence(
  training: Readonly<Record<string, unknown>> | undefined,
): BackboneConvergence | null {
  const epochsRun = training?.epochs_run,
    bestEpoch = training?.best_epoch,
    stoppedEarly = training?.stopped_early;
  if (typeof epochsRun !== 'number' || typeof bestEpoch !== 'number' || typeof stoppedEarly !== 'boolean') return null;
  if (epochsRun < 1 || bestEpoch < 0) return null;
  const status: ConvergenceStatus = stoppedEarly
    ? 'early_stopped'
    : stillImprovingAtCap(epochsRun, bestEpoch)
      ? 'cap_still_improving'
      : 'cap';
  return { status, epochsRun, bestEpoch };
}

/** One sentence for `train`: how training ended. */
export function convergenceSentence(c: BackboneConvergence): string {
  const best = `best epoch ${c.bestEpoch} of epochs 0–${c.epochsRun - 1}`;
  if (c.status === 'early_stopped') return `converged: early stopping ended training (${best})`;
  if (c.status === 'cap') return `hit the epoch cap after validation NDCG@10 had levelled off (${best})`;
  return `hit the epoch cap while validation NDCG@10 was still improving (${best}): the backbone is under-trained`;
}

/**
 * The warning for commands that compare CaliTune with CP on this backbone, with the commands that
 * train it longer and that tune it; null unless it hit its cap still improving.
 */
export function underTrainedWarning(c: BackboneConvergence | null, run: string, model: string): string | null {
  if (c?.status !== 'cap_still_improving') return null;
  // --force: a run under a comparison has a CP set and experiments derived from this backbone.
  const longer = `calitune train --run ${run} --model ${model} --epochs ${2 * c.epochsRun} --force`;
  // The example search spaces (examples/tune-MODEL.yaml) ship with the repository; ASHA keeps the search cheap.
  const tune =
    `calitune tune --run ${run} --model ${model} --space examples/tune-${model}.yaml --trials 24 ` +
    '--train-best --force';
  const best = `best epoch ${c.bestEpoch} of 0–${c.epochsRun - 1}`;
  return (
    `warning: the ${model} backbone of ${run} hit its epoch cap (${c.epochsRun}) while still improving ` +
    `(${best}); fine-tuning partly trains it further, which flatters CaliTune against CP. ` +
    `Train it longer: ${longer}; or tune it: ${tune}`
  );
}
