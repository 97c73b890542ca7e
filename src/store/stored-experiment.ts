/**
 * What a fine-tuning experiment has stored for evaluation: per epoch its lists
 * (checkpoints/epoch_N/{valid,test}_lists.npy) and the fine-tuner's validation metrics (from
 * the checkpoint index, overridden by the epoch log when it has the epoch), plus its summary.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import type { EvalSplit, SelectionMetrics } from '../eval/results-format.js';
import {
  checkpointFolderEpochs,
  checkpointFolderName,
  checkpointListsPath,
  readCheckpointIndex,
} from './checkpoint-files.js';
import { readEpochLog } from './epoch-log.js';
import { experimentPaths, experimentsDir, experimentsDirEntries, readExperimentConfig } from './experiment-files.js';
import { DEFAULT_ACCURACY_FLOOR } from '../selection/epochs.js';
import { readExperimentSummary } from './experiment-json.js';

/** A stored epoch: its list files per split and, when recorded, the fine-tuner's validation metrics. */
export interface StoredEpoch {
  epoch: number;
  lists: Partial<Record<EvalSplit, string>>;
  /** The fine-tuner's validation metrics, when recorded. */
  recorded?: SelectionMetrics;
}

/** What an experiment has stored for evaluation: its epochs, summary and epoch log. */
export interface StoredExperiment {
  dir: string;
  /** 'checkpoints' when some epoch has stored lists. */
  layout: 'checkpoints' | 'none';
  epochs: StoredEpoch[];
  summary?: Record<string, unknown>;
  logFile?: string;
  /**
   * The configuration's `accuracy_floor` (the default for experiments stored before the key
   * existed): selection never takes an epoch below this fraction of the backbone's valid NDCG@k.
   */
  accuracyFloor: number;
}

/** `accuracy_floor` of a stored configuration, or the default when it has none. */
function storedAccuracyFloor(config: unknown): number {
  const f = (config as { accuracy_floor?: unknown } | undefined)?.accuracy_floor;
  return typeof f === 'number' && f >= 0 && f <= 1 ? f : DEFAULT_ACCURACY_FLOOR;
}

const finite = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** Validation metrics from a record with these keys, when all three are finite (tradeoff may be null). */
function recordedMetrics(
  epoch: unknown,
  validNdcg: unknown,
  jsd: unknown,
  tradeoff: unknown,
): { epoch: number; m: SelectionMetrics } | undefined {
  const e = finite(epoch),
    v = finite(validNdcg),
    j = finite(jsd);
  return e !== undefined && v !== undefined && j !== undefined
    ? { epoch: e, m: { valid_ndcg: v, jsd: j, tradeoff: finite(tradeoff) ?? null } }
    : undefined;
}

/** The stored epochs of experiment `name` (a UserError for a bad name, an InputError for a missing experiment). */
export function findExperiment(run: string, name: string): StoredExperiment {
  const p = experimentPaths(run, name);
  if (!existsSync(p.dir)) {
    const avail = experimentsDirEntries(run);
    const found = avail.length ? ` (found: ${avail.join(', ')})` : '';
    const dir = experimentsDir(run);
    throw new InputError(
      (n) => `no experiment '${name}' in ${dir}${found}; run '${n.step('finetune', { run, experiment: name })}' first`,
      { field: 'experiment' },
    );
  }
  const byEpoch = new Map<number, StoredEpoch>();
  let layout: StoredExperiment['layout'] = 'none';
  for (const e of checkpointFolderEpochs(p.checkpoints)) {
    const s: StoredEpoch = { epoch: e, lists: {} };
    for (const split of ['valid', 'test'] as const) {
      const lp = checkpointListsPath(p.checkpoints, checkpointFolderName(e), split);
      if (existsSync(lp)) {
        s.lists[split] = lp;
        layout = 'checkpoints';
      }
    }
    if (s.lists.valid || s.lists.test) byEpoch.set(e, s);
  }
  const record = (r: { epoch: number; m: SelectionMetrics } | undefined) => {
    const s = r && byEpoch.get(r.epoch);
    if (s) s.recorded = r.m;
  };
  for (const r of readCheckpointIndex(p.checkpoints)?.checkpoints ?? [])
    record(recordedMetrics(r.epoch, r.validNdcg, r.jsd, r.tradeoff));
  for (const r of readEpochLog(p.log)) record(recordedMetrics(r.epoch, r.valid_ndcg, r.jsd, r.tradeoff));
  const summary = readExperimentSummary(p.summary);
  const epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  const accuracyFloor = storedAccuracyFloor(readExperimentConfig(run, name));
  return { dir: p.dir, layout, epochs, summary, accuracyFloor, ...(existsSync(p.log) ? { logFile: p.log } : {}) };
}
