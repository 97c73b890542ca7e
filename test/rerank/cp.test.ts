import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNpyMatrixF32, readNpyMatrixI32 } from '../../src/data/npy.js';
import { sgemm } from '../../src/math/gemm.js';
import {
  cpRerank,
  cpRerankSync,
  jsdNormalizedEps,
  maskScores,
  minMaxNormalizeFinite,
  prepareCpCandidates,
  type CpCandidates,
} from '../../src/rerank/cp.js';
import { readPopularityFile, readUserBaselineFile } from '../../src/calibration/reference-files.js';
import { evaluateLists } from '../../src/eval/metrics.js';
import { userGroups } from '../../src/eval/user-groups.js';
import { UserError } from '../../src/util/errors.js';
import { requireShared } from '../helpers/shared.js';
import { ORACLE_LAMBDAS, oraclePath, oracleResults, oracleSplit } from '../eval/oracle-fixture.js';

/** Candidates from explicit per-user rows (already sorted best first). */
function cands(rows: [number, number][][], m: number): CpCandidates {
  const nUsers = rows.length;
  const ids = new Int32Array(nUsers * m).fill(-1);
  const scores = new Float32Array(nUsers * m).fill(-Infinity);
  for (const [u, r] of rows.entries()) {
    for (const [j, [id, s]] of r.entries()) {
      ids[u * m + j] = id;
      scores[u * m + j] = s;
    }
  }
  return { nUsers, m, ids, scores };
}

test('normalised-ε JSD: known answer', () => {
  // P = (½,½), Q = (1,0): M = (¾,¼) → ½(KL(P‖M) + KL(Q‖M)) = 0.311278…
  assert.ok(Math.abs(jsdNormalizedEps([0.5, 0.5], [1, 0]) - 0.3112781244591328) < 1e-8);
  assert.equal(jsdNormalizedEps([0.3, 0.7], [0.3, 0.7]), 0);
});

test('CP greedy: hand-computed lists', () => {
  // groups: item 1, 2 → 0; item 3 → 1. P = (½, ½). Scores 1.0, 0.9, 0.5.
  const itemGroup = Int32Array.from([-1, 0, 0, 1]);
  const c = cands(
    [
      [],
      [
        [1, 1.0],
        [2, 0.9],
        [3, 0.5],
      ],
    ],
    3,
  );
  const targets = Float64Array.from([0, 0, 0.5, 0.5]);
  const run = (lambda: number) =>
    Array.from(
      cpRerankSync({ candidates: c, itemGroup, targets, nGroups: 2, lambdas: [lambda], m: 3, n: 2 }).lists[0]!,
    );
  // step 1: one-hot Q either way, same JSD → best score, item 1.
  // step 2, λ = .5: item 2 → .5·1.9 − .5·0.31128 = .7944 > item 3 → .5·1.5 = .75
  assert.deepEqual(run(0.5), [-1, -1, 1, 2]);
  // λ = .6: item 2 → .4·1.9 − .6·0.31128 = .5732 < item 3 → .4·1.5 = .6
  assert.deepEqual(run(0.6), [-1, -1, 1, 3]);
  assert.deepEqual(run(0), [-1, -1, 1, 2]);
  // λ = 1: only calibration; step 1 tie between all → first in score order (item 1)
  assert.deepEqual(run(1), [-1, -1, 1, 3]);
});

test('CP: users without a target keep the base order; short candidate lists are padded', () => {
  const itemGroup = Int32Array.from([-1, 0, 0, 1, 1]);
  const c = cands(
    [
      [],
      [
        [1, 1],
        [2, 0.9],
        [3, 0.2],
        [4, 0.1],
      ],
      [
        [3, 1],
        [1, 0.5],
      ],
    ],
    4,
  );
  const targets = Float64Array.from([0, 0, 0, 0, 0, 1]); // user 1 has no target
  const r = cpRerankSync({ candidates: c, itemGroup, targets, nGroups: 2, lambdas: [0.9], m: 4, n: 3 });
  assert.deepEqual(Array.from(r.lists[0]!), [-1, -1, -1, 1, 2, 3, 3, 1, -1]);
});

test('CP: validation errors are UserErrors', () => {
  const itemGroup = Int32Array.from([-1, 0, 1]);
  const c = cands(
    [
      [],
      [
        [1, 1],
        [2, 0.5],
      ],
    ],
    2,
  );
  const targets = Float64Array.from([0, 0, 0.5, 0.5]);
  const base = { candidates: c, itemGroup, targets, nGroups: 2, m: 2, n: 2 };
  assert.throws(() => cpRerankSync({ ...base, lambdas: [1.5] }), UserError);
  assert.throws(() => cpRerankSync({ ...base, lambdas: [-0.1] }), UserError);
  assert.throws(() => cpRerankSync({ ...base, lambdas: [Number.NaN] }), UserError);
  assert.throws(() => cpRerankSync({ ...base, lambdas: [] }), UserError);
  assert.throws(() => cpRerankSync({ ...base, lambdas: [0.5], m: 1, n: 2 }), UserError);
  assert.throws(() => cpRerankSync({ ...base, lambdas: [0.5], targets: new Float64Array(3) }), UserError);
  assert.throws(() => cpRerankSync({ itemGroup, targets, nGroups: 2, lambdas: [0.5] }), UserError);
  assert.throws(() => minMaxNormalizeFinite(Float32Array.from([-Infinity, -Infinity])), UserError);
});

test('CP: min-max normalisation over finite scores, −∞ kept', () => {
  const s = Float32Array.from([-Infinity, 2, 4, 6, -Infinity, 3]);
  assert.deepEqual(minMaxNormalizeFinite(s), { min: 2, max: 4 });
  assert.deepEqual(Array.from(s), [-Infinity, 0, 0.5, 1, -Infinity, 0.25]);
});

/** Naive CP: recompute Q and the relevance sum for every candidate (the reference's loop). */
function naiveCp(
  c: CpCandidates,
  itemGroup: Int32Array,
  targets: Float64Array,
  G: number,
  lambda: number,
  n: number,
): Int32Array {
  const out = new Int32Array(c.nUsers * n).fill(-1);
  for (let u = 1; u < c.nUsers; u++) {
    const P = Array.from(targets.subarray(u * G, u * G + G), Math.fround);
    const list: number[] = []; // candidate positions
    for (let t = 0; t < n; t++) {
      let best = -Infinity,
        bestJ = -1;
      for (let j = 0; j < c.m; j++) {
        if (c.ids[u * c.m + j]! < 0 || list.includes(j)) continue;
        const L = [...list, j];
        let rel = 0;
        for (const x of L) rel = Math.fround(rel + c.scores[u * c.m + x]!);
        const counts = new Array<number>(G).fill(0);
        for (const x of L) counts[itemGroup[c.ids[u * c.m + x]!]!]!++;
        const Q = counts.map((k) => Math.fround(k / L.length));
        const M = P.map((p, g) => Math.fround(p + Q[g]!) * 0.5);
        // normalised-ε KL both ways against the (float32) mid point
        const kl = (a: number[], b: number[]) => {
          const sa = a.reduce((s, v) => s + v + 1e-10, 0),
            sb = b.reduce((s, v) => s + v + 1e-10, 0);
          return a.reduce((s, v, g) => {
            const x = (v + 1e-10) / sa,
              y = (b[g]! + 1e-10) / sb;
            return s + x * Math.log2(x / y);
          }, 0);
        };
        const util = (1 - lambda) * rel - lambda * 0.5 * (kl(P, M) + kl(Q, M));
        if (util > best) {
          best = util;
          bestJ = j;
        }
      }
      if (bestJ < 0) break;
      list.push(bestJ);
      out[u * n + t] = c.ids[u * c.m + bestJ]!;
    }
  }
  return out;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('CP: incremental greedy equals the naive recomputation on random data; workers give the same lists', async () => {
  const rnd = lcg(7);
  const nUsers = 40,
    nItems = 60,
    G = 3,
    m = 20,
    n = 6;
  const itemGroup = new Int32Array(nItems);
  itemGroup[0] = -1;
  for (let i = 1; i < nItems; i++) itemGroup[i] = Math.floor(rnd() * G);
  const scores = new Float32Array(nUsers * nItems);
  for (let i = 0; i < scores.length; i++) scores[i] = rnd() * 4 - 2;
  // a few exact score ties, to exercise tie-breaking
  for (let u = 1; u < nUsers; u++) scores[u * nItems + 5] = scores[u * nItems + 6]!;
  maskScores(scores, nUsers, nItems, []);
  const targets = new Float64Array(nUsers * G);
  for (let u = 1; u < nUsers; u++) {
    const w = [rnd(), rnd(), rnd() * 0.2];
    const s = w[0]! + w[1]! + w[2]!;
    for (let g = 0; g < G; g++) targets[u * G + g] = w[g]! / s;
  }
  const c = prepareCpCandidates(scores, nUsers, nItems, m);
  const lambdas = [0, 0.1, 0.5, 0.9, 1];
  const sync = cpRerankSync({ candidates: c, itemGroup, targets, nGroups: G, lambdas, m, n });
  for (const [k, l] of lambdas.entries()) {
    assert.deepEqual(Array.from(sync.lists[k]!), Array.from(naiveCp(c, itemGroup, targets, G, l, n)), `λ ${l}`);
  }
  const par = await cpRerank({ scores, nItems, itemGroup, targets, nGroups: G, lambdas, m, n, workers: 3 });
  assert.equal(par.workersUsed, 3);
  for (const k of lambdas.keys()) assert.deepEqual(Array.from(par.lists[k]!), Array.from(sync.lists[k]!));
  await assert.rejects(
    cpRerank({ scores, nItems, itemGroup, targets, nGroups: G, lambdas: [2], m, n, workers: 2 }),
    UserError,
  );
});

test('oracle: CP from the oracle embeddings reproduces lists/cp_result_{λ}_test.npy', async (t) => {
  if (!requireShared(t, oraclePath('user_emb.npy'))) return;
  const split = oracleSplit();
  const U = readNpyMatrixF32(oraclePath('user_emb.npy'));
  const I = readNpyMatrixF32(oraclePath('item_emb.npy'));
  const nU = U.rows,
    nI = I.rows,
    d = U.cols;
  const scores = new Float32Array(nU * nI);
  sgemm(false, true, nU, nI, d, 1, U.data, d, I.data, d, 0, scores, nI);
  maskScores(scores, nU, nI, [split.train, split.valid]);
  const pop = readPopularityFile(oraclePath('ml-100k.popularity'));
  const base = readUserBaselineFile(oraclePath('ml-100k.userbaseline'));
  const lambdas = ORACLE_LAMBDAS.map(Number);
  const r = await cpRerank({
    scores,
    nItems: nI,
    itemGroup: pop.itemGroup,
    targets: base.targets,
    nGroups: 3,
    lambdas,
    m: 100,
    n: 10,
    workers: 2,
  });
  const groups = userGroups(base.targets, nU, 3, { tieBreak: 'higherIdFirst' });
  const res = oracleResults();
  const report: string[] = [];
  for (let k = 0; k < lambdas.length; k++) {
    const ref = readNpyMatrixI32(oraclePath('lists', `cp_result_${ORACLE_LAMBDAS[k]}_test.npy`));
    const ours = r.lists[k]!;
    let same = 0;
    for (let u = 1; u < nU; u++) {
      let eq = true;
      for (let j = 0; j < 10; j++)
        if (ours[u * 10 + j] !== ref.data[u * 10 + j]) {
          eq = false;
          break;
        }
      if (eq) same++;
    }
    const frac = same / (nU - 1);
    const m = evaluateLists(
      { lists: ours, k: 10, relevant: split.test, itemGroup: pop.itemGroup, targets: base.targets, nGroups: 3 },
      groups,
    ).reference;
    const exp = res.postprocessed[ORACLE_LAMBDAS[k]!]!;
    let maxd = 0;
    for (const key of Object.keys(exp)) maxd = Math.max(maxd, Math.abs(m[key]! - exp[key]!));
    report.push(`λ ${ORACLE_LAMBDAS[k]}: ${same}/${nU - 1} identical, metrics max |Δ| ${maxd.toExponential(2)}`);
    assert.ok(frac >= 0.99, report.join('\n'));
    assert.ok(maxd <= 1e-4, report.join('\n'));
  }
  t.diagnostic(report.join('\n'));
});
