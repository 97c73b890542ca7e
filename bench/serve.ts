/**
 * bench:serve — what a served request costs: the base model's top-10, a CaliTune model's
 * top-10 (the oracle's fine-tuned c0.5 checkpoint, epoch 184) and CP re-ranking (λ 0.5,
 * m 100) of the base model, per request in-process and over HTTP on loopback, ML-100K.
 * CaliTune's claim is that its calibrated lists cost what the base model's cost.
 *
 *   node dist/bench/serve.js [--reps N]
 * Last lines: RESULT serve_base_us, serve_calitune_us, serve_cp_us, serve_http_ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { run as cli } from '../src/cli/main.js';
import { loadServingModel } from '../src/serve/serving-model.js';
import { RecommendationService, type RecommendRequest } from '../src/serve/service.js';
import { createRecommendationServer } from '../src/serve/server.js';
import { loadPrepared } from '../src/store/prepare-files.js';
import { gemmBackend } from '../src/math/gemm.js';

const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
const oracle = join(shared, 'oracle', 'ml-100k-bpr');
const repsArg = process.argv.indexOf('--reps');
const reps = repsArg >= 0 ? Math.max(1, Number(process.argv[repsArg + 1])) : 5;

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

function timePerRequest(service: RecommendationService, users: string[], extra: Partial<RecommendRequest>): number {
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

const tmp = mkdtempSync(join(tmpdir(), 'calitune-bench-serve-'));
try {
  const baseRun = join(tmp, 'base'),
    ftRun = join(tmp, 'calitune');
  await quiet(async () => {
    for (const args of [
      ['import', '--from', oracle, '--run', baseRun],
      ['prepare', '--run', baseRun, '--popularity-source', 'all'],
      [
        'import',
        '--from',
        oracle,
        '--run',
        ftRun,
        '--user-emb',
        join(oracle, 'finetuned', 'c0.5_unfrozen_epoch184_user_emb.npy'),
        '--item-emb',
        join(oracle, 'finetuned', 'c0.5_unfrozen_epoch184_item_emb.npy'),
      ],
    ]) {
      if ((await cli(args)) !== 0) throw new Error(`setup failed: calitune ${args.join(' ')}`);
    }
  });
  const baseSm = loadServingModel(baseRun);
  const prepared = loadPrepared(baseRun);
  const baseSvc = new RecommendationService(baseSm, prepared);
  const ftSvc = new RecommendationService(loadServingModel(ftRun), prepared);
  const users = baseSm.ds.userMap.tokens.slice(1) as string[];
  const t0 = performance.now();
  baseSvc.recommend({ user: users[0]!, method: 'cp' }); // global CP normalisation, once at start-up
  const cpStartup = performance.now() - t0;
  const baseUs = timePerRequest(baseSvc, users, {});
  const ftUs = timePerRequest(ftSvc, users, {});
  const cpUs = timePerRequest(baseSvc, users, { method: 'cp', lambda: 0.5, m: 100 });

  const server = await createRecommendationServer(ftSvc);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  for (const u of users.slice(0, 50)) await (await fetch(`${url}/recommend?user=${u}`)).json();
  const h0 = performance.now();
  for (const u of users) await (await fetch(`${url}/recommend?user=${u}`)).json();
  const httpMs = (performance.now() - h0) / users.length;
  await server.close();

  console.log(`ML-100K, ${users.length} users, top-10, GEMM ${gemmBackend().name}; median of ${reps} passes`);
  console.log(`  base model            ${baseUs.toFixed(1)} µs/request`);
  console.log(`  CaliTune (epoch 184)  ${ftUs.toFixed(1)} µs/request   (${(ftUs / baseUs).toFixed(2)}× base)`);
  console.log(
    `  CP λ 0.5, m 100       ${cpUs.toFixed(1)} µs/request   ` +
      `(${(cpUs / baseUs).toFixed(2)}× base; + ${cpStartup.toFixed(0)} ms once for the global normalisation)`,
  );
  console.log(`  HTTP GET (CaliTune)   ${httpMs.toFixed(3)} ms/request round trip on loopback, sequential`);
  console.log(`RESULT serve_base_us ${baseUs.toFixed(1)} us`);
  console.log(`RESULT serve_calitune_us ${ftUs.toFixed(1)} us`);
  console.log(`RESULT serve_cp_us ${cpUs.toFixed(1)} us`);
  console.log(`RESULT serve_http_ms ${httpMs.toFixed(3)} ms`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
