import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BprModel } from '../../src/models/bpr.js';
import { createModel, knownModelTypes, loadModel, saveModel } from '../../src/models/model-file.js';
import { readSafetensors, writeSafetensors } from '../../src/models/safetensors.js';
import { UserError } from '../../src/util/errors.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mf-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const idMaps = {
  user: { field: 'user_id', tokens: ['[PAD]', 'u9', 'u3'] },
  item: { field: 'item_id', tokens: ['[PAD]', 'a', 'b', 'c'] },
};

test('save → load round trip with sidecar', () =>
  withDir((dir) => {
    const m = new BprModel({ nUsers: 3, nItems: 4, dim: 5 }, 11);
    saveModel(dir, m, {
      idMaps,
      training: { lr: 1e-4, epochs: 3 },
      dataFingerprint: 'sha256:abc',
      metrics: { valid_ndcg10: 0.25 },
    });
    assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'model.safetensors']);
    const side = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    assert.equal(side.format_version, 1);
    assert.equal(side.model_type, 'bpr');
    assert.deepEqual(side.sizes, { nUsers: 3, nItems: 4, dim: 5 });
    assert.deepEqual(side.tensors, { 'user_embedding.weight': [3, 5], 'item_embedding.weight': [4, 5] });
    assert.deepEqual(side.id_maps, idMaps);
    assert.equal(side.data_fingerprint, 'sha256:abc');
    const st = readSafetensors(join(dir, 'model.safetensors'));
    assert.deepEqual(st.tensors.get('item_embedding.weight')!.shape, [4, 5]);
    const { model, sidecar } = loadModel(dir, 'bpr');
    assert.equal(model.type, 'bpr');
    assert.deepEqual(model.parameters()[0]!.value, m.userEmb.value);
    assert.deepEqual(model.parameters()[1]!.value, m.itemEmb.value);
    assert.deepEqual(sidecar.metrics, { valid_ndcg10: 0.25 });
    assert.deepEqual(loadModel(dir).model.scoreAll(new Int32Array([1, 2])), m.scoreAll(new Int32Array([1, 2])));
  }));

test('wrong requested type, unknown type, shape mismatches → UserError', () =>
  withDir((dir) => {
    const m = new BprModel({ nUsers: 3, nItems: 4, dim: 2 }, 1);
    saveModel(dir, m);
    assert.throws(
      () => loadModel(dir, 'multivae'),
      (e: unknown) => e instanceof UserError && /unknown model "multivae" \(known models: bpr/.test(e.message),
    );
    assert.throws(() => createModel('nope', {}), /unknown model "nope" \(known models: bpr\)/);
    assert.ok(knownModelTypes().includes('bpr'));
    assert.throws(() => createModel('bpr', { nUsers: 3, nItems: 0, dim: 2 }), /nItems must be a positive integer/);
    // sidecar says dmf
    const sidePath = join(dir, 'model.json');
    const side = JSON.parse(readFileSync(sidePath, 'utf8'));
    writeFileSync(sidePath, JSON.stringify({ ...side, model_type: 'dmf' }));
    assert.throws(() => loadModel(dir, 'bpr'), /unknown model "dmf"|is a dmf model, not bpr/);
    // sizes disagree with the sidecar's tensor shapes
    writeFileSync(sidePath, JSON.stringify({ ...side, sizes: { nUsers: 3, nItems: 4, dim: 3 } }));
    assert.throws(() => loadModel(dir, 'bpr'), /sidecar shape of user_embedding.weight is \[3, 2\]/);
    // tensor file disagrees with the sidecar
    writeFileSync(sidePath, JSON.stringify(side));
    writeSafetensors(join(dir, 'model.safetensors'), {
      'user_embedding.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) },
      'item_embedding.weight': { dtype: 'F32', shape: [4, 2], data: new Float32Array(8) },
    });
    assert.throws(() => loadModel(dir, 'bpr'), /model\.safetensors: tensor user_embedding.weight has shape \[2, 3\]/);
    rmSync(join(dir, 'model.safetensors'));
    assert.throws(() => loadModel(dir, 'bpr'), /model\.safetensors: file not found/);
    rmSync(sidePath);
    assert.throws(() => loadModel(dir, 'bpr'), /model\.json: no saved model here/);
  }));

test('a sidecar of another registered type is refused with both names', () =>
  withDir((dir) => {
    saveModel(dir, new BprModel({ nUsers: 2, nItems: 3, dim: 2 }, 1));
    const sidePath = join(dir, 'model.json');
    const side = JSON.parse(readFileSync(sidePath, 'utf8'));
    writeFileSync(sidePath, JSON.stringify({ ...side, model_type: 'bpr' }));
    assert.doesNotThrow(() => loadModel(dir, 'bpr'));
    // expected type check happens before construction: use a fake registered type
    writeFileSync(sidePath, JSON.stringify({ ...side, model_type: 'other' }));
    assert.throws(() => loadModel(dir, 'bpr'), /the saved model is a other model, not bpr/);
  }));

test('a sidecar field of the wrong type names model.json and the field', () =>
  withDir((dir) => {
    saveModel(dir, new BprModel({ nUsers: 3, nItems: 4, dim: 2 }, 1), { idMaps });
    const path = join(dir, 'model.json');
    const good = readFileSync(path, 'utf8');
    const cases: [(s: Record<string, unknown>) => void, string][] = [
      [(s) => delete s.model_type, 'field model_type: expected a string, got nothing'],
      [(s) => (s.sizes = 3), 'field sizes: expected an object, got 3'],
      [
        (s) => ((s.tensors as Record<string, unknown>)['user_embedding.weight'] = [3, 'two']),
        'field tensors["user_embedding.weight"][1]: expected a finite number, got "two"',
      ],
      [
        (s) => ((s.id_maps as { item: { tokens: unknown } }).item.tokens = 'abc'),
        'field id_maps.item.tokens: expected a list, got "abc"',
      ],
    ];
    for (const [damage, message] of cases) {
      const s = JSON.parse(good) as Record<string, unknown>;
      damage(s);
      writeFileSync(path, JSON.stringify(s));
      assert.throws(
        () => loadModel(dir),
        (e: unknown) => e instanceof UserError && e.message === `${path}: ${message}`,
        message,
      );
    }
  }));
