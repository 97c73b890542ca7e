/**
 * The per-user TSV written block by block and read back streamed: the file's bytes equal the
 * whole text, and reading only some models gives their rows exactly as reading everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatPerUserTable,
  perUserTableParts,
  readPerUserTable,
  writePerUserTable,
  type PerUserTableInput,
} from '../../src/eval/per-user-table.js';
import { Rng } from '../../src/math/rng.js';
import { UserError } from '../../src/util/errors.js';

/** A table of `nUsers` users and `nModels` blocks of seeded values (some columns missing). */
function randomTable(nUsers: number, nModels: number): PerUserTableInput {
  const rng = new Rng(5);
  const f64 = () => Float64Array.from({ length: nUsers }, () => rng.nextFloat());
  const blocks = Array.from({ length: nModels }, (_, m) => ({
    model: m === 0 ? 'base_recommendations' : `finetuned_epoch_${m}`,
    ndcg: f64(),
    jsd: m % 3 === 2 ? undefined : f64(),
    headItems: Int32Array.from({ length: nUsers }, () => Math.floor(rng.nextFloat() * 11)),
    rboVsBase: m % 4 === 3 ? undefined : f64(),
  }));
  const userGroup = Int32Array.from({ length: nUsers }, (_, u) => (u % 4) - 1);
  return { nUsers, nGroups: 3, targets: f64().map((x) => x / 3), userGroup, userGroupNames: ['a', 'b', 'c'], blocks };
}

test('per-user table: the streamed file is byte for byte the whole text; one part per block', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-per-user-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const table = randomTable(500, 7);
  const parts = [...perUserTableParts(table)];
  assert.equal(parts.length, 1 + table.blocks.length);
  const p = join(tmp, 'x_per_user.tsv');
  writePerUserTable(p, table);
  assert.equal(readFileSync(p, 'latin1'), formatPerUserTable(table).join(''));
});

test('per-user table: reading some models gives their rows exactly as reading them all', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-per-user-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const table = randomTable(300, 6);
  const p = join(tmp, 'x_per_user.tsv');
  writePerUserTable(p, table);
  const all = readPerUserTable(p);
  const some = readPerUserTable(p, { models: ['finetuned_epoch_2', 'finetuned_epoch_5', 'no_such_model'] });
  assert.deepEqual([...some.models.keys()], ['finetuned_epoch_2', 'finetuned_epoch_5']);
  assert.equal(some.nUsers, all.nUsers);
  assert.equal(some.nGroups, 3);
  assert.deepEqual(some.userGroupByName, all.userGroupByName);
  for (const m of some.models.keys()) assert.deepEqual(some.models.get(m), all.models.get(m));
  // Every value read back is the one written (shortest round-trip digits).
  const b = table.blocks[5]!;
  assert.deepEqual(all.models.get('finetuned_epoch_5')!.ndcg.subarray(1), b.ndcg.subarray(1));
});

test('per-user table: a short row or a bad user id is refused with its line, also in rows not kept', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-per-user-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const head = 'model\tuser_id\tndcg\tjsd\tuser_group\thead_items\trbo_vs_base\n';
  const p = join(tmp, 'bad.tsv');
  writeFileSync(p, `${head}a\t1\t0.5\t0.1\tniche\t3\t1\nb\t1\t0.5\n`);
  assert.throws(
    () => readPerUserTable(p, { models: ['a'] }),
    (e: unknown) => e instanceof UserError && /expected 7 columns, got 3/.test(e.message) && /:3\b/.test(e.message),
  );
  writeFileSync(p, `${head}a\tx\t0.5\t0.1\tniche\t3\t1\n`);
  assert.throws(() => readPerUserTable(p), /bad user_id 'x'/);
  writeFileSync(p, 'model\tuser_id\n');
  assert.throws(() => readPerUserTable(p), /no 'ndcg' column/);
});
