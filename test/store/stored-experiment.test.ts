import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExperiment } from '../../src/store/stored-experiment.js';
import { writeNpy } from '../../src/data/npy.js';
import { isUserError } from '../../src/util/errors.js';

test('findExperiment: checkpoint lists, recorded metrics from checkpoints.json overridden by the epoch log', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-stored-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = join(tmp, 'run');
  const E = join(R, 'experiments', 'x');
  const C = join(E, 'checkpoints');
  const l = new Int32Array(6).fill(-1);
  for (const e of [2, 5]) {
    writeNpy(join(C, `epoch_${e}`, 'test_lists.npy'), '<i4', [2, 3], l);
    writeNpy(join(C, `epoch_${e}`, 'valid_lists.npy'), '<i4', [2, 3], l);
  }
  writeNpy(join(C, 'epoch_7', 'test_lists.npy'), '<i4', [2, 3], l); // test lists only
  mkdirSync(join(C, 'epoch_9')); // an unfinished folder without lists: not a stored epoch
  writeFileSync(
    join(C, 'checkpoints.json'),
    JSON.stringify({
      keep: 'frontier',
      checkpoints: [
        { epoch: 2, validNdcg: 0.2, jsd: 0.1, tradeoff: 1.1, dir: 'epoch_2', weights: false },
        { epoch: 5, validNdcg: 0.22, jsd: 0.12, tradeoff: null, dir: 'epoch_5', weights: true },
      ],
    }),
  );
  writeFileSync(
    join(E, 'log.jsonl'),
    [
      JSON.stringify({ epoch: 0, valid_ndcg: 0.3, jsd: 0.2, tradeoff: 1 }),
      JSON.stringify({ epoch: 5, valid_ndcg: 0.23, jsd: 0.11, tradeoff: 1.2 }),
      JSON.stringify({ epoch: 7, valid_ndcg: 0.25, jsd: 0.12, tradeoff: null }),
      '{"epoch": 8, "valid_nd', // torn last line
    ].join('\n'),
  );
  writeFileSync(join(E, 'summary.json'), JSON.stringify({ targetMetric: 'ndcg', epochsRun: 8 }));
  const x = findExperiment(R, 'x');
  assert.equal(x.layout, 'checkpoints');
  assert.equal(x.dir, E);
  assert.equal(x.logFile, join(E, 'log.jsonl'));
  assert.deepEqual(x.summary, { targetMetric: 'ndcg', epochsRun: 8 });
  assert.deepEqual(
    x.epochs.map((e) => e.epoch),
    [2, 5, 7],
  );
  assert.deepEqual(x.epochs[0]!.recorded, { valid_ndcg: 0.2, jsd: 0.1, tradeoff: 1.1 });
  assert.deepEqual(
    x.epochs[1]!.recorded,
    { valid_ndcg: 0.23, jsd: 0.11, tradeoff: 1.2 },
    'the log wins over the index',
  );
  assert.deepEqual(x.epochs[2]!.recorded, { valid_ndcg: 0.25, jsd: 0.12, tradeoff: null });
  assert.equal(x.epochs[2]!.lists.test, join(C, 'epoch_7', 'test_lists.npy'));
  assert.equal(x.epochs[2]!.lists.valid, undefined);
});

test('findExperiment: no lists yet, bad names, missing experiments, a malformed log', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-stored-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const R = join(tmp, 'run');
  mkdirSync(join(R, 'experiments', 'empty'), { recursive: true });
  const x = findExperiment(R, 'empty');
  assert.equal(x.layout, 'none');
  assert.deepEqual(x.epochs, []);
  assert.equal(x.logFile, undefined);
  assert.throws(
    () => findExperiment(R, 'nope'),
    (e) => isUserError(e) && /no experiment 'nope' in .*experiments \(found: empty\)/.test((e as Error).message),
  );
  for (const bad of ['../x', 'base', 'base_model', '.']) {
    assert.throws(
      () => findExperiment(R, bad),
      (e) => isUserError(e) && /experiment name/.test((e as Error).message),
      bad,
    );
  }
  writeFileSync(
    join(R, 'experiments', 'empty', 'log.jsonl'),
    '{"epoch": 0, "valid_ndcg": 0.1, "jsd": 0.2}\nnot json\n',
  );
  assert.throws(
    () => findExperiment(R, 'empty'),
    (e) => isUserError(e) && /empty\/log\.jsonl:2: not a JSON line/.test((e as Error).message),
  );
});
