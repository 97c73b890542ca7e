/**
 * A real Redis for the queue tests: Debian's redis-server on a free loopback port, with no
 * persistence (`--save '' --appendonly no`) and its own temporary directory, stopped (and the
 * directory removed) afterwards. Locally a missing redis-server skips the test; under CI=true,
 * where .ci/run installs it, that is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipOrFailOnCi, type SkipContext } from './ci.js';

/** Where Debian installs the server. */
export const REDIS_SERVER = process.env.CALITUNE_REDIS_SERVER ?? '/usr/bin/redis-server';

/** A started redis-server: its URL, port, and how to stop it. */
export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING on a raw socket: true when the server answers +PONG (or -NOAUTH: it is up, it wants a password). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const end = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => end(false));
    s.on('error', () => end(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) end(got.startsWith('+PONG') || got.startsWith('-NOAUTH'));
    });
  });
}

/** Whether redis-server is installed; otherwise skips (locally) or throws (CI) and returns false. */
export function requireRedis(t: SkipContext): boolean {
  if (existsSync(REDIS_SERVER) && spawnSync(REDIS_SERVER, ['--version']).status === 0) return true;
  skipOrFailOnCi(t, `${REDIS_SERVER} is absent (.ci/run installs redis-server; locally the test is skipped)`);
  return false;
}

/** Starts redis-server on a free port (with `password` when given) and waits until it answers PING. */
export async function startRedis(opts: { password?: string } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  const child: ChildProcess = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (exited) break;
    if (await ping(port)) {
      const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
      return { url: `redis://${auth}127.0.0.1:${port}`, port, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`redis-server did not answer PING on port ${port}`);
}
