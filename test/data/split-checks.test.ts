/** Small and empty valid/test splits: warnings, and errors where the metrics would be meaningless. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idMapFromTokens } from '../../src/data/idmap.js';
import { randomSplit } from '../../src/data/split.js';
import { MIN_MEASURED_USERS, requireMeasuredPart, splitWarnings } from '../../src/data/split-checks.js';
import type { InteractionLog } from '../../src/data/types.js';
import { evaluate } from '../../src/pipeline/evaluate.js';
import { createRun } from '../../src/store/run.js';
import { InputError } from '../../src/util/errors.js';

/** `users` users with `perUser` interactions each (items 1..perUser). */
function log(users: number, perUser: number): InteractionLog {
  const u: number[] = [];
  const i: number[] = [];
  for (let a = 1; a <= users; a++)
    for (let b = 1; b <= perUser; b++) {
      u.push(a);
      i.push(b);
    }
  return {
    users: Int32Array.from(u),
    items: Int32Array.from(i),
    userMap: idMapFromTokens(
      'user_id',
      Array.from({ length: users }, (_, k) => `u${k + 1}`),
    ),
    itemMap: idMapFromTokens(
      'item_id',
      Array.from({ length: perUser }, (_, k) => `i${k + 1}`),
    ),
    source: 'test',
  };
}

test('one interaction per user: both parts empty, warned about and refused', () => {
  const ds = randomSplit(log(30, 1), 1);
  assert.deepEqual(splitWarnings(ds), [
    'warning: the valid split is empty: users with at most 2 interactions put none in it ' +
      '(docs/numeric-contract.md §2)',
    'warning: the test split is empty: users with a single interaction put none in it (docs/numeric-contract.md §2)',
  ]);
  assert.throws(
    () => requireMeasuredPart(ds, 'test', 'evaluating on it', 'split'),
    (e: unknown) =>
      e instanceof InputError &&
      e.field === 'split' &&
      e.message.startsWith('the test split has no interactions: users with a single interaction put none in it'),
  );
});

test('few users in a part: a warning; enough users: none', () => {
  const few = randomSplit(log(MIN_MEASURED_USERS - 1, 3), 1);
  const n = MIN_MEASURED_USERS - 1;
  assert.deepEqual(splitWarnings(few), [
    `warning: only ${n} users have interactions in the valid split (fewer than 10): its metrics are noisy`,
    `warning: only ${n} users have interactions in the test split (fewer than 10): its metrics are noisy`,
  ]);
  const enough = randomSplit(log(MIN_MEASURED_USERS, 3), 1);
  assert.deepEqual(splitWarnings(enough), []);
  requireMeasuredPart(enough, 'valid', 'early stopping', 'data');
});

test('evaluate on a run whose test split is empty is bad input naming the split option', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-empty-split-'));
  try {
    const run = join(dir, 'ones');
    createRun(run, randomSplit(log(30, 1), 1), { kind: 'synthetic' }, 1);
    for (const split of ['test', 'valid'] as const) {
      await assert.rejects(
        evaluate({ run, split }),
        (e: unknown) =>
          e instanceof InputError && e.field === 'split' && e.message.includes(`the ${split} split has no`),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
