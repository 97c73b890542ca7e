/**
 * The fused validation pass reads the valid-time and test-time lists off the users' fresh
 * candidates where it can (src/calibration/validation.ts): the lists and metrics must equal those
 * of a pass without candidates, which ranks every masked row, whatever the candidate width,
 * ties, non-finite scores, heavy train rows (the fallback) and valid items in the lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CandidatePicker } from '../../src/calibration/candidates.js';
import { Validator } from '../../src/calibration/validation.js';
import { csrFromCoo } from '../../src/math/csr.js';
import { Rng } from '../../src/math/rng.js';
import type { Recommender } from '../../src/models/recommender.js';

const N_USERS = 40,
  N_ITEMS = 60,
  G = 3;

/** Scores from a seeded table: coarse values (many ties), a few NaN and −∞. */
function tableModel(seed: number): Recommender {
  const rng = new Rng(seed);
  const table = new Float32Array(N_USERS * N_ITEMS);
  for (let i = 0; i < table.length; i++) {
    const x = rng.nextFloat();
    table[i] = x < 0.02 ? NaN : x < 0.04 ? -Infinity : Math.round(rng.nextFloat() * 12) / 4;
  }
  const model = {
    nUsers: N_USERS,
    nItems: N_ITEMS,
    scoreAll(users: Int32Array, out?: Float32Array): Float32Array {
      const res = out ?? new Float32Array(users.length * N_ITEMS);
      for (let r = 0; r < users.length; r++)
        res.set(table.subarray(users[r]! * N_ITEMS, (users[r]! + 1) * N_ITEMS), r * N_ITEMS);
      return res;
    },
  };
  return model as unknown as Recommender;
}

/** Train rows of 2..50 items (heavy rows leave fewer than k unmasked among the candidates), valid 0..6. */
function split(seed: number) {
  const rng = new Rng(seed);
  const tr: [number, number][] = [],
    va: [number, number][] = [];
  for (let u = 1; u < N_USERS; u++) {
    const items = rng.permutation(N_ITEMS - 1);
    const nTrain = u % 5 === 0 ? 40 + rng.nextInt(11) : u === 3 ? 0 : 2 + rng.nextInt(8);
    const nValid = rng.nextInt(7);
    for (let j = 0; j < nTrain + nValid; j++) (j < nTrain ? tr : va).push([u, items[j]! + 1]);
  }
  const csr = (p: [number, number][]) =>
    csrFromCoo(
      p.map((x) => x[0]),
      p.map((x) => x[1]),
      N_USERS,
      N_ITEMS,
    );
  return { nUsers: N_USERS, nItems: N_ITEMS, train: csr(tr), valid: csr(va) };
}

test('Validator: lists read off the candidates equal the ranked masked rows, metrics bit for bit', () => {
  const itemGroups = Int32Array.from({ length: N_ITEMS }, (_, i) => (i === 0 ? -1 : i % G));
  const targets = new Float64Array(N_USERS * G).fill(1 / G);
  for (const seed of [1, 2, 3, 4, 5]) {
    const ds = split(seed);
    const model = tableModel(100 + seed);
    const opts = { ds, itemGroups, nGroups: G, targets, k: 10, blockRows: 7 };
    const plain = new Validator(opts).run(model);
    for (const [K, perGroup] of [
      [10, 0],
      [12, 0],
      [30, 0],
      [12, 2],
    ] as const) {
      const picker = new CandidatePicker(N_ITEMS, K, perGroup, itemGroups, G);
      const users = Int32Array.from({ length: N_USERS - 1 }, (_, i) => i + 1).filter((u) => u !== 3);
      const out = new Int32Array(users.length * picker.width);
      const fused = new Validator(opts).run(model, { users, picker, out });
      assert.deepEqual(fused.validLists, plain.validLists, `valid lists, seed ${seed}, K ${K}`);
      assert.deepEqual(fused.testLists, plain.testLists, `test lists, seed ${seed}, K ${K}`);
      assert.equal(fused.validNdcg, plain.validNdcg);
      assert.equal(fused.jsd, plain.jsd);
    }
  }
});
