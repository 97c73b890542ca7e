/**
 * Fine-tuning checkpoints: what the fine-tuner hands over at each improvement (a copy of the
 * trainable tensors, the epoch's validation metrics and its valid-/test-time top-k lists) and
 * which weights the keep policy keeps: all; last (only the newest); frontier (default: the
 * validation Pareto front of NDCG high / JSD low, plus the newest). The files are written by
 * the run store (src/store/checkpoint-store.ts, layout in src/store/checkpoint-files.ts).
 */
import { UserError } from '../util/errors.js';
import { onParetoFront } from '../selection/pareto.js';

/** Which checkpoint weights are kept: every one, the validation Pareto front plus the newest, or the newest. */
export type KeepPolicy = 'all' | 'frontier' | 'last';
/** Every {@link KeepPolicy}, in the order help texts list them. */
export const KEEP_POLICIES: readonly KeepPolicy[] = ['all', 'frontier', 'last'];

/** A copy of one trainable tensor, as checkpoints store it. */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** An epoch's validation metrics: valid NDCG@k, JSD@k of the test-time lists and the trade-off score. */
export interface EpochMetrics {
  epoch: number;
  validNdcg: number;
  jsd: number;
  tradeoff: number;
}

/** An epoch's top-k lists, stored beside its weights. */
export interface EpochLists {
  /** nUsers × k valid-time lists (train masked), or undefined when the validator gives none. */
  valid?: Int32Array;
  /** nUsers × k test-time lists (train and valid masked). */
  test?: Int32Array;
  k: number;
}

/** What the fine-tuner calls; CheckpointStore is the file-backed implementation. */
export interface ImprovementSink {
  onImprovement(epoch: number, tensors: readonly NamedTensor[], metrics: EpochMetrics, lists: EpochLists): void;
  /** Resume: forget records after `epoch` (those epochs are run again). */
  rollbackTo?(epoch: number): void;
  /** Epochs with a stored checkpoint (weights or not), ascending. */
  epochs?(): number[];
  /**
   * Waits until every write handed over so far has landed (a sink that writes in the
   * background); throws the first failure.
   */
  settle?(): void;
}

/** An entry of the checkpoint index: the epoch's metrics, its folder and whether its weights are kept. */
export interface CheckpointRecord extends EpochMetrics {
  /** Folder relative to the store's dir. */
  dir: string;
  /** Whether the weights file is still there (keep policy). */
  weights: boolean;
}

/** UserError unless `keep` is a keep policy. */
export function checkKeepPolicy(keep: string): asserts keep is KeepPolicy {
  if (!(KEEP_POLICIES as readonly string[]).includes(keep))
    throw new UserError(`the keep policy must be one of ${KEEP_POLICIES.join(', ')} (got '${keep}')`);
}

/** Per record: whether the policy keeps its weights (the newest always; `all` every one). */
export function keptWeights(records: readonly EpochMetrics[], keep: KeepPolicy): boolean[] {
  if (keep === 'all') return records.map(() => true);
  const front =
    keep === 'frontier'
      ? onParetoFront(records.map((r) => ({ ndcg: r.validNdcg, jsd: r.jsd })))
      : records.map(() => false);
  const last = records.length - 1;
  return records.map((_, i) => front[i]! || i === last);
}
