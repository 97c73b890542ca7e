/**
 * bench:queue — what the Redis queue costs a grid: the same grid on ML-100K (the oracle's BPR
 * backbone; examples/ml-100k-grid.yaml's 12 points, each `--epochs` epochs, default 30) run
 * side by side in one invocation, first locally with 2 worker processes, then through the queue
 * with 2 `calitune worker` processes (1 BLAS thread each, as the local grid's 2 workers get on
 * 2 cores). CP is computed before either timing, so both time the points only; the workers are
 * started (and connected) before the coordinator's clock starts, as on a cluster where they wait.
 * Every process stays in this process's session: with the kernel's autogroup scheduling, a
 * session of its own gets a CPU share of its own on a busy machine (a 2× head start for the
 * queue in a first version of this benchmark, on a machine at load 20).
 *
 * Per-job overhead, from the jobs' own timestamps in Redis: enqueue → start for the jobs a free
 * worker took at once, and the hand-off on one worker (its previous job finished → its next
 * started). Both modes' results are compared (timings aside): they must be identical.
 *
 * With `--rounds N` (default 2) both modes run N times in ABBA order (local, queue, queue,
 * local, …) on fresh copies of one prepared run, and the sums are compared.
 *
 *   node dist/bench/queue.js [--epochs 30] [--points 12|4] [--rounds 2] [--oracle DIR]
 * Last lines: RESULT grid_local_s, grid_queue_s, queue_overhead_pct, queue_enqueue_to_start_ms,
 * queue_handoff_ms.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { parse, stringify } from 'yaml';
import { parseQueueUrl, POINT_QUEUE } from '../src/experiments/queue-connection.js';
import { runCli } from '../test/cli/run-cli.js';
import { startRedis } from '../test/helpers/redis.js';
import { registryContent, registryRows, resultsFiles, startCli, stopWorker } from '../test/pipeline/queue-fixture.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
const oracle = arg('oracle', join(shared, 'oracle', 'ml-100k-bpr'));
const epochs = Number(arg('epochs', '30'));
const points = Number(arg('points', '12'));
const rounds = Number(arg('rounds', '2'));
const tmp = mkdtempSync(join(tmpdir(), 'calitune-bench-queue-'));

function cli(args: string[]): string {
  const r = runCli(args);
  if (r.status !== 0) throw new Error(`calitune ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** An imported, prepared run with CP computed: what every timed grid starts from (a copy of it). */
function prepareRun(name: string): string {
  const run = join(tmp, name);
  cli(['import', '--from', oracle, '--run', run]);
  cli(['prepare', '--run', run, '--popularity-source', 'all']);
  cli(['postprocess', '--run', run]);
  return run;
}

/** examples/ml-100k-grid.yaml with its base config inline and `epochs` epochs (4 points: α 0 / 1, k 50). */
function gridFile(): string {
  const base = parse(readFileSync('examples/ml-100k-finetune.yaml', 'utf8')) as Record<string, unknown>;
  const grid = (parse(readFileSync('examples/ml-100k-grid.yaml', 'utf8')) as { grid: Record<string, unknown[]> }).grid;
  if (points === 4) Object.assign(grid, { combined_mode_alpha: [0.0, 1.0], k_candidates: [50] });
  const file = join(tmp, 'grid.yaml');
  writeFileSync(file, stringify({ base: { ...base, num_epochs: epochs }, grid, keep: 'frontier' }));
  return file;
}

interface JobTimes {
  timestamp: number;
  processedOn: number;
  finishedOn: number;
  worker: string;
}

/** Enqueue → start of the jobs taken at once, and the hand-off gaps on each worker. */
function overheads(jobs: JobTimes[]): { enqueueToStart: number[]; handoff: number[] } {
  const sorted = [...jobs].sort((a, b) => a.processedOn - b.processedOn);
  const enqueueToStart: number[] = [];
  const handoff: number[] = [];
  const lastEnd = new Map<string, number>();
  for (const j of sorted) {
    const prev = lastEnd.get(j.worker);
    if (prev === undefined) enqueueToStart.push(j.processedOn - j.timestamp);
    else handoff.push(j.processedOn - prev);
    lastEnd.set(j.worker, j.finishedOn);
  }
  return { enqueueToStart, handoff };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/** Runs the grid locally on a fresh copy of the template run; returns the run and its wall time. */
function timeLocal(template: string, grid: string, round: number): { run: string; secs: number } {
  const run = join(tmp, `local-${round}`);
  cpSync(template, run, { recursive: true });
  const t = performance.now();
  cli(['grid', '--run', run, '--grid', grid, '--workers', '2']);
  return { run, secs: (performance.now() - t) / 1000 };
}

/** Runs the grid through the queue on a fresh copy of the template run, with 2 workers started beforehand. */
async function timeQueue(template: string, grid: string, round: number) {
  const run = join(tmp, `queue-${round}`);
  cpSync(template, run, { recursive: true });
  const redis = await startRedis();
  // In this process's session, as the local grid's workers are (see startCli on autogroup scheduling).
  const workers = [0, 1].map(() => startCli(['worker', '--queue', redis.url, '--threads', '1'], { detached: false }));
  const queue = new Queue(POINT_QUEUE, { connection: parseQueueUrl(redis.url).connection });
  try {
    while (!workers.every((w) => w.out().includes(' on the queue '))) await new Promise((r) => setTimeout(r, 20));
    const t = performance.now();
    const c = await startCli(['grid', '--run', run, '--grid', grid, '--queue', redis.url], { detached: false }).exited;
    if (c.code !== 0) throw new Error(`grid --queue: ${c.stderr}`);
    const secs = (performance.now() - t) / 1000;
    const jobs = (await queue.getJobs(['completed'])).map((j) => ({
      timestamp: j.timestamp,
      processedOn: j.processedOn!,
      finishedOn: j.finishedOn!,
      worker: (j.returnvalue as { worker: string }).worker,
    }));
    return { run, secs, ...overheads(jobs) };
  } finally {
    await queue.close();
    for (const w of workers) await stopWorker(w);
    await redis.stop();
  }
}

/** Mean seconds per point as the registry recorded them (the points' own wall time). */
function pointSeconds(run: string): number {
  return mean(registryRows<{ seconds: number }>(run, 'SELECT seconds FROM points').map((r) => r.seconds));
}

const load = () => loadavg()[0]!.toFixed(2);

async function main(): Promise<void> {
  console.log(`oracle: ${oracle}; ${points} points × ${epochs} epochs, ${rounds} round(s); load average ${load()}`);
  const grid = gridFile();
  const template = prepareRun('template');
  let localS = 0,
    queueS = 0,
    same = true;
  const enqueueToStart: number[] = [],
    handoff: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    // ABBA: the order alternates, so that a drifting machine load favours neither mode.
    const order = r % 2 === 1 ? ['local', 'queue'] : ['queue', 'local'];
    const runs: Record<string, string> = {};
    for (const mode of order) {
      if (mode === 'local') {
        const l = timeLocal(template, grid, r);
        localS += l.secs;
        runs.local = l.run;
        console.log(
          `round ${r} local, 2 worker processes: ${l.secs.toFixed(1)} s ` +
            `(${pointSeconds(l.run).toFixed(1)} s per point; load average ${load()})`,
        );
      } else {
        const q = await timeQueue(template, grid, r);
        queueS += q.secs;
        runs.queue = q.run;
        enqueueToStart.push(...q.enqueueToStart);
        handoff.push(...q.handoff);
        console.log(
          `round ${r} queue, 2 workers × 1 thread: ${q.secs.toFixed(1)} s ` +
            `(${pointSeconds(q.run).toFixed(1)} s per point; load average ${load()})`,
        );
      }
    }
    try {
      assert.deepEqual(resultsFiles(runs.queue!), resultsFiles(runs.local!));
      assert.deepEqual(registryContent(runs.queue!), registryContent(runs.local!));
    } catch {
      same = false;
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  const overhead = ((queueS - localS) / localS) * 100;
  console.log(`results and registry identical (timings aside): ${same ? 'yes' : 'NO'}`);
  console.log(
    `enqueue → start (jobs taken at once, n=${enqueueToStart.length}): ${mean(enqueueToStart).toFixed(1)} ms; ` +
      `hand-off on a worker (n=${handoff.length}): ${mean(handoff).toFixed(1)} ms`,
  );
  console.log(`RESULT grid_local_s ${(localS / rounds).toFixed(2)} s`);
  console.log(`RESULT grid_queue_s ${(queueS / rounds).toFixed(2)} s`);
  console.log(`RESULT queue_overhead_pct ${overhead.toFixed(2)} %`);
  console.log(`RESULT queue_enqueue_to_start_ms ${mean(enqueueToStart).toFixed(1)} ms`);
  console.log(`RESULT queue_handoff_ms ${mean(handoff).toFixed(1)} ms`);
}

await main();
