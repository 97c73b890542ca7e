/**
 * The pieces of a tuning study that are not the running of trials: the search space read from
 * its YAML file, each trial's training configuration, the scheduler and its rungs, the best
 * trial, and the best configuration written as a file `train --config` reads.
 *
 * Epochs and ASHA: ASHA's maximum is the study's epoch budget when given, else the largest
 * epoch cap a trial of the space can have (the space's `epochs` values, else the backbone's
 * default cap, 300 for BPR). A trial trains at most its own cap (the space's `epochs`, else the
 * default), cut to the budget; its own early stopping (patience) still applies, so a trial may
 * end before a rung it would have reached.
 */
import { join } from 'node:path';
import type { TrialRow } from '../experiments/registry-trials.js';
import { readYamlMapping } from '../train/configs/config-file.js';
import type { ModelType } from '../train/configs/index.js';
import {
  AshaScheduler,
  backboneEpochCap,
  DEFAULT_GRACE_EPOCHS,
  NoScheduler,
  type TrialScheduler,
} from '../tune/asha.js';
import { parseSearchSpace, type SearchSpace, type TrialConfig } from '../tune/search-space.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError, isInputError } from '../util/errors.js';
import { readRegularTextFile } from '../util/input-files.js';

/** The search space of `model` read from the YAML file `path`; a bad key names its file and line. */
export function readSearchSpace(path: string, model: ModelType): SearchSpace {
  const { raw, lines } = readYamlMapping(readRegularTextFile(path, 'the search space'), path);
  try {
    return parseSearchSpace(model, raw);
  } catch (e) {
    if (!isInputError(e) || e.field === 'model') throw e;
    const line = e.field === undefined ? undefined : lines.get(e.field);
    throw new InputError(e.message, { file: path, ...(line === undefined ? {} : { line }) });
  }
}

/** The largest epoch cap a trial of `space` can have (see the file comment). */
function largestEpochCap(space: SearchSpace): number {
  const d = space.dimensions.find((x) => x.key === 'epochs')?.dimension;
  if (d === undefined) return backboneEpochCap(space.model);
  if (d.kind === 'choice') return Math.max(...d.values.map((v) => (typeof v === 'number' ? v : 0)));
  return Math.floor(d.hi);
}

/** ASHA's maximum epochs for `space` under an optional budget (see the file comment). */
export function studyMaxEpochs(space: SearchSpace, budgetEpochs: number | undefined): number {
  return budgetEpochs ?? largestEpochCap(space);
}

/** The scheduler of a study and its rung epochs (none for the plain scheduler). */
export function studyScheduler(
  kind: 'asha' | 'none',
  maxEpochs: number,
): { scheduler: TrialScheduler; rungs: number[] } {
  if (kind === 'none') return { scheduler: new NoScheduler(), rungs: [] };
  if (!(maxEpochs > DEFAULT_GRACE_EPOCHS)) {
    throw new InputError(
      (n) =>
        `ASHA's epoch budget must be above its first rung, ${DEFAULT_GRACE_EPOCHS} epochs (got ${maxEpochs}): ` +
        `give a larger ${n.option('budgetEpochs')}, or ${n.option('scheduler')} none`,
      { field: 'budgetEpochs' },
    );
  }
  const asha = new AshaScheduler({ maxEpochs });
  return { scheduler: asha, rungs: [...asha.rungs] };
}

/**
 * The training configuration of a sampled trial: the study's seed (unless the space varies it),
 * the sampled keys, and with a budget the epoch cap cut to it.
 */
export function trialTrainingConfig(
  model: ModelType,
  sampled: TrialConfig,
  seed: number,
  budgetEpochs: number | undefined,
): Record<string, unknown> {
  const config: Record<string, unknown> = { seed, ...sampled };
  if (budgetEpochs !== undefined) {
    const cap = typeof sampled.epochs === 'number' ? sampled.epochs : backboneEpochCap(model);
    config.epochs = Math.min(cap, budgetEpochs);
  }
  return config;
}

/** The best trial: the highest best valid NDCG@10 of the stopped and completed ones (ties: the earlier trial). */
export function bestTrial(rows: readonly TrialRow[]): TrialRow | undefined {
  let best: TrialRow | undefined;
  for (const r of rows) {
    if (r.status !== 'completed' && r.status !== 'stopped') continue;
    if (r.best_valid_ndcg === null) continue;
    if (best === undefined || r.best_valid_ndcg > best.best_valid_ndcg!) best = r;
  }
  return best;
}

/** Where a study's files go: RUN/tune/STUDY (its best configuration: best.yaml). */
export function studyPaths(run: string, study: string): { dir: string; bestConfig: string } {
  const dir = join(run, 'tune', study);
  return { dir, bestConfig: join(dir, 'best.yaml') };
}

/** Writes the best trial's configuration (with `model`) as YAML that `train --config` reads; atomic. */
export function writeBestConfig(path: string, model: ModelType, trial: TrialRow): void {
  const header =
    `# best trial ${trial.id} of tuning study ${trial.study}: ` +
    `best valid NDCG@10 ${trial.best_valid_ndcg} at epoch ${trial.best_epoch}\n`;
  // JSON values are YAML flow values: numbers keep every digit, layer sizes stay on one line
  const lines = Object.entries({ model, ...trial.config }).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  writeFileAtomic(path, `${header}${lines.join('\n')}\n`);
}
