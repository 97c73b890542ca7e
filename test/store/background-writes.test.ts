import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackgroundWrites } from '../../src/store/background-writes.js';
import { WriteError } from '../../src/util/write-errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-background-writes-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
/** A large buffer of its own, so it is moved to the worker rather than copied. */
const bigBytes = (fill: number): Uint8Array => new Uint8Array(200_000).fill(fill);

test('background writes land in the order handed over: appends in sequence, the last replacement wins', () => {
  const w = new BackgroundWrites();
  const log = join(tmp, 'order', 'log.txt');
  const state = join(tmp, 'order', 'state.bin');
  mkdirSync(join(tmp, 'order'), { recursive: true });
  for (let i = 0; i < 40; i++) {
    w.submit({ kind: 'append', path: log, bytes: bytes(`${i}\n`) });
    // supersedable: an older state may be skipped when a newer one waits, never the newest
    w.submit({ kind: 'replace', path: state, bytes: i % 2 ? bigBytes(i) : bytes(`state ${i}`), supersedable: true });
  }
  const ticket = w.submit({ kind: 'replace', path: join(tmp, 'order', 'gone', 'x.txt'), bytes: bytes('x') });
  w.submit({ kind: 'remove', path: join(tmp, 'order', 'gone') });
  w.waitFor(ticket);
  w.close();
  assert.equal(readFileSync(log, 'utf8'), Array.from({ length: 40 }, (_, i) => `${i}\n`).join(''));
  assert.deepEqual(new Uint8Array(readFileSync(state)), bigBytes(39));
  assert.equal(existsSync(join(tmp, 'order', 'gone')), false, 'the removal ran after the write into the folder');
});

test('a failed background write is thrown by the next call, naming its path; the writes behind it are dropped', () => {
  const w = new BackgroundWrites();
  const dir = join(tmp, 'fail');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'blocker'), 'a file where a folder should be');
  const bad = join(dir, 'blocker', 'state.bin');
  const after = join(dir, 'after.txt');
  w.submit({ kind: 'append', path: join(dir, 'log.txt'), bytes: bytes('before\n') });
  w.submit({ kind: 'replace', path: bad, bytes: bytes('cannot land') });
  w.submit({ kind: 'replace', path: after, bytes: bytes('queued behind the failure') });
  assert.throws(
    () => w.settle(),
    (e: unknown) => e instanceof WriteError && e.path === bad && /cannot write/.test(e.message),
  );
  assert.equal(readFileSync(join(dir, 'log.txt'), 'utf8'), 'before\n', 'what came before the failure landed');
  assert.equal(existsSync(after), false, 'a write behind the failed one would break the order: dropped');
  // reported once; writes handed over after the report run again
  w.submit({ kind: 'replace', path: after, bytes: bytes('again') });
  w.close();
  assert.equal(readFileSync(after, 'utf8'), 'again');
});

test('a failure is also reported by the next submit, before the new write is queued', () => {
  const w = new BackgroundWrites();
  const dir = join(tmp, 'fail-submit');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'blocker'), '');
  const bad = join(dir, 'blocker', 'log.txt');
  w.submit({ kind: 'append', path: bad, bytes: bytes('x\n') });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let thrown: unknown;
  // keep handing over harmless writes until the worker's report arrives (it cannot be missed)
  for (let i = 0; i < 1000 && thrown === undefined; i++) {
    try {
      w.submit({ kind: 'append', path: join(dir, 'ok.txt'), bytes: bytes(`${i}\n`) });
      Atomics.wait(pause, 0, 0, 5);
    } catch (e) {
      thrown = e;
    }
  }
  w.close();
  assert.ok(thrown instanceof WriteError && thrown.path === bad, String(thrown));
});
