/**
 * Bad input to the pipeline is an InputError that names the option field (a UserError, so the
 * CLI's exit code 2 holds); the CLI shows the same message with its flags and commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { cliNaming } from '../../src/cli/naming.js';
import { commands } from '../../src/cli/registry.js';
import { train } from '../../src/pipeline/train.js';
import { prepare } from '../../src/pipeline/prepare.js';
import { postprocess } from '../../src/pipeline/postprocess.js';
import { evaluate } from '../../src/pipeline/evaluate.js';
import { finetune } from '../../src/pipeline/finetune.js';
import { compare } from '../../src/pipeline/compare.js';
import { serve } from '../../src/pipeline/serve.js';
import { InputError, UserError, LIBRARY_NAMING } from '../../src/util/errors.js';
import { tempDir, writeFinetuneConfig, writeInteractions } from './fixture.js';

process.env.CALITUNE_QUIET = '1';

const tmp = tempDir('calitune-pipeline-errors-');
const data = writeInteractions(tmp);
const run = join(tmp, 'run');

async function inputError(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.ok(e instanceof UserError);
    return e;
  }
  assert.fail('expected an InputError');
}

const command = (name: string) => commands().find((c) => c.name === name)!;

test('schema violations name the option field; the CLI names the flag', async () => {
  const rbo = await inputError(evaluate({ run, rboP: 1 }));
  assert.equal(rbo.field, 'rboP');
  assert.equal(rbo.message, 'rboP must be in (0, 1), got 1');
  assert.equal(rbo.render(cliNaming(command('evaluate'), commands())), '--rbo-p must be in (0, 1), got 1');

  const source = await inputError(prepare({ run, popularitySource: 'everything' as 'all' }));
  assert.equal(source.field, 'popularitySource');
  assert.equal(source.message, "popularitySource must be one of train, all; got 'everything'");

  const k = await inputError(evaluate({ run, k: 0 }));
  assert.equal(k.field, 'k');
  assert.equal(k.message, 'k must be ≥ 1, got 0');

  const typo = await inputError(postprocess({ run, lamdbas: [0.5] } as never));
  assert.equal(typo.field, 'lamdbas');
  assert.equal(typo.message, "unknown option 'lamdbas'");

  const missing = await inputError(finetune({ run } as never));
  assert.equal(missing.field, 'experiment');
  assert.equal(missing.message, 'experiment is required');
});

test('checks inside the use-cases name their field, in library words and in CLI words', async () => {
  await train({ run, data, model: 'mostpop' });
  await prepare({ run });

  const lambdas = await inputError(postprocess({ run, lambdas: [0.2, 1.5] }));
  assert.equal(lambdas.field, 'lambdas');
  assert.equal(lambdas.message, 'lambdas: λ must be in [0, 1], got 1.5');
  const mn = await inputError(postprocess({ run, m: 5, n: 10 }));
  assert.equal(mn.field, 'm');
  assert.equal(mn.message, 'm (5) must be an integer ≥ n (10)');
  assert.equal(mn.render(cliNaming(command('postprocess'), commands())), '--m (5) must be an integer ≥ --n (10)');

  const name = await inputError(finetune({ run, experiment: 'a b', configFile: writeFinetuneConfig(tmp) }));
  assert.equal(name.field, 'experiment');
  assert.equal(
    name.render(cliNaming(command('finetune'), commands())),
    "--name 'a b' may only use letters, digits, '.', '_' and '-'",
  );

  const source = await inputError(
    finetune({ run, experiment: 'e', configFile: writeFinetuneConfig(tmp), popularitySource: 'all' }),
  );
  assert.equal(source.field, 'popularitySource');
  assert.equal(
    source.message,
    `the run was prepared with popularitySource train, not all: re-run 'prepare(run: ${run}, popularitySource: all)'`,
  );
  assert.equal(
    source.render(cliNaming(command('finetune'), commands())),
    'the run was prepared with --popularity-source train, not all: ' +
      `re-run 'calitune prepare --run ${run} --popularity-source all'`,
  );

  const both = await inputError(compare({ run, experiment: 'e', mode: 'any', epoch: 1 }));
  assert.equal(both.field, 'epoch');
  assert.equal(both.message, 'give either mode or epoch, not both');

  const serving = await inputError(serve({ run, epoch: 3, port: 0 }));
  assert.equal(serving.field, 'epoch');
  assert.equal(serving.message, 'epoch and mode need experiment');
  assert.equal(serving.render(LIBRARY_NAMING), serving.message);
});

test('the CLI prints InputErrors with its flags and exits 2', async () => {
  const r = await runCaptured(['postprocess', '--run', run, '--lambdas', '0.1,0.1']);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'calitune postprocess: --lambdas has duplicates: 0.1,0.1\n');
  const s = await runCaptured(['serve', '--run', run, '--mode', 'any']);
  assert.equal(s.code, 2);
  assert.equal(s.err, 'calitune serve: --epoch and --mode need --experiment\n');
  const f = await runCaptured([
    'finetune',
    '--run',
    run,
    '--name',
    'x',
    '--config',
    writeFinetuneConfig(tmp),
    '--set',
    'nope',
  ]);
  assert.equal(f.code, 2);
  assert.equal(f.err, "calitune finetune: --set expects key=value, got 'nope'\n");
});
