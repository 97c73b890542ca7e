import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkExperimentName,
  experimentNameProblem,
  isValidExperimentName,
  withNameCharsOnly,
} from '../../src/store/experiment-name.js';
import { experimentPaths } from '../../src/store/experiment-files.js';
import { isUserError } from '../../src/util/errors.js';

test('experiment names: the reference-style and hand-written names are accepted', () => {
  for (const name of [
    'c0.5_frozen',
    'c0.5__frozen_itememb__selection_relevance__k100__lr1e-05',
    'a',
    'A-b_c.9',
    'x'.repeat(200),
  ]) {
    assert.ok(isValidExperimentName(name), name);
    assert.doesNotThrow(() => checkExperimentName(name));
  }
});

test('experiment names: other characters, dot names and too long names are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['', /must not be empty/],
    ['a/b', /may only use letters, digits, '\.', '_' and '-'/],
    ['..', /must not start with '\.'/],
    ['.', /must not start with '\.'/],
    ['.hidden', /must not start with '\.'/],
    ['a b', /may only use/],
    ['é', /may only use/],
    ['x'.repeat(201), /longer than 200 characters/],
  ];
  for (const [name, re] of cases) {
    assert.equal(isValidExperimentName(name), false, name);
    assert.throws(
      () => checkExperimentName(name),
      (e) => isUserError(e) && re.test((e as Error).message),
      name,
    );
  }
});

test('experiment names: the message names the option that carried the name', () => {
  assert.equal(experimentNameProblem('a b', '--name'), "--name 'a b' may only use letters, digits, '.', '_' and '-'");
  assert.equal(experimentNameProblem('.x', 'experiment'), "experiment '.x' must not start with '.'");
  assert.equal(experimentNameProblem('ok', 'experiment'), undefined);
});

test('withNameCharsOnly turns every character a name may not use into _, and its result passes the rule', () => {
  assert.equal(withNameCharsOnly('a b/c:é-1.5_x'), 'a_b_c__-1.5_x');
  assert.ok(isValidExperimentName(withNameCharsOnly('c0.5 frozen/1')));
});

test("experiment names: 'base_model' and 'base' are refused: their results files are the run's own", () => {
  assert.throws(
    () => checkExperimentName('base_model'),
    (e) =>
      isUserError(e) &&
      new RegExp(
        /experiment name 'base_model' is reserved: /.source +
          /results\/base_model\.json holds the backbone's metrics and would be overwritten/.source,
      ).test((e as Error).message),
  );
  assert.match(
    experimentNameProblem('base')!,
    /'base' is reserved: results\/base\.json is what evaluate writes without an experiment/,
  );
  // only the exact names: a name that merely starts with them is fine
  assert.ok(isValidExperimentName('base_model2') && isValidExperimentName('base.1'));
});

test('experimentPaths refuses a bad name (no path outside RUN/experiments is ever built)', () => {
  assert.throws(
    () => experimentPaths('/r', '../x'),
    (e) => isUserError(e),
  );
  assert.throws(
    () => experimentPaths('/r', 'base_model'),
    (e) => isUserError(e),
  );
  const p = experimentPaths('/r', 'c0.5_frozen');
  assert.equal(p.dir, '/r/experiments/c0.5_frozen');
  assert.equal(p.log, '/r/experiments/c0.5_frozen/log.jsonl');
  assert.equal(p.checkpoints, '/r/experiments/c0.5_frozen/checkpoints');
});
