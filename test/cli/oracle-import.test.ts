/** Importing the reference's run: the oracle's embeddings + split give test NDCG@10 0.27832 and its exact lists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';
import { readNpyMatrixI32 } from '../../src/data/npy.js';
import { runCli } from './run-cli.js';

test('import the oracle run: test NDCG@10 = 0.27832 ± 1e-5 and top-10 lists equal base_recs_test.npy', (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-oracle-'));
  try {
    const run = join(tmp, 'oracle');
    const r = runCli(['import', '--from', ORACLE_DIR, '--run', run, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(Math.abs(out.test.ndcg - 0.27832144) < 1e-5, `test NDCG ${out.test.ndcg}`);
    assert.ok(Math.abs(out.valid.ndcg - 0.23510139) < 1e-5, `valid NDCG ${out.valid.ndcg}`);
    const ours = readNpyMatrixI32(join(run, 'lists', 'base_test.npy'));
    const ref = readNpyMatrixI32(join(ORACLE_DIR, 'lists', 'base_recs_test.npy'));
    assert.deepEqual([ours.rows, ours.cols], [944, 10]);
    let differing = 0;
    for (let u = 1; u < 944; u++) {
      for (let i = 0; i < 10; i++)
        if (ours.data[u * 10 + i] !== ref.data[u * 10 + i]) {
          differing++;
          break;
        }
    }
    assert.equal(differing, 0, `${differing} users' lists differ`);
    // evaluate reproduces the same number from the saved model
    const e = runCli(['evaluate', '--run', run, '--json']);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(JSON.parse(e.stdout).test.ndcg, out.test.ndcg);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
