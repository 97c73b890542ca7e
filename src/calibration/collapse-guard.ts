/**
 * The collapse guard (docs/numeric-contract.md §10; the reference has none): an epoch whose
 * valid NDCG@k falls below `accuracy_floor` × epoch 0's has collapsed. With `collapse_guard`
 * on, the fine-tuner keeps the state before each epoch in memory; after a collapsed epoch it
 * restores that state (weights, optimizer, schedule, RNG, candidates, selection progress),
 * halves the learning rate and goes on with the next epoch number. The collapsed epoch stays in
 * the log marked `rolled_back` and is never selected. After `collapse_max_rollbacks` rollbacks
 * the next collapse ends the run with the stop reason `collapse`.
 */
import type { SafeTensorsFile } from '../models/safetensors.js';
import { restoreSnapshot, resumeSnapshot } from './finetune-resume.js';
import type { FinetuneState } from './finetune-state.js';
import { applyPatienceAndLimit } from './finetune-selection.js';

/** The state before an epoch, copied so that it survives the epoch's training. */
export function captureRollbackPoint(state: FinetuneState): SafeTensorsFile {
  return resumeSnapshot(state, true);
}

/**
 * After collapsed epoch `epoch`: restores the state before it, keeps the epoch count, halves the
 * learning rate, and stops the run (`collapse`) once the rollbacks exceed the allowed number;
 * otherwise the usual epoch-count and patience rules decide whether it goes on.
 */
export function rollBack(state: FinetuneState, point: SafeTensorsFile, epoch: number): void {
  const rollbacks = state.progress.rollbacks + 1;
  restoreSnapshot(point, state, 'the rollback point');
  const st = state.progress;
  st.epoch = epoch;
  st.rollbacks = rollbacks;
  state.schedule.scaleBy(0.5);
  if (rollbacks > state.config.collapse_max_rollbacks) st.stopReason = 'collapse';
  else applyPatienceAndLimit(state, epoch);
}
