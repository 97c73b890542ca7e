/**
 * Run locks (src/store/run-locks.ts, lock-files.ts): one holder per lock naming its pid and
 * command, the two levels (run vs parts), nested use-cases in one call chain, stale locks taken
 * over by exactly one of several processes racing for them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  acquireRunLock,
  runLockPath,
  runLocksDir,
  withRunLock,
  RunLockedError,
  type RunLockTarget,
} from '../../src/store/run-locks.js';
import { processAlive } from '../../src/store/lock-files.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-locks-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

let runs = 0;
function newRun(): string {
  const run = join(tmp, `run${++runs}`);
  mkdirSync(run);
  return run;
}

/** The pid of a process that has exited (a stale lock's holder). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function writeStaleLock(run: string, target: RunLockTarget, pid = deadPid()): number {
  mkdirSync(runLocksDir(run), { recursive: true });
  const holder = { pid, command: 'finetune', argv: ['node', 'calitune'], started: '2026-01-01T00:00:00Z', token: 't' };
  writeFileSync(runLockPath(run, target), JSON.stringify(holder));
  return pid;
}

function refusedBy(re: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof RunLockedError && re.test(e.message);
}

test('a second holder of the same lock is refused with the holder pid, command and start; release frees it', () => {
  const run = newRun();
  const lock = acquireRunLock({ run, target: { experiment: 'same' }, command: 'finetune' });
  const holder = JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number; command: string; started: string };
  assert.equal(holder.pid, process.pid);
  assert.equal(holder.command, 'finetune');
  assert.ok(!Number.isNaN(Date.parse(holder.started)));
  assert.throws(
    () => acquireRunLock({ run, target: { experiment: 'same' }, command: 'evaluate' }),
    refusedBy(new RegExp(`experiment 'same' of .* is locked by finetune \\(pid ${process.pid}, started `)),
  );
  // another experiment is another lock
  acquireRunLock({ run, target: { experiment: 'other' }, command: 'finetune' }).release();
  lock.release();
  lock.release(); // idempotent
  assert.ok(!existsSync(runLocksDir(run)), 'the lock folder goes with the last lock');
  acquireRunLock({ run, target: { experiment: 'same' }, command: 'evaluate' }).release();
});

test('two levels: the run lock excludes every part lock and each part lock excludes the run lock', () => {
  const run = newRun();
  const part = acquireRunLock({ run, target: { experiment: 'x' }, command: 'finetune' });
  assert.throws(
    () => acquireRunLock({ run, target: 'run', command: 'train' }),
    refusedBy(/cannot lock the run of .*: experiment 'x' is locked by finetune \(pid \d+/),
  );
  assert.ok(!existsSync(runLockPath(run, 'run')), 'the refused run lock is not left behind');
  const grid = acquireRunLock({ run, target: 'grid', command: 'grid' });
  const report = acquireRunLock({ run, target: 'report', command: 'report' });
  report.release();
  grid.release();
  part.release();
  const whole = acquireRunLock({ run, target: 'run', command: 'prepare' });
  for (const target of ['grid', 'report', { experiment: 'x' }] as RunLockTarget[]) {
    assert.throws(
      () => acquireRunLock({ run, target, command: 'evaluate' }),
      refusedBy(/: the run is locked by prepare \(pid \d+/),
    );
  }
  whole.release();
  assert.ok(!existsSync(runLocksDir(run)));
});

test("withRunLock: nested use-cases pass their caller's locks; concurrent chains exclude each other", async () => {
  const run = newRun();
  await withRunLock({ run, target: 'grid', command: 'grid' }, async () => {
    // the grid runner's own postprocess takes the run lock although the grid lock is held
    await withRunLock({ run, target: 'run', command: 'postprocess' }, async () => {
      // and re-entering a lock the chain holds is allowed
      await withRunLock({ run, target: 'run', command: 'postprocess' }, () => undefined);
    });
  });
  let release!: () => void;
  const held = new Promise<void>((res) => (release = res));
  const first = withRunLock({ run, target: { experiment: 'e' }, command: 'finetune' }, () => held);
  await assert.rejects(
    withRunLock({ run, target: { experiment: 'e' }, command: 'finetune' }, () => undefined),
    refusedBy(/experiment 'e' of .* is locked by finetune/),
  );
  await assert.rejects(
    withRunLock({ run, target: 'run', command: 'train' }, () => undefined),
    refusedBy(/experiment 'e' is locked/),
  );
  release();
  await first;
  assert.ok(!existsSync(runLocksDir(run)));
});

test("a dead holder's lock is taken over with a note; a dead part lock does not block the run writer", () => {
  const run = newRun();
  const pid = writeStaleLock(run, { experiment: 'x' });
  const notes: string[] = [];
  const lock = acquireRunLock({ run, target: { experiment: 'x' }, command: 'finetune', note: (l) => notes.push(l) });
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, new RegExp(`of finetune \\(pid ${pid}, started 2026-01-01T00:00:00Z\\).*gone: taken over`));
  assert.equal((JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number }).pid, process.pid);
  lock.release();
  writeStaleLock(run, { experiment: 'y' });
  const whole = acquireRunLock({ run, target: 'run', command: 'train', note: (l) => notes.push(l) });
  assert.match(notes[1]!, /gone: removed/);
  assert.deepEqual(readdirSync(runLocksDir(run)), ['run.lock']);
  whole.release();
  // the guard of a process that died while taking a lock over is cleared by the next holder
  writeStaleLock(run, 'grid');
  const guard = `${runLockPath(run, 'grid')}.takeover-0123456789abcdef`;
  writeFileSync(guard, readFileSync(runLockPath(run, 'grid')));
  acquireRunLock({ run, target: 'report', command: 'report' }).release();
  assert.ok(!existsSync(guard));
});

test('a lock file not written by us is never taken over: the message asks to remove it', () => {
  const run = newRun();
  mkdirSync(runLocksDir(run));
  writeFileSync(runLockPath(run, 'run'), 'garbage');
  assert.throws(
    () => acquireRunLock({ run, target: 'run', command: 'train' }),
    refusedBy(/is not a lock file this program wrote; remove it/),
  );
});

test('bad experiment names never become lock paths', () => {
  assert.throws(() => runLockPath('/r', { experiment: '../x' }), /may only use/);
  assert.equal(runLockPath('/r', { experiment: 'base' }), '/r/.locks/experiment.base.lock');
});

test('stale lock: of several processes taking it over at once, exactly one gets it', async () => {
  const mod = pathToFileURL(join(process.cwd(), 'dist', 'src', 'store', 'run-locks.js')).href;
  for (let round = 0; round < 2; round++) {
    const run = newRun();
    writeStaleLock(run, 'run');
    const go = join(run, 'go');
    // Each child waits for the start signal, then tries; a winner holds the lock for 1.5 s.
    const script = `
      import { existsSync } from 'node:fs';
      const { acquireRunLock } = await import(${JSON.stringify(mod)});
      while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
      try {
        const lock = acquireRunLock({ run: ${JSON.stringify(run)}, target: 'run', command: 'racer' });
        process.stdout.write('won');
        setTimeout(() => lock.release(), 1500);
      } catch (e) {
        process.stdout.write(e.name === 'RunLockedError' ? 'lost' : 'error ' + e.message);
      }`;
    const children = Array.from({ length: 4 }, () => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<string>((res) => c.on('close', () => res(out)));
    });
    await new Promise((r) => setTimeout(r, 800)); // let the children start and wait
    writeFileSync(go, '');
    const outs = await Promise.all(children);
    assert.equal(outs.filter((o) => o === 'won').length, 1, outs.join(', '));
    assert.equal(outs.filter((o) => o === 'lost').length, 3, outs.join(', '));
    assert.ok(!existsSync(runLocksDir(run)), 'no guard or lock left behind');
  }
});

test("the run lock's holder removes what killed writers left: temp files and folders, CP sets in the making", () => {
  const run = newRun();
  mkdirSync(join(run, 'data', 'splits'), { recursive: true });
  mkdirSync(join(run, 'results'));
  const leftovers = [
    join(run, 'data', 'splits', '.train_split.tsv.tmp-123-4'),
    join(run, '.run.json.tmp-123-5'),
    join(run, 'results', '.x.json.tmp-123-6'),
  ];
  for (const f of leftovers) writeFileSync(f, 'partial');
  mkdirSync(join(run, '.postprocess.tmp-123-7'));
  writeFileSync(join(run, '.postprocess.tmp-123-7', 'cp_0.5_test.npy'), 'partial');
  writeFileSync(join(run, 'keep.txt'), 'not a temp file');
  const lock = acquireRunLock({ run, target: 'run', command: 'train' });
  lock.release();
  for (const f of leftovers) assert.ok(!existsSync(f), f);
  assert.deepEqual(readdirSync(run).sort(), ['data', 'keep.txt', 'results']);
});

test("an experiment's lock holder removes dead writers' temp files in results/ and lists/, never a live one's", () => {
  const run = newRun();
  mkdirSync(join(run, 'results'));
  mkdirSync(join(run, 'lists'));
  const dead = deadPid();
  const gone = [
    join(run, 'results', `.e_per_user.tsv.tmp-${dead}-2`),
    join(run, 'lists', `.base_valid.npy.tmp-${dead}-1`),
  ];
  const live = join(run, 'results', `.other.json.tmp-${process.pid}-9`);
  for (const f of [...gone, live]) writeFileSync(f, 'partial');
  const lock = acquireRunLock({ run, target: { experiment: 'e' }, command: 'evaluate' });
  lock.release();
  for (const f of gone) assert.ok(!existsSync(f), f);
  assert.ok(existsSync(live), 'a live writer keeps its temp file');
});

test('a zombie holder (killed, not yet reaped) counts as gone', { skip: !existsSync('/proc/self/stat') }, async () => {
  // sh runs `sleep 0` in the background and becomes `sleep 2`, which never reaps it: a zombie for 2 s
  const sh = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 2'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((res) => sh.stdout.once('data', (d: Buffer) => res(Number(String(d).trim()))));
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.match(readFileSync(`/proc/${pid}/stat`, 'utf8'), /\) Z /, 'the background sleep is a zombie');
    assert.equal(processAlive(pid), false);
    assert.equal(processAlive(process.pid), true);
    const run = newRun();
    writeStaleLock(run, 'run', pid);
    const notes: string[] = [];
    acquireRunLock({ run, target: 'run', command: 'train', note: (l) => notes.push(l) }).release();
    assert.match(notes.join('\n'), /taken over/);
  } finally {
    sh.kill('SIGKILL');
  }
});
