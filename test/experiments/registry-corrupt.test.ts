/** A damaged registry file: any statement that meets a corrupted page names the file and what to do. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, registryPath } from '../../src/experiments/registry.js';
import { isCorruptionError } from '../../src/experiments/registry-guard.js';
import { isInputError } from '../../src/util/errors.js';
import { runCaptured } from '../../src/cli/run-captured.js';

/** A registry of 50 queued points whose table `table` has its root page overwritten. */
function damagedRegistry(t: { after(fn: () => void): void }, table: string): string {
  const run = mkdtempSync(join(tmpdir(), 'calitune-registry-corrupt-'));
  t.after(() => rmSync(run, { recursive: true, force: true }));
  const reg = Registry.open(run, { create: true });
  for (let i = 0; i < 50; i++) reg.plan(`p${i}`, { a: i, pad: 'x'.repeat(200) }, {}, 'grid');
  reg.close();
  const path = registryPath(run);
  const db = new Database(path, { readonly: true });
  const root = (db.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').get(table) as { rootpage: number })
    .rootpage;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const bytes = readFileSync(path);
  bytes.fill(0x55, (root - 1) * pageSize, root * pageSize);
  writeFileSync(path, bytes);
  return run;
}

const damaged = (path: string) => (e: unknown) =>
  isInputError(e) &&
  e.message.startsWith(`${path}: the registry database is damaged (SQLite says: database disk image is malformed)`) &&
  /restore a copy of it, or move it aside and run 'grid' again/.test(e.message);

test('a corrupted page of the points table: list() names the registry file, not just SQLite', (t) => {
  const run = damagedRegistry(t, 'points');
  const reg = Registry.open(run, { readonly: true });
  t.after(() => reg.close());
  assert.throws(() => reg.list(), damaged(registryPath(run)));
  assert.throws(() => reg.get('p3'), damaged(registryPath(run)));
});

test('a corrupted schema_version page: opening names the registry file', (t) => {
  const run = damagedRegistry(t, 'schema_version');
  assert.throws(() => Registry.open(run, { readonly: true }), damaged(registryPath(run)));
  assert.throws(() => Registry.open(run, { create: true }), damaged(registryPath(run)));
});

test('CLI: runs list on a damaged registry exits 2 with the file named', async (t) => {
  const run = damagedRegistry(t, 'points');
  const r = await runCaptured(['runs', 'list', '--run', run]);
  assert.equal(r.code, 2, r.err);
  assert.match(
    r.err,
    new RegExp(`${registryPath(run).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the registry database is damaged`),
  );
  assert.doesNotMatch(r.err, /at \w+ \(/, 'no stack trace');
});

test('isCorruptionError: SQLite codes and messages of a damaged file only', () => {
  const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
  assert.ok(isCorruptionError(err('database disk image is malformed', 'SQLITE_CORRUPT')));
  assert.ok(isCorruptionError(err('x', 'SQLITE_CORRUPT_INDEX')));
  assert.ok(isCorruptionError(err('file is not a database', 'SQLITE_NOTADB')));
  assert.ok(!isCorruptionError(err('database is locked', 'SQLITE_BUSY')));
  assert.ok(!isCorruptionError('malformed'));
});

test('a wrong type or bad JSON in a stored point: the reader names the registry, the point and the field', (t) => {
  const run = mkdtempSync(join(tmpdir(), 'calitune-registry-rows-'));
  t.after(() => rmSync(run, { recursive: true, force: true }));
  const path = registryPath(run);
  const reg = Registry.open(run, { create: true });
  reg.plan('p1', { a: 1 }, {}, 'grid');
  reg.markDone(
    'p1',
    1,
    { epochs_run: 3, stop_reason: 'max_epochs', base: { ndcg: 0.2, jsd: 0.3 }, selected: {}, results: 'r.json' },
    [],
    [],
  );
  reg.close();
  const edit = (sql: string) => {
    const db = new Database(path);
    db.prepare(sql).run();
    db.close();
  };
  edit(`UPDATE points SET summary = json_set(summary, '$.base.ndcg', 'NaN') WHERE name = 'p1'`);
  const r1 = Registry.open(run, { readonly: true });
  t.after(() => r1.close());
  assert.throws(
    () => r1.list(),
    (e: unknown) =>
      isInputError(e) &&
      e.message.startsWith(
        `${path}: point 'p1': summary field base.ndcg: expected a finite number, got "NaN"; restore a copy`,
      ),
  );
  edit(`UPDATE points SET config = '{"a": 1' WHERE name = 'p1'`);
  const r2 = Registry.open(run, { create: true });
  t.after(() => r2.close());
  assert.throws(
    () => r2.plan('p1', { a: 2 }, {}, 'grid'),
    (e: unknown) => isInputError(e) && e.message.startsWith(`${path}: point 'p1': config is not valid JSON (`),
  );
});
