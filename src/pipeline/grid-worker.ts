/**
 * One grid point in its own process (forked by grid-runner.ts): fine-tune (or resume) and evaluate
 * RUN/experiments/NAME, then report to the parent over IPC and exit. Never touches the
 * registry: the parent is its only writer.
 *
 *   node dist/src/pipeline/grid-worker.js '{"run":…,"name":…,"configFile":…,"keep":…,"threads":1}'
 *
 * Threads: the parent sets OPENBLAS_NUM_THREADS before the binding loads; here the binding's
 * thread count is set again explicitly (setNumThreads) so workers × threads ≤ cores.
 * Messages: { type: 'phase', phase } then { type: 'done', finetune, seconds } or
 * { type: 'error', message, userError }. Exit code 0 / 1.
 *
 * Orphaned (its parent killed with SIGKILL, so nobody will record the point): it stops after
 * the epoch it is in, whose files are complete, rather than write on beside the worker that
 * takes the point over and resumes it. The check runs once per epoch because fine-tuning does
 * not yield to the event loop, so a 'disconnect' event would arrive only at the end.
 */
import { existsSync } from 'node:fs';
import { loadNativeBlas } from '../math/native.js';
import { experimentPaths } from '../store/experiment-files.js';
import type { KeepPolicy } from '../calibration/checkpoints.js';
import { finetune } from './finetune.js';
import { evaluate } from './evaluate.js';
import { silentReporter, type Reporter } from './reporter.js';
import { isUserError } from '../util/errors.js';

/** One point for a worker process: fine-tune (or resume) and evaluate it; passed as argv JSON. */
export interface WorkerJob {
  run: string;
  name: string;
  configFile: string;
  keep: KeepPolicy;
  threads: number;
}

/** What a worker reports to the runner over IPC: the phase it entered, then done or an error. */
export type WorkerMessage =
  | { type: 'phase'; phase: 'finetune' | 'evaluate'; resumed: boolean }
  | { type: 'done'; stopReason: string | null; epochsRun: number | null }
  | { type: 'error'; message: string; userError: boolean; phase: string };

function send(m: WorkerMessage): Promise<void> {
  return new Promise((res) => {
    if (!process.send) {
      res();
      return;
    }
    process.send(m, undefined, {}, () => res());
  });
}

const parentPid = process.ppid;

/** Exits when the parent that forked this process is gone (this process was re-parented). */
function stopIfOrphaned(): void {
  if (process.ppid !== parentPid) process.exit(1);
}

/** Notes and warnings go to stderr (the parent keeps its tail for failures); each epoch checks for a dead parent. */
const workerReporter: Reporter = {
  ...silentReporter,
  warn: (line) => {
    process.stderr.write(line + '\n');
  },
  progress: () => ({ update: stopIfOrphaned, done: () => {} }),
};

async function main(): Promise<number> {
  const job = JSON.parse(process.argv[2] ?? '{}') as WorkerJob;
  const native = loadNativeBlas();
  if (native.ok) native.blas.setNumThreads(Math.max(1, job.threads));
  const ep = experimentPaths(job.run, job.name);
  let phase = 'finetune';
  try {
    let stopReason: string | null = null,
      epochsRun: number | null = null;
    if (!existsSync(ep.summary)) {
      const resumed = existsSync(ep.resume);
      await send({ type: 'phase', phase: 'finetune', resumed });
      const s = await finetune(
        { run: job.run, experiment: job.name, configFile: job.configFile, keep: job.keep, resume: true },
        workerReporter,
      );
      stopReason = s.stopReason;
      epochsRun = s.epochsRun;
    }
    phase = 'evaluate';
    await send({ type: 'phase', phase: 'evaluate', resumed: false });
    await evaluate({ run: job.run, experiment: job.name }, workerReporter);
    await send({ type: 'done', stopReason, epochsRun });
    return 0;
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    await send({ type: 'error', message, userError: isUserError(e), phase });
    if (!isUserError(e) && (e as Error)?.stack) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}

process.exitCode = await main();
if (process.connected) process.disconnect();
