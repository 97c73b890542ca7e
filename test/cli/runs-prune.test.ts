/**
 * `calitune runs prune` on a small synthetic run: a completed experiment loses its resume state
 * (bytes reported exactly, the prune recorded) while evaluate, runs frontier and a grid re-run
 * still work without retraining it, and finetune refuses to start over it or resume it; an
 * unfinished experiment (killed, or a log past its summary) keeps it; a locked
 * experiment is refused by name; --dry-run removes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured as cli } from '../../src/cli/run-captured.js';
import { parseGridText } from '../../src/experiments/grid.js';
import { runPlan } from '../../src/pipeline/grid-runner.js';
import { prune } from '../../src/pipeline/prune.js';
import { serve } from '../../src/pipeline/serve.js';
import { experimentPaths } from '../../src/store/experiment-files.js';
import { readResumePruneRecord } from '../../src/store/resume-prune.js';
import { acquireRunLock, RunLockedError } from '../../src/store/run-locks.js';
import { registryPath } from '../../src/experiments/registry.js';
import { silentReporter } from '../../src/pipeline/reporter.js';
import { cliKilledAt } from './kill-moments.js';
import { preparedSyntheticRun } from '../helpers/prepared-run.js';

process.env.CALITUNE_QUIET = '1';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-prune-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function makeRun(name: string): string {
  return preparedSyntheticRun(join(tmp, name));
}

function configFile(name: string, epochs: number): string {
  const path = join(tmp, name);
  const lines = ['random_seed: 111', `num_epochs: ${epochs}`, 'train_batch_size: 16', 'learning_rate: 0.01'];
  lines.push('combined_mode_alpha: 0.5', 'k_candidates: 20', 'accuracy_floor: 0', 'early_stopping_patience: 100000');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const SHORT = configFile('short.yaml', 3);
const LONG = configFile('long.yaml', 1_000_000);
const GRID = `base:
  num_epochs: 3
  learning_rate: 0.01
  k_candidates: 20
  accuracy_floor: 0
grid:
  combined_mode_alpha: [0.5]
`;
const POINT = 'c0.5__frozen_itememb__selection_relevance__k20__lr0.01';

const logLines = (run: string, name: string) =>
  existsSync(experimentPaths(run, name).log)
    ? readFileSync(experimentPaths(run, name).log, 'utf8').split('\n').filter(Boolean).length
    : 0;

test('prune: dry run removes nothing, then the completed point is pruned; evaluate, frontier, grid still work', async () => {
  const run = makeRun('grid');
  const plan = parseGridText(GRID, join(tmp, 'grid.yaml'));
  assert.deepEqual(
    plan.points.map((p) => p.name),
    [POINT],
  );
  const first = await runPlan({ run, plan, workers: 1, reporter: silentReporter });
  assert.equal(first.done, 1);
  const ep = experimentPaths(run, POINT);
  const size = statSync(ep.resume).size;
  assert.ok(size > 0);

  const dry = await cli(['runs', 'prune', '--run', run, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.ok(dry.out.includes(`would remove ${ep.resume}`), dry.out);
  assert.ok(dry.out.includes(`${size} bytes`), dry.out);
  assert.ok(existsSync(ep.resume), '--dry-run removes nothing');
  assert.equal(readResumePruneRecord(run, POINT), undefined);

  const json = await cli(['runs', 'prune', '--run', run, '--experiment', POINT, '--json']);
  assert.equal(json.code, 0, json.err);
  const r = JSON.parse(json.out) as { bytesFreed: number; experiments: { action: string; bytes: number }[] };
  assert.equal(r.bytesFreed, size, 'the bytes freed are the size of the removed file');
  assert.deepEqual(
    r.experiments.map((e) => [e.action, e.bytes]),
    [['removed', size]],
  );
  assert.ok(!existsSync(ep.resume));
  assert.equal(readResumePruneRecord(run, POINT)?.bytes, size);
  assert.equal(readResumePruneRecord(run, POINT)?.epochs_run, 3);
  const again = await cli(['runs', 'prune', '--run', run]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /resume state already pruned/);
  assert.match(again.out, /freed 0 B in 0 experiment/);

  // everything else stays readable
  const ev = await cli(['evaluate', '--run', run, '--experiment', POINT]);
  assert.equal(ev.code, 0, ev.err);
  const fr = await cli(['runs', 'frontier', '--run', run]);
  assert.equal(fr.code, 0, fr.err);
  const show = await cli(['runs', 'show', '--run', run, POINT]);
  assert.equal(show.code, 0, show.err);
  const rep = await cli(['report', '--run', run]);
  assert.equal(rep.code, 0, rep.err);
  const server = await serve({ run, experiment: POINT, mode: 'tradeoff', port: 0, logLevel: 'silent' });
  try {
    assert.match(server.model, new RegExp(`CaliTune ${POINT} epoch`));
    const user = readFileSync(join(run, 'data', 'user_id_map.tsv'), 'utf8')
      .split('\n')[1]!
      .split('\t')[0]!;
    const res = await fetch(`http://127.0.0.1:${server.port}/recommend?user=${user}&k=5`);
    assert.equal(res.status, 200, await res.clone().text());
  } finally {
    await server.close();
  }

  // a grid re-run, even with the registry gone, evaluates the point without retraining it
  const log = readFileSync(ep.log, 'utf8');
  for (const f of ['', '-wal', '-shm']) rmSync(registryPath(run) + f, { force: true });
  const second = await runPlan({ run, plan, workers: 1, reporter: silentReporter });
  assert.equal(second.done, 1);
  assert.equal(readFileSync(ep.log, 'utf8'), log, 'the pruned point is not fine-tuned again');
  assert.ok(!existsSync(ep.resume));

  // finetune neither starts over a pruned experiment nor resumes it
  const fresh = await cli(['finetune', '--run', run, '--config', SHORT, '--name', POINT]);
  assert.equal(fresh.code, 2);
  assert.match(fresh.err, /resume state was pruned; it already exists in .*: choose another --name/);
  const resumed = await cli(['finetune', '--run', run, '--name', POINT, '--resume']);
  assert.equal(resumed.code, 2);
  assert.match(resumed.err, /resume state was pruned \(calitune runs prune\): it cannot be continued/);
  assert.equal(readFileSync(ep.log, 'utf8'), log);
});

test('prune keeps unfinished experiments (killed; log past its summary) and refuses a locked one', async () => {
  const run = makeRun('unfinished');
  // killed during its first fine-tuning: a resume state and no summary
  const killed = experimentPaths(run, 'killed');
  await cliKilledAt(
    ['finetune', '--run', run, '--config', LONG, '--name', 'killed'],
    () => logLines(run, 'killed') > 2,
    0,
  );
  assert.ok(existsSync(killed.resume) && !existsSync(killed.summary));
  // completed after 3 epochs, then (as a resume that went on past the summary and was killed would
  // leave it; resume does not continue a finished run today) a log reaching past summary.json
  const cont = experimentPaths(run, 'continued');
  assert.equal((await cli(['finetune', '--run', run, '--config', SHORT, '--name', 'continued'])).code, 0);
  const last = JSON.parse(readFileSync(cont.log, 'utf8').trim().split('\n').pop()!) as { epoch: number };
  appendFileSync(cont.log, `${JSON.stringify({ ...last, epoch: last.epoch + 1 })}\n`);
  assert.equal((await cli(['finetune', '--run', run, '--config', SHORT, '--name', 'done'])).code, 0);

  // a locked experiment is refused by name; the others are still pruned
  const lock = acquireRunLock({ run, target: { experiment: 'done' }, command: 'finetune' });
  try {
    await assert.rejects(
      prune({ run }),
      (e: unknown) => e instanceof RunLockedError && /'done'/.test(e.message) && /finetune \(pid/.test(e.message),
    );
  } finally {
    lock.release();
  }
  assert.ok(existsSync(experimentPaths(run, 'done').resume), 'a locked experiment is not touched');

  const r = await prune({ run });
  const by = Object.fromEntries(r.experiments.map((e) => [e.experiment, e]));
  assert.equal(by.killed?.action, 'kept');
  assert.match(by.killed?.why ?? '', /no summary\.json/);
  assert.equal(by.continued?.action, 'kept');
  assert.match(by.continued?.why ?? '', /past the 3 of summary\.json/);
  assert.equal(by.done?.action, 'removed');
  assert.ok(existsSync(killed.resume) && existsSync(cont.resume), 'unfinished experiments keep their resume state');
  assert.ok(!existsSync(experimentPaths(run, 'done').resume));
  assert.equal(r.bytesFreed, by.done?.bytes);

  const unknown = await cli(['runs', 'prune', '--run', run, '--experiment', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /has no experiment 'nope' \(--experiment\)/);
});
