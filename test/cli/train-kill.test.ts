/**
 * kill -9 during `train` on an existing run, at seeded moments, switching between two seeded
 * trainings: after every kill the backbone is the complete old or the complete new one (weights,
 * sidecar and training log of one training), base_model.json is that backbone's or refused as
 * stale naming train, evaluate reads the run; a rerun completes and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeInteractions } from '../pipeline/fixture.js';
import { modelPaths } from '../../src/store/model-files.js';
import { readBaseModelResults } from '../../src/store/base-files.js';
import { runLockPath } from '../../src/store/run-locks.js';
import { InputError } from '../../src/util/errors.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { assertClean, cliKilledAt, hasEntry, seeded, timedFromSeen } from './kill-moments.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-trainkill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The two trainings the runs switch between (seeded: each gives the same weights every time). */
const TRAININGS = [
  ['--epochs', '3', '--dim', '8', '--seed', '1'],
  ['--epochs', '5', '--dim', '8', '--seed', '2'],
];

/** What identifies a backbone: its weights, and the training log's epochs and losses (not timings). */
function backboneIdentity(run: string): { weights: string; log: string; epochsRun: unknown; valid: unknown } {
  const p = modelPaths(run);
  const weights = createHash('sha256').update(readFileSync(p.tensors)).digest('hex');
  const lines = readFileSync(p.trainingLog, 'utf8').trim().split('\n');
  const log = lines.map((l) => {
    const { epoch, loss, valid_ndcg } = JSON.parse(l) as Record<string, unknown>;
    return `${String(epoch)}:${String(loss)}:${String(valid_ndcg)}`;
  });
  const sidecar = JSON.parse(readFileSync(p.sidecar, 'utf8')) as {
    training: { epochs_run: unknown };
    metrics: { valid_ndcg10: unknown };
  };
  return { weights, log: log.join(','), epochsRun: sidecar.training.epochs_run, valid: sidecar.metrics.valid_ndcg10 };
}

/** The backbone is one of the two known ones, whole; base_model.json is its or refused as stale. */
async function assertOneBackbone(run: string, known: ReturnType<typeof backboneIdentity>[]): Promise<number> {
  const now = backboneIdentity(run);
  const which = known.findIndex((k) => JSON.stringify(k) === JSON.stringify(now));
  assert.ok(which >= 0, 'weights, sidecar and training log are of one training');
  try {
    const base = readBaseModelResults(run) as { valid: { ndcg: number } };
    assert.equal(base.valid.ndcg, now.valid, 'base_model.json is of the backbone in place');
  } catch (e) {
    assert.ok(e instanceof InputError && /stale results.*train/.test(e.message), String(e));
  }
  const ev = await runCaptured(['evaluate', '--run', run]);
  assert.equal(ev.code, 0, ev.err);
  return which;
}

test('kill -9 during train (seeded moments): one complete backbone every time; a rerun completes', async () => {
  process.env.CALITUNE_QUIET = '1';
  const data = writeInteractions(tmp);
  const run = join(tmp, 'run');
  const known: ReturnType<typeof backboneIdentity>[] = [];
  for (const [i, args] of TRAININGS.entries()) {
    const r = await runCaptured(['train', '--run', run, ...(i === 0 ? ['--data', data] : []), ...args]);
    assert.equal(r.code, 0, r.err);
    known.push(backboneIdentity(run));
  }
  assert.notEqual(known[0]!.weights, known[1]!.weights);
  const lockSeen = () => existsSync(runLockPath(run, 'run'));
  // how long a train takes once it holds the run lock: the kills are spread over that time
  const timed = await timedFromSeen(['train', '--run', run, ...TRAININGS[1]!], lockSeen);
  assert.equal(timed.code, 0);
  const rand = seeded(20261130);
  let current = 1;
  const outcomes: (number | null)[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    const target = 1 - current;
    const newModelSeen = () => hasEntry(run, '.model.tmp-');
    const moment =
      attempt % 2 === 0 ? { seen: lockSeen, ms: rand() * 0.8 * timed.ms } : { seen: newModelSeen, ms: rand() * 60 };
    const code = await cliKilledAt(['train', '--run', run, ...TRAININGS[target]!], moment.seen, Math.floor(moment.ms));
    outcomes.push(code);
    const seen = await assertOneBackbone(run, known);
    if (code === 0) assert.equal(seen, target, 'a finished train leaves its own backbone');
    current = seen;
  }
  assert.ok(outcomes.filter((c) => c === null).length >= 3, `most kills land in the work: ${outcomes.join(' ')}`);
  const rerun = await runCaptured(['train', '--run', run, ...TRAININGS[0]!]);
  assert.equal(rerun.code, 0, rerun.err);
  assert.equal(await assertOneBackbone(run, known), 0);
  assert.equal((readBaseModelResults(run) as { valid: { ndcg: number } }).valid.ndcg, known[0]!.valid);
  assertClean(run);
});
