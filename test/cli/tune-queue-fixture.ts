/**
 * For the `tune --queue` tests: `calitune worker` processes (started on a queue URL, each in its
 * own process group so that a test can kill one with its trial, stopped with SIGTERM), and what
 * the run's registry says of the trials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { registryPath } from '../../src/experiments/registry.js';
import { CLI } from './run-cli.js';

/** Started worker processes: their output so far, and how to stop them (resolves with each one's output). */
export interface TestWorkers {
  readonly children: readonly ChildProcess[];
  /** Each worker's output so far. */
  readonly logs: readonly string[];
  stop(): Promise<string[]>;
}

/** Starts `n` worker processes on `url` (one trial at a time each). */
export function startWorkers(url: string, n: number): TestWorkers {
  const logs: string[] = [];
  const children = Array.from({ length: n }, (_, i) => {
    logs[i] = '';
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--threads', '1'], {
      env: { ...process.env, CALITUNE_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (d: Buffer) => {
      logs[i] += d.toString('utf8');
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return child;
  });
  const exited = children.map((c) => new Promise<void>((res) => c.once('close', () => res())));
  return {
    children,
    logs,
    async stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(exited);
      return [...logs];
    },
  };
}

/** The trials a run's registry marks running, by id. */
export function runningTrials(run: string): string[] {
  if (!existsSync(registryPath(run))) return [];
  try {
    const db = new Database(registryPath(run), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare(`SELECT id FROM trials WHERE status = 'running' ORDER BY idx`).all() as { id: string }[];
      return rows.map((r) => r.id);
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

/** The most attempts any trial of the run's registry had. */
export function maxAttempts(run: string): number {
  const db = new Database(registryPath(run), { readonly: true });
  try {
    return (db.prepare('SELECT MAX(attempts) AS n FROM trials').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
