/** A tiny imported run shared by the prepare and postprocess tests (edge cases by construction). */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCaptured as cli } from '../../src/cli/run-captured.js';
import { writeNpy } from '../../src/data/npy.js';

/**
 * A tiny imported run: 4 users, 6 items; user 3 has no train items; user 4 has 5 of the 6
 * items in train, so its test-time top-3 has only one valid item.
 *   train u1: 1 2 3 · u2: 1 4 · u3: – · u4: 1 2 3 4 5;  valid u1: 4 · u3: 2;  test u1: 5 · u2: 6 · u3: 1 · u4: 6
 * Train popularity 3,2,2,2,1,0 (total 10): head {1}, mid {2,3,4}, tail {5,6}.
 */
export async function tinyRun(dir: string): Promise<string> {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'splits'), { recursive: true });
  const pairs = (rows: [number, number][]) => 'user_id\titem_id\n' + rows.map(([u, i]) => `${u}\t${i}\n`).join('');
  writeFileSync(
    join(src, 'splits', 'train_split.tsv'),
    pairs([
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
      [2, 4],
      [4, 1],
      [4, 2],
      [4, 3],
      [4, 4],
      [4, 5],
    ]),
  );
  writeFileSync(
    join(src, 'splits', 'valid_split.tsv'),
    pairs([
      [1, 4],
      [3, 2],
    ]),
  );
  writeFileSync(
    join(src, 'splits', 'test_split.tsv'),
    pairs([
      [1, 5],
      [2, 6],
      [3, 1],
      [4, 6],
    ]),
  );
  writeFileSync(
    join(src, 'user_id_map.tsv'),
    'user_id:token\tinternal_id\n' + [1, 2, 3, 4].map((u) => `u${u}\t${u}\n`).join(''),
  );
  writeFileSync(
    join(src, 'item_id_map.tsv'),
    'item_id:token\tinternal_id\n' + [1, 2, 3, 4, 5, 6].map((i) => `i${i}\t${i}\n`).join(''),
  );
  writeNpy(join(src, 'user_emb.npy'), '<f4', [5, 2], Float32Array.from([0, 0, 1, 0.5, 0.2, 1, 0.7, 0.7, -1, 0.3]));
  writeNpy(
    join(src, 'item_emb.npy'),
    '<f4',
    [7, 2],
    Float32Array.from([0, 0, 1, 0, 0.9, 0.1, 0.3, 0.8, 0.5, 0.5, 0.1, 0.95, 0.6, 0.4]),
  );
  const R = join(dir, 'tiny');
  const r = await cli(['import', '--from', src, '--run', R]);
  assert.equal(r.code, 0, r.err);
  return R;
}
