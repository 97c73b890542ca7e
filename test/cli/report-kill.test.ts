/**
 * kill -9 during `report`, at seeded moments, switching between an interactive and a static page:
 * after every kill RUN/report is one complete report (every file its report.json lists, and the
 * page of the same kind) or none yet; a rerun completes and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { saveModel } from '../../src/models/model-file.js';
import { prepareRun } from '../../src/store/prepare-files.js';
import { writeBaseEvaluation } from '../../src/store/base-files.js';
import { evaluateBase } from '../../src/eval/base-eval.js';
import { runLockPath } from '../../src/store/run-locks.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { assertClean, cliKilledAt, seeded, timedFromSeen } from './kill-moments.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-reportkill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The two reports the runs switch between: with inline JavaScript, and static. */
const KINDS = [[], ['--static']];

function makeRun(): string {
  const run = join(tmp, 'run');
  const ds = randomSplit(generateSynthetic({ users: 150, items: 100, interactions: 3000, seed: 11 }), 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 8 }, 5);
  saveModel(runPaths(run).model, model, { dataFingerprint: info.fingerprint });
  writeBaseEvaluation(run, evaluateBase(model, ds), 'bpr');
  prepareRun(run, ds, { dataset: 'synth', popularitySource: 'train' });
  return run;
}

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name));
      else out.push(relative(dir, join(d, f.name)));
    }
  };
  walk(dir);
  return out.sort();
}

/** RUN/report is one complete report: exactly the files its report.json lists, a page of its kind; returns it. */
function assertOneReport(run: string): number {
  const dir = join(run, 'report');
  const j = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    charts: { svg: string; spec: string; png?: string; interactive: boolean }[];
  };
  const listed = j.charts.flatMap((c) => [c.svg, c.spec, ...(c.png ? [c.png] : [])]).map((p) => relative(dir, p));
  assert.deepEqual(filesUnder(dir), [...listed, 'index.html', 'report.json'].sort(), 'the files of one report');
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const interactive = html.includes('<script type="application/json" id="spec-');
  assert.equal(
    interactive,
    j.charts.some((c) => c.interactive),
    'index.html and report.json are of one report',
  );
  return interactive ? 0 : 1;
}

test('kill -9 during report (seeded moments): one complete report every time; a rerun completes', async () => {
  process.env.CALITUNE_QUIET = '1';
  const run = makeRun();
  for (const args of [['postprocess', '--run', run, '--lambdas', '0.3,0.6', '--m', '40', '--workers', '1']]) {
    assert.equal((await runCaptured(args)).code, 0);
  }
  assert.equal((await runCaptured(['evaluate', '--run', run])).code, 0);
  const first = await runCaptured(['report', '--run', run, '--no-png', ...KINDS[0]!]);
  assert.equal(first.code, 0, first.err);
  assert.equal(assertOneReport(run), 0);
  const lockSeen = () => existsSync(runLockPath(run, 'report'));
  // how long a report takes once it holds its lock: the kills are spread over that time
  const timed = await timedFromSeen(['report', '--run', run, ...KINDS[0]!], lockSeen);
  assert.equal(timed.code, 0);
  assert.equal(assertOneReport(run), 0);
  const rand = seeded(20261203);
  let current = 0;
  const outcomes: (number | null)[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    const target = 1 - current;
    const args = ['report', '--run', run, ...(attempt % 2 === 0 ? ['--no-png'] : []), ...KINDS[target]!];
    const code = await cliKilledAt(args, lockSeen, Math.floor(rand() * 0.8 * timed.ms));
    outcomes.push(code);
    const seen = assertOneReport(run);
    if (code === 0) assert.equal(seen, target, 'a finished report leaves its own page');
    current = seen;
  }
  assert.ok(outcomes.filter((c) => c === null).length >= 3, `most kills land in the work: ${outcomes.join(' ')}`);
  const rerun = await runCaptured(['report', '--run', run, '--no-png']);
  assert.equal(rerun.code, 0, rerun.err);
  assert.equal(assertOneReport(run), 0);
  assertClean(run);
});
