import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { fieldHelp, formatDefault, helpLine, kebabCase, placeholder, readFlag } from '../../src/cli/schema-flags.js';
import { fieldsOf } from '../../src/train/configs/fields.js';

const schema = z
  .object({
    hiddenSizes: z
      .array(z.number().int().min(1))
      .min(1)
      .describe('layer sizes; `max_steps` bounds them')
      .default([8, 4]),
    learningRate: z.number().positive().finite().describe('step size').default(1e-4),
    max_steps: z.number().int().min(0).describe('steps').default(10),
    ratio: z.number().min(0).lt(1).describe('a ratio'),
    mode: z.enum(['fast', 'exact']).describe('how').default('exact'),
  })
  .strict();

test('fields of a small schema: kind, default, bounds and rule', () => {
  const f = fieldsOf(schema);
  assert.deepEqual(
    f.map((x) => [x.key, x.kind, x.default, x.rule]),
    [
      ['hiddenSizes', 'size list', [8, 4], 'a non-empty list of positive integers'],
      ['learningRate', 'number', 1e-4, 'a positive number'],
      ['max_steps', 'integer', 10, 'an integer ≥ 0'],
      ['ratio', 'number', undefined, 'a number in [0, 1)'],
      ['mode', 'choice', 'exact', "one of 'fast', 'exact'"],
    ],
  );
  assert.deepEqual([f[0]!.summary, f[0]!.note], ['layer sizes', '`max_steps` bounds them']);
  assert.deepEqual(f[3]!.bounds, [
    { op: '≥', value: 0 },
    { op: '<', value: 1 },
  ]);
});

test('flag names, placeholders, defaults and help lines', () => {
  const f = fieldsOf(schema);
  assert.deepEqual(
    f.map((x) => kebabCase(x.key)),
    ['hidden-sizes', 'learning-rate', 'max-steps', 'ratio', 'mode'],
  );
  assert.deepEqual(f.map(placeholder), ['A,B,…', 'X', 'N', 'X', 'fast|exact']);
  assert.deepEqual(
    [formatDefault(1e-4), formatDefault(1e-3), formatDefault(0.5), formatDefault(200000), formatDefault([256, 256])],
    ['1e-4', '1e-3', '0.5', '200000', '256,256'],
  );
  const texts = f.map((x) => fieldHelp(x, kebabCase));
  assert.deepEqual(texts, [
    'layer sizes (default 8,4; --max-steps bounds them)',
    'step size (default 1e-4)',
    'steps (default 10)',
    'a ratio',
    'how (default exact)',
  ]);
  assert.equal(fieldHelp(f[1]!, kebabCase, 'default 1e-4; b 1e-3'), 'step size (default 1e-4; b 1e-3)');
  assert.equal(helpLine('--max-steps N', texts[2]!), '  --max-steps N        steps (default 10)');
  assert.equal(helpLine('--a-very-long-flag-name N', 'x'), '  --a-very-long-flag-name N  x');
  const long = helpLine('--n N', Array.from({ length: 16 }, (_, i) => `word${i}`).join(' '));
  const lines = long.split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0], `  --n N                ${Array.from({ length: 15 }, (_, i) => `word${i}`).join(' ')}`);
  assert.equal(lines[1], `${' '.repeat(23)}word15`);
});

test('flag values: parsed by kind, bounds checked with messages naming the flag', () => {
  const [sizes, lr, steps, ratio, mode] = fieldsOf(schema) as [never, never, never, never, never];
  assert.deepEqual(readFlag({ 'hidden-sizes': '16, 8' }, 'hidden-sizes', sizes), [16, 8]);
  assert.equal(readFlag({}, 'hidden-sizes', sizes), undefined);
  assert.equal(readFlag({ 'learning-rate': '2e-3' }, 'learning-rate', lr), 2e-3);
  assert.equal(readFlag({ 'max-steps': '0' }, 'max-steps', steps), 0);
  assert.equal(readFlag({ mode: 'fast' }, 'mode', mode), 'fast');
  const fails: [Record<string, string>, string, never, RegExp][] = [
    [
      { 'hidden-sizes': '16,,8' },
      'hidden-sizes',
      sizes,
      /^--hidden-sizes must be a comma-separated list of positive integers \(got '16,,8'\)$/,
    ],
    [{ 'learning-rate': '0' }, 'learning-rate', lr, /^--learning-rate must be > 0, got 0$/],
    [{ 'learning-rate': 'fast' }, 'learning-rate', lr, /^--learning-rate must be a number, got 'fast'$/],
    [{ 'max-steps': '-1' }, 'max-steps', steps, /^--max-steps must be ≥ 0, got -1$/],
    [{ 'max-steps': '1.5' }, 'max-steps', steps, /^--max-steps must be an integer, got '1.5'$/],
    [{ ratio: '1' }, 'ratio', ratio, /^--ratio must be < 1, got 1$/],
    [{ mode: 'Fast' }, 'mode', mode, /^--mode must be one of fast, exact \(got 'Fast'\)$/],
  ];
  for (const [v, flag, field, message] of fails)
    assert.throws(
      () => readFlag(v, flag, field),
      (e: Error) => message.test(e.message),
    );
});
