import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectStoredEpochs, type SelectionPoint } from '../../src/eval/results.js';
import { formatPerUserTable, readPerUserTable, writePerUserTable } from '../../src/eval/per-user-table.js';

const pt = (epoch: number, n: number, j: number, t: number | null): SelectionPoint => ({
  epoch,
  m: { valid_ndcg: n, jsd: j, tradeoff: t },
  source: 'recorded',
});

test('selection on validation metrics: known answers per mode', () => {
  const s = selectStoredEpochs([
    pt(3, 0.2, 0.15, 1.1),
    pt(1, 0.23, 0.2, 1.0),
    pt(2, 0.22, 0.18, 1.05),
    pt(4, 0.19, 0.15, 1.08), // ties epoch 3 on JSD: the earlier one wins
    pt(5, 0.18, 0.16, 1.02), // improves nothing
  ]);
  assert.equal(s.ndcg!.epoch, 1);
  assert.equal(s.pop_jsd!.epoch, 3);
  assert.equal(s.tradeoff!.epoch, 3);
  // any: the last epoch that improved one of its bests (1: all; 2: jsd, tradeoff; 3: jsd, tradeoff; 4, 5: none)
  assert.equal(s.any!.epoch, 3);
  const e = selectStoredEpochs([]);
  assert.deepEqual(e, { any: null, ndcg: null, pop_jsd: null, tradeoff: null });
  // a null trade-off never wins the trade-off mode
  assert.equal(selectStoredEpochs([pt(1, 0.1, 0.2, null), pt(2, 0.05, 0.3, 0.9)]).tradeoff!.epoch, 2);
});

test('per-user table: round trip with exact numbers, empty cells for missing columns', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-results-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  mkdirSync(tmp, { recursive: true });
  const input = {
    nUsers: 3,
    nGroups: 2,
    targets: Float64Array.from([0, 0, 0.25, 0.75, 0, 0]),
    userGroup: Int32Array.from([-1, 0, 2]),
    userGroupNames: ['mainstream', 'diverse', 'niche'],
    blocks: [
      {
        model: 'base_recommendations',
        ndcg: Float64Array.from([0, 0.1 + 0.2, 0]),
        jsd: Float64Array.from([0, 0.5, 1 / 3]),
        headItems: Int32Array.from([0, 4, 0]),
        rboVsBase: Float64Array.from([0, 1, 1]),
      },
      {
        model: 'postprocessed_0.5',
        ndcg: Float64Array.from([0, 0.2, 0]),
        jsd: undefined,
        headItems: undefined,
        rboVsBase: undefined,
      },
    ],
  };
  const lines = formatPerUserTable(input).join('').split('\n');
  assert.equal(
    lines[0],
    'model\tuser_id\tuserbaseline_group_1\tuserbaseline_group_2\tndcg\tjsd\tuser_group\thead_items\trbo_vs_base',
  );
  assert.equal(lines[1], 'base_recommendations\t1\t0.25\t0.75\t0.30000000000000004\t0.5\tmainstream\t4\t1');
  assert.equal(lines[2], 'base_recommendations\t2\t0\t0\t0\t0.3333333333333333\tniche\t0\t1');
  assert.equal(lines[3], 'postprocessed_0.5\t1\t0.25\t0.75\t0.2\t\tmainstream\t\t');
  const p = join(tmp, 't.tsv');
  writePerUserTable(p, input);
  const back = readPerUserTable(p);
  assert.equal(back.nUsers, 3);
  assert.equal(back.models.get('base_recommendations')!.ndcg[1], 0.1 + 0.2);
  assert.equal(back.models.get('base_recommendations')!.jsd[2], 1 / 3);
  assert.ok(Number.isNaN(back.models.get('postprocessed_0.5')!.jsd[1]!));
  assert.equal(back.userGroupByName.get(2), 'niche');
});
