/**
 * The Reporter: with the default (silent) reporter a use-case writes nothing to the console;
 * a reporter of one's own receives the warnings, log lines and progress.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { train } from '../../src/pipeline/train.js';
import { prepare } from '../../src/pipeline/prepare.js';
import { finetune } from '../../src/pipeline/finetune.js';
import { nestedReporter, type Reporter } from '../../src/pipeline/reporter.js';
import { tempDir, writeFinetuneConfig, writeInteractions } from './fixture.js';

const tmp = tempDir('calitune-pipeline-reporter-');
const data = writeInteractions(tmp);

/** Runs `fn` with stdout and stderr captured. */
async function captured(fn: () => Promise<unknown>): Promise<string> {
  let out = '';
  const ow = process.stdout.write.bind(process.stdout),
    ew = process.stderr.write.bind(process.stderr);
  const capture = ((s: string | Uint8Array) => {
    out += String(s);
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    await fn();
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return out;
}

interface Recorded {
  info: string[];
  warn: string[];
  progress: { label: string; total: number; updates: number[]; done: (string | undefined)[] }[];
}

function recorder(): Reporter & { seen: Recorded } {
  const seen: Recorded = { info: [], warn: [], progress: [] };
  return {
    seen,
    info: (line = '') => {
      seen.info.push(line);
    },
    warn: (line) => {
      seen.warn.push(line);
    },
    progress: (label, total) => {
      const p = { label, total, updates: [] as number[], done: [] as (string | undefined)[] };
      seen.progress.push(p);
      return {
        update: (i) => {
          p.updates.push(i);
        },
        done: (m) => {
          p.done.push(m);
        },
      };
    },
  };
}

test('silent by default: train, prepare and finetune write nothing to the console', async () => {
  const run = join(tmp, 'silent');
  delete process.env.CALITUNE_QUIET;
  const out = await captured(async () => {
    await train({ run, data, hyperparameters: { dim: 8, epochs: 2 } });
    await prepare({ run });
    await finetune({ run, experiment: 'e', configFile: writeFinetuneConfig(tmp) });
  });
  assert.equal(out, '');
});

test('a reporter of its own gets the warnings, log lines and every epoch as progress', async () => {
  const run = join(tmp, 'recorded');
  const rec = recorder();
  await train({ run, data, hyperparameters: { dim: 8, epochs: 3 } }, rec);
  assert.equal(rec.seen.warn.length, 1);
  assert.match(
    rec.seen.warn[0]!,
    /^train: 2400 interactions of 120 users × 90 items from .*synth\.inter; split seed 920$/,
  );
  assert.deepEqual(
    rec.seen.progress.map((p) => [p.label, p.total, p.updates]),
    [['train bpr', 3, [1, 2, 3]]],
  );
  assert.match(
    rec.seen.progress[0]!.done[0]!,
    /^best epoch \d \(valid NDCG@10 0\.\d{5} over users with valid items\), 3 epochs in /,
  );

  await prepare({ run }, rec);
  const ft = recorder();
  await finetune({ run, experiment: 'e', configFile: writeFinetuneConfig(tmp), overrides: ['device=cuda'] }, ft);
  assert.deepEqual(ft.seen.warn, ["note: config key 'device' is ignored: we run on the CPU"]);
  assert.equal(ft.seen.info.length, 2);
  assert.match(ft.seen.info[0]!, /^fine-tuning bpr on .* → .*experiments\/e$/);
  assert.deepEqual(
    ft.seen.progress.map((p) => [p.label, p.total, p.updates]),
    [['finetune e', 2, [0, 1, 2]]],
  );

  const nested = recorder();
  const inner = nestedReporter(nested, '    ');
  inner.info('x');
  inner.warn('w');
  inner.progress('p', 3).update(1);
  assert.deepEqual(nested.seen, { info: ['    x'], warn: ['w'], progress: [] });
});
