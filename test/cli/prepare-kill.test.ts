/**
 * kill -9 during `prepare`, at seeded moments, switching between two sets of proportions: after
 * every kill RUN/prepare is byte for byte one of the two complete preparations (its summary's date
 * aside), evaluate reads it; a rerun completes and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, runPaths } from '../../src/store/run.js';
import { BprModel } from '../../src/models/bpr.js';
import { saveModel } from '../../src/models/model-file.js';
import { loadPrepared, preparePaths } from '../../src/store/prepare-files.js';
import { runLockPath } from '../../src/store/run-locks.js';
import { runCaptured } from '../../src/cli/run-captured.js';
import { assertClean, cliKilledAt, hasEntry, seeded, timedFromSeen } from './kill-moments.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-preparekill-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The two preparations the runs switch between. */
const PREPARATIONS = [
  ['--proportions', '0.2,0.6,0.2'],
  ['--proportions', '0.3,0.4,0.3', '--popularity-source', 'all'],
];

/** SHA-256 of every file of RUN/prepare by name, the summary without its creation date. */
function prepareIdentity(run: string): string {
  const dir = preparePaths(run).dir;
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    let bytes: string | Buffer = readFileSync(join(dir, f));
    if (f === 'summary.json') {
      const { created: _c, ...rest } = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      bytes = JSON.stringify(rest);
    }
    h.update(`${f}\n`).update(bytes);
  }
  return h.digest('hex');
}

async function assertOnePreparation(run: string, known: string[], nUsers: number, nItems: number): Promise<number> {
  const which = known.indexOf(prepareIdentity(run));
  assert.ok(which >= 0, 'RUN/prepare is one complete preparation');
  loadPrepared(run, { nUsers, nItems });
  const ev = await runCaptured(['evaluate', '--run', run]);
  assert.equal(ev.code, 0, ev.err);
  return which;
}

test('kill -9 during prepare (seeded moments): one complete preparation every time; a rerun completes', async () => {
  process.env.CALITUNE_QUIET = '1';
  const run = join(tmp, 'run');
  const ds = randomSplit(generateSynthetic({ users: 400, items: 300, interactions: 12000, seed: 11 }), 3);
  const info = createRun(run, ds, { kind: 'synthetic' }, 3);
  const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 8 }, 5);
  saveModel(runPaths(run).model, model, { dataFingerprint: info.fingerprint });
  const known: string[] = [];
  for (const args of PREPARATIONS) {
    const r = await runCaptured(['prepare', '--run', run, ...args]);
    assert.equal(r.code, 0, r.err);
    known.push(prepareIdentity(run));
  }
  assert.notEqual(known[0], known[1]);
  const lockSeen = () => existsSync(runLockPath(run, 'run'));
  // how long a prepare takes once it holds the run lock: the kills are spread over that time
  const timed = await timedFromSeen(['prepare', '--run', run, ...PREPARATIONS[1]!], lockSeen);
  assert.equal(timed.code, 0);
  const rand = seeded(20261201);
  let current = 1;
  const outcomes: (number | null)[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    const target = 1 - current;
    const tempSeen = () => hasEntry(run, '.prepare.tmp-');
    const moment =
      attempt % 2 === 0 ? { seen: lockSeen, ms: rand() * 0.8 * timed.ms } : { seen: tempSeen, ms: rand() * 15 };
    const args = ['prepare', '--run', run, ...PREPARATIONS[target]!];
    const code = await cliKilledAt(args, moment.seen, Math.floor(moment.ms));
    outcomes.push(code);
    const seen = await assertOnePreparation(run, known, ds.nUsers, ds.nItems);
    if (code === 0) assert.equal(seen, target, 'a finished prepare leaves its own preparation');
    current = seen;
  }
  assert.ok(outcomes.filter((c) => c === null).length >= 3, `most kills land in the work: ${outcomes.join(' ')}`);
  const rerun = await runCaptured(['prepare', '--run', run, ...PREPARATIONS[0]!]);
  assert.equal(rerun.code, 0, rerun.err);
  assert.equal(await assertOnePreparation(run, known, ds.nUsers, ds.nItems), 0);
  assertClean(run);
});
