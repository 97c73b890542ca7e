/** schemaProblem: the first problem as `field PATH: expected …, got …`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  fieldPath,
  finiteNumber,
  finiteOrNull,
  quoteValue,
  schemaProblem,
  wholeNumber,
} from '../../src/util/json-schema.js';

test('fieldPath: dotted keys, [i] for indices, quoted odd keys', () => {
  assert.equal(fieldPath([]), '(top level)');
  assert.equal(fieldPath(['a', 'b', 3]), 'a.b[3]');
  assert.equal(fieldPath(['postprocessed', '0.5', 'ndcg']), 'postprocessed["0.5"].ndcg');
});

test('quoteValue: JSON, nothing for a missing value, long values cut', () => {
  assert.equal(quoteValue('NaN'), '"NaN"');
  assert.equal(quoteValue(undefined), 'nothing');
  assert.equal(quoteValue('x'.repeat(500)).length, 80);
});

test('schemaProblem: undefined when valid, else the deepest field with what was expected', () => {
  const s = z.object({
    a: z.object({ b: z.array(finiteNumber) }),
    n: finiteOrNull.optional(),
    w: wholeNumber.optional(),
    e: z.enum(['test', 'valid']).optional(),
  });
  assert.equal(schemaProblem(s, { a: { b: [1, 2] }, n: null }), undefined);
  assert.equal(schemaProblem(s, { a: { b: [1, 2, 3, 'NaN'] } }), 'field a.b[3]: expected a finite number, got "NaN"');
  assert.equal(schemaProblem(s, { a: {} }), 'field a.b: expected a list, got nothing');
  assert.equal(schemaProblem(s, { a: { b: [] }, w: 1.5 }), 'field w: expected a whole number, got 1.5');
  assert.equal(schemaProblem(s, { a: { b: [] }, w: -2 }), 'field w: expected a number ≥ 0, got -2');
  assert.equal(schemaProblem(s, { a: { b: [] }, e: 'x' }), 'field e: expected one of "test", "valid", got "x"');
  assert.equal(schemaProblem(s, [1]), 'field (top level): expected an object, got [1]');
  const u = z.union([z.literal('none'), z.object({ k: finiteNumber })]);
  assert.equal(schemaProblem(u, { k: 'x' }), 'field k: expected a finite number, got "x"');
});
