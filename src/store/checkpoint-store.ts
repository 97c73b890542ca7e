/**
 * CheckpointStore: the file-backed ImprovementSink of the fine-tuner. At each improvement it
 * writes the epoch's folder and the index (src/store/checkpoint-files.ts), then drops the
 * weights that the keep policy (src/calibration/checkpoints.ts) no longer keeps. Lists and
 * metrics are always kept, so every improvement epoch can be evaluated later.
 *
 * Its writes and removals go to the process's background writer (src/store/background-writes.ts)
 * in the order the synchronous store made them, behind and before the fine-tuner's log and
 * resume-state writes: the disk always holds a prefix of that sequence, which resuming handles
 * as before (it rolls the checkpoints back to the resume state's epoch). {@link CheckpointStore.settle}
 * waits for them (the fine-tuner settles at its end); reading the index settles first.
 */
import { existsSync } from 'node:fs';
import {
  checkKeepPolicy,
  keptWeights,
  type CheckpointRecord,
  type EpochLists,
  type EpochMetrics,
  type ImprovementSink,
  type KeepPolicy,
  type NamedTensor,
} from '../calibration/checkpoints.js';
import { join } from 'node:path';
import {
  checkpointFolderWrites,
  checkpointIndexWrite,
  checkpointWeightsPath,
  readCheckpointIndex,
} from './checkpoint-files.js';
import { backgroundWrites, type BackgroundWrite } from './background-writes.js';

/**
 * The fine-tuner's checkpoint writer: an epoch folder and the index at each improvement, weights pruned by
 * the keep policy.
 */
export class CheckpointStore implements ImprovementSink {
  private recs: CheckpointRecord[] = [];

  constructor(
    readonly dir: string,
    readonly keep: KeepPolicy = 'frontier',
  ) {
    checkKeepPolicy(keep);
    backgroundWrites.settle();
    const index = readCheckpointIndex(dir);
    if (index)
      this.recs = index.checkpoints.map((r) => ({
        ...r,
        weights: r.weights && existsSync(checkpointWeightsPath(dir, r.dir)),
      }));
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
    return r && r.weights ? checkpointWeightsPath(this.dir, r.dir) : undefined;
  }

  onImprovement(epoch: number, tensors: readonly NamedTensor[], metrics: EpochMetrics, lists: EpochLists): void {
    const { rel, writes } = checkpointFolderWrites(this.dir, epoch, tensors, metrics, lists);
    for (const w of writes) this.write(w);
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
    for (const r of drop) this.write({ kind: 'remove', path: join(this.dir, r.dir) });
  }

  /** Deletes weights not kept by the policy (metrics and lists stay); the index first. */
  private prune(): void {
    if (this.keep === 'all' || this.recs.length === 0) return;
    const kept = keptWeights(this.recs, this.keep);
    const dropped = this.recs.filter((r, i) => r.weights && !kept[i]);
    if (dropped.length === 0) return;
    for (const r of dropped) r.weights = false;
    this.writeIndex();
    for (const r of dropped) this.write({ kind: 'remove', path: checkpointWeightsPath(this.dir, r.dir) });
  }

  /** Waits until every write of the store (and any other background write) has landed; throws the first failure. */
  settle(): void {
    backgroundWrites.settle();
  }

  private writeIndex(): void {
    this.write(checkpointIndexWrite(this.dir, this.keep, this.recs));
  }

  private write(w: BackgroundWrite): void {
    backgroundWrites.submit(w);
  }
}
