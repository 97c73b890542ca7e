/**
 * kill -9 at seeded moments for the crash-matrix tests: a CLI command in a child process,
 * SIGKILLed a seeded delay after a visible phase (the run lock taken, a temp folder appeared), so
 * that the kills land in the work whatever the machine's load; and the checks a rerun must pass.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runLocksDir } from '../../src/store/run-locks.js';
import { CLI } from './run-cli.js';

/** Small seeded generator (mulberry32): the kill moments are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `calitune ARGS` in a child process, returned once `seen()` holds or the child has exited. */
async function spawnUntilSeen(args: string[], seen: () => boolean) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CALITUNE_QUIET: '1' },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && !seen()) await new Promise((r) => setTimeout(r, 1));
  return { child, exited };
}

/**
 * `calitune ARGS` in a child process, SIGKILLed `ms` after `seen()` first holds (polled every
 * millisecond); its exit code, null when killed.
 */
export async function cliKilledAt(args: string[], seen: () => boolean, ms: number): Promise<number | null> {
  const { child, exited } = await spawnUntilSeen(args, seen);
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  return exited;
}

/**
 * `calitune ARGS` in a child process, run to its end; how many milliseconds passed from `seen()` first
 * holding to its exit (to spread the kill moments over the work), and its exit code.
 */
export async function timedFromSeen(args: string[], seen: () => boolean): Promise<{ ms: number; code: number | null }> {
  const { exited } = await spawnUntilSeen(args, seen);
  const t0 = performance.now();
  const code = await exited;
  return { ms: performance.now() - t0, code };
}

/** Whether the run's folder (not its subfolders) has an entry whose name starts with `prefix`. */
export function hasEntry(dir: string, prefix: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(prefix));
}

/** Every path under `dir` (files and folders) whose name is a temp of an unfinished write or set. */
export function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (/^\..*\.(tmp|old)-/.test(f)) out.push(p);
    else if (statSync(p).isDirectory()) out.push(...leftovers(p));
  }
  return out;
}

/** After a completed rerun: no temp files or folders of killed writers, no locks. */
export function assertClean(run: string): void {
  assert.deepEqual(leftovers(run), [], 'no temp files or folders of killed writers are left');
  assert.ok(!existsSync(runLocksDir(run)), 'no locks of killed writers are left');
}
