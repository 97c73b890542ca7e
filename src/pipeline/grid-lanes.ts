/**
 * The lanes of a grid run: each point runs in its own worker process (grid-worker.ts,
 * child_process.fork), at most one per lane at a time; a finished worker is recorded in the
 * registry as done (with its summary) or failed (with its error), and reported as an event.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmtSeconds } from '../util/progress.js';
import type { GridProgress, Slot } from './grid-progress.js';
import type { Registry } from '../experiments/registry.js';
import type { PlannedPoint } from '../experiments/grid.js';
import type { KeepPolicy } from '../calibration/checkpoints.js';
import type { WorkerJob, WorkerMessage } from './grid-worker.js';
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

function workerScript(): string {
  return fileURLToPath(new URL('./grid-worker.js', import.meta.url));
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

interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  finished: boolean;
  error?: string;
  stderr: string;
}

/** Records a finished worker in the registry: done with its results, or failed with its error. */
function finishPoint(l: Lanes, slotIdx: number, item: Todo, exit: WorkerExit): void {
  const { point } = item;
  const slot = l.slots[slotIdx]!;
  const secs = (Date.now() - slot.started) / 1000;
  let failure: string | undefined;
  if (!exit.finished || exit.code !== 0) {
    failure =
      exit.error ??
      (exit.signal ? `worker killed by ${exit.signal}` : `worker exited with code ${exit.code}`) +
        `: ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  } else {
    try {
      const c = collectPoint(l.run, point.name);
      l.registry.markDone(point.name, secs, c.summary, c.epochs, c.cp);
      const a = c.summary.selected.any;
      l.progress.doneCount++;
      l.progress.event(
        `[worker ${slotIdx + 1}] done   ${point.name} in ${fmtSeconds(secs)}: ` +
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
    l.progress.event(`[worker ${slotIdx + 1}] FAILED ${point.name} after ${fmtSeconds(secs)}: ${failure}`);
    l.outcomes.push({ name: point.name, status: 'failed', seconds: secs, error: failure, resumed: item.resumed });
  }
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
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(l.threads), CALITUNE_QUIET: '1' };
    const child = fork(workerScript(), [JSON.stringify(job)], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    l.children.add(child);
    const exit: WorkerExit = { code: null, signal: null, finished: false, stderr: '' };
    child.stderr?.on('data', (d: Buffer) => {
      exit.stderr = (exit.stderr + d.toString('utf8')).slice(-4000);
    });
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'phase') {
        l.progress.pollLogs();
        slot.phase = m.phase;
      } else if (m.type === 'error') exit.error = `${m.phase}: ${m.message}`;
      else if (m.type === 'done') exit.finished = true;
    });
    child.on('exit', (code, signal) => {
      l.children.delete(child);
      finishPoint(l, slotIdx, item, { ...exit, code, signal });
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
