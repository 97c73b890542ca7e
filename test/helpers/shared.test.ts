/**
 * The ../shared guard: present → the test runs; absent → skipped locally with the path printed, a
 * failure under CI=true. Absence is simulated with a path argument and with CALITUNE_SHARED
 * pointing at a folder that does not exist (../shared itself is left alone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireShared } from './shared.js';
import type { SkipContext } from './ci.js';

/** A test context that records its skip reasons. */
function fakeContext(): SkipContext & { skips: string[] } {
  const skips: string[] = [];
  return {
    skips,
    skip: (msg?: string) => {
      skips.push(msg ?? '');
    },
  };
}

/** Runs `fn` with CI set to `ci` (or unset), restoring the caller's value. */
function withCi<T>(ci: string | undefined, fn: () => T): T {
  const saved = process.env.CI;
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
}

test('requireShared: an existing path runs the test, with or without CI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-shared-'));
  try {
    for (const ci of [undefined, 'true']) {
      const t = fakeContext();
      assert.equal(
        withCi(ci, () => requireShared(t, dir)),
        true,
      );
      assert.deepEqual(t.skips, []);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requireShared: an absent path skips locally (naming the path) and throws under CI=true', () => {
  const absent = join(tmpdir(), `calitune-no-shared-${process.pid}`, 'oracle');
  const local = fakeContext();
  assert.equal(
    withCi(undefined, () => requireShared(local, absent)),
    false,
  );
  assert.equal(local.skips.length, 1);
  assert.ok(local.skips[0]!.includes(absent), local.skips[0]);
  // any value but 'true' is a local run
  assert.equal(
    withCi('false', () => requireShared(fakeContext(), absent)),
    false,
  );
  const ci = fakeContext();
  const namesPath = (e: unknown) => e instanceof Error && e.message.includes(absent);
  assert.throws(() => withCi('true', () => requireShared(ci, absent)), namesPath);
  assert.deepEqual(ci.skips, []);
});

test('a real ../shared test with CALITUNE_SHARED absent: skipped locally, failed under CI=true', () => {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'oracle-import.test.js');
  const absent = join(tmpdir(), `calitune-no-shared-${process.pid}`);
  const run = (ci: Record<string, string>) => {
    const env: NodeJS.ProcessEnv = { ...process.env, CALITUNE_SHARED: absent, CALITUNE_QUIET: '1', ...ci };
    if (!('CI' in ci)) delete env.CI;
    delete env.NODE_TEST_CONTEXT; // the child is a test run of its own, not a subtest of this one
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const local = run({});
  assert.equal(local.status, 0, local.out);
  assert.match(local.out, /^# skipped 1$/m);
  assert.match(local.out, /^# fail 0$/m);
  const ci = run({ CI: 'true' });
  assert.equal(ci.status, 1, ci.out);
  assert.match(ci.out, /^# fail 1$/m);
  assert.match(ci.out, /^# skipped 0$/m);
  assert.ok(ci.out.includes(join(absent, 'oracle', 'ml-100k-bpr')), 'the failure names the missing folder');
});
