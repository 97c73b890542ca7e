/**
 * CaliTune fine-tuning against the reference oracle (../shared/oracle/ml-100k-bpr): its BPR
 * embeddings and split, popularity counted on the whole file (`prepare --popularity-source
 * all`), the reference's ML-100K configuration (k 50, lr 1e-4, batch 16, seed 111). Batch order
 * is random in both implementations, so the checks are tolerances:
 *   - c0.5 frozen, epoch 100: valid JSD@10 within ±0.015 and valid NDCG@10 within ±0.007 of the
 *     oracle's epoch-100 values (calitune_per_epoch.tsv: 0.1540 / 0.2266);
 *   - c1.0 unfrozen, epoch 50: the same tolerances (0.0853 / 0.1774);
 *   - c0.0 frozen (accuracy term only): the checkpoint whose validation JSD is closest to 0.105
 *     has test NDCG@10 ≥ 0.262 (oracle 0.2675 at epoch 355; CP at that JSD 0.259).
 * The first epoch of every run also checks the validation callback against the oracle's
 * epoch-1 numbers' neighbourhood, and epoch 0 against the backbone's exact values.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';
import { runCli } from '../cli/run-cli.js';
import { readEpochLog } from '../../src/store/epoch-log.js';
import { loadRunData } from '../../src/store/run.js';
import { readNpy } from '../../src/data/npy.js';
import { ndcgAtK } from '../../src/eval/ndcg.js';

const CONFIG = join(process.cwd(), 'examples', 'ml-100k-finetune.yaml');
let tmp = '';
let run = '';
let ready = false;

/** Oracle per-epoch rows: run → epoch → {validNdcg, jsd, testNdcg}. */
function oracleEpochs(): Map<string, Map<number, { validNdcg: number; jsd: number; testNdcg: number }>> {
  const text = readFileSync(join(ORACLE_DIR, 'calitune_per_epoch.tsv'), 'utf8').trim().split('\n');
  const head = text[0]!.split('\t');
  const col = (n: string) => head.indexOf(n);
  const out = new Map<string, Map<number, { validNdcg: number; jsd: number; testNdcg: number }>>();
  for (const line of text.slice(1)) {
    const f = line.split('\t');
    const r = f[col('run')]!;
    if (!out.has(r)) out.set(r, new Map());
    out.get(r)!.set(Number(f[col('epoch')]), {
      validNdcg: Number(f[col('valid_ndcg')]),
      jsd: Number(f[col('jsd')]),
      testNdcg: Number(f[col('test_ndcg')]),
    });
  }
  return out;
}

before(() => {
  if (!existsSync(ORACLE_DIR)) return; // each test then skips (locally) or fails (CI) via requireShared
  tmp = mkdtempSync(join(tmpdir(), 'calitune-oracle-ft-'));
  run = join(tmp, 'oracle');
  const imp = runCli(['import', '--from', ORACLE_DIR, '--run', run]);
  assert.equal(imp.status, 0, imp.stderr);
  const prep = runCli(['prepare', '--run', run, '--popularity-source', 'all']);
  assert.equal(prep.status, 0, prep.stderr);
  ready = true;
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function finetune(
  name: string,
  sets: string[],
  extra: string[] = [],
): { summary: Record<string, unknown>; dir: string; seconds: number } {
  const t0 = performance.now();
  const r = runCli([
    'finetune',
    '--run',
    run,
    '--config',
    CONFIG,
    '--name',
    name,
    '--json',
    ...sets.flatMap((s) => ['--set', s]),
    ...extra,
  ]);
  assert.equal(r.status, 0, r.stderr);
  return {
    summary: JSON.parse(r.stdout),
    dir: join(run, 'experiments', name),
    seconds: (performance.now() - t0) / 1000,
  };
}

function checkEpoch(name: string, dir: string, oracleRun: string, epoch: number): void {
  const log = readEpochLog(join(dir, 'log.jsonl'));
  const ours = log.find((l) => l.epoch === epoch);
  assert.ok(ours, `${name}: no epoch ${epoch} in the log (stopped at ${log[log.length - 1]?.epoch})`);
  const ref = oracleEpochs().get(oracleRun)!.get(epoch)!;
  // epoch 0 = the backbone: valid NDCG 0.23510 (train masked), JSD 0.23925 (test-time lists)
  assert.ok(Math.abs(log[0]!.valid_ndcg - 0.2351014) < 1e-6, `epoch 0 valid NDCG ${log[0]!.valid_ndcg}`);
  assert.ok(Math.abs(log[0]!.jsd - 0.2392499) < 1e-6, `epoch 0 JSD ${log[0]!.jsd}`);
  const msg =
    `${name} epoch ${epoch}: ours NDCG ${ours.valid_ndcg.toFixed(5)} JSD ${ours.jsd.toFixed(5)}, ` +
    `oracle ${ref.validNdcg.toFixed(5)} / ${ref.jsd.toFixed(5)}`;
  console.log(msg);
  assert.ok(Math.abs(ours.jsd - ref.jsd) <= 0.015, msg);
  assert.ok(Math.abs(ours.valid_ndcg - ref.validNdcg) <= 0.007, msg);
}

test('oracle c0.5 frozen: epoch 100 within ±0.015 JSD / ±0.007 NDCG of the reference', (t) => {
  if (!requireShared(t, ORACLE_DIR) || !ready) return;
  const { dir, seconds } = finetune('c0.5_frozen', [
    'combined_mode_alpha=0.5',
    'freeze_item_emb=true',
    'num_epochs=100',
  ]);
  console.log(`c0.5 frozen: 100 epochs in ${seconds.toFixed(1)} s`);
  checkEpoch('c0.5_frozen', dir, 'c0.5_frozen', 100);
});

test('oracle c1.0 unfrozen: epoch 50 within ±0.015 JSD / ±0.007 NDCG of the reference', (t) => {
  if (!requireShared(t, ORACLE_DIR) || !ready) return;
  const { dir, seconds } = finetune('c1.0_unfrozen', [
    'combined_mode_alpha=1.0',
    'freeze_item_emb=false',
    'num_epochs=50',
    // The reference has no collapse guard; this run falls to ~0.76 of epoch 0's valid NDCG by epoch 50.
    'accuracy_floor=0',
  ]);
  console.log(`c1.0 unfrozen: 50 epochs in ${seconds.toFixed(1)} s`);
  checkEpoch('c1.0_unfrozen', dir, 'c1.0_unfrozen', 50);
});

test('oracle c0.0 frozen: the checkpoint with valid JSD closest to 0.105 has test NDCG@10 ≥ 0.262', (t) => {
  if (!requireShared(t, ORACLE_DIR) || !ready) return;
  // The reference's run, cut at 400 epochs (JSD 0.105 is crossed around epoch 350; the oracle
  // reached it at 355), patience 25, every improvement checkpointed.
  const { dir, summary, seconds } = finetune(
    'c0.0_frozen',
    ['combined_mode_alpha=0.0', 'freeze_item_emb=true', 'num_epochs=400'],
    ['--keep', 'last'],
  );
  const idx = JSON.parse(readFileSync(join(dir, 'checkpoints', 'checkpoints.json'), 'utf8')) as {
    checkpoints: { epoch: number; jsd: number; validNdcg: number; dir: string }[];
  };
  const best = idx.checkpoints.reduce((a, b) => (Math.abs(b.jsd - 0.105) < Math.abs(a.jsd - 0.105) ? b : a));
  const { ds } = loadRunData(run);
  const lists = readNpy(join(dir, 'checkpoints', best.dir, 'test_lists.npy'));
  assert.deepEqual(lists.shape, [ds.nUsers, 10]);
  let sum = 0;
  for (let u = 1; u < ds.nUsers; u++)
    sum += ndcgAtK(lists.data as Int32Array, u * 10, 10, ds.test.indices, ds.test.indptr[u]!, ds.test.indptr[u + 1]!);
  const testNdcg = sum / (ds.nUsers - 1);
  console.log(
    `c0.0 frozen: ${String(summary.epochsRun)} epochs (${String(summary.stopReason)}) in ${seconds.toFixed(1)} s; ` +
      `checkpoint epoch ${best.epoch}: valid JSD ${best.jsd.toFixed(5)}, valid NDCG ${best.validNdcg.toFixed(5)}, ` +
      `test NDCG ${testNdcg.toFixed(5)} (oracle 0.2675 at epoch 355)`,
  );
  assert.ok(Math.abs(best.jsd - 0.105) < 0.005, `no checkpoint near JSD 0.105 (closest ${best.jsd})`);
  assert.ok(testNdcg >= 0.262, `test NDCG@10 ${testNdcg}`);
});
