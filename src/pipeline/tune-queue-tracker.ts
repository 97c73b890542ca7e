/**
 * The tune coordinator's view of its trial jobs (tune-queue.ts puts them on the queue). Every
 * queue event about one of them, and a poll every second, reads that job from Redis — one read
 * at a time, so each change is handled once — and acts as the local runner (tune-trials.ts)
 * acts on a trial's lines: a new attempt marks the trial running, a rung it reached goes to the
 * ordered decisions (src/tune/ordered-decisions.ts), the decisions that become known are written
 * to Redis for the workers, and a job that completed or finally failed is recorded in the
 * registry and ends the trial for the decisions.
 *
 * - A restarted trial (worker gone, retried) reports its rungs again: they were given to the
 *   decisions once (a trial's outcome depends only on its configuration and seed) and it reads
 *   the decisions already made.
 * - No deadlock: the jobs have priorities in trial order, so a free slot takes the lowest
 *   trial waiting. When the lowest unfinished trial waits in the queue (restarted) while every
 *   slot holds a later trial waiting at a rung for it, the latest of those is asked to yield:
 *   its worker stops it and puts its job back, and the earlier trial takes the slot.
 */
import type { Job, Queue, RedisClient } from 'bullmq';
import {
  markTrialEnded,
  markTrialFailed,
  markTrialRunning,
  trialById,
  type TrialRow,
  type TrialRung,
} from '../experiments/registry-trials.js';
import type { Registry } from '../experiments/registry.js';
import type { tuneSessionKeys } from '../experiments/tune-jobs.js';
import type { Decision } from '../tune/asha.js';
import type { OrderedDecisions, RungDecision } from '../tune/ordered-decisions.js';
import type { Reporter } from './reporter.js';
import type { TrialJobProgress, TrialJobResult } from './tune-queue-worker.js';
import { bestOfCurve } from './tune-trials.js';
import { jobSnapshot, SerialReads } from './queue-reads.js';

/** How long the lowest unfinished trial waits in the queue before a held trial yields its slot, in milliseconds. */
const YIELD_AFTER_MS = 3000;
/** How long the decisions stay in Redis, in seconds. */
const DECISION_TTL_S = 86_400;

/** What the tracker works with. */
export interface TrialTrackerContext {
  registry: Registry;
  decisions: OrderedDecisions;
  /** Rung epochs. */
  rungs: readonly number[];
  queue: Queue;
  redis: RedisClient;
  keys: ReturnType<typeof tuneSessionKeys>;
  reporter: Reporter;
  /** Called when a trial ended and was recorded. */
  onTrialEnd: (row: TrialRow) => void;
  /** Adds a trial's job again when it has vanished from the queue (removed by hand). */
  enqueue: (row: TrialRow) => Promise<void>;
}

/** What the coordinator knows of one trial. */
interface Tracked {
  row: TrialRow;
  jobId: string;
  /** The job's state when last read, and since when (ms). */
  state: string;
  since: number;
  /** The token of the attempt last seen, with its curve and rungs. */
  attempt?: string;
  curve: Array<number | null>;
  rungs: TrialRung[];
  /** Rungs given to the decisions (over all attempts). */
  reported: number;
  /** The attempt asked to yield, if any. */
  yielded?: string;
  settled: boolean;
}

/** Follows the coordinator's trial jobs until each has ended (see the file comment). */
export class TrialTracker {
  private readonly byId = new Map<string, Tracked>();
  private readonly decided = new Map<number, Map<number, Decision>>();
  // a Redis hiccup: the next poll reads again; anything else (the registry) is reported
  private readonly reads = new SerialReads((e: unknown) => {
    if (!/redis|connect|ECONN|closed/i.test(String((e as Error)?.message))) this.c.reporter.warn(`tune: ${e}`);
  });
  private left: number;
  private resolveAll: () => void = () => {};
  /** The workers that ran trials to their end (their results name them). */
  readonly workersSeen = new Set<string>();
  /** Resolves when every tracked trial has ended. */
  readonly allSettled: Promise<void>;

  constructor(
    private readonly c: TrialTrackerContext,
    trials: readonly { row: TrialRow; jobId: string }[],
  ) {
    const now = Date.now();
    for (const t of trials) {
      this.byId.set(t.jobId, { ...t, state: 'waiting', since: now, curve: [], rungs: [], reported: 0, settled: false });
    }
    this.left = trials.length;
    this.allSettled = new Promise((res) => {
      this.resolveAll = res;
      if (this.left === 0) res();
    });
  }

  /** Reads one job (after a queue event about it); ignores other jobs. */
  poke(jobId: string): void {
    const t = this.byId.get(jobId);
    if (t && !t.settled) this.reads.add(() => this.read(t));
  }

  /** Reads every unfinished job, then asks a held trial to yield if needed (skipped while a poll is pending). */
  pollAll(): void {
    this.reads.poll(this.unsettledReads(), () => this.maybeYield());
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
    const { state, job } = await jobSnapshot(this.c.queue, t.jobId);
    if (!job || state === 'unknown') {
      this.c.reporter.warn(`tune: the job of trial ${t.row.id} left the queue: added again`);
      await this.c.enqueue(t.row);
      return;
    }
    if (state !== t.state) {
      t.state = state;
      t.since = Date.now();
    }
    if (isProgress(job.progress)) await this.absorb(t, job.progress);
    if (state === 'completed' && isProgress(job.returnvalue)) {
      const result = job.returnvalue as TrialJobResult;
      await this.absorb(t, result);
      await this.settle(t, () => this.recordEnded(t, result, secondsOf(job)));
    } else if (state === 'failed' || state === 'completed') {
      const error = state === 'failed' ? job.failedReason || 'failed' : 'the job completed without a trial result';
      await this.settle(t, () => markTrialFailed(this.c.registry, t.row.id, { error, ...this.partial(t, job) }));
    } else if (state === 'active' && t.reported > 0) {
      // the decision at the trial's last rung again, should an earlier write have failed
      const d = this.decided.get(t.row.idx)?.get(t.reported - 1);
      if (d !== undefined) await this.c.redis.set(this.c.keys.decision(t.row.idx, t.reported - 1), d);
    }
  }

  /** Takes a job's progress (or result): a new attempt, its curve, and rungs not yet reported. */
  private async absorb(t: Tracked, p: TrialJobProgress): Promise<void> {
    if (p.attempt !== t.attempt) {
      if (t.attempt !== undefined) this.c.reporter.warn(`tune: trial ${t.row.id} starts again (a new attempt)`);
      t.attempt = p.attempt;
      markTrialRunning(this.c.registry, t.row.id);
    }
    t.curve = [...p.curve];
    t.rungs = [...p.rungs];
    for (; t.reported < p.rungs.length; t.reported++) {
      const rung = p.rungs[t.reported]!;
      const k = this.c.rungs.indexOf(rung.epochs);
      await this.answer(this.c.decisions.report(t.row.idx, k, rung.metric ?? NaN));
    }
  }

  /** Keeps the decisions that became known and writes them for the workers. */
  private async answer(decisions: RungDecision[]): Promise<void> {
    for (const d of decisions) {
      const mine = this.decided.get(d.trial) ?? new Map<number, Decision>();
      this.decided.set(d.trial, mine);
      mine.set(d.rung, d.decision);
      await this.c.redis.set(this.c.keys.decision(d.trial, d.rung), d.decision, { EX: DECISION_TTL_S });
    }
  }

  private recordEnded(t: Tracked, r: TrialJobResult, seconds: number): void {
    const best = bestOfCurve(r.curve);
    const stopRung = [...(this.decided.get(t.row.idx) ?? new Map<number, Decision>())].find(([, d]) => d === 'stop');
    markTrialEnded(this.c.registry, t.row.id, {
      status: r.status,
      stoppedAt: r.status === 'stopped' && stopRung ? (this.c.rungs[stopRung[0]] ?? null) : null,
      rungs: r.rungs,
      curve: r.curve,
      bestEpoch: best.epoch,
      bestValidNdcg: best.ndcg,
      seconds,
    });
    this.workersSeen.add(r.worker);
  }

  private partial(t: Tracked, job: Job): { seconds: number; rungs: TrialRung[]; curve: Array<number | null> } {
    return { seconds: secondsOf(job), rungs: t.rungs, curve: t.curve };
  }

  /** Records the trial's end (`record`), tells the decisions, and counts it. */
  private async settle(t: Tracked, record: () => void): Promise<void> {
    record();
    t.settled = true;
    this.c.onTrialEnd(trialById(this.c.registry, t.row.id)!);
    await this.answer(this.c.decisions.end(t.row.idx, t.curve.length));
    if (--this.left === 0) this.resolveAll();
  }

  /** Asks the latest held trial to yield when the lowest unfinished one has waited in the queue too long. */
  private async maybeYield(): Promise<void> {
    const open = [...this.byId.values()].filter((t) => !t.settled).sort((a, b) => a.row.idx - b.row.idx);
    const lowest = open[0];
    if (!lowest || (lowest.state !== 'waiting' && lowest.state !== 'prioritized')) return;
    if (Date.now() - lowest.since < YIELD_AFTER_MS) return;
    const held = open.filter(
      (t) =>
        t.state === 'active' &&
        t.reported > 0 &&
        t.attempt !== undefined &&
        t.yielded !== t.attempt &&
        this.decided.get(t.row.idx)?.get(t.reported - 1) === undefined,
    );
    const latest = held[held.length - 1];
    if (latest?.attempt === undefined) return;
    latest.yielded = latest.attempt;
    lowest.since = Date.now();
    await this.c.redis.set(this.c.keys.yield(latest.row.idx), latest.attempt, { EX: DECISION_TTL_S });
    this.c.reporter.warn(
      `tune: trial ${latest.row.id} gives its worker to trial ${lowest.row.id}, which waits in the queue; ` +
        'it will start again',
    );
  }
}

function isProgress(p: unknown): p is TrialJobProgress {
  const o = p as Partial<TrialJobProgress> | null;
  return typeof o === 'object' && o !== null && typeof o.attempt === 'string' && Array.isArray(o.curve);
}

function secondsOf(job: Job): number {
  return job.processedOn && job.finishedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
}
