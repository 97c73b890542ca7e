/**
 * A small real run for the report tests, built through the CLI in-process: synthetic
 * interactions (150 users × 120 items) → train BPR (dim 16, a few epochs) → prepare →
 * postprocess (3 λ) → finetune 'a' (5 epochs) → evaluate. Built once per test file.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../src/cli/run-captured.js';
import { generateSynthetic, writeInterFile } from '../../src/data/synthetic.js';

process.env.CALITUNE_QUIET = '1';

export const cli = runCaptured;

async function ok(args: string[]): Promise<void> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`calitune ${args.join(' ')} failed (${r.code}): ${r.err}`);
}

/** The fixture's synthetic interactions (150 users × 120 items, seed 11) as tmp/synth.inter. */
export function writeFixtureData(tmp: string): string {
  const data = join(tmp, 'synth.inter');
  writeInterFile(data, generateSynthetic({ users: 150, items: 120, interactions: 3600, seed: 11 }));
  return data;
}

/** A BPR run (dim 16, 6 epochs) on `data`, prepared: the start of every fixture run. */
export async function trainedRun(data: string, run: string): Promise<string> {
  await ok([
    'train',
    '--data',
    data,
    '--run',
    run,
    '--epochs',
    '6',
    '--dim',
    '16',
    '--lr',
    '0.01',
    '--batch-size',
    '512',
  ]);
  await ok(['prepare', '--run', run]);
  return run;
}

export interface Fixture {
  tmp: string;
  run: string;
  bare: string;
  cleanup(): void;
}

/**
 * `run`: the full pipeline with one experiment 'a'. `bare`: trained and prepared, nothing else
 * (no experiments, no CP, not evaluated).
 */
export async function buildFixture(prefix = 'calitune-report-'): Promise<Fixture> {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const data = writeFixtureData(tmp);
  const cfg = join(tmp, 'ft.yaml');
  writeFileSync(
    cfg,
    [
      'random_seed: 111',
      'num_epochs: 5',
      'train_batch_size: 16',
      'learning_rate: 0.01',
      'freeze_item_emb: true',
      'combined_mode_alpha: 0.5',
      'k_candidates: 20',
      'early_stopping_patience: 25',
      '',
    ].join('\n'),
  );
  const run = await trainedRun(data, join(tmp, 'run'));
  const bare = join(tmp, 'bare');
  mkdirSync(bare);
  await ok(['train', '--data', data, '--run', bare, '--epochs', '3', '--dim', '8', '--batch-size', '512']);
  await ok(['prepare', '--run', bare]);
  await ok(['postprocess', '--run', run, '--lambdas', '0.2,0.5,0.8', '--workers', '1']);
  await ok(['finetune', '--run', run, '--config', cfg, '--name', 'a', '--keep', 'last']);
  await ok(['evaluate', '--run', run, '--experiment', 'a']);
  return { tmp, run, bare, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** Reference-style grid names for `gridCopy` (α × frozen; shared: selection, k, lr). */
export const GRID_NAMES = [
  'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001',
  'c0.5__unfrozen_itememb__selection_relevance__k50__lr0.0001',
  'c1.0__frozen_itememb__selection_relevance__k50__lr0.0001',
  'c1.0__unfrozen_itememb__selection_relevance__k50__lr0.0001',
];

/**
 * A copy of `run` whose experiment 'a' also appears under each of `names` (its folder, results
 * file and per-user table copied): a multi-experiment run with grid names, without training more.
 */
export function gridCopy(run: string, dest: string, names: readonly string[] = GRID_NAMES): string {
  cpSync(run, dest, { recursive: true });
  for (const n of names) {
    cpSync(join(dest, 'experiments', 'a'), join(dest, 'experiments', n), { recursive: true });
    cpSync(join(dest, 'results', 'a.json'), join(dest, 'results', `${n}.json`));
    cpSync(join(dest, 'results', 'a_per_user.tsv'), join(dest, 'results', `${n}_per_user.tsv`));
  }
  return dest;
}
