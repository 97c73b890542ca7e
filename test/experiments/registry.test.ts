/**
 * The run registry (issue 6 item 4): schema and version check, point life cycle, and the
 * frontier arithmetic — by hand and on the oracle's own per-epoch numbers (the reference's
 * CaliTune runs vs its CP curve: ahead for JSD ≥ ~0.105, behind below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, REGISTRY_SCHEMA_VERSION, registryPath, validationFront, cpNdcgAt, frontierTable, AHEAD_TOLERANCE, type EpochRow, type CpRow } from '../../src/experiments/registry.js';
import { UserError } from '../../src/util/errors.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-registry-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function newRun(name: string): string {
  const run = join(tmp, name);
  mkdirSync(run, { recursive: true });
  return run;
}

const summary = (ndcg: number, jsd: number) => ({
  epochs_run: 10, stop_reason: 'max_epochs', base: { ndcg: 0.28, jsd: 0.24 }, results: 'r.json',
  selected: { any: { epoch: 3, valid: { valid_ndcg: 0.23, jsd, tradeoff: 1.1 }, test: { ndcg, jsd } }, ndcg: null, pop_jsd: null, tradeoff: null },
});

test('registry: WAL, schema version, plan → running → done / failed, skip and resume on re-plan', () => {
  const run = newRun('life');
  const reg = Registry.open(run, { create: true });
  assert.equal(reg.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal((reg.db.prepare('SELECT version FROM schema_version').get() as { version: number }).version, REGISTRY_SCHEMA_VERSION);
  const cfg = { combined_mode_alpha: 0.5, k_candidates: 50 };
  assert.equal(reg.plan('a', cfg, { k_candidates: 50 }, 'g.yaml'), 'new');
  assert.equal(reg.plan('b', { ...cfg, k_candidates: 100 }, {}, 'g.yaml'), 'new');
  assert.equal(reg.get('a')!.status, 'queued');
  reg.markRunning('a');
  assert.equal(reg.get('a')!.status, 'running');
  assert.equal(reg.get('a')!.attempts, 1);
  assert.ok(reg.get('a')!.started_at);
  reg.markDone('a', 12.5, summary(0.27, 0.2), [
    { epoch: 1, valid_ndcg: 0.235, jsd: 0.23, tradeoff: 1, test_ndcg: 0.278, test_jsd: 0.23 },
    { epoch: 2, valid_ndcg: 0.233, jsd: 0.21, tradeoff: 1.02, test_ndcg: 0.276, test_jsd: 0.21 },
  ], [{ lambda: '0', ndcg: 0.28, jsd: 0.24 }, { lambda: '0.5', ndcg: 0.25, jsd: 0.08 }]);
  reg.markRunning('b');
  reg.markFailed('b', 'finetune: fine-tuning diverged in epoch 1: the loss is NaN', 0.8);
  const a = reg.get('a')!;
  assert.equal(a.status, 'done');
  assert.equal(a.seconds, 12.5);
  assert.equal(a.summary!.selected.any!.test.ndcg, 0.27);
  assert.deepEqual(a.config, cfg);
  assert.deepEqual(a.varied, { k_candidates: 50 });
  assert.equal(reg.get('b')!.status, 'failed');
  assert.match(reg.get('b')!.error!, /diverged/);
  assert.deepEqual(reg.cp().map((c) => c.lambda), ['0', '0.5']);
  assert.equal(reg.epochs().length, 2); // only done points
  const front = reg.updateFrontier();
  assert.deepEqual(front.map((f) => [f.name, f.epoch]), [['a', 2], ['a', 1]]);
  assert.equal(reg.get('a')!.frontier, true);
  assert.equal(reg.get('b')!.frontier, false);
  // re-plan: done → skip, failed → resume (queued), same name with another config → error
  assert.equal(reg.plan('a', cfg, {}, 'g.yaml'), 'skip');
  assert.equal(reg.plan('b', { ...cfg, k_candidates: 100 }, {}, 'g.yaml'), 'resume');
  assert.equal(reg.get('b')!.status, 'queued');
  assert.throws(() => reg.plan('a', { ...cfg, k_candidates: 70 }, {}, 'g.yaml'),
    (e: unknown) => e instanceof UserError && /point 'a' is already in the registry with another configuration \(k_candidates: 50 → 70\)/.test(e.message));
  // a key added by a later version (candidates_per_group) at its default is the same configuration …
  assert.equal(reg.plan('a', { ...cfg, candidates_per_group: 0 }, {}, 'g.yaml'), 'skip');
  assert.deepEqual(reg.get('a')!.config, { ...cfg, candidates_per_group: 0 });
  // … but not at another value
  assert.throws(() => reg.plan('b', { ...cfg, k_candidates: 100, candidates_per_group: 5 }, {}, 'g.yaml'), /candidates_per_group: 0 → 5/);
  reg.close();
  // a reader sees the same
  const ro = Registry.open(run, { readonly: true });
  assert.deepEqual(ro.list().map((r) => [r.name, r.status]), [['a', 'done'], ['b', 'queued']]);
  ro.close();
});

test('registry bad input: written by a newer version, not a registry, missing', () => {
  const run = newRun('newer');
  Registry.open(run, { create: true }).close();
  const db = new Database(registryPath(run));
  db.prepare('INSERT INTO schema_version (version, written_by, created) VALUES (?, ?, ?)').run(REGISTRY_SCHEMA_VERSION + 1, 'calitune 9.0.0', 'now');
  db.close();
  for (const opts of [{ create: true }, { readonly: true }]) {
    assert.throws(() => Registry.open(run, opts), (e: unknown) => e instanceof UserError &&
      /registry\.sqlite: the registry was written by a newer calitune \(schema version 2, calitune 9\.0\.0\); this calitune reads version 1/.test(e.message));
  }
  const other = newRun('other');
  const d2 = new Database(registryPath(other));
  d2.exec('CREATE TABLE t (x INTEGER)');
  d2.close();
  assert.throws(() => Registry.open(other, { create: true }), (e: unknown) => e instanceof UserError && /not a calitune registry/.test(e.message));
  const junk = newRun('junk');
  writeFileSync(registryPath(junk), 'this is not sqlite at all, just some text that is long enough to be a header'.repeat(20));
  assert.throws(() => Registry.open(junk, { create: true }), (e: unknown) => e instanceof UserError && /not a calitune registry|cannot open/.test(e.message));
  assert.throws(() => Registry.open(newRun('none'), { readonly: true }), (e: unknown) => e instanceof UserError && /no experiment registry .* run 'calitune grid'/.test(e.message));
});

const row = (name: string, epoch: number, vn: number, j: number, tn = vn, tj = j): EpochRow => ({ name, epoch, valid_ndcg: vn, jsd: j, tradeoff: null, test_ndcg: tn, test_jsd: tj });

test('validationFront keeps the non-dominated (max valid NDCG, min JSD) epochs, sorted by JSD', () => {
  const rows = [row('a', 1, 0.30, 0.20), row('a', 2, 0.28, 0.10), row('b', 1, 0.29, 0.12), row('b', 2, 0.27, 0.15), row('c', 1, 0.28, 0.10), row('c', 2, 0.31, 0.25), row('d', 1, NaN, 0.05)];
  assert.deepEqual(validationFront(rows).map((r) => `${r.name}${r.epoch}`), ['a2', 'b1', 'a1', 'c2']);
});

test('cpNdcgAt interpolates along the CP curve; base NDCG above the base JSD; null below λ_max', () => {
  const cp: CpRow[] = [{ lambda: '0', ndcg: 0.28, jsd: 0.24 }, { lambda: '0.5', ndcg: 0.25, jsd: 0.08 }, { lambda: '0.9', ndcg: 0.23, jsd: 0.03 }];
  assert.equal(cpNdcgAt(cp, 0.24), 0.28);
  assert.equal(cpNdcgAt(cp, 0.30), 0.28);
  assert.ok(Math.abs(cpNdcgAt(cp, 0.16)! - 0.265) < 1e-12);
  assert.ok(Math.abs(cpNdcgAt(cp, 0.055)! - 0.24) < 1e-12);
  assert.equal(cpNdcgAt(cp, 0.03), 0.23);
  assert.equal(cpNdcgAt(cp, 0.02), null);
  const f = frontierTable([row('x', 1, 0.3, 0.16, 0.27, 0.16), row('x', 2, 0.29, 0.055, 0.235, 0.055), row('x', 3, 0.28, 0.01, 0.2, 0.01)], cp);
  assert.deepEqual(f.rows.map((r) => r.delta === null ? null : Math.round(r.delta * 1e6) / 1e6), [null, -0.005, 0.005]);
  assert.equal(f.beyondCp, 1);
  assert.deepEqual(f.segments.map((s) => [s.ahead, s.points]), [[false, 1], [true, 1]]);
  assert.equal(f.aheadFromJsd, 0.16);
  assert.ok(Math.abs(f.crossings[0]! - (0.055 + 0.5 * (0.16 - 0.055))) < 1e-12);
});

interface OracleResults { base_recommendations: { ndcg: number; jsd: number }; postprocessed: Record<string, { ndcg: number; jsd: number }> }

test('frontier on the oracle\'s own runs: validation-selected front ahead of CP for JSD ≥ ~0.105, behind below', (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const lines = readFileSync(join(ORACLE_DIR, 'calitune_per_epoch.tsv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split('\t');
  const col = (n: string) => head.indexOf(n);
  const rows: EpochRow[] = [];
  for (const l of lines.slice(1)) {
    const f = l.split('\t');
    if (f[col('saved')] !== 'True') continue;
    rows.push(row(f[col('run')]!, Number(f[col('epoch')]), Number(f[col('valid_ndcg')]), Number(f[col('jsd')]), Number(f[col('eval_ndcg')]), Number(f[col('eval_jsd')])));
  }
  const res = JSON.parse(readFileSync(join(ORACLE_DIR, 'results', 'c0.5_frozen_result_test.json'), 'utf8')) as OracleResults;
  const cp: CpRow[] = [{ lambda: '0', ...res.base_recommendations }, ...Object.entries(res.postprocessed).map(([l, m]) => ({ lambda: l, ndcg: m.ndcg, jsd: m.jsd }))];
  const f = frontierTable(rows, cp);
  assert.ok(f.rows.length >= 10, `front of ${f.rows.length} points`);
  // ahead (or within the noise tolerance) everywhere from JSD 0.105 up; behind everywhere below 0.09
  const upper = f.rows.filter((r) => r.test_jsd >= 0.105 && r.delta !== null);
  const lower = f.rows.filter((r) => r.test_jsd < 0.09 && r.delta !== null);
  assert.deepEqual([upper.length, lower.length], [54, 86], 'front points at JSD ≥ 0.105 and below 0.09');
  for (const r of upper) assert.ok(r.delta! > -AHEAD_TOLERANCE, `behind CP at JSD ${r.test_jsd}: Δ ${r.delta}`);
  for (const r of lower) assert.ok(r.delta! < 0, `ahead of CP at JSD ${r.test_jsd}: Δ ${r.delta}`);
  assert.ok(f.aheadFromJsd !== null && f.aheadFromJsd > 0.09 && f.aheadFromJsd <= 0.105, `ahead from ${f.aheadFromJsd}`);
  assert.ok(f.meanGainAhead! > 0.005, `mean gain ${f.meanGainAhead}`);
  // the README's example: at JSD ≈ 0.105 CaliTune 0.267–0.269 vs CP 0.259
  const near = f.rows.filter((r) => Math.abs(r.test_jsd - 0.105) < 0.003);
  assert.ok(near.length > 0);
  for (const r of near) assert.ok(r.test_ndcg > 0.265 && Math.abs(r.cp_ndcg! - 0.259) < 0.001, `${r.name} ${r.epoch}: ${r.test_ndcg} vs CP ${r.cp_ndcg}`);
  t.diagnostic(`oracle front: ${f.rows.length} points; ahead from JSD ${f.aheadFromJsd!.toFixed(4)} (mean Δ ${f.meanGainAhead!.toFixed(4)}); crossings ${f.crossings.map((c) => c.toFixed(4)).join(', ')}`);
});
