/**
 * Queue URLs and point jobs without Redis: the password never shows in what a URL is shown as,
 * bad URLs name the option field, job ids are stable and tell points apart, and a worker's
 * check refuses every forged job (no run, a path outside the run, an unplanned point, another
 * configuration) while accepting the planned one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQueueUrl, redactQueueUrl } from '../../src/experiments/queue-connection.js';
import { checkPointJob, pointJobId, RefusedJob } from '../../src/experiments/queue-jobs.js';
import { gridConfigPath } from '../../src/store/registry-files.js';
import { runPaths } from '../../src/store/run.js';
import { InputError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-queuejobs-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('queue URLs: password left out of what is shown, TLS and database read, bad URLs name the field', () => {
  assert.equal(redactQueueUrl('redis://:s3cret@10.0.0.5:6380/2'), 'redis://10.0.0.5:6380/2');
  assert.equal(redactQueueUrl('rediss://alice:s3cret@redis.lan'), 'rediss://alice@redis.lan');
  const c = parseQueueUrl('rediss://alice:p%40ss@redis.lan:6390/3');
  assert.equal(c.shown, 'rediss://alice@redis.lan:6390/3');
  assert.deepEqual(c.connection, {
    host: 'redis.lan',
    port: 6390,
    username: 'alice',
    password: 'p@ss',
    db: 3,
    tls: {},
  });
  assert.deepEqual(parseQueueUrl('redis://127.0.0.1').connection, { host: '127.0.0.1', port: 6379 });
  for (const bad of [
    'http://u:s3cret@host:6379',
    'redis:://x:s3cret@',
    'redis://:s3cret@host/abc',
    'nonsense s3cret',
  ]) {
    assert.throws(
      () => parseQueueUrl(bad),
      (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.equal(e.field, 'queue');
        assert.doesNotMatch(e.message, /s3cret/);
        return true;
      },
      bad,
    );
  }
});

/** A directory that passes for a run (run.json) with one planned point. */
function plannedRun(name: string, point: string, config: Record<string, unknown>): string {
  const run = join(tmp, name);
  mkdirSync(join(run, 'grid', 'configs'), { recursive: true });
  writeFileSync(runPaths(run).info, '{}\n');
  writeFileSync(gridConfigPath(run, point), `${JSON.stringify(config, null, 2)}\n`);
  return run;
}

function refused(data: unknown, re: RegExp): void {
  assert.throws(
    () => checkPointJob(data),
    (e: unknown) => {
      assert.ok(e instanceof RefusedJob, String(e));
      assert.match(e.message, re);
      return true;
    },
  );
}

test('point jobs: stable ids; forged jobs refused, the planned one accepted', () => {
  const config = { num_epochs: 3, combined_mode_alpha: 0.5 };
  const run = plannedRun('run', 'p1', config);
  const job = { run, point: 'p1', config, keep: 'frontier' };
  assert.equal(pointJobId(run, 'p1', config), pointJobId(`${run}/`, 'p1', { ...config }));
  assert.notEqual(pointJobId(run, 'p1', config), pointJobId(run, 'p2', config));
  assert.notEqual(pointJobId(run, 'p1', config), pointJobId(run, 'p1', { ...config, num_epochs: 4 }));
  assert.match(pointJobId(run, 'p1', config), /^point-[0-9a-f]{40}$/);
  assert.deepEqual(checkPointJob(job), job);

  refused({ ...job, extra: 'rm -rf /' }, /not a grid point/);
  refused({ ...job, keep: 'everything' }, /not a grid point/);
  refused({ ...job, run: 'relative/run' }, /absolute/);
  refused({ ...job, run: `${run}/../run` }, /absolute, normalised/);
  refused({ ...job, run: tmp }, /not a run directory/);
  refused({ ...job, point: '../../../etc/passwd' }, /may only use letters/);
  refused({ ...job, point: '..' }, /must not start with '.'/);
  refused({ ...job, point: 'p2' }, /not planned/);
  refused({ ...job, config: { ...config, num_epochs: 300 } }, /differs from the one planned/);

  // A point folder that is a symbolic link out of the run escapes it.
  const outside = join(tmp, 'outside');
  mkdirSync(outside);
  mkdirSync(join(run, 'experiments'), { recursive: true });
  symlinkSync(outside, join(run, 'experiments', 'p1'));
  refused(job, /escapes the run directory/);
});
