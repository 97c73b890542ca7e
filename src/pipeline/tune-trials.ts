/**
 * Runs a study's trials, each in its own worker process (tune-worker.ts), at most `workers` at
 * a time, started in trial order. The scheduler's decisions go through OrderedDecisions
 * (src/tune/ordered-decisions.ts), so they do not depend on timing; a held trial's process
 * waits for its answer. The registry is written here only: a trial is marked running when its
 * process starts and recorded with its curve and rungs when it ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  markTrialEnded,
  markTrialFailed,
  markTrialRunning,
  trialById,
  type TrialRow,
  type TrialRung,
} from '../experiments/registry-trials.js';
import type { Registry } from '../experiments/registry.js';
import type { OrderedDecisions, RungDecision } from '../tune/ordered-decisions.js';
import type { TrialJob, TrialMessage } from './tune-worker.js';

/** What the trial runner needs: the run, the model, the rungs, the registry and the decision order. */
export interface TrialRunContext {
  run: string;
  model: string;
  /** Rung epochs (empty without early stopping). */
  rungs: readonly number[];
  registry: Registry;
  decisions: OrderedDecisions;
  workers: number;
  /** Started worker processes (the caller kills those left on a signal). */
  children: Set<ChildProcess>;
  /** Called when a trial ended and was recorded. */
  onTrialEnd: (row: TrialRow) => void;
}

/** A trial in flight: its process, the epochs it reported, its rungs, and whether it waits for a decision. */
interface LiveTrial {
  row: TrialRow;
  child: ChildProcess;
  curve: Array<number | null>;
  rungs: TrialRung[];
  stoppedAt: number | null;
  status?: 'completed' | 'stopped';
  error?: string;
  stderr: string;
  t0: number;
}

function workerScript(): string {
  return fileURLToPath(new URL('./tune-worker.js', import.meta.url));
}

/** The best epoch of a curve (the last one reaching its maximum, as early stopping counts it); −1 without one. */
export function bestOfCurve(curve: ReadonlyArray<number | null>): { epoch: number; ndcg: number | null } {
  let epoch = -1,
    ndcg: number | null = null;
  curve.forEach((v, i) => {
    if (v !== null && (ndcg === null || v >= ndcg)) {
      epoch = i;
      ndcg = v;
    }
  });
  return { epoch, ndcg };
}

/**
 * Runs `todo` (queued trials, in trial order) and resolves when all have ended. The caller has
 * replayed the already finished trials into `ctx.decisions`.
 */
export function runTrials(ctx: TrialRunContext, todo: readonly TrialRow[]): Promise<void> {
  const live = new Map<number, LiveTrial>();
  const queue = [...todo];
  let running = 0;
  return new Promise((resolveAll, rejectAll) => {
    const answer = (decisions: RungDecision[]) => {
      for (const d of decisions) {
        const t = live.get(d.trial);
        if (t === undefined) continue; // a finished trial replayed on resume
        if (d.decision === 'stop') t.stoppedAt = ctx.rungs[d.rung] ?? null;
        t.child.stdin?.write(`${d.decision}\n`);
      }
    };
    const startNext = () => {
      while (running < ctx.workers && queue.length > 0) {
        const row = queue.shift()!;
        running++;
        const t = startTrial(ctx, row, answer);
        live.set(row.idx, t);
        // 'close', not 'exit': it comes after the last stdout data, so the trial's end line is read
        t.child.on('close', (code, signal) => {
          try {
            live.delete(row.idx);
            ctx.children.delete(t.child);
            running--;
            answer(finishTrial(ctx, t, code, signal));
            startNext();
            if (running === 0 && queue.length === 0) resolveAll();
          } catch (e) {
            rejectAll(e);
          }
        });
      }
      if (running === 0 && queue.length === 0) resolveAll();
    };
    startNext();
  });
}

/** Forks a trial's process (tune-worker.ts) with one BLAS thread; stdin takes the decisions, stdout the messages. */
export function forkTrial(job: TrialJob): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', CALITUNE_QUIET: '1' };
  const child = fork(workerScript(), [JSON.stringify(job)], { env, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
  child.stdin?.on('error', () => {}); // a trial that exited before its answer: its exit is handled
  return child;
}

/** Calls `onMessage` with each JSON line a trial's process writes on stdout, in order. */
export function readTrialMessages(child: ChildProcess, onMessage: (m: TrialMessage) => void): void {
  let pending = '';
  child.stdout?.on('data', (d: Buffer) => {
    pending += d.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) onMessage(JSON.parse(line) as TrialMessage);
      nl = pending.indexOf('\n');
    }
  });
}

function startTrial(ctx: TrialRunContext, row: TrialRow, answer: (d: RungDecision[]) => void): LiveTrial {
  markTrialRunning(ctx.registry, row.id);
  const child = forkTrial({ run: ctx.run, model: ctx.model, config: row.config, rungs: [...ctx.rungs] });
  ctx.children.add(child);
  const t: LiveTrial = { row, child, curve: [], rungs: [], stoppedAt: null, stderr: '', t0: performance.now() };
  child.stderr?.on('data', (d: Buffer) => {
    t.stderr = (t.stderr + d.toString('utf8')).slice(-4000);
  });
  readTrialMessages(child, (m) => answer(onMessage(ctx, t, m)));
  return t;
}

function onMessage(ctx: TrialRunContext, t: LiveTrial, m: TrialMessage): RungDecision[] {
  switch (m.type) {
    case 'epoch':
      t.curve.push(m.valid);
      return [];
    case 'rung': {
      const k = ctx.rungs.indexOf(m.epochs);
      t.rungs.push({ epochs: m.epochs, metric: m.metric });
      return ctx.decisions.report(t.row.idx, k, m.metric ?? NaN);
    }
    case 'end':
      t.status = m.status;
      return [];
    case 'error':
      t.error = m.message;
      return [];
  }
}

/** Records how the trial's process ended and tells the decisions; returns the decisions that became known. */
function finishTrial(
  ctx: TrialRunContext,
  t: LiveTrial,
  code: number | null,
  signal: NodeJS.Signals | null,
): RungDecision[] {
  const seconds = (performance.now() - t.t0) / 1000;
  const { registry } = ctx;
  if (t.status !== undefined && code === 0) {
    const best = bestOfCurve(t.curve);
    markTrialEnded(registry, t.row.id, {
      status: t.status,
      stoppedAt: t.status === 'stopped' ? t.stoppedAt : null,
      rungs: t.rungs,
      curve: t.curve,
      bestEpoch: best.epoch,
      bestValidNdcg: best.ndcg,
      seconds,
    });
  } else {
    const why =
      t.error ??
      `${signal ? `trial process killed by ${signal}` : `trial process exited with code ${code}`}: ` +
        t.stderr.trim().split('\n').slice(-3).join(' | ');
    markTrialFailed(registry, t.row.id, { error: why, seconds, rungs: t.rungs, curve: t.curve });
  }
  ctx.onTrialEnd(trialById(registry, t.row.id)!);
  return ctx.decisions.end(t.row.idx, t.curve.length);
}
