/**
 * bench:serve — what a served request costs, on ML-100K: the base model's top-10, a CaliTune
 * model's top-10 (the oracle's fine-tuned c0.5 checkpoint, epoch 184) and CP re-ranking
 * (λ 0.5, m 100) of the base model.
 *   1. in-process: µs per request of the service alone (median of --reps passes over every user);
 *   2. over HTTP on loopback with autocannon: requests/s and p50/p99 latency of a single-user GET
 *      and a 100-user POST batch, each for --duration seconds after a discarded second of warm-up,
 *      the servers in child processes;
 *   3. /health latency while the largest allowed batch (118 users × k 1682) runs.
 * CaliTune's claim is that its calibrated lists cost what the base model's cost; CP pays a re-ranking.
 *
 *   node dist/bench/serve.js [--reps N] [--duration S] [--connections C]
 * Last lines: RESULT serve_base_us, serve_calitune_us, serve_cp_us, serve_http_* and serve_health_*.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as cli } from '../src/cli/main.js';
import { serve } from '../src/pipeline/serve.js';
import { loadServingModel } from '../src/serve/serving-model.js';
import { RecommendationService, type RecommendRequest } from '../src/serve/service.js';
import { MAX_ITEMS_PER_REQUEST } from '../src/serve/schemas.js';
import { loadPrepared } from '../src/store/prepare-files.js';
import { gemmBackend } from '../src/math/gemm.js';

/** The part of autocannon's result this bench reads (latency in ms, requests per second). */
interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
interface CannonRequest {
  method: 'GET' | 'POST';
  setupRequest: (req: Record<string, unknown>) => Record<string, unknown>;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  requests: CannonRequest[];
}) => Promise<CannonResult>;
// autocannon ships no type declarations: the slice used here is typed above.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Math.max(1, Number(process.argv[i + 1])) : fallback;
}

const CHILD_FLAG = '--serve-child';

/** Child mode: serve a run on a free loopback port, tell the parent the port, stop when it goes. */
async function serveChild(run: string): Promise<void> {
  const handle = await serve({ run, port: 0, logLevel: 'silent' });
  process.send?.({ port: handle.port });
  process.once('disconnect', () => void handle.close());
}

async function quiet<T>(f: () => Promise<T>): Promise<T> {
  const w = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await f();
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
}

/** The base run (prepared) and the CaliTune run (the oracle's epoch-184 embeddings, prepared too). */
async function setUpRuns(tmp: string, oracle: string): Promise<{ baseRun: string; ftRun: string }> {
  const baseRun = join(tmp, 'base'),
    ftRun = join(tmp, 'calitune');
  const ftEmb = (what: string) => join(oracle, 'finetuned', `c0.5_unfrozen_epoch184_${what}_emb.npy`);
  await quiet(async () => {
    for (const args of [
      ['import', '--from', oracle, '--run', baseRun],
      ['prepare', '--run', baseRun, '--popularity-source', 'all'],
      ['import', '--from', oracle, '--run', ftRun, '--user-emb', ftEmb('user'), '--item-emb', ftEmb('item')],
      ['prepare', '--run', ftRun, '--popularity-source', 'all'],
    ]) {
      if ((await cli(args)) !== 0) throw new Error(`setup failed: calitune ${args.join(' ')}`);
    }
  });
  return { baseRun, ftRun };
}

function timePerRequest(
  service: RecommendationService,
  users: string[],
  extra: Partial<RecommendRequest>,
  reps: number,
): number {
  for (const u of users.slice(0, 50)) service.recommend({ user: u, ...extra }); // warm-up
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (const u of users) service.recommend({ user: u, ...extra });
    times.push(((performance.now() - t0) * 1000) / users.length);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** µs per request in-process: base, CaliTune, CP; and the one-off CP normalisation in ms. */
function inProcess(baseRun: string, ftRun: string, users: string[], reps: number) {
  const prepared = loadPrepared(baseRun);
  const baseSvc = new RecommendationService(loadServingModel(baseRun), prepared);
  const ftSvc = new RecommendationService(loadServingModel(ftRun), prepared);
  const t0 = performance.now();
  baseSvc.prepareCp();
  const cpStartup = performance.now() - t0;
  return {
    baseUs: timePerRequest(baseSvc, users, {}, reps),
    ftUs: timePerRequest(ftSvc, users, {}, reps),
    cpUs: timePerRequest(baseSvc, users, { method: 'cp', lambda: 0.5, m: 100 }, reps),
    cpStartup,
  };
}

/** Starts a server for `run` in a child process; resolves with its URL and the child. */
function startServer(run: string): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, run], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ url: `http://127.0.0.1:${(m as { port: number }).port}`, child }));
    child.once('exit', (code) => reject(new Error(`server for ${run} exited with ${code}`)));
  });
}

/** One load case: a GET of one user, or a POST of 100 users, cycling through the users. */
function loadCase(users: string[], kind: 'get' | 'post', query: string, body: object): CannonRequest {
  let next = 0;
  if (kind === 'get') {
    return {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/recommend?user=${users[next++ % users.length]!}${query}` }),
    };
  }
  const batches = Array.from({ length: Math.floor(users.length / 100) }, (_, b) =>
    JSON.stringify({ users: users.slice(b * 100, b * 100 + 100), ...body }),
  );
  return {
    method: 'POST',
    setupRequest: (req) => ({
      ...req,
      path: '/recommend',
      headers: { 'content-type': 'application/json' },
      body: batches[next++ % batches.length]!,
    }),
  };
}

interface Row {
  model: string;
  request: string;
  rps: number;
  p50: number;
  p99: number;
}

/** The six autocannon runs: backbone, CaliTune and CP, single-user GET and 100-user POST. */
async function httpTable(baseUrl: string, ftUrl: string, users: string[], duration: number, connections: number) {
  const cp = { query: '&method=cp&lambda=0.5&m=100', body: { method: 'cp', lambda: 0.5, m: 100 } };
  const models = [
    { model: 'backbone', url: baseUrl, query: '', body: {} },
    { model: 'CaliTune (epoch 184)', url: ftUrl, query: '', body: {} },
    { model: 'CP λ 0.5, m 100', url: baseUrl, ...cp },
  ];
  const rows: Row[] = [];
  for (const kind of ['get', 'post'] as const) {
    for (const m of models) {
      // A discarded second of the same load first: the JIT and the sockets warm up.
      await autocannon({ url: m.url, connections, duration: 1, requests: [loadCase(users, kind, m.query, m.body)] });
      const request = loadCase(users, kind, m.query, m.body);
      const r = await autocannon({ url: m.url, connections, duration, requests: [request] });
      if (r.errors > 0 || r.non2xx > 0) throw new Error(`${m.model} ${kind}: ${r.errors} errors, ${r.non2xx} non-2xx`);
      const label = kind === 'get' ? 'GET 1 user' : 'POST 100 users';
      rows.push({ model: m.model, request: label, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    }
  }
  return rows;
}

/** /health round trips (ms, sorted) while the largest allowed batch runs, and that batch's time. */
async function healthDuringLargest(url: string, users: string[]) {
  const k = 1682,
    n = Math.floor(MAX_ITEMS_PER_REQUEST / k);
  let done = false;
  const t0 = performance.now();
  const big = fetch(`${url}/recommend`, {
    method: 'POST',
    body: JSON.stringify({ users: users.slice(0, n), k }),
  }).then(async (r) => {
    const bytes = (await r.arrayBuffer()).byteLength;
    done = true;
    if (r.status !== 200) throw new Error(`largest batch answered ${r.status}`);
    return { ms: performance.now() - t0, bytes };
  });
  const latencies: number[] = [];
  while (!done) {
    const h0 = performance.now();
    await (await fetch(`${url}/health`)).arrayBuffer();
    latencies.push(performance.now() - h0);
  }
  latencies.sort((a, b) => a - b);
  return { n, k, ...(await big), latencies };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function printInProcess(r: ReturnType<typeof inProcess>, users: number, reps: number): void {
  console.log(`ML-100K, ${users} users, top-10, GEMM ${gemmBackend().name}`);
  console.log(`In-process, median of ${reps} passes over every user:`);
  console.log(`  base model            ${r.baseUs.toFixed(1)} µs/request`);
  console.log(`  CaliTune (epoch 184)  ${r.ftUs.toFixed(1)} µs/request   (${(r.ftUs / r.baseUs).toFixed(2)}× base)`);
  console.log(
    `  CP λ 0.5, m 100       ${r.cpUs.toFixed(1)} µs/request   ` +
      `(${(r.cpUs / r.baseUs).toFixed(2)}× base; + ${r.cpStartup.toFixed(0)} ms once for the global normalisation)`,
  );
}

function printHttp(rows: Row[], duration: number, connections: number): void {
  console.log(`\nHTTP on loopback (autocannon, ${connections} connections, ${duration} s per case):`);
  console.log('| model | request | requests/s | p50 ms | p99 ms |');
  console.log('|---|---|--:|--:|--:|');
  for (const r of rows) {
    console.log(`| ${r.model} | ${r.request} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`);
  }
}

async function main(): Promise<void> {
  const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
  const oracle = join(shared, 'oracle', 'ml-100k-bpr');
  const reps = flag('--reps', 5),
    duration = flag('--duration', 5),
    connections = flag('--connections', 8);
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-bench-serve-'));
  const children: ChildProcess[] = [];
  try {
    const { baseRun, ftRun } = await setUpRuns(tmp, oracle);
    const users = loadServingModel(baseRun).ds.userMap.tokens.slice(1) as string[];
    const ip = inProcess(baseRun, ftRun, users, reps);
    const base = await startServer(baseRun),
      ft = await startServer(ftRun);
    children.push(base.child, ft.child);
    await fetch(`${base.url}/recommend?user=${users[0]!}&method=cp`); // CP's normalisation, once
    const rows = await httpTable(base.url, ft.url, users, duration, connections);
    const health = await healthDuringLargest(base.url, users);
    printInProcess(ip, users.length, reps);
    printHttp(rows, duration, connections);
    const h = health.latencies;
    console.log(
      `\n/health during the largest allowed batch (${health.n} users × k ${health.k}, ` +
        `${(health.bytes / 1e6).toFixed(1)} MB in ${health.ms.toFixed(0)} ms): ${h.length} probes, ` +
        `p50 ${pct(h, 0.5).toFixed(1)} ms, p99 ${pct(h, 0.99).toFixed(1)} ms, max ${h[h.length - 1]!.toFixed(1)} ms`,
    );
    console.log(`RESULT serve_base_us ${ip.baseUs.toFixed(1)} us`);
    console.log(`RESULT serve_calitune_us ${ip.ftUs.toFixed(1)} us`);
    console.log(`RESULT serve_cp_us ${ip.cpUs.toFixed(1)} us`);
    for (const r of rows) {
      const key = `${r.model.split(' ')[0]!.toLowerCase()}_${r.request.startsWith('GET') ? 'get' : 'post100'}`;
      console.log(`RESULT serve_http_${key}_rps ${r.rps.toFixed(0)} req/s`);
    }
    console.log(`RESULT serve_health_during_largest_p99_ms ${pct(h, 0.99).toFixed(1)} ms`);
  } finally {
    for (const c of children) c.disconnect();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === CHILD_FLAG) await serveChild(process.argv[3]!);
else await main();
