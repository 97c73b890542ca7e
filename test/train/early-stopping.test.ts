import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyStopping } from '../../src/train/early-stopping.js';
import { UserError } from '../../src/util/errors.js';

test('ties count as improvements; stop after patience + 1 evaluations without', () => {
  const es = new EarlyStopping(2);
  const seq = [0.1, 0.2, 0.2, 0.15, 0.19, 0.18];
  const out = seq.map((s) => es.update(s));
  assert.deepEqual(
    out.map((o) => o.improved),
    [true, true, true, false, false, false],
  );
  assert.deepEqual(
    out.map((o) => o.stop),
    [false, false, false, false, false, true],
  );
  assert.equal(es.best, 0.2);
  assert.equal(es.bestStep, 2); // the tie at index 2 became the best
});

test('patience 0 stops at the first non-improvement; NaN never improves', () => {
  const es = new EarlyStopping(0);
  assert.deepEqual(es.update(0.3), { improved: true, stop: false });
  assert.deepEqual(es.update(Number.NaN), { improved: false, stop: true });
  assert.throws(() => new EarlyStopping(-1), UserError);
});
