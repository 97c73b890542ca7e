/**
 * The lanes of a grid run: each point runs in its own worker process (grid-worker.ts,
 * child_process.fork), at most one per lane at a time; a finished worker is recorded in the
 * registry as done (with its summary) or failed (with its error), and reported as an event.
 */
import type { ChildProcess } from 'node:child_process';
import { fmtSeconds } from '../util/progress.js';
import type { GridProgress, Slot } from './grid-progress.js';
import type { Registry } from '../experiments/registry.js';
import type { PlannedPoint } from '../experiments/grid.js';
import type { KeepPolicy } from '../calibration/checkpoints.js';
import type { WorkerJob } from './grid-worker.js';
import { forkPoint, pointFailure, type WorkerExit } from './grid-child.js';
import { gridConfigPath } from '../store/registry-files.js';
import { collectPoint } from './grid-point-summary.js';
import { formatMetric5 } from './grid-summary-table.js';

/** How one point of a plan ended in this invocation (skipped: finished in an earlier one). */
export interface PointOutcome {
  name: string;
  status: 'done' | 'failed' | 'skipped';
  seconds: number | null;
  error?: string;
  resumed: boolean;
}

/** A point to run, and whether it resumes an interrupted fine-tuning. */
export interface Todo {
  point: PlannedPoint;
  resumed: boolean;
}

/** What the points of one runPlan share while they run. */
export interface Lanes {
  run: string;
  keep: KeepPolicy;
  threads: number;
  registry: Registry;
  slots: Slot[];
  progress: GridProgress;
  children: Set<ChildProcess>;
  outcomes: PointOutcome[];
}

/** Where a point's end is recorded: the run, its registry (the single writer), the progress view, the outcomes. */
export interface PointRecorder {
  run: string;
  registry: Registry;
  progress: GridProgress;
  outcomes: PointOutcome[];
}

/**
 * Records a point's end in the registry, as an event line (prefixed `[label]`) and as an outcome:
 * done with its results (read back from the store), or failed with `failure` — or with the
 * reason its results could not be read.
 */
export function recordPointEnd(
  l: PointRecorder,
  label: string,
  item: Todo,
  secs: number,
  failure: string | undefined,
): void {
  const { point } = item;
  if (failure === undefined) {
    try {
      const c = collectPoint(l.run, point.name);
      l.registry.markDone(point.name, secs, c.summary, c.epochs, c.cp);
      const a = c.summary.selected.any;
      l.progress.doneCount++;
      l.progress.event(
        `[${label}] done   ${point.name} in ${fmtSeconds(secs)}: ` +
          `${c.summary.epochs_run ?? '?'} epochs (${c.summary.stop_reason ?? '?'})` +
          (a
            ? `, selected epoch ${a.epoch}: test NDCG ${formatMetric5(a.test.ndcg)} JSD ${formatMetric5(a.test.jsd)}`
            : ''),
      );
      l.outcomes.push({ name: point.name, status: 'done', seconds: secs, resumed: item.resumed });
    } catch (e) {
      failure = `collecting results: ${(e as Error).message}`;
    }
  }
  if (failure !== undefined) {
    l.registry.markFailed(point.name, failure, secs);
    l.progress.failedCount++;
    l.progress.event(`[${label}] FAILED ${point.name} after ${fmtSeconds(secs)}: ${failure}`);
    l.outcomes.push({ name: point.name, status: 'failed', seconds: secs, error: failure, resumed: item.resumed });
  }
}

/** Records a finished worker in the registry: done with its results, or failed with its error. */
function finishPoint(l: Lanes, slotIdx: number, item: Todo, exit: WorkerExit): void {
  const slot = l.slots[slotIdx]!;
  const secs = (Date.now() - slot.started) / 1000;
  recordPointEnd(l, `worker ${slotIdx + 1}`, item, secs, pointFailure(exit));
  slot.name = null;
}

/** Runs one point in a worker process (grid-worker.ts) in lane `slotIdx`; resolves when it has been recorded. */
function runPoint(l: Lanes, slotIdx: number, item: Todo): Promise<void> {
  return new Promise((done) => {
    const { point } = item;
    const slot = l.slots[slotIdx]!;
    Object.assign(slot, {
      name: point.name,
      started: Date.now(),
      phase: 'finetune',
      epoch: 0,
      maxEpochs: point.config.num_epochs,
      bestN: -Infinity,
      bestJ: Infinity,
      logSize: -1,
      lastPlain: Date.now(),
    });
    l.registry.markRunning(point.name);
    l.progress.event(`[worker ${slotIdx + 1}] ${item.resumed ? 'resume' : 'start '} ${point.name}`);
    const job: WorkerJob = {
      run: l.run,
      name: point.name,
      configFile: gridConfigPath(l.run, point.name),
      keep: l.keep,
      threads: l.threads,
    };
    const { child, exited } = forkPoint(job, (phase) => {
      l.progress.pollLogs();
      slot.phase = phase;
    });
    l.children.add(child);
    void exited.then((exit) => {
      l.children.delete(child);
      finishPoint(l, slotIdx, item, exit);
      done();
    });
  });
}

/** Every point to run, at most one per lane at a time. */
export async function runPoints(l: Lanes, todo: readonly Todo[]): Promise<void> {
  let next = 0;
  await Promise.all(
    l.slots.map(async (_s, i) => {
      while (next < todo.length) await runPoint(l, i, todo[next++]!);
    }),
  );
}

/** A lane's progress slot before its first point. */
export function emptySlot(): Slot {
  return {
    name: null,
    started: 0,
    phase: '',
    epoch: 0,
    maxEpochs: 0,
    bestN: -Infinity,
    bestJ: Infinity,
    logSize: -1,
    lastPlain: 0,
  };
}
