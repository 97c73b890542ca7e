/**
 * What the grid's and the tuner's queue trackers share: reading a job as of one moment, and running
 * those reads one at a time (so each transition a job goes through is recorded once), with a poll
 * that is skipped while the previous poll's reads are still pending.
 */
import { Job, type Queue } from 'bullmq';

/**
 * The job and its state as of one moment. State and job are two Redis reads: a job read before
 * it finished would lack its end time and return value, and a state read just before a retry
 * began would miss the attempt the job already counts (then counted twice). So the state is
 * read before and after the job, and the three reads are repeated until both states agree
 * (at most five times; then the last state is taken).
 */
export async function jobSnapshot<T>(queue: Queue, jobId: string): Promise<{ state: string; job: Job<T> | undefined }> {
  for (let tries = 0; ; tries++) {
    const state = await queue.getJobState(jobId);
    const job = await Job.fromId<T>(queue, jobId);
    const after = await queue.getJobState(jobId);
    if (state === after || tries >= 4) return { state: after, job };
  }
}

/** Reads run one after another; a failed read goes to `onError` and the next one runs. */
export class SerialReads {
  private chain: Promise<void> = Promise.resolve();
  private polling = false;

  constructor(private readonly onError: (e: unknown) => void) {}

  /** Queues one read after those queued before. */
  add(read: () => Promise<void>): void {
    this.chain = this.chain.then(read).catch(this.onError);
  }

  /** Queues `reads`, then `after` (its failure ignored); skipped while the previous poll is pending. */
  poll(reads: Iterable<() => Promise<void>>, after: () => Promise<void> = async () => {}): void {
    if (this.polling) return;
    this.polling = true;
    for (const read of reads) this.add(read);
    this.chain = this.chain
      .then(after)
      .catch(() => {})
      .then(() => {
        this.polling = false;
      });
  }

  /** Resolves once the reads queued so far are done. */
  idle(): Promise<void> {
    return this.chain;
  }
}
