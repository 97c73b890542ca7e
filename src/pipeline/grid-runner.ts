/**
 * Runs the points of a grid or experiments file: every point is fine-tuned and evaluated in
 * its own worker process (grid-lanes.ts, grid-worker.ts), at most `workers` at a time;
 * the registry (src/experiments/registry.ts) is written here only, the single writer.
 *
 * - CP: computed once per run before any point starts (the pipeline's postprocess, when
 *   RUN/postprocess has no lists or stale ones), then reused by every point's evaluation.
 * - Threads: OPENBLAS_NUM_THREADS = max(1, ⌊cores / workers⌋) per worker.
 * - Failure of a point (e.g. a diverged loss) is recorded with its error; the others go on.
 * - Resume: done points are skipped; interrupted (running), queued and failed points start
 *   again from their resume state (fine-tuning resumed); a point whose fine-tuning finished
 *   but whose evaluation did not is only evaluated. Every file is written atomically; after a
 *   kill -9 of the whole process tree leftover temp files of dead processes are removed here
 *   and in the fine-tuner's own resume.
 * - Locks: the runner holds the run's grid lock, each worker its point's experiment lock
 *   (src/store/run-locks.ts).
 * - Progress on stderr (grid-progress.ts) when asked for; log lines and the final table go to
 *   the caller's Reporter.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError } from '../util/errors.js';
import { GridProgress, type Slot } from './grid-progress.js';
import { runPaths } from '../store/run.js';
import { hasPrepared } from '../store/prepare-files.js';
import { staleCpInputs, storedCpLambdas } from '../store/postprocess-files.js';
import { experimentPaths } from '../store/experiment-files.js';
import { postprocess, type PostprocessResult } from './postprocess.js';
import { nestedReporter, silentReporter, type Reporter } from './reporter.js';
import type { KeepPolicy } from '../calibration/checkpoints.js';
import { Registry } from '../experiments/registry.js';
import type { Plan } from '../experiments/grid.js';
import { gridConfigPath } from '../store/registry-files.js';
import { removeUnfinishedWritesOfDeadProcesses } from '../store/unfinished-writes.js';
import { isRunDirectory } from '../store/run.js';
import { hasModel } from '../store/model-files.js';
import { withRunLock, type HeldRunLock } from '../store/run-locks.js';
import { printSummaryTable } from './grid-summary-table.js';
import { emptySlot, runPoints, type PointOutcome, type Todo } from './grid-lanes.js';

export { collectPoint } from './grid-point-summary.js';
export { printSummaryTable } from './grid-summary-table.js';
export type { PointOutcome } from './grid-lanes.js';

/** What runPlan runs: a planned grid or experiments file on one run, and how. */
export interface RunPlanOptions {
  run: string;
  plan: Plan;
  /** Worker processes (default: one per core, at most one per point). */
  workers?: number;
  keep?: KeepPolicy;
  /** Log lines, notes and the final table (default: silent). */
  reporter?: Reporter;
  /** Live per-worker status lines on stderr (default false). */
  showProgress?: boolean;
  hooks?: RunPlanHooks;
  /** Force plain progress lines (default: plain unless stderr is a TTY). */
  plain?: boolean;
  /** Seconds between plain progress lines per worker (default 10). */
  plainInterval?: number;
}

/** Around the run-wide CP step, which runs only when the run has no CP lists yet. */
export interface RunPlanHooks {
  cpStarting?(): void;
  cpDone?(result: PostprocessResult): void;
}

/** The whole plan: counts, worker layout, per-point outcomes and the points' validation front. */
export interface RunPlanResult {
  run: string;
  points: number;
  ran: number;
  skipped: number;
  done: number;
  failed: number;
  /** Local worker processes; with a queue, the queue workers that finished points. */
  workers: number;
  /** BLAS threads per local worker; 0 with a queue (each queue worker sets its own). */
  threadsPerWorker: number;
  seconds: number;
  outcomes: PointOutcome[];
  frontier: { name: string; epoch: number }[];
}

// ------------------------------------------------------------------ the runner

/** A run directory with a backbone and 'prepare' done; otherwise bad input naming the step to run. */
export function checkRunReady(runArg: string, run: string): void {
  if (!isRunDirectory(run)) {
    throw new InputError(
      (n) => `${runArg} is not a run directory (no run.json): run '${n.step('import')}' or '${n.step('train')}' first`,
      { field: 'run' },
    );
  }
  if (!hasModel(run)) {
    throw new InputError(
      (n) => `${runArg} has no backbone model yet: run '${n.step('train')}' or '${n.step('import')}' first`,
      { field: 'run' },
    );
  }
  if (!hasPrepared(run))
    throw new InputError((n) => `${runArg} is not prepared: run '${n.step('prepare', { run: runArg })}' first`, {
      field: 'run',
    });
}

/** Registers every point of the plan; done ones are skipped, the others get their config file. */
export function planPoints(
  registry: Registry,
  run: string,
  plan: Plan,
): { todo: Todo[]; outcomes: PointOutcome[]; skipped: number } {
  const source = resolve(plan.file);
  const todo: Todo[] = [];
  const outcomes: PointOutcome[] = [];
  let skipped = 0;
  const tx = registry.db.transaction(() => {
    for (const p of plan.points) {
      const a = registry.plan(p.name, p.config, p.varied, source);
      if (a === 'skip') {
        skipped++;
        outcomes.push({
          name: p.name,
          status: 'skipped',
          seconds: registry.get(p.name)?.seconds ?? null,
          resumed: false,
        });
      } else todo.push({ point: p, resumed: a === 'resume' && existsSync(experimentPaths(run, p.name).resume) });
    }
  });
  tx();
  for (const { point } of todo) {
    const cf = gridConfigPath(run, point.name);
    const text = JSON.stringify(point.config, null, 2) + '\n';
    if (!existsSync(cf) || readFileSync(cf, 'utf8') !== text) writeJsonAtomic(cf, point.config);
  }
  return { todo, outcomes, skipped };
}

/** The progress display of a plan's points (live unless `showProgress` is off; plain lines every `plainInterval` s). */
export function planProgress(
  o: Pick<RunPlanOptions, 'run' | 'showProgress' | 'plain' | 'plainInterval'>,
  slots: Slot[],
  points: number,
): GridProgress {
  return new GridProgress(slots, points, o.run, !(o.showProgress ?? false), o.plain, o.plainInterval ?? 10);
}

/** CP once per run, before any point (every evaluation reuses RUN/postprocess); a stale set is computed again. */
export async function computeCpOnce(run: string, reporter: Reporter, hooks: RunPlanHooks): Promise<void> {
  if (storedCpLambdas(run, 'test').length > 0 && staleCpInputs(run).length === 0) return;
  hooks.cpStarting?.();
  const result = await postprocess({ run }, nestedReporter(reporter));
  hooks.cpDone?.(result);
}

/** Kills the workers still running, closes the registry and releases the run lock; each step tolerates failure. */
function shutDown(children: ReadonlySet<ChildProcess>, registry: Registry | undefined, release: () => void): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  try {
    registry?.close();
  } catch {
    /* closed */
  }
  release();
}

/** Removes temp files a killed earlier runner left behind (those of live processes are being written). */
export function removeLeftoverWrites(run: string): void {
  for (const d of [runPaths(run).results, runPaths(run).lists, join(run, 'postprocess'), join(run, 'grid', 'configs')])
    removeUnfinishedWritesOfDeadProcesses(d);
}

/** Worker processes and BLAS threads per worker for `todo` points on `cores` cores. */
interface WorkerLayout {
  workers: number;
  threads: number;
  cores: number;
}

/** The plan's opening lines: points to run and skip, the worker layout, the config notes. */
function reportPlan(reporter: Reporter, plan: Plan, todo: readonly Todo[], skipped: number, w: WorkerLayout): void {
  const { workers, threads, cores } = w;
  if (workers > cores) reporter.warn(`note: ${workers} workers on ${cores} core(s): they will share cores`);
  reporter.info(
    `${plan.kind} ${plan.file}: ${plan.points.length} point(s), ${skipped} already done, ${todo.length} to run ` +
      `(${todo.filter((t) => t.resumed).length} resumed) with ${workers} worker process(es) × ` +
      `${threads} BLAS thread(s) on ${cores} core(s)`,
  );
  for (const n of plan.notes) reporter.warn(`note: ${n}`);
}

/** runPlan once the lock is held and the registry open: plans, runs and summarises the points. */
async function runRegisteredPlan(
  o: RunPlanOptions,
  run: string,
  registry: Registry,
  children: Set<ChildProcess>,
  t0: number,
): Promise<RunPlanResult> {
  const { plan } = o;
  const reporter = o.reporter ?? silentReporter;
  const cores = Math.max(1, availableParallelism());
  removeLeftoverWrites(run);
  const { todo, outcomes, skipped } = planPoints(registry, run, plan);
  const workers = Math.max(1, Math.min(o.workers ?? cores, Math.max(1, todo.length)));
  const threads = Math.max(1, Math.floor(cores / workers));
  reportPlan(reporter, plan, todo, skipped, { workers, threads, cores });
  if (todo.length > 0) await computeCpOnce(run, reporter, o.hooks ?? {});

  const slots = Array.from({ length: workers }, emptySlot);
  const progress = planProgress(o, slots, todo.length);
  progress.begin();
  const keep = o.keep ?? plan.keep ?? 'frontier';
  await runPoints({ run, keep, threads, registry, slots, progress, children, outcomes }, todo);
  progress.stop();
  return summarisePlan(o, registry, { todo, outcomes, skipped, workers, threads, t0 });
}

/** What a finished plan leaves for its summary: the points run and skipped, their outcomes, the layout, the start. */
export interface PlanTally {
  todo: readonly Todo[];
  outcomes: PointOutcome[];
  skipped: number;
  workers: number;
  threads: number;
  t0: number;
}

/** After the last point: the validation front, the summary table (through the reporter) and the plan's result. */
export function summarisePlan(o: RunPlanOptions, registry: Registry, t: PlanTally): RunPlanResult {
  const { plan } = o;
  const front = registry.updateFrontier();
  const seconds = (performance.now() - t.t0) / 1000;
  printSummaryTable(
    o.reporter ?? silentReporter,
    registry.list().filter((r) => plan.points.some((p) => p.name === r.name)),
  );
  return {
    run: o.run,
    points: plan.points.length,
    ran: t.todo.length,
    skipped: t.skipped,
    done: t.outcomes.filter((x) => x.status === 'done').length,
    failed: t.outcomes.filter((x) => x.status === 'failed').length,
    workers: t.workers,
    threadsPerWorker: t.threads,
    seconds,
    outcomes: t.outcomes,
    frontier: front.map((f) => ({ name: f.name, epoch: f.epoch })),
  };
}

/**
 * Runs the points of `plan` on the run (see the file comment); the run must have a backbone and be prepared.
 * Holds the run's grid lock (src/store/run-locks.ts): one runner per run, no run-wide writer meanwhile; each
 * worker takes its point's experiment lock.
 */
export async function runPlan(o: RunPlanOptions): Promise<RunPlanResult> {
  const run = resolve(o.run);
  const t0 = performance.now();
  checkRunReady(o.run, run);
  const command = o.plan.kind;
  const note = (line: string) => (o.reporter ?? silentReporter).warn(line);
  return withRunLock({ run, target: 'grid', command, note }, (lock) => runLocked(o, run, lock, t0));
}

/**
 * Runs `body` with the run's registry open. `cleanUp` runs at the end, and on SIGINT / SIGTERM,
 * after which the process exits with 130 / 143 (what a shell reports for those signals).
 */
export async function withRegistryAndSignals<T>(
  run: string,
  cleanUp: (registry: Registry | undefined) => void,
  body: (registry: Registry) => Promise<T>,
): Promise<T> {
  let registry: Registry | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    cleanUp(registry);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    registry = Registry.open(run, { create: true });
    return await body(registry);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanUp(registry);
  }
}

/** runPlan once the grid lock is held: the registry, the signal handlers, the points. */
async function runLocked(o: RunPlanOptions, run: string, lock: HeldRunLock, t0: number): Promise<RunPlanResult> {
  const children = new Set<ChildProcess>();
  return withRegistryAndSignals(
    run,
    (registry) => shutDown(children, registry, lock.release),
    (registry) => runRegisteredPlan(o, run, registry, children, t0),
  );
}
