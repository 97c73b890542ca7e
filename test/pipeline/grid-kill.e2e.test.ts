/**
 * kill -9 of the whole grid process tree: `calitune grid` runs in its own
 * process group with 2 worker processes; once one point has finished and others are mid-fine-
 * tuning, SIGKILL goes to the group. Nothing on disk is truncated (every JSON parses, the
 * registry passes SQLite's integrity check), and re-running the same grid skips the finished
 * point, resumes the interrupted ones and ends with results equal to those of an uninterrupted
 * grid with the same seeds (timings aside). Oracle ML-100K backbone, 4 points × 20 epochs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI, runCli } from '../cli/run-cli.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EPOCHS = 20;
const GRID = `base:
  num_epochs: ${EPOCHS}
grid:
  combined_mode_alpha: [0.5, 1.0]
  freeze_item_emb: [true, false]
`;
const NAMES = [
  'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001',
  'c0.5__unfrozen_itememb__selection_relevance__k50__lr0.0001',
  'c1.0__frozen_itememb__selection_relevance__k50__lr0.0001',
  'c1.0__unfrozen_itememb__selection_relevance__k50__lr0.0001',
];

function logEpochs(run: string, name: string): number {
  const p = join(run, 'experiments', name, 'log.jsonl');
  return existsSync(p)
    ? readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0).length - 1
    : -1;
}

/** Points the registry records as done (read-only; the grid is the writer). */
function registryDone(run: string): string[] {
  const p = join(run, 'registry.sqlite');
  if (!existsSync(p)) return [];
  try {
    const db = new Database(p, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(`SELECT name FROM points WHERE status = 'done'`).all() as { name: string }[]).map(
        (r) => r.name,
      );
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

function stripLog(run: string, name: string): unknown[] {
  return readFileSync(join(run, 'experiments', name, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      delete r.train_s;
      delete r.regen_s;
      delete r.valid_s;
      return r;
    });
}

function comparable(run: string, name: string): unknown {
  const r = JSON.parse(readFileSync(join(run, 'results', `${name}.json`), 'utf8')) as Record<string, unknown> & {
    calitune: Record<string, unknown>;
  };
  return {
    base: r.base_recommendations,
    cp: r.postprocessed,
    finetuned: r.finetuned,
    selected: r.calitune.selected,
    rbo: r.calitune.rbo,
  };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function setupRun(run: string): void {
  assert.equal(runCli(['import', '--from', ORACLE_DIR, '--run', run]).status, 0);
  assert.equal(runCli(['prepare', '--run', run, '--popularity-source', 'all']).status, 0);
}

test('kill -9 of grid tree, re-run: finished point skipped, others resumed, results = uninterrupted run', async (t) => {
  if (!requireShared(t, ORACLE_DIR)) return;
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-gridkill-'));
  try {
    const grid = join(tmp, 'grid.yaml');
    writeFileSync(grid, GRID);
    const ref = join(tmp, 'ref'),
      run = join(tmp, 'killed');
    setupRun(ref);
    setupRun(run);

    const t0 = Date.now();
    const a = runCli(['grid', '--run', ref, '--grid', grid, '--workers', '2']);
    assert.equal(a.status, 0, a.stderr);
    t.diagnostic(
      `uninterrupted grid (4 points × ${EPOCHS} epochs, 2 workers): ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    const child = spawn(process.execPath, [CLI, 'grid', '--run', run, '--grid', grid, '--workers', '2'], {
      env: { ...process.env, CALITUNE_QUIET: '1' },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on('exit', (code, signal) => res({ code, signal })),
    );
    let state = '';
    for (let i = 0; i < 12_000; i++) {
      const done = registryDone(run);
      const mid = NAMES.filter((n) => !done.includes(n) && logEpochs(run, n) >= 3 && logEpochs(run, n) < EPOCHS - 2);
      if (done.length >= 1 && mid.length >= 1) {
        process.kill(-child.pid!, 'SIGKILL'); // the whole process group: the grid and its workers
        state =
          `done ${done.length}, ` +
          `mid-fine-tuning ${mid.map((n) => `${n.slice(0, 18)}… epoch ${logEpochs(run, n)}`).join(', ')}`;
        break;
      }
      await sleep(10);
    }
    const ex = await exited;
    assert.equal(ex.signal, 'SIGKILL', `the grid was not killed mid-run (exit ${ex.code})`);
    t.diagnostic(`killed: ${state}`);
    await sleep(200);

    // Nothing truncated: every JSON parses (temp files of interrupted atomic writes aside), the registry is sound.
    for (const f of walk(run)) {
      if (f.includes('.tmp-')) continue;
      if (f.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(readFileSync(f, 'utf8')), `${f} is not valid JSON`);
    }
    const db = new Database(join(run, 'registry.sqlite'), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const statuses = db.prepare('SELECT status, COUNT(*) AS n FROM points GROUP BY status').all() as {
      status: string;
      n: number;
    }[];
    db.close();
    const st = Object.fromEntries(statuses.map((s) => [s.status, s.n]));
    assert.ok((st.done ?? 0) >= 1 && (st.running ?? 0) >= 1, `registry after the kill: ${JSON.stringify(st)}`);

    // Re-run the same grid.
    const b = runCli(['grid', '--run', run, '--grid', grid, '--workers', '2', '--json']);
    assert.equal(b.status, 0, b.stderr);
    const summary = JSON.parse(b.stdout) as {
      skipped: number;
      ran: number;
      done: number;
      outcomes: { name: string; resumed: boolean }[];
    };
    assert.equal(summary.skipped, st.done);
    assert.equal(summary.done, 4 - st.done!);
    assert.ok(
      summary.outcomes.some((o) => o.resumed),
      'an interrupted point was resumed from its resume state',
    );

    for (const name of NAMES) {
      assert.deepEqual(
        comparable(run, name),
        comparable(ref, name),
        `${name}: results differ from the uninterrupted grid`,
      );
      assert.deepEqual(stripLog(run, name), stripLog(ref, name), `${name}: epoch log differs`);
    }
    const db2 = new Database(join(run, 'registry.sqlite'), { readonly: true });
    const rows = db2.prepare('SELECT name, status, attempts FROM points ORDER BY name').all() as {
      name: string;
      status: string;
      attempts: number;
    }[];
    db2.close();
    assert.ok(rows.every((r) => r.status === 'done'));
    assert.ok(rows.some((r) => r.attempts === 2));
    assert.ok(!existsSync(join(run, '.locks')), 'no lock left behind');
    assert.deepEqual(
      walk(join(run, 'results')).filter((f) => f.includes('.tmp-')),
      [],
      'temp files of killed writes are cleaned up',
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
