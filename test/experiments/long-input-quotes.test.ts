/** A megabyte-long key or header in a config, grid or data file is quoted to 100 characters, never whole. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFinetuneConfigYaml } from '../../src/calibration/finetune-config.js';
import { readInteractions } from '../../src/data/readers.js';
import { parseGridText } from '../../src/experiments/grid.js';
import { parseBackboneConfigYaml } from '../../src/train/configs/config-file.js';
import { UserError } from '../../src/util/errors.js';

const LONG = 'k'.repeat(1_000_000);

function shortMessage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.ok(e.message.length < 1000, `a message of ${e.message.length} characters`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('unknown long keys in a backbone config, a fine-tuning config and a grid file', () => {
  const cut = /'k{100}…' \(1000000 characters\)/;
  // an explicit key (`? key`): YAML allows implicit keys of at most 1024 characters
  shortMessage(() => parseBackboneConfigYaml(`? ${LONG}\n: 1\n`, 'c.yaml'), cut);
  shortMessage(() => parseFinetuneConfigYaml(`? ${LONG}\n: 1\n`, 'f.yaml'), cut);
  shortMessage(() => parseGridText(`grid:\n  ? ${LONG}\n  : [1, 2]\n`, 'g.yaml'), cut);
  shortMessage(() => parseGridText(`? ${LONG}\n: 1\n`, 'g.yaml'), cut);
});

test('a header of a megabyte in a data file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-long-header-'));
  try {
    const f = join(dir, 'x.csv');
    writeFileSync(f, `user_id,${LONG}\n1,2\n`);
    shortMessage(
      () => readInteractions(f, { itemCol: 'item' }),
      /fields found: 'user_id, k{91}…' \(1000009 characters\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
