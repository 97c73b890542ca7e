/**
 * kill -9 during `import` onto an existing run, at seeded moments, switching between two user
 * embedding files: after every kill the backbone is one of the two whole (weights and sidecar of
 * one import), base_model.json is its or refused as stale, evaluate reads the run; a rerun
 * completes and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../src/data/npy.js';
import { modelPaths } from '../../src/store/model-files.js';
import { readBaseModelResults } from '../../src/store/base-files.js';
import { runLockPath } from '../../src/store/run-locks.js';
import { InputError } from '../../src/util/errors.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { tinyRun } from '../helpers/tiny-run.js';
import { assertClean, cliKilledAt, hasEntry, seeded, timedFromSeen } from './kill-moments.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-importkill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The backbone in place: which user embedding file the sidecar names, and the weights' SHA-256. */
function backbone(run: string): { from: string; weights: string; valid: unknown } {
  const p = modelPaths(run);
  const sidecar = JSON.parse(readFileSync(p.sidecar, 'utf8')) as {
    training: { imported_from: { user_emb: string } };
    metrics: { valid_ndcg10: unknown };
  };
  const weights = createHash('sha256').update(readFileSync(p.tensors)).digest('hex');
  return { from: sidecar.training.imported_from.user_emb, weights, valid: sidecar.metrics.valid_ndcg10 };
}

async function assertOneBackbone(run: string, known: ReturnType<typeof backbone>[]): Promise<number> {
  const now = backbone(run);
  const which = known.findIndex((k) => JSON.stringify(k) === JSON.stringify(now));
  assert.ok(which >= 0, 'weights and sidecar are of one import');
  try {
    const base = readBaseModelResults(run) as { valid: { ndcg: number } };
    assert.equal(base.valid.ndcg, now.valid, 'base_model.json is of the backbone in place');
  } catch (e) {
    assert.ok(e instanceof InputError && /stale results.*train/.test(e.message), String(e));
  }
  const ev = await runCaptured(['evaluate', '--run', run, '--k', '3']); // the tiny run has 6 items
  assert.equal(ev.code, 0, ev.err);
  return which;
}

test('kill -9 during import (seeded moments): one complete backbone every time; a rerun completes', async () => {
  process.env.CALITUNE_QUIET = '1';
  const run = await tinyRun(tmp);
  const src = join(tmp, 'src');
  const other = join(tmp, 'user_emb_other.npy');
  writeNpy(other, '<f4', [5, 2], Float32Array.from([0, 0, 0.2, 1, 1, 0.1, -0.4, 0.9, 0.8, -1]));
  const embeddings = [join(src, 'user_emb.npy'), other];
  const importArgs = (i: number) => ['import', '--from', src, '--run', run, '--user-emb', embeddings[i]!];
  const known: ReturnType<typeof backbone>[] = [];
  for (const i of [0, 1]) {
    const r = await runCaptured(importArgs(i));
    assert.equal(r.code, 0, r.err);
    known.push(backbone(run));
  }
  assert.notEqual(known[0]!.weights, known[1]!.weights);
  const lockSeen = () => existsSync(runLockPath(run, 'run'));
  const timed = await timedFromSeen(importArgs(1), lockSeen);
  assert.equal(timed.code, 0);
  const rand = seeded(20261204);
  let current = 1;
  const outcomes: (number | null)[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    const target = 1 - current;
    const tempSeen = () => hasEntry(run, '.model.tmp-');
    const moment =
      attempt % 2 === 0 ? { seen: lockSeen, ms: rand() * 0.8 * timed.ms } : { seen: tempSeen, ms: rand() * 5 };
    const code = await cliKilledAt(importArgs(target), moment.seen, Math.floor(moment.ms));
    outcomes.push(code);
    const seen = await assertOneBackbone(run, known);
    if (code === 0) assert.equal(seen, target, 'a finished import leaves its own backbone');
    current = seen;
  }
  assert.ok(outcomes.filter((c) => c === null).length >= 3, `most kills land in the work: ${outcomes.join(' ')}`);
  const rerun = await runCaptured(importArgs(0));
  assert.equal(rerun.code, 0, rerun.err);
  assert.equal(await assertOneBackbone(run, known), 0);
  assertClean(run);
});

test('evaluate after a kill between the backbone renames: it scores the old backbone, not the stored lists', async () => {
  process.env.CALITUNE_QUIET = '1';
  const run = await tinyRun(mkdtempSync(join(tmp, 'renames-')));
  // what a kill right after the first rename of the swap leaves: no RUN/model, the old set beside it
  renameSync(join(run, 'model'), join(run, '.model.old-99-1'));
  const ev = await runCaptured(['evaluate', '--run', run, '--k', '3']); // the stored lists hold 10 items a user
  assert.equal(ev.code, 0, ev.err);
  assert.doesNotMatch(ev.err, /stored base lists/);
});
