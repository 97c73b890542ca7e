/**
 * What the queue tests share: a small synthetic prepared run, the grid, `calitune worker` and
 * `calitune grid --queue` as child processes, and the registry and results compared without
 * timings or the run's own path.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI } from '../cli/run-cli.js';

/** A 4-point grid of `epochs` epochs each (α × freeze). */
export function gridText(epochs: number): string {
  return `base:
  num_epochs: ${epochs}
  learning_rate: 0.01
  k_candidates: 20
grid:
  combined_mode_alpha: [0.0, 0.5]
  freeze_item_emb: [true, false]
`;
}

/** A CLI process and the promise of its end with its output. */
export interface CliProcess {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/**
 * Starts the CLI with `args`, by default in its own process group and session (so that its point
 * processes can be killed with it). `detached: false` keeps it in ours: with the kernel's
 * autogroup scheduling a session of its own would get a CPU share of its own on a busy machine,
 * which a benchmark must not give one side only.
 */
export function startCli(args: string[], opts: { detached?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CALITUNE_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (res) => child.on('exit', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return { child, out: () => stdout + stderr, exited };
}

/** Stops a worker (SIGTERM) and waits for it. */
export async function stopWorker(w: CliProcess): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await w.exited;
}

/** Kills a process and its point processes (its process group) with SIGKILL, as when its machine dies. */
export function killGroup(p: CliProcess): void {
  try {
    process.kill(-p.child.pid!, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** The pids of the processes whose parent is `pid` (from /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Whether process `pid` is still there (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Epochs in a point's log so far (-1 without a log). */
export function logEpochs(run: string, name: string): number {
  const p = join(run, 'experiments', name, 'log.jsonl');
  if (!existsSync(p)) return -1;
  return (
    readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0).length - 1
  );
}

/** Reads rows of the registry read-only ([] when it is not there or busy). */
export function registryRows<T>(run: string, sql: string): T[] {
  const p = join(run, 'registry.sqlite');
  if (!existsSync(p)) return [];
  try {
    const db = new Database(p, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

const TIMINGS = new Set(['queued_at', 'started_at', 'finished_at', 'seconds']);

/** The registry's tables without timings, the run's own path replaced by RUN. */
export function registryContent(run: string): unknown {
  const strip = (rows: Record<string, unknown>[]) =>
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r)
          .filter(([k]) => !TIMINGS.has(k))
          .map(([k, v]) => [k, typeof v === 'string' ? v.split(run).join('RUN') : v]),
      ),
    );
  return {
    points: strip(registryRows(run, 'SELECT * FROM points ORDER BY name')),
    epochs: strip(registryRows(run, 'SELECT * FROM epochs ORDER BY name, epoch')),
    cp: strip(registryRows(run, 'SELECT * FROM cp ORDER BY lambda')),
  };
}

/**
 * Every results file of the run (name → content with the run's own path replaced by RUN); a
 * JSON file without its timings (calitune.created, calitune.seconds).
 */
export function resultsFiles(run: string): Record<string, unknown> {
  const dir = join(run, 'results');
  const out: Record<string, unknown> = {};
  for (const f of readdirSync(dir).sort()) {
    const text = readFileSync(join(dir, f), 'utf8').split(run).join('RUN');
    if (!f.endsWith('.json')) {
      out[f] = text;
      continue;
    }
    const r = JSON.parse(text) as { calitune?: Record<string, unknown> };
    if (r.calitune) {
      delete r.calitune.created;
      delete r.calitune.seconds;
    }
    out[f] = r;
  }
  return out;
}

/** Waits until `cond` holds (polling every 20 ms), failing after `ms`. */
export async function waitFor(what: string, cond: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
