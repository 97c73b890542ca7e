/**
 * The pipeline API called directly: train → prepare → postprocess → finetune (2 epochs) →
 * evaluate → compare on a small synthetic dataset gives the same files and results as the
 * same steps through the CLI, and its typed results hold the numbers the files hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { train } from '../../src/pipeline/train.js';
import { prepare } from '../../src/pipeline/prepare.js';
import { postprocess } from '../../src/pipeline/postprocess.js';
import { finetune } from '../../src/pipeline/finetune.js';
import { evaluate } from '../../src/pipeline/evaluate.js';
import { compare } from '../../src/pipeline/compare.js';
import { dataStats } from '../../src/pipeline/data-stats.js';
import { readEpochLog } from '../../src/store/epoch-log.js';
import { tempDir, writeFinetuneConfig, writeInteractions } from './fixture.js';

process.env.CALITUNE_QUIET = '1';

const tmp = tempDir('calitune-pipeline-');
const data = writeInteractions(tmp);
const config = writeFinetuneConfig(tmp);

/** Results JSON without what differs between two runs of the same steps: timings, dates, paths. */
function comparable(json: unknown, run: string): unknown {
  return JSON.parse(
    JSON.stringify(json, (k, v) => {
      if (k === 'seconds' || k === 'created') return undefined;
      return typeof v === 'string' ? v.split(run).join('RUN') : v;
    }),
  );
}

async function cli(args: string[]): Promise<unknown> {
  const r = await runCaptured([...args, '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

test('pipeline API = CLI: same results file, per-user table and typed results', async () => {
  const api = join(tmp, 'api'),
    viaCli = join(tmp, 'cli');
  const trained = await train({ run: api, data, hyperparameters: { dim: 8, epochs: 2 } });
  await cli(['train', '--run', viaCli, '--data', data, '--dim', '8', '--epochs', '2']);
  assert.equal(trained.model, 'bpr');
  assert.equal(trained.epochs_run, 2);

  const prepared = await prepare({ run: api });
  await cli(['prepare', '--run', viaCli]);
  assert.equal(prepared.popularity_source, 'train');
  assert.deepEqual(prepared.proportions, [0.2, 0.6, 0.2]);
  assert.equal(prepared.users, 120);
  assert.equal(
    prepared.user_groups.sizes.reduce((a, b) => a + b, 0),
    120,
  );

  const cp = await postprocess({ run: api, lambdas: [0.3, 0.6], m: 30 });
  await cli(['postprocess', '--run', viaCli, '--lambdas', '0.3,0.6', '--m', '30']);
  assert.deepEqual(cp.lambda_keys, ['0.3', '0.6']);
  assert.equal(cp.n, 10);

  const ft = await finetune({ run: api, experiment: 'e', configFile: config, keep: 'all' });
  const ftCli = await cli(['finetune', '--run', viaCli, '--name', 'e', '--config', config, '--keep', 'all']);
  assert.equal(ft.epochsRun, 2);
  assert.equal(ft.stopReason, 'max_epochs');
  assert.deepEqual(ft.weights_kept, ft.checkpointEpochs);
  const log = readEpochLog(join(api, 'experiments', 'e', 'log.jsonl'));
  assert.equal(log.length, 3); // epoch 0 (before fine-tuning), 1, 2
  assert.equal(ft.final.validNdcg, log[2]!.valid_ndcg);
  assert.deepEqual(comparable(ft, api), comparable(ftCli, viaCli));

  const ev = await evaluate({ run: api, experiment: 'e' });
  const evCli = await cli(['evaluate', '--run', viaCli, '--experiment', 'e']);
  const { users, items, ...evJson } = ev;
  assert.equal(users, 120);
  assert.equal(items, 90);
  assert.deepEqual(comparable(evJson, api), comparable(evCli, viaCli));
  // The typed result is the results file.
  const file = JSON.parse(readFileSync(ev.results, 'utf8'));
  assert.deepEqual(
    comparable(file, api),
    comparable(
      {
        base_recommendations: ev.base_recommendations,
        postprocessed: ev.postprocessed,
        finetuned: ev.finetuned,
        calitune: ev.calitune,
      },
      api,
    ),
  );
  assert.deepEqual(Object.keys(ev.finetuned!).sort(), ['epoch_1', 'epoch_2']);
  assert.deepEqual(Object.keys(ev.postprocessed!), ['0.3', '0.6']);
  assert.ok(ev.base_recommendations.ndcg! > 0 && ev.base_recommendations.jsd! > 0);
  assert.equal(ev.test.ndcg, trained.test.ndcg);
  const perUser = (run: string) => readFileSync(join(run, 'results', 'e_per_user.tsv'), 'utf8');
  assert.equal(perUser(api), perUser(viaCli));

  const cmp = await compare({ run: api, experiment: 'e', epoch: 2 });
  const { k, rbo_p: rboP, ...cmpJson } = cmp;
  assert.equal(k, 10);
  assert.equal(rboP, 0.9);
  assert.deepEqual(
    comparable(cmpJson, api),
    comparable(await cli(['compare', '--run', viaCli, '--experiment', 'e', '--epoch', '2']), viaCli),
  );
  assert.equal(cmp.metrics.calitune.ndcg, ev.finetuned!.epoch_2!.ndcg);
  assert.ok(['0.3', '0.6'].includes(cmp.cp_lambda));
  assert.equal(cmp.rbo['backbone vs CaliTune']!.overall.n, 120);
});

test('dataStats: a file split with the default seed, or a run', async () => {
  const s = await dataStats({ data });
  assert.equal(s.users, 120);
  assert.equal(s.items, 90);
  assert.equal(s.interactions, 2400);
  assert.equal(s.split!.train + s.split!.valid + s.split!.test, 2400);
  const run = join(tmp, 'stats');
  await train({ run, data, model: 'mostpop' });
  const r = await dataStats({ run });
  assert.equal(r.interactions, 2400);
  assert.deepEqual(r.split, s.split); // the run was split with the same default seed
});
