import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CandidatePicker } from '../../src/calibration/candidates.js';
import { validateFinetuneConfig } from '../../src/calibration/finetune-config.js';
import { experimentName } from '../../src/experiments/experiment-naming.js';
import { DEFAULT_FINETUNE_CONFIG } from '../../src/calibration/finetune-config.js';
import { UserError } from '../../src/util/errors.js';

// Items 1..9 (0 is padding); groups: head {1,2,3}, mid {4,5,6}, tail {7,8,9}.
const GROUPS = Int32Array.from([-1, 0, 0, 0, 1, 1, 1, 2, 2, 2]);

function row(scores: number[]): Float32Array {
  return Float32Array.from([-Infinity, ...scores]);
}

test('CandidatePicker known answers: top k, then the best of each group outside them, in group order', () => {
  //                        1    2    3    4    5    6    7    8    9
  const s = row([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  const p = new CandidatePicker(10, 3, 1, GROUPS, 3);
  assert.equal(p.width, 6);
  const out = new Int32Array(6);
  p.pick(s, 0, out, 0);
  // top 3 are all head → the head extra is the next best head item: none left, so the
  // shortfall is topped up at the end by the best remaining item of any group (5).
  assert.deepEqual(Array.from(out), [1, 2, 3, 4, 7, 5]);

  const s2 = row([1, 9, 2, 8, 3, 7, 4, 6, 5]);
  p.pick(s2, 0, out, 0);
  // top 3: 2 (9), 4 (8), 6 (7); head extra 3 (2); mid extra 5 (3); tail extra 8 (6)
  assert.deepEqual(Array.from(out), [2, 4, 6, 3, 5, 8]);

  // ties go to the lower item id, in the top k and in the groups
  const s3 = row([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const p2 = new CandidatePicker(10, 2, 2, GROUPS, 3);
  const out2 = new Int32Array(p2.width);
  p2.pick(s3, 0, out2, 0);
  assert.deepEqual(Array.from(out2), [1, 2, 3, 4, 5, 7, 8, 6]);

  // perGroup 0 is the plain top k (the reference's candidates)
  const p0 = new CandidatePicker(10, 4);
  const out0 = new Int32Array(4);
  p0.pick(s2, 0, out0, 0);
  assert.deepEqual(Array.from(out0), [2, 4, 6, 8]);
});

test('CandidatePicker property: distinct ids, the top k first, then per group the best items outside the top k', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 4 }), // groups
      fc.integer({ min: 1, max: 6 }), // k
      fc.integer({ min: 1, max: 3 }), // per group
      fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 25, maxLength: 40 }), // scores (ties likely)
      fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
      (G, k, per, sc, gseed) => {
        const nItems = sc.length + 1;
        const groups = Int32Array.from({ length: nItems }, (_, i) => (i === 0 ? -1 : gseed[i - 1]! % G));
        const p = new CandidatePicker(nItems, k, per, groups, G);
        const s = row(sc);
        const out = new Int32Array(p.width + 2).fill(-7);
        p.pick(s, 0, out, 1);
        assert.equal(out[0], -7);
        assert.equal(out[p.width + 1], -7); // writes only its slice
        const ids = Array.from(out.subarray(1, 1 + p.width));
        assert.equal(new Set(ids).size, ids.length);
        assert.ok(ids.every((i) => i >= 1 && i < nItems));
        const order = (a: number, b: number) => s[b]! - s[a]! || a - b;
        const all = Array.from({ length: nItems - 1 }, (_, i) => i + 1).sort(order);
        assert.deepEqual(ids.slice(0, k), all.slice(0, k));
        const top = new Set(all.slice(0, k));
        let w = k;
        let short = 0;
        for (let g = 0; g < G; g++) {
          const best = all.filter((i) => groups[i] === g && !top.has(i)).slice(0, per);
          assert.deepEqual(ids.slice(w, w + best.length), best);
          w += best.length;
          short += per - best.length;
        }
        // a shortfall is filled with the best items not yet taken
        const taken = new Set(ids.slice(0, w));
        assert.deepEqual(ids.slice(w), all.filter((i) => !taken.has(i)).slice(0, short));
      },
    ),
    { numRuns: 300, seed: 42 },
  );
});

test('CandidatePicker and the config reject what cannot work', () => {
  assert.throws(() => new CandidatePicker(10, 3, 3, GROUPS, 3), /k = 12/); // 3 + 3·3 > 9 items
  assert.throws(() => new CandidatePicker(10, 3, 1), /need the item groups/);
  assert.throws(() => new CandidatePicker(10, 3, -1, GROUPS, 3), /≥ 0/);
  assert.throws(
    () => validateFinetuneConfig({ candidate_selection: 'random', candidates_per_group: 5 }, 'c.yaml'),
    (e: unknown) => e instanceof UserError && /candidates_per_group.*relevance candidates only/.test(e.message),
  );
  assert.throws(() => validateFinetuneConfig({ candidates_per_group: -1 }, 'c.yaml'), /candidates_per_group.*≥ 0/);
  assert.equal(validateFinetuneConfig({}).config.candidates_per_group, 0);
});

test("experiment names: the reference's name while candidates_per_group is 0, the key appended otherwise", () => {
  const c = { ...DEFAULT_FINETUNE_CONFIG };
  assert.equal(experimentName(c), 'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001');
  assert.equal(
    experimentName({ ...c, candidates_per_group: 10 }),
    'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001__candidates_per_group10',
  );
  assert.equal(
    experimentName({ ...c, user_adapter: true }),
    'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001__user_adaptertrue',
  );
  assert.equal(
    experimentName({ ...c, candidates_per_group: 10 }, ['candidates_per_group']),
    'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001__candidates_per_group10',
  );
});
