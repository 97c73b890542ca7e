/**
 * The per-point job both grid modes share: one point runs in its own process (grid-worker.ts,
 * child_process.fork), so that a crash in native code costs that point only. The local lanes
 * (grid-lanes.ts) and the queue worker (grid-queue-worker.ts) start it here and read how it ended.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerJob, WorkerMessage } from './grid-worker.js';

/** How a point's worker process ended: exit code or signal, whether it reported done, its error and stderr tail. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  finished: boolean;
  error?: string;
  stderr: string;
  /** Why fine-tuning stopped and how many epochs ran (null when only the evaluation ran). */
  stopReason?: string | null;
  epochsRun?: number | null;
}

/** A started point process and the promise of its end. */
export interface PointChild {
  child: ChildProcess;
  exited: Promise<WorkerExit>;
}

function workerScript(): string {
  return fileURLToPath(new URL('./grid-worker.js', import.meta.url));
}

/**
 * Forks the point process for `job` with OPENBLAS_NUM_THREADS set before the binding loads;
 * `onPhase` hears each phase it enters (fine-tune, evaluate).
 */
export function forkPoint(
  job: WorkerJob,
  onPhase: (phase: 'finetune' | 'evaluate', resumed: boolean) => void,
): PointChild {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(job.threads), CALITUNE_QUIET: '1' };
  const child = fork(workerScript(), [JSON.stringify(job)], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const exit: WorkerExit = { code: null, signal: null, finished: false, stderr: '' };
  child.stderr?.on('data', (d: Buffer) => {
    exit.stderr = (exit.stderr + d.toString('utf8')).slice(-4000);
  });
  child.on('message', (m: WorkerMessage) => {
    if (m.type === 'phase') onPhase(m.phase, m.resumed);
    else if (m.type === 'error') exit.error = `${m.phase}: ${m.message}`;
    else if (m.type === 'done') {
      exit.finished = true;
      exit.stopReason = m.stopReason;
      exit.epochsRun = m.epochsRun;
    }
  });
  const exited = new Promise<WorkerExit>((res) => {
    child.on('exit', (code, signal) => res({ ...exit, code, signal }));
  });
  return { child, exited };
}

/**
 * Why a point process failed (its error, else its signal or exit code with its stderr's last
 * lines); undefined when it succeeded.
 */
export function pointFailure(exit: WorkerExit): string | undefined {
  if (exit.finished && exit.code === 0) return undefined;
  return (
    exit.error ??
    (exit.signal ? `worker killed by ${exit.signal}` : `worker exited with code ${exit.code}`) +
      `: ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}`
  );
}
