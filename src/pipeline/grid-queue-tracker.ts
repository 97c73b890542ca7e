/**
 * The coordinator's view of the points it put on the queue. Every queue event about one of its
 * jobs, and a poll every second (for what happened while nobody listened, e.g. before a
 * restart), reads that job's state from Redis; the transitions are recorded in the registry:
 * started (one `running` per attempt), back in the queue (stalled or retried), done with its
 * results, failed with its error. Reads run one at a time, so each transition is recorded once.
 */
import type { Job, Queue } from 'bullmq';
import { jobSnapshot, SerialReads } from './queue-reads.js';
import type { PointJobData } from '../experiments/queue-jobs.js';
import { emptySlot, recordPointEnd, type PointRecorder, type Todo } from './grid-lanes.js';
import type { Slot } from './grid-progress.js';

/** What the coordinator knows of one of its points. */
interface Tracked {
  item: Todo;
  jobId: string;
  /** The job's attempts started when last seen. */
  attemptsSeen: number;
  slot: Slot | null;
  settled: boolean;
}

/** What the tracker works with: the recorder, the queue and the progress slots of running points. */
export interface TrackerContext extends PointRecorder {
  queue: Queue<PointJobData>;
  /** Progress slots of the running points (one each, added and removed here). */
  slots: Slot[];
  /** Adds a job again when it has vanished from the queue (removed by hand). */
  enqueue(item: Todo): Promise<void>;
}

/** Follows the coordinator's jobs until each has completed or finally failed. */
export class QueueTracker {
  private readonly byId = new Map<string, Tracked>();
  /* Redis hiccup: the next poll reads again */
  private readonly reads = new SerialReads(() => {});
  private left: number;
  /** The workers that finished points (their return value names them). */
  readonly workersSeen = new Set<string>();
  private resolveAll: () => void = () => {};
  /** Resolves when every tracked point is settled (done or failed). */
  readonly allSettled: Promise<void>;

  constructor(
    private readonly c: TrackerContext,
    points: readonly { item: Todo; jobId: string }[],
  ) {
    for (const p of points) this.byId.set(p.jobId, { ...p, attemptsSeen: 0, slot: null, settled: false });
    this.left = points.length;
    this.allSettled = new Promise((res) => {
      this.resolveAll = res;
      if (this.left === 0) res();
    });
  }

  /**
   * Attempts a job had started before this coordinator enqueued it (a restart found it in the
   * queue): already recorded, they are not counted again.
   */
  startedBefore(jobId: string, attempts: number): void {
    const t = this.byId.get(jobId);
    if (t) t.attemptsSeen = attempts;
  }

  /** Reads one job's state (after a queue event about it); ignores jobs of other runs. */
  poke(jobId: string): void {
    const t = this.byId.get(jobId);
    if (t && !t.settled) this.reads.add(() => this.read(t));
  }

  /** Reads the state of every unsettled job (skipped while the previous poll's reads are pending). */
  pollAll(): void {
    this.reads.poll(this.unsettledReads());
  }

  /** Resolves once the reads queued so far are done. */
  idle(): Promise<void> {
    return this.reads.idle();
  }

  private *unsettledReads(): Iterable<() => Promise<void>> {
    for (const t of this.byId.values()) if (!t.settled) yield () => this.read(t);
  }

  private async read(t: Tracked): Promise<void> {
    if (t.settled) return;
    const { state, job } = await jobSnapshot<PointJobData>(this.c.queue, t.jobId);
    if (!job || state === 'unknown') {
      this.leave(t, 'removed from the queue: added again');
      await this.c.enqueue(t.item);
      return;
    }
    // Attempts begun since the last read; one that began and ended in between is counted too.
    const fresh = job.attemptsStarted - t.attemptsSeen;
    t.attemptsSeen = Math.max(t.attemptsSeen, job.attemptsStarted);
    const ended = state === 'active' ? fresh - 1 : fresh;
    for (let k = 0; k < ended; k++) this.c.registry.markRunning(t.item.point.name);
    if (state === 'completed' || state === 'failed') {
      const secs = job.processedOn && job.finishedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
      const failure = state === 'failed' ? job.failedReason || 'failed' : undefined;
      const worker = workerOf(job.returnvalue);
      if (worker !== undefined) this.workersSeen.add(worker);
      const label = worker ?? 'queue';
      this.settle(t, label, secs, failure);
      return;
    }
    // Active without a slot and no new attempt: running since before a restart (recorded as running again).
    if (state === 'active' && (fresh > 0 || !t.slot)) this.start(t, job);
    else if (state !== 'active' && t.slot)
      this.leave(t, job.failedReason ? `retry after: ${job.failedReason}` : 'stalled: back in the queue');
    if (t.slot) {
      const phase = phaseOf(job.progress);
      if (phase) t.slot.phase = phase;
    }
  }

  private start(t: Tracked, job: Job<PointJobData>): void {
    const { point } = t.item;
    if (t.slot) this.c.slots.splice(this.c.slots.indexOf(t.slot), 1);
    const slot: Slot = { ...emptySlot(), name: point.name, started: job.processedOn ?? Date.now(), label: 'queue' };
    Object.assign(slot, { phase: 'finetune', maxEpochs: point.config.num_epochs, lastPlain: Date.now() });
    t.slot = slot;
    this.c.slots.push(slot);
    this.c.registry.markRunning(point.name);
    const resumed = t.item.resumed || job.attemptsStarted > 1;
    this.c.progress.event(`[queue] ${resumed ? 'resume' : 'start '} ${point.name} (attempt ${job.attemptsStarted})`);
  }

  private leave(t: Tracked, why: string): void {
    if (!t.slot) return;
    this.c.slots.splice(this.c.slots.indexOf(t.slot), 1);
    t.slot = null;
    this.c.progress.event(`[queue] ${t.item.point.name}: ${why}`);
  }

  private settle(t: Tracked, label: string, secs: number, failure: string | undefined): void {
    if (t.slot) this.c.slots.splice(this.c.slots.indexOf(t.slot), 1);
    t.slot = null;
    t.settled = true;
    recordPointEnd(this.c, label, t.item, secs, failure);
    if (--this.left === 0) this.resolveAll();
  }
}

/** The worker a job's return value names, if any. */
function workerOf(returnvalue: unknown): string | undefined {
  const w = (returnvalue as { worker?: unknown } | null)?.worker;
  return typeof w === 'string' ? w : undefined;
}

/** The phase a job's progress reports, if any. */
function phaseOf(progress: unknown): string | undefined {
  const p = (progress as { phase?: unknown } | null)?.phase;
  return typeof p === 'string' ? p : undefined;
}
