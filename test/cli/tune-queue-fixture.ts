/** `calitune worker` processes for the `tune --queue` tests: started on a queue URL, stopped with SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './run-cli.js';

/** Started worker processes: their output so far, and how to stop them (resolves with each one's output). */
export interface TestWorkers {
  readonly children: readonly ChildProcess[];
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
    async stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(exited);
      return [...logs];
    },
  };
}
