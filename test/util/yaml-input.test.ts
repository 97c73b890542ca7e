/** User YAML: syntax errors, alias bombs and integers beyond 2^53 are bad input naming the file and line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/util/errors.js';
import { aliasBomb } from '../helpers/hostile-inputs.js';
import { MAX_ALIAS_COUNT, parseYamlInput, parseYamlScalar, yamlToJs } from '../../src/util/yaml-input.js';

function inputError(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('an alias bomb is refused as bad input naming the file, quickly', () => {
  const started = Date.now();
  inputError(
    () => parseYamlInput(aliasBomb(), 'bomb.yaml'),
    new RegExp(`^bomb\\.yaml: YAML aliases expand too much \\(more than ${MAX_ALIAS_COUNT} alias expansions`),
  );
  assert.ok(Date.now() - started < 5000);
});

test('a few aliases are fine', () => {
  const y = parseYamlInput('a: &v [1, 2]\nb: *v\n', 'ok.yaml');
  assert.deepEqual(yamlToJs(y), { a: [1, 2], b: [1, 2] });
});

test('an integer beyond 2^53 is refused with its line; exact integers stay numbers', () => {
  inputError(
    () => parseYamlInput('learning_rate: 0.1\nnum_epochs: 9007199254740993\n', 'c.yaml'),
    "c.yaml:2: the integer '9007199254740993' is beyond 2^53 (9007199254740991) and cannot be held exactly " +
      '(it would become 9007199254740992)',
  );
  inputError(() => parseYamlInput('sizes: [1, -9007199254740993]\n', 'c.yaml'), /^c\.yaml:1: the integer/);
  inputError(() => parseYamlInput(`a: 1${'0'.repeat(400)}\n`, 'c.yaml'), /\(it would become Infinity\)$/);
  // exact integers pass, even beyond 2^53: JSON.stringify(1e18) reads back as 1e18
  const y = parseYamlInput(
    'a: 9007199254740991\nb: 0x10\nc: -3\nd: 1.5e3\ne: .nan\nf: 1000000000000000000\n',
    'c.yaml',
  );
  const v = yamlToJs(y) as Record<string, number>;
  assert.deepEqual({ ...v, e: String(v.e) }, { a: 9007199254740991, b: 16, c: -3, d: 1500, e: 'NaN', f: 1e18 });
  assert.equal(typeof v.a, 'number');
});

test('a syntax error names the file and line', () => {
  inputError(() => parseYamlInput('a: 1\nb: [1\n', 'bad.yaml'), /^bad\.yaml:\d+: invalid YAML: /);
});

test('one scalar: numbers, words, .nan; beyond 2^53 refused through the caller’s error', () => {
  const fail = (m: string) => new InputError(`--set: ${m}`);
  assert.equal(parseYamlScalar('0.5', fail), 0.5);
  assert.equal(parseYamlScalar('12', fail), 12);
  assert.equal(parseYamlScalar('random', fail), 'random');
  assert.ok(Number.isNaN(parseYamlScalar('.nan', fail) as number));
  inputError(() => parseYamlScalar('9007199254740993', fail), /^--set: the integer '9007199254740993' is beyond 2\^53/);
});
