/**
 * Fine-tuning checkpoints (issue 3 item 4). At each improvement the fine-tuner hands over a
 * copy of the trainable tensors, the epoch's validation metrics and its valid-/test-time top-k
 * lists. Layout under `dir`:
 *   epoch_N/weights.safetensors   trainable tensors only (names as the model's parameters)
 *   epoch_N/valid_lists.npy       int32 nUsers × k (row 0 = padding user)
 *   epoch_N/test_lists.npy        int32 nUsers × k
 *   epoch_N/metrics.json
 *   checkpoints.json              index: every saved epoch with metrics and whether weights remain
 * All writes are atomic. `keep` decides whose weights stay: all; last (only the newest);
 * frontier (default: the validation Pareto front of NDCG high / JSD low, plus the newest).
 * Lists and metrics are always kept, so every improvement epoch can be evaluated later.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors, type SafeTensor } from '../models/safetensors.js';
import { writeNpy } from '../data/npy.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError, UserError } from '../util/errors.js';

export type KeepPolicy = 'all' | 'frontier' | 'last';
export const KEEP_POLICIES: readonly KeepPolicy[] = ['all', 'frontier', 'last'];

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface EpochMetrics {
  epoch: number;
  validNdcg: number;
  jsd: number;
  tradeoff: number;
}

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
}

export interface CheckpointRecord extends EpochMetrics {
  /** Folder relative to the store's dir. */
  dir: string;
  /** Whether the weights file is still there (keep policy). */
  weights: boolean;
}

/** Pareto front of (NDCG high, JSD low): true where no other point is at least as good in both and better in one. */
export function paretoFront(points: readonly { validNdcg: number; jsd: number }[]): boolean[] {
  return points.map((p, i) => !points.some((q, j) => j !== i && q.validNdcg >= p.validNdcg && q.jsd <= p.jsd &&
    (q.validNdcg > p.validNdcg || q.jsd < p.jsd)));
}

export class CheckpointStore implements ImprovementSink {
  private recs: CheckpointRecord[] = [];

  constructor(readonly dir: string, readonly keep: KeepPolicy = 'frontier') {
    if (!KEEP_POLICIES.includes(keep)) {
      throw new InputError((n) => `${n.option('keep')} must be one of ${KEEP_POLICIES.join(', ')} (got '${keep}')`, { field: 'keep' });
    }
    const idx = join(dir, 'checkpoints.json');
    if (existsSync(idx)) {
      let parsed: { checkpoints?: CheckpointRecord[] };
      try {
        parsed = JSON.parse(readFileSync(idx, 'utf8')) as { checkpoints?: CheckpointRecord[] };
      } catch (e) {
        throw new UserError(`corrupt checkpoint index: ${(e as Error).message}`, idx);
      }
      this.recs = (parsed.checkpoints ?? []).map((r) => ({ ...r, weights: r.weights && existsSync(join(dir, r.dir, 'weights.safetensors')) }));
    }
  }

  records(): CheckpointRecord[] {
    return this.recs.map((r) => ({ ...r }));
  }

  epochs(): number[] {
    return this.recs.map((r) => r.epoch);
  }

  /** Path of an epoch's weights file, if still kept. */
  weightsPath(epoch: number): string | undefined {
    const r = this.recs.find((x) => x.epoch === epoch);
    return r && r.weights ? join(this.dir, r.dir, 'weights.safetensors') : undefined;
  }

  onImprovement(epoch: number, tensors: readonly NamedTensor[], metrics: EpochMetrics, lists: EpochLists): void {
    const rel = `epoch_${epoch}`;
    const d = join(this.dir, rel);
    const map = new Map<string, SafeTensor>();
    for (const t of tensors) map.set(t.name, { dtype: 'F32', shape: [...t.shape], data: t.data });
    writeSafetensors(join(d, 'weights.safetensors'), map, { epoch: String(epoch), format: 'calitune-checkpoint' });
    if (lists.valid) writeNpy(join(d, 'valid_lists.npy'), '<i4', [lists.valid.length / lists.k, lists.k], lists.valid);
    if (lists.test) writeNpy(join(d, 'test_lists.npy'), '<i4', [lists.test.length / lists.k, lists.k], lists.test);
    writeJsonAtomic(join(d, 'metrics.json'), { ...metrics, tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })) });
    this.recs = this.recs.filter((r) => r.epoch !== epoch);
    this.recs.push({ ...metrics, epoch, dir: rel, weights: true });
    this.recs.sort((a, b) => a.epoch - b.epoch);
    this.writeIndex();
    this.prune();
  }

  rollbackTo(epoch: number): void {
    const drop = this.recs.filter((r) => r.epoch > epoch);
    if (drop.length === 0) return;
    this.recs = this.recs.filter((r) => r.epoch <= epoch);
    this.writeIndex();
    for (const r of drop) rmSync(join(this.dir, r.dir), { recursive: true, force: true });
  }

  /** Deletes weights not kept by the policy (metrics and lists stay). */
  private prune(): void {
    if (this.keep === 'all' || this.recs.length === 0) return;
    const front = this.keep === 'frontier' ? paretoFront(this.recs) : this.recs.map(() => false);
    const last = this.recs.length - 1;
    let changed = false;
    const toDelete: string[] = [];
    this.recs.forEach((r, i) => {
      if (r.weights && !(front[i] || i === last)) {
        r.weights = false;
        changed = true;
        toDelete.push(join(this.dir, r.dir, 'weights.safetensors'));
      }
    });
    if (!changed) return;
    this.writeIndex();
    for (const f of toDelete) rmSync(f, { force: true });
  }

  private writeIndex(): void {
    writeJsonAtomic(join(this.dir, 'checkpoints.json'), { keep: this.keep, checkpoints: this.recs });
  }
}
