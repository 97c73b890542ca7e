/**
 * The registry's tuning tables: a version-1 registry (written before they existed) opens and is
 * migrated, keeping its points; a trial's life cycle; a study resumes only the same search.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, REGISTRY_SCHEMA_VERSION, registryPath } from '../../src/experiments/registry.js';
import {
  allTrials,
  markTrialEnded,
  markTrialRunning,
  planTrials,
  registerStudy,
  studyTrials,
  trialById,
} from '../../src/experiments/registry-trials.js';
import { UserError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-registry-trials-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The schema as version 1 wrote it (before tuning). */
const V1_SCHEMA = `
CREATE TABLE schema_version (version INTEGER NOT NULL, written_by TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE points (
  name TEXT PRIMARY KEY, source TEXT NOT NULL, config TEXT NOT NULL, varied TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0, queued_at TEXT, started_at TEXT, finished_at TEXT, seconds REAL,
  error TEXT, summary TEXT, frontier INTEGER NOT NULL DEFAULT 0);
CREATE TABLE epochs (
  name TEXT NOT NULL REFERENCES points(name) ON DELETE CASCADE, epoch INTEGER NOT NULL,
  valid_ndcg REAL NOT NULL, jsd REAL NOT NULL, tradeoff REAL, test_ndcg REAL NOT NULL, test_jsd REAL NOT NULL,
  frontier INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (name, epoch));
CREATE TABLE cp (lambda TEXT PRIMARY KEY, ndcg REAL NOT NULL, jsd REAL NOT NULL);
INSERT INTO schema_version VALUES (1, 'calitune 0.1.0', '2026-01-01T00:00:00Z');
INSERT INTO points (name, source, config, status) VALUES ('a', 'g.yaml', '{"combined_mode_alpha":0.5}', 'queued');
`;

function v1Run(name: string): string {
  const run = join(tmp, name);
  mkdirSync(run, { recursive: true });
  const db = new Database(registryPath(run));
  db.exec(V1_SCHEMA);
  db.close();
  return run;
}

test('registry: a version-1 registry opens read-only as it is, and for writing migrated to version 2', () => {
  assert.equal(REGISTRY_SCHEMA_VERSION, 2);
  const run = v1Run('v1');
  const ro = Registry.open(run, { readonly: true });
  assert.equal(ro.schemaVersion, 1);
  assert.deepEqual(allTrials(ro), []);
  assert.throws(() => registerStudy(ro, 's', 'bpr', {}), /schema version 1 \(no tuning trials\)/);
  ro.close();

  const reg = Registry.open(run, { create: true });
  assert.equal(reg.schemaVersion, 2);
  const versions = reg.db.prepare('SELECT version FROM schema_version ORDER BY version').all();
  assert.deepEqual(versions, [{ version: 1 }, { version: 2 }]);
  assert.equal(reg.get('a')?.status, 'queued');
  assert.deepEqual(reg.get('a')?.config, { combined_mode_alpha: 0.5 });
  registerStudy(reg, 's', 'bpr', { seed: 1 });
  assert.equal(planTrials(reg, 's', [{ dim: 8 }]).length, 1);
  reg.close();
  // opened again: nothing to migrate, the trial is still there
  const again = Registry.open(run, { create: true });
  assert.deepEqual(again.db.prepare('SELECT COUNT(*) AS n FROM schema_version').get(), { n: 2 });
  assert.equal(trialById(again, 's-t001')?.config.dim, 8);
  again.close();
});

test('registry trials: queued → running → ended; a killed trial queued again; a study keeps its settings', () => {
  const run = join(tmp, 'life');
  mkdirSync(run);
  const reg = Registry.open(run, { create: true });
  registerStudy(reg, 'bpr-asha', 'bpr', { seed: 3, scheduler: { kind: 'asha' } });
  registerStudy(reg, 'bpr-asha', 'bpr', { seed: 3, scheduler: { kind: 'asha' } }); // the same: fine
  assert.throws(
    () => registerStudy(reg, 'bpr-asha', 'bpr', { seed: 4, scheduler: { kind: 'asha' } }),
    (e: unknown) => e instanceof UserError && /seed: 3 → 4/.test(e.message),
  );
  const rows = planTrials(reg, 'bpr-asha', [{ dim: 8 }, { dim: 16 }]);
  assert.deepEqual(
    rows.map((r) => [r.id, r.idx, r.status]),
    [
      ['bpr-asha-t001', 0, 'queued'],
      ['bpr-asha-t002', 1, 'queued'],
    ],
  );
  markTrialRunning(reg, 'bpr-asha-t001');
  markTrialRunning(reg, 'bpr-asha-t002');
  markTrialEnded(reg, 'bpr-asha-t002', {
    status: 'stopped',
    stoppedAt: 2,
    rungs: [{ epochs: 2, metric: 0.1 }],
    curve: [0.05, null],
    bestEpoch: 0,
    bestValidNdcg: 0.05,
    seconds: 1.5,
  });
  // a rerun (with one more trial) after a kill: t001 was running → queued again
  const again = planTrials(reg, 'bpr-asha', [{ dim: 8 }, { dim: 16 }, { dim: 32 }]);
  assert.deepEqual(
    again.map((r) => [r.id, r.status, r.attempts]),
    [
      ['bpr-asha-t001', 'queued', 1],
      ['bpr-asha-t002', 'stopped', 1],
      ['bpr-asha-t003', 'queued', 0],
    ],
  );
  const t2 = studyTrials(reg, 'bpr-asha')[1]!;
  assert.deepEqual(
    [t2.stopped_at, t2.rungs, t2.curve, t2.epochs_run],
    [2, [{ epochs: 2, metric: 0.1 }], [0.05, null], 2],
  );
  assert.throws(() => planTrials(reg, 'bpr-asha', [{ dim: 9 }]), /another configuration/);
  reg.close();
});
