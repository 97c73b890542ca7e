/** Numbers in fine-tuning configs and --set overrides: NaN reported as NaN, inexact integers refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFinetuneConfig, parseFinetuneConfigYaml } from '../../src/calibration/finetune-config.js';
import { InputError } from '../../src/util/errors.js';
import { aliasBomb } from '../helpers/hostile-inputs.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-ftcfg-numbers-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function refused(fn: () => unknown, message: string | RegExp, field?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    assert.equal(e.field, field);
    return true;
  });
}

test('--set x=.nan is reported as NaN, not "got null"', () => {
  assert.throws(
    () => parseFinetuneConfigYaml('', 'c.yaml', ['learning_rate=.nan']),
    /c\.yaml: config key 'learning_rate': got NaN, expected a number/,
  );
  assert.throws(
    () => parseFinetuneConfigYaml('', 'c.yaml', ['combined_mode_alpha=.inf']),
    /config key 'combined_mode_alpha': got Infinity, expected a number ≥ 0 ≤ 1/,
  );
});

test('num_epochs=9007199254740993 is refused in the file (with its line) and in --set', () => {
  refused(
    () => parseFinetuneConfigYaml('learning_rate: 0.001\nnum_epochs: 9007199254740993\n', 'c.yaml'),
    "c.yaml:2: the integer '9007199254740993' is beyond 2^53 (9007199254740991) and cannot be held exactly " +
      '(it would become 9007199254740992)',
  );
  refused(
    () => parseFinetuneConfigYaml('', 'c.yaml', ['num_epochs=9007199254740993']),
    "overrides num_epochs=9007199254740993: the integer '9007199254740993' is beyond 2^53 (9007199254740991) " +
      'and cannot be held exactly (it would become 9007199254740992)',
    'overrides',
  );
  assert.equal(parseFinetuneConfigYaml('', 'c.yaml', ['num_epochs=9007199254740991']).config.num_epochs, 2 ** 53 - 1);
});

test('a fine-tuning config with an alias bomb or given as a FIFO is bad input naming the file', () => {
  const bomb = join(tmp, 'bomb.yaml');
  writeFileSync(bomb, aliasBomb());
  refused(() => loadFinetuneConfig(bomb), /^.*bomb\.yaml: YAML aliases expand too much/);
  refused(() => loadFinetuneConfig(tmp), /cannot read the fine-tuning config: it is a folder, not a regular file$/);
});
