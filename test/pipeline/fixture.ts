/** A small synthetic interaction file (RecBole .inter) for the pipeline tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';

/** A temporary folder, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** 120 users × 90 items, 2,400 interactions, written as DIR/synth.inter. */
export function writeInteractions(dir: string): string {
  const log = generateSynthetic({ users: 120, items: 90, interactions: 2400, seed: 7 });
  const users = log.userMap.tokens,
    items = log.itemMap.tokens;
  const lines = ['user_id:token\titem_id:token'];
  for (let i = 0; i < log.users.length; i++) lines.push(`${users[log.users[i]!]}\t${items[log.items[i]!]}`);
  const path = join(dir, 'synth.inter');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** A fine-tuning configuration small enough for a test: 2 epochs, 20 candidates. */
export function writeFinetuneConfig(dir: string): string {
  const path = join(dir, 'ft.yaml');
  writeFileSync(
    path,
    'num_epochs: 2\nk_candidates: 20\nlearning_rate: 0.01\ntrain_batch_size: 16\nfreeze_item_emb: false\n',
  );
  return path;
}
