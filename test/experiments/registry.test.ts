/**
 * The run registry: schema and version check, point life cycle. (The frontier arithmetic is
 * tested in test/selection/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, REGISTRY_SCHEMA_VERSION, registryPath } from '../../src/experiments/registry.js';
import { isInputError, UserError } from '../../src/util/errors.js';
import { cliNaming } from '../../src/cli/naming.js';
import { commands } from '../../src/cli/registry.js';
import { printSummaryTable } from '../../src/pipeline/grid-runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-registry-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function newRun(name: string): string {
  const run = join(tmp, name);
  mkdirSync(run, { recursive: true });
  return run;
}

const summary = (ndcg: number, jsd: number) => ({
  epochs_run: 10,
  stop_reason: 'max_epochs',
  base: { ndcg: 0.28, jsd: 0.24 },
  results: 'r.json',
  selected: {
    any: { epoch: 3, valid: { valid_ndcg: 0.23, jsd, tradeoff: 1.1 }, test: { ndcg, jsd } },
    ndcg: null,
    pop_jsd: null,
    tradeoff: null,
  },
});

test('registry: WAL, schema version, plan → running → done / failed, skip and resume on re-plan', () => {
  const run = newRun('life');
  const reg = Registry.open(run, { create: true });
  assert.equal(reg.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(
    (reg.db.prepare('SELECT version FROM schema_version').get() as { version: number }).version,
    REGISTRY_SCHEMA_VERSION,
  );
  const cfg = { combined_mode_alpha: 0.5, k_candidates: 50 };
  assert.equal(reg.plan('a', cfg, { k_candidates: 50 }, 'g.yaml'), 'new');
  assert.equal(reg.plan('b', { ...cfg, k_candidates: 100 }, {}, 'g.yaml'), 'new');
  assert.equal(reg.get('a')!.status, 'queued');
  reg.markRunning('a');
  assert.equal(reg.get('a')!.status, 'running');
  assert.equal(reg.get('a')!.attempts, 1);
  assert.ok(reg.get('a')!.started_at);
  reg.markDone(
    'a',
    12.5,
    summary(0.27, 0.2),
    [
      { epoch: 1, valid_ndcg: 0.235, jsd: 0.23, tradeoff: 1, test_ndcg: 0.278, test_jsd: 0.23 },
      { epoch: 2, valid_ndcg: 0.233, jsd: 0.21, tradeoff: 1.02, test_ndcg: 0.276, test_jsd: 0.21 },
    ],
    [
      { lambda: '0', ndcg: 0.28, jsd: 0.24 },
      { lambda: '0.5', ndcg: 0.25, jsd: 0.08 },
    ],
  );
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
  assert.deepEqual(
    reg.cp().map((c) => c.lambda),
    ['0', '0.5'],
  );
  assert.equal(reg.epochs().length, 2); // only done points
  const front = reg.updateFrontier();
  assert.deepEqual(
    front.map((f) => [f.name, f.epoch]),
    [
      ['a', 2],
      ['a', 1],
    ],
  );
  assert.equal(reg.get('a')!.frontier, true);
  assert.equal(reg.get('b')!.frontier, false);
  assert.deepEqual([reg.get('a')!.frontEpochs, reg.get('b')!.frontEpochs], [[1, 2], []]);
  // re-plan: done → skip, failed → resume (queued), same name with another config → error
  assert.equal(reg.plan('a', cfg, {}, 'g.yaml'), 'skip');
  assert.equal(reg.plan('b', { ...cfg, k_candidates: 100 }, {}, 'g.yaml'), 'resume');
  assert.equal(reg.get('b')!.status, 'queued');
  assert.throws(
    () => reg.plan('a', { ...cfg, k_candidates: 70 }, {}, 'g.yaml'),
    (e: unknown) =>
      e instanceof UserError &&
      /point 'a' is already in the registry with another configuration \(k_candidates: 50 → 70\)/.test(e.message),
  );
  // a key added by a later version (candidates_per_group) at its default is the same configuration …
  assert.equal(reg.plan('a', { ...cfg, candidates_per_group: 0 }, {}, 'g.yaml'), 'skip');
  assert.deepEqual(reg.get('a')!.config, { ...cfg, candidates_per_group: 0 });
  // … but not at another value
  assert.throws(
    () => reg.plan('b', { ...cfg, k_candidates: 100, candidates_per_group: 5 }, {}, 'g.yaml'),
    /candidates_per_group: 0 → 5/,
  );
  reg.close();
  // a reader sees the same
  const ro = Registry.open(run, { readonly: true });
  assert.deepEqual(
    ro.list().map((r) => [r.name, r.status]),
    [
      ['a', 'done'],
      ['b', 'queued'],
    ],
  );
  ro.close();
});

test('registry bad input: written by a newer version, not a registry, missing', () => {
  const run = newRun('newer');
  Registry.open(run, { create: true }).close();
  const db = new Database(registryPath(run));
  db.prepare('INSERT INTO schema_version (version, written_by, created) VALUES (?, ?, ?)').run(
    REGISTRY_SCHEMA_VERSION + 1,
    'calitune 9.0.0',
    'now',
  );
  db.close();
  for (const opts of [{ create: true }, { readonly: true }]) {
    assert.throws(
      () => Registry.open(run, opts),
      (e: unknown) =>
        e instanceof UserError &&
        new RegExp(
          /registry\.sqlite: the registry was written by a newer calitune /.source +
            `\\(schema version ${REGISTRY_SCHEMA_VERSION + 1}, calitune 9\\.0\\.0\\); ` +
            `this calitune reads version ${REGISTRY_SCHEMA_VERSION}`,
        ).test(e.message),
    );
  }
  const other = newRun('other');
  const d2 = new Database(registryPath(other));
  d2.exec('CREATE TABLE t (x INTEGER)');
  d2.close();
  assert.throws(
    () => Registry.open(other, { create: true }),
    (e: unknown) => e instanceof UserError && /not a calitune registry/.test(e.message),
  );
  const junk = newRun('junk');
  writeFileSync(
    registryPath(junk),
    'this is not sqlite at all, just some text that is long enough to be a header'.repeat(20),
  );
  assert.throws(
    () => Registry.open(junk, { create: true }),
    (e: unknown) => e instanceof UserError && /not a calitune registry|cannot open/.test(e.message),
  );
  const none = newRun('none');
  assert.throws(
    () => Registry.open(none, { readonly: true }),
    (e: unknown) =>
      e instanceof UserError && /no experiment registry .* run 'grid' or 'experiments' first$/.test(e.message),
  );
  const cli = cliNaming(commands().find((c) => c.name === 'runs list')!, commands());
  assert.throws(
    () => Registry.open(none, { readonly: true }),
    (e: unknown) =>
      isInputError(e) &&
      e.field === 'run' &&
      /run 'calitune grid' or 'calitune experiments' first$/.test(e.render(cli)),
  );
});

test('runs list / grid table: the front marker speaks of the epoch the row shows', () => {
  const run = newRun('marker');
  const reg = Registry.open(run, { create: true });
  const epochs = (n1: number, j1: number, n2: number, j2: number) => [
    { epoch: 1, valid_ndcg: n1, jsd: j1, tradeoff: 1, test_ndcg: n1, test_jsd: j1 },
    { epoch: 3, valid_ndcg: n2, jsd: j2, tradeoff: 1, test_ndcg: n2, test_jsd: j2 },
  ];
  const cp = [{ lambda: '0', ndcg: 0.28, jsd: 0.24 }];
  for (const name of ['shown_on_front', 'shown_dominated']) reg.plan(name, { k_candidates: name.length }, {}, 'g.yaml');
  // shown_on_front: its selected epoch 3 is on the front; shown_dominated: its epoch 3 is dominated, epoch 1 is not
  reg.markDone('shown_on_front', 1, summary(0.27, 0.2), epochs(0.2, 0.3, 0.3, 0.2), cp);
  reg.markDone('shown_dominated', 1, summary(0.25, 0.25), epochs(0.35, 0.25, 0.29, 0.21), cp);
  reg.updateFrontier();
  const lines: string[] = [];
  printSummaryTable(
    { info: (l = '') => lines.push(l), warn: () => {}, progress: () => ({ update() {}, done() {} }) },
    reg.list(),
  );
  const cell = (name: string) =>
    lines
      .find((l) => l.startsWith(name))!
      .split(/\s{2,}/)
      .at(-1);
  assert.equal(cell('shown_on_front'), '*');
  assert.equal(cell('shown_dominated'), '(+1)');
  assert.match(lines.join('\n'), /on front: \* when the selected epoch shown is on the validation Pareto front/);
  reg.close();
});
