/**
 * Runs the points of a grid or experiments file: every point is fine-tuned and evaluated in
 * its own worker process (grid-worker.ts, child_process.fork), at most `workers` at a time;
 * the registry (src/experiments/registry.ts) is written here only, the single writer.
 *
 * - CP: computed once per run before any point starts (the pipeline's postprocess, when
 *   RUN/postprocess has no lists), then reused by every point's evaluation.
 * - Threads: OPENBLAS_NUM_THREADS = max(1, ⌊cores / workers⌋) per worker.
 * - Failure of a point (e.g. a diverged loss) is recorded with its error; the others go on.
 * - Resume: done points are skipped; interrupted (running), queued and failed points start
 *   again from their resume state (fine-tuning resumed); a point whose fine-tuning finished
 *   but whose evaluation did not is only evaluated. Every file is written atomically; after a
 *   kill -9 of the whole process tree leftover temp files are removed here (the run lock
 *   guarantees nobody else is writing) and in the fine-tuner's own resume.
 * - Progress on stderr (grid-progress.ts) when asked for; log lines and the final table go to
 *   the caller's Reporter.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../util/atomic.js';
import { InputError, UserError } from '../util/errors.js';
import { fmtSeconds } from '../util/progress.js';
import { GridProgress, type Slot } from './grid-progress.js';
import { runPaths } from '../store/run.js';
import { hasPrepared } from '../store/prepare-files.js';
import { storedCpLambdas } from '../store/postprocess-files.js';
import { findExperiment } from '../store/stored-experiment.js';
import { readResults, resultsPaths } from '../store/results-files.js';
import { experimentPaths } from '../store/experiment-files.js';
import { postprocess, type PostprocessResult } from './postprocess.js';
import { nestedReporter, silentReporter, type Reporter } from './reporter.js';
import type { KeepPolicy } from '../calibration/checkpoints.js';
import {
  Registry,
  type CpRow,
  type EpochRow,
  type PointRow,
  type PointSummary,
  type SelectedSummary,
} from '../experiments/registry.js';
import type { Plan, PlannedPoint } from '../experiments/grid.js';
import type { WorkerJob, WorkerMessage } from './grid-worker.js';
import { gridConfigPath, gridLockPath } from '../store/registry-files.js';
import { removeUnfinishedWrites } from '../store/unfinished-writes.js';
import { isRunDirectory } from '../store/run.js';
import { hasModel } from '../store/model-files.js';

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

/** How one point of a plan ended in this invocation (skipped: finished in an earlier one). */
export interface PointOutcome {
  name: string;
  status: 'done' | 'failed' | 'skipped';
  seconds: number | null;
  error?: string;
  resumed: boolean;
}

/** The whole plan: counts, worker layout, per-point outcomes and the points' validation front. */
export interface RunPlanResult {
  run: string;
  points: number;
  ran: number;
  skipped: number;
  done: number;
  failed: number;
  workers: number;
  threadsPerWorker: number;
  seconds: number;
  outcomes: PointOutcome[];
  frontier: { name: string; epoch: number }[];
}

// ------------------------------------------------------------------ run lock

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** RUN/grid.lock: one grid/experiments runner per run directory. A stale lock (dead pid) is taken over. */
export function acquireRunLock(run: string): () => void {
  const path = gridLockPath(run);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          /* gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        /* vanished */
      }
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new UserError(
          `another grid or experiments run (pid ${pid}) is working in ${run}; wait for it or stop it (lock: ${path})`,
        );
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new UserError(`cannot take the run lock ${path}`);
}

// ------------------------------------------------------------------ summary of a finished point

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Reads results/NAME.json and the experiment folder into the registry's summary rows. */
export function collectPoint(
  run: string,
  name: string,
): { summary: PointSummary; epochs: Omit<EpochRow, 'name'>[]; cp: CpRow[] } {
  const rp = resultsPaths(run, name).json;
  const res = readResults(rp);
  const exp = findExperiment(run, name);
  const selected: Record<string, SelectedSummary | null> = {};
  for (const [mode, s] of Object.entries(res.calitune.selected ?? {})) {
    selected[mode] = s ? { epoch: s.epoch, valid: s.valid, test: s.test as SelectedSummary['test'] } : null;
  }
  const epochs: Omit<EpochRow, 'name'>[] = [];
  for (const e of exp.epochs) {
    const m = res.finetuned?.[`epoch_${e.epoch}`];
    if (!m || !e.recorded) continue;
    const tn = num(m.ndcg),
      tj = num(m.jsd);
    if (tn === null || tj === null) continue;
    epochs.push({
      epoch: e.epoch,
      valid_ndcg: e.recorded.valid_ndcg,
      jsd: e.recorded.jsd,
      tradeoff: e.recorded.tradeoff,
      test_ndcg: tn,
      test_jsd: tj,
    });
  }
  const cp: CpRow[] = [];
  const b = res.base_recommendations;
  if (num(b.ndcg) !== null && num(b.jsd) !== null) cp.push({ lambda: '0', ndcg: b.ndcg!, jsd: b.jsd! });
  for (const [l, m] of Object.entries(res.postprocessed ?? {}))
    if (num(m.ndcg) !== null && num(m.jsd) !== null) cp.push({ lambda: l, ndcg: m.ndcg!, jsd: m.jsd! });
  const s = exp.summary ?? {};
  return {
    summary: {
      epochs_run: num(s.epochsRun),
      stop_reason: typeof s.stopReason === 'string' ? s.stopReason : null,
      base: b as PointSummary['base'],
      selected,
      results: rp,
    },
    epochs,
    cp,
  };
}

// ------------------------------------------------------------------ the runner

function workerScript(): string {
  return fileURLToPath(new URL('./grid-worker.js', import.meta.url));
}

function f5(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(5);
}

/** A run directory with a backbone and 'prepare' done; otherwise bad input naming the step to run. */
function checkRunReady(runArg: string, run: string): void {
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

interface Todo {
  point: PlannedPoint;
  resumed: boolean;
}

/** Registers every point of the plan; done ones are skipped, the others get their config file. */
function planPoints(
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

/** CP once per run, before any point (every evaluation reuses RUN/postprocess). */
async function computeCpOnce(run: string, reporter: Reporter, hooks: RunPlanHooks): Promise<void> {
  if (storedCpLambdas(run, 'test').length > 0) return;
  hooks.cpStarting?.();
  const result = await postprocess({ run }, nestedReporter(reporter));
  hooks.cpDone?.(result);
}

/** What the points of one runPlan share while they run. */
interface Lanes {
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
        `[worker ${slotIdx + 1}] done   ${point.name} in ${fmtSeconds(secs)}: ${c.summary.epochs_run ?? '?'} epochs (${c.summary.stop_reason ?? '?'})` +
          (a ? `, selected epoch ${a.epoch}: test NDCG ${f5(a.test.ndcg)} JSD ${f5(a.test.jsd)}` : ''),
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
async function runPoints(l: Lanes, todo: readonly Todo[]): Promise<void> {
  let next = 0;
  await Promise.all(
    l.slots.map(async (_s, i) => {
      while (next < todo.length) await runPoint(l, i, todo[next++]!);
    }),
  );
}

function emptySlot(): Slot {
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

/** Runs the points of `plan` on the run (see the file comment); the run must have a backbone and be prepared. */
export async function runPlan(o: RunPlanOptions): Promise<RunPlanResult> {
  const { plan } = o;
  const reporter = o.reporter ?? silentReporter;
  const run = resolve(o.run);
  const t0 = performance.now();
  checkRunReady(o.run, run);
  const cores = Math.max(1, availableParallelism());
  const release = acquireRunLock(run);
  let registry: Registry | undefined;
  const children = new Set<ChildProcess>();
  const onSignal = (sig: NodeJS.Signals) => {
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
      /* closing */
    }
    release();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    registry = Registry.open(run, { create: true });
    for (const d of [
      runPaths(run).results,
      runPaths(run).lists,
      join(run, 'postprocess'),
      join(run, 'grid', 'configs'),
    ])
      removeUnfinishedWrites(d);
    const { todo, outcomes, skipped } = planPoints(registry, run, plan);
    const workers = Math.max(1, Math.min(o.workers ?? cores, Math.max(1, todo.length)));
    const threads = Math.max(1, Math.floor(cores / workers));
    if (workers > cores) reporter.warn(`note: ${workers} workers on ${cores} core(s): they will share cores`);
    reporter.info(
      `${plan.kind} ${plan.file}: ${plan.points.length} point(s), ${skipped} already done, ${todo.length} to run ` +
        `(${todo.filter((t) => t.resumed).length} resumed) with ${workers} worker process(es) × ${threads} BLAS thread(s) on ${cores} core(s)`,
    );
    for (const n of plan.notes) reporter.warn(`note: ${n}`);
    if (todo.length > 0) await computeCpOnce(run, reporter, o.hooks ?? {});

    const slots = Array.from({ length: workers }, emptySlot);
    const progress = new GridProgress(
      slots,
      todo.length,
      o.run,
      !(o.showProgress ?? false),
      o.plain,
      o.plainInterval ?? 10,
    );
    progress.begin();
    const keep = o.keep ?? plan.keep ?? 'frontier';
    await runPoints({ run, keep, threads, registry, slots, progress, children, outcomes }, todo);
    progress.stop();
    const front = registry.updateFrontier();
    const seconds = (performance.now() - t0) / 1000;
    printSummaryTable(
      reporter,
      registry.list().filter((r) => plan.points.some((p) => p.name === r.name)),
    );
    return {
      run: o.run,
      points: plan.points.length,
      ran: todo.length,
      skipped,
      done: outcomes.filter((x) => x.status === 'done').length,
      failed: outcomes.filter((x) => x.status === 'failed').length,
      workers,
      threadsPerWorker: threads,
      seconds,
      outcomes,
      frontier: front.map((f) => ({ name: f.name, epoch: f.epoch })),
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
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
}

/** The final table: one row per point with its validation-selected ('any') epoch's test metrics. */
export function printSummaryTable(ctx: Reporter, rows: readonly PointRow[]): void {
  if (rows.length === 0) return;
  const w = Math.max(5, ...rows.map((r) => r.name.length));
  ctx.info('');
  ctx.info(`${'point'.padEnd(w)}  status  epochs  seconds  sel.epoch  test NDCG@10  test JSD@10  on front`);
  for (const r of rows) {
    const a = r.summary?.selected?.any;
    ctx.info(
      `${r.name.padEnd(w)}  ${r.status.padEnd(6)}  ${String(r.summary?.epochs_run ?? '—').padStart(6)}  ` +
        `${(r.seconds === null ? '—' : r.seconds.toFixed(1)).padStart(7)}  ${String(a?.epoch ?? '—').padStart(9)}  ` +
        `${f5(a?.test.ndcg).padStart(12)}  ${f5(a?.test.jsd).padStart(11)}  ${frontCell(a?.epoch, r.frontEpochs)}`,
    );
    if (r.status === 'failed' && r.error) ctx.info(`${''.padEnd(w)}  error: ${r.error.split('\n')[0]}`);
  }
  ctx.info(
    'on front: * when the selected epoch shown is on the validation Pareto front over all points; ' +
      "(+N) counts the point's other epochs on it (the frontier report lists them).",
  );
  ctx.info('');
}

/** '*' when the shown epoch is on the front, then '(+N)' for the point's other front epochs. */
function frontCell(shown: number | undefined, frontEpochs: readonly number[]): string {
  const star = shown !== undefined && frontEpochs.includes(shown) ? '*' : '';
  const others = frontEpochs.filter((e) => e !== shown).length;
  return `${star}${others > 0 ? ` (+${others})` : ''}`.trim() || '—';
}
