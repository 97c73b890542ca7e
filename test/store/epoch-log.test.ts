import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEpochLog, readEpochLog, writeEpochLog } from '../../src/store/epoch-log.js';
import type { EpochLogRecord } from '../../src/calibration/finetuner.js';
import { isUserError } from '../../src/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'calitune-epoch-log-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const rec = (epoch: number, validNdcg: number, jsd: number, tradeoff: number | null): EpochLogRecord => ({
  epoch,
  lr: 0.001,
  acc_loss: epoch ? 0.5 : null,
  cal_loss: epoch ? 0.25 : null,
  valid_ndcg: validNdcg,
  jsd,
  tradeoff,
  improved: epoch ? ['ndcg'] : [],
  checkpoint: epoch === 2,
  train_s: 0.1,
  regen_s: 0.01,
  valid_s: 0.02,
});

test('epoch log: written, appended and read back exactly, one line per record', () => {
  const p = join(tmp, 'a.jsonl');
  const recs = [rec(0, 0.2, 0.3, 1), rec(1, 0.21, 0.29, 1.02)];
  writeEpochLog(p, recs);
  appendEpochLog(p, rec(2, 0.1 + 0.2, 1 / 3, null));
  assert.equal(readFileSync(p, 'utf8').split('\n').length, 4, 'three lines and the final newline');
  const back = readEpochLog(p);
  assert.deepEqual(back, [...recs, rec(2, 0.1 + 0.2, 1 / 3, null)]);
  assert.equal(back[2]!.valid_ndcg, 0.30000000000000004);
  assert.deepEqual(
    readEpochLog(p, 1).map((r) => r.epoch),
    [0, 1],
    'maxEpoch',
  );
  assert.deepEqual(readEpochLog(join(tmp, 'missing.jsonl')), []);
});

test('epoch log: the JSD is stored as test_list_jsd (in place of jsd); logs with the older jsd key still read', () => {
  const p = join(tmp, 'names.jsonl');
  writeEpochLog(p, [rec(0, 0.2, 0.3, 1)]);
  const line = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  assert.equal(line.test_list_jsd, 0.3);
  assert.equal('jsd' in line, false);
  assert.deepEqual(
    Object.keys(line).slice(4, 7),
    ['valid_ndcg', 'test_list_jsd', 'tradeoff'],
    'same position as before',
  );
  writeFileSync(p, `${JSON.stringify(rec(0, 0.2, 0.3, 1))}\n`);
  assert.deepEqual(readEpochLog(p), [rec(0, 0.2, 0.3, 1)]);
});

test('epoch log: a torn last line (no newline, not JSON) is dropped; blank lines are skipped', () => {
  const p = join(tmp, 'torn.jsonl');
  writeFileSync(
    p,
    `${JSON.stringify(rec(0, 0.2, 0.3, 1))}\n\n${JSON.stringify(rec(1, 0.25, 0.2, 1.1))}\n{"epoch": 2, "valid_nd`,
  );
  assert.deepEqual(
    readEpochLog(p).map((r) => [r.epoch, r.valid_ndcg]),
    [
      [0, 0.2],
      [1, 0.25],
    ],
  );
  // a complete last record without its newline is read
  writeFileSync(p, `${JSON.stringify(rec(0, 0.2, 0.3, 1))}\n${JSON.stringify(rec(1, 0.25, 0.2, null))}`);
  assert.deepEqual(
    readEpochLog(p).map((r) => [r.epoch, r.tradeoff]),
    [
      [0, 1],
      [1, null],
    ],
  );
  // NaN metrics are stored as null by JSON.stringify and read back as null
  writeEpochLog(p, [rec(0, NaN, NaN, null)]);
  assert.deepEqual(
    readEpochLog(p).map((r) => [r.valid_ndcg, r.jsd]),
    [[null, null]],
  );
});

test('epoch log: a malformed line is an error naming the file and line', () => {
  const p = join(tmp, 'bad.jsonl');
  const good = JSON.stringify(rec(0, 0.2, 0.3, 1));
  const cases: [string, RegExp][] = [
    [`${good}\n{not json}\n${good}\n`, /bad\.jsonl:2: not a JSON line/],
    [`${good}\n${good}\n[1, 2]\n`, /bad\.jsonl:3: field \(top level\): expected an object, got \[1,2\]/],
    [
      `${JSON.stringify({ ...rec(0, 0.2, 0.3, 1), epoch: 1.5 })}\n`,
      /bad\.jsonl:1: field epoch: expected a whole number, got 1\.5/,
    ],
    [
      `${JSON.stringify({ ...rec(0, 0.2, 0.3, 1), epoch: -1 })}\n`,
      /bad\.jsonl:1: field epoch: expected a number ≥ 0, got -1/,
    ],
    [
      `${good}\n${JSON.stringify({ epoch: 1, jsd: 0.2 })}\n`,
      /bad\.jsonl:2: field valid_ndcg: expected a finite number, got nothing/,
    ],
    [
      `${JSON.stringify({ ...rec(0, 0.2, 0.3, 1), jsd: '0.3' })}\n`,
      /bad\.jsonl:1: field jsd: expected a finite number, got "0\.3"/,
    ],
    [
      `${JSON.stringify({ ...rec(0, 0.2, 0.3, 1), tradeoff: 'x' })}\n`,
      /bad\.jsonl:1: field tradeoff: expected a finite number, got "x"/,
    ],
  ];
  for (const [text, re] of cases) {
    writeFileSync(p, text);
    assert.throws(
      () => readEpochLog(p),
      (e) => isUserError(e) && re.test((e as Error).message),
      text,
    );
  }
});
