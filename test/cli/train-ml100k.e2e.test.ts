/**
 * `calitune train --model bpr` with the reference's default settings on
 * MovieLens-100K reaches test NDCG@10 ≥ 0.27 (the reference: 0.2783 under its split).
 * About a minute on 2 cores (300 epochs × ~0.2 s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ML100K_INTER, requireShared } from '../helpers/shared.js';
import { runCli } from './run-cli.js';

test('train BPR with default settings on ML-100K: test NDCG@10 ≥ 0.27', { timeout: 15 * 60_000 }, (t) => {
  if (!requireShared(t, ML100K_INTER)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-bpr-'));
  try {
    const run = join(tmp, 'ml100k');
    const r = runCli(['train', '--data', ML100K_INTER, '--run', run, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    t.diagnostic(
      `test NDCG@10 ${out.test.ndcg.toFixed(5)}, valid ${out.valid.ndcg.toFixed(5)}, ` +
        `best epoch ${out.best_epoch}, ${out.epochs_run} epochs in ${out.seconds.toFixed(1)} s`,
    );
    assert.ok(out.test.ndcg >= 0.27, `test NDCG@10 ${out.test.ndcg} < 0.27`);
    const log = readFileSync(join(run, 'model', 'training_log.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(log.length, out.epochs_run);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
