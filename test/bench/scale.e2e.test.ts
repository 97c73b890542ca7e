/**
 * bench:scale's machinery at the smallest preset: every stage runs as its own process on a
 * fresh run (ML-100K-sized synthetic data, a 16-dimensional backbone, no PNGs), each reports
 * its wall and CPU seconds and peak RSS as RESULT lines and a table row, and the temporary
 * work folder is removed. (About 12 CPU seconds, most of them Node start-ups.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const STAGES = [
  'read_split',
  'bpr_epoch',
  'prepare',
  'cp_one_lambda',
  'finetune_frozen',
  'finetune_trainable',
  'evaluate',
  'report',
];
/** Stages that also print one epoch's seconds (from the fine-tuner's epoch log). */
const FINETUNE_STAGES = ['finetune_frozen', 'finetune_trainable'];

test('bench:scale at ml-100k: one RESULT line per stage and figure, a table, no work folder left', () => {
  const args = ['--preset', 'ml-100k', '--dim', '16', '--no-png'];
  const r = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'scale.js'), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const results = new Map<string, number>();
  for (const m of r.stdout.matchAll(/^RESULT (\S+) (\S+)$/gm)) results.set(m[1]!, Number(m[2]));
  for (const stage of STAGES) {
    const seconds = results.get(`ml_100k_${stage}_seconds`);
    const cpu = results.get(`ml_100k_${stage}_cpu_seconds`);
    const rss = results.get(`ml_100k_${stage}_peak_rss_mb`);
    assert.ok(seconds !== undefined && seconds > 0, `${stage}: seconds ${seconds}`);
    assert.ok(cpu !== undefined && cpu > 0, `${stage}: CPU seconds ${cpu}`);
    // A Node process holds tens of MB at least; far more would mean the figure is not in MB.
    assert.ok(rss !== undefined && rss > 20 && rss < 4000, `${stage}: peak RSS ${rss} MB`);
    // The last column is one epoch's seconds, for the fine-tuning stages only.
    const epoch = FINETUNE_STAGES.includes(stage) ? '[0-9.]+' : '';
    assert.match(r.stdout, new RegExp(`^\\| ${stage} \\| [0-9.]+ \\| [0-9.]+ \\| [0-9]+ \\| ${epoch} \\|$`, 'm'));
  }
  for (const stage of FINETUNE_STAGES) {
    const epoch = results.get(`ml_100k_${stage}_epoch_seconds`);
    assert.ok(epoch !== undefined && epoch > 0 && epoch <= results.get(`ml_100k_${stage}_seconds`)!, `${stage}: epoch`);
  }
  assert.equal(results.size, 3 * STAGES.length + FINETUNE_STAGES.length);
  const work = /work folder (\S+)/.exec(r.stdout)?.[1];
  assert.ok(work !== undefined && !existsSync(work), `work folder ${work} removed`);
});

test('bench:scale refuses an unknown stage or preset before doing any work', () => {
  const bench = join(root, 'dist', 'bench', 'scale.js');
  const stage = spawnSync(process.execPath, [bench, '--preset', 'ml-100k', '--only', 'train'], { encoding: 'utf8' });
  assert.equal(stage.status, 2);
  assert.match(stage.stderr, /unknown stage 'train'/);
  const preset = spawnSync(process.execPath, [bench, '--preset', 'ml-10m'], { encoding: 'utf8' });
  assert.equal(preset.status, 2);
  assert.match(preset.stderr, /--preset must be one of ml-100k, ml-1m, ml-20m/);
});
