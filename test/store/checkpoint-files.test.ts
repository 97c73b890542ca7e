import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../src/store/checkpoint-store.js';
import { checkpointFolderEpochs, readCheckpointIndex } from '../../src/store/checkpoint-files.js';
import { readNpy } from '../../src/data/npy.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import { isUserError } from '../../src/util/errors.js';

const tensors = (x: number) => [
  { name: 'user_embedding.weight', shape: [2, 2], data: Float32Array.from([x, x + 1, x + 2, x + 3]) },
];
const lists = { valid: Int32Array.from([-1, -1, 3, 4]), test: Int32Array.from([-1, -1, 5, 6]), k: 2 };

test('checkpoint folder and index: files, contents and the keep policy', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new CheckpointStore(dir, 'last');
  store.onImprovement(1, tensors(1), { epoch: 1, validNdcg: 0.2, jsd: 0.3, tradeoff: 1 }, lists);
  store.onImprovement(3, tensors(3), { epoch: 3, validNdcg: 0.1, jsd: 0.4, tradeoff: NaN }, lists);
  store.settle(); // the store writes in the background, in order
  assert.deepEqual(readdirSync(join(dir, 'epoch_3')).sort(), [
    'metrics.json',
    'test_lists.npy',
    'valid_lists.npy',
    'weights.safetensors',
  ]);
  assert.deepEqual(
    readdirSync(join(dir, 'epoch_1')).sort(),
    ['metrics.json', 'test_lists.npy', 'valid_lists.npy'],
    "'last' dropped epoch 1's weights",
  );
  assert.deepEqual(
    [...readSafetensors(join(dir, 'epoch_3', 'weights.safetensors')).tensors.get('user_embedding.weight')!.data],
    [3, 4, 5, 6],
  );
  const tl = readNpy(join(dir, 'epoch_3', 'test_lists.npy'));
  assert.deepEqual(
    [tl.shape, [...tl.data]],
    [
      [2, 2],
      [-1, -1, 5, 6],
    ],
  );
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'epoch_3', 'metrics.json'), 'utf8')), {
    epoch: 3,
    validNdcg: 0.1,
    jsd: 0.4,
    tradeoff: null,
    tensors: [{ name: 'user_embedding.weight', shape: [2, 2] }],
  });
  // the index: the exact text JSON.stringify writes (NaN → null), key order as the fine-tuner's records
  assert.equal(
    readFileSync(join(dir, 'checkpoints.json'), 'utf8'),
    JSON.stringify(
      {
        keep: 'last',
        checkpoints: [
          { epoch: 1, validNdcg: 0.2, jsd: 0.3, tradeoff: 1, dir: 'epoch_1', weights: false },
          { epoch: 3, validNdcg: 0.1, jsd: 0.4, tradeoff: null, dir: 'epoch_3', weights: true },
        ],
      },
      null,
      2,
    ) + '\n',
  );
  assert.deepEqual(
    readCheckpointIndex(dir)!.checkpoints.map((r) => [r.epoch, r.weights]),
    [
      [1, false],
      [3, true],
    ],
  );
  assert.deepEqual(checkpointFolderEpochs(dir), [1, 3]);
  // reopened: the same records; a weights file deleted behind its back counts as gone
  rmSync(join(dir, 'epoch_3', 'weights.safetensors'));
  const again = new CheckpointStore(dir, 'last');
  assert.deepEqual(
    again.records().map((r) => [r.epoch, r.weights]),
    [
      [1, false],
      [3, false],
    ],
  );
  assert.equal(again.weightsPath(3), undefined);
  again.rollbackTo(1);
  again.settle();
  assert.ok(!existsSync(join(dir, 'epoch_3')));
  assert.deepEqual(
    readCheckpointIndex(dir)!.checkpoints.map((r) => r.epoch),
    [1],
  );
});

test('checkpoint index: none, corrupt JSON, and bad records are clear errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(readCheckpointIndex(dir), undefined);
  const idx = join(dir, 'checkpoints.json');
  const rec = { epoch: 2, validNdcg: 0.2, jsd: 0.1, tradeoff: 1, dir: 'epoch_2', weights: true };
  const cases: [string, RegExp][] = [
    ['{', /checkpoints\.json: not valid JSON /],
    ['5', /checkpoints\.json: field \(top level\): expected an object, got 5/],
    [JSON.stringify({ checkpoints: 3 }), /checkpoints\.json: field checkpoints: expected a list, got 3/],
    [
      JSON.stringify({ checkpoints: [{ ...rec, epoch: 'two' }] }),
      /field checkpoints\[0\]\.epoch: expected a finite number, got "two"/,
    ],
    [
      JSON.stringify({ checkpoints: [{ ...rec, epoch: -1 }] }),
      /field checkpoints\[0\]\.epoch: expected a number ≥ 0, got -1/,
    ],
    [
      JSON.stringify({ checkpoints: [rec, { ...rec, dir: '../x' }] }),
      /field checkpoints\[1\]\.dir: expected a folder name epoch_N, got "\.\.\/x"/,
    ],
    [
      JSON.stringify({ checkpoints: [{ ...rec, weights: 'yes' }] }),
      /field checkpoints\[0\]\.weights: expected true or false, got "yes"/,
    ],
    [
      JSON.stringify({ checkpoints: [{ ...rec, jsd: 'NaN' }] }),
      /field checkpoints\[0\]\.jsd: expected a finite number, got "NaN"/,
    ],
  ];
  for (const [text, re] of cases) {
    writeFileSync(idx, text);
    assert.throws(
      () => readCheckpointIndex(dir),
      (e) => isUserError(e) && re.test((e as Error).message),
      text,
    );
    assert.throws(
      () => new CheckpointStore(dir),
      (e) => isUserError(e),
      text,
    );
  }
  assert.throws(
    () => new CheckpointStore(dir, 'some' as 'all'),
    (e) => isUserError(e) && /keep policy must be one of all, frontier, last/.test((e as Error).message),
  );
});
