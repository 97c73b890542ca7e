/**
 * KL and JSD variants of docs/numeric-contract.md §7, §9 and §11: hand-computed known answers,
 * properties, and the oracle's base-model JSD@10 recomputed from its lists.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DIVERGENCE_EPS, jsd, jsdNormalized, kl, klEps } from '../../src/math/divergence.js';
import { readNpy } from '../../src/data/npy.js';
import { ORACLE_DIR, requireShared } from '../helpers/shared.js';

const close = (got: number, want: number, tol: number, what = '') =>
  assert.ok(Math.abs(got - want) <= tol, `${what} got ${got}, want ${want} ± ${tol}`);

// ε = 1e-10 moves these answers by at most ~ε·|log ε| ≈ 3e-9, hence tolerances of 1e-8.
describe('jsd (JSD@k: +ε, no renormalisation, base 2)', () => {
  it('P = Q gives 0', () => {
    close(jsd([0.2, 0.5, 0.3], [0.2, 0.5, 0.3]), 0, 1e-12);
    close(jsd([1, 0, 0], [1, 0, 0]), 0, 1e-12);
  });

  it('disjoint one-hots give 1', () => {
    close(jsd([1, 0, 0], [0, 1, 0]), 1, 1e-8);
    close(jsd([0, 0, 1], [1, 0, 0]), 1, 1e-8);
  });

  it('worked 3-group example', () => {
    // P = (½, ½, 0), Q = (¼, ¼, ½) → M = (3/8, 3/8, ¼).
    // KL(P‖M) = 2·½·log2(½ / 3/8) = log2(4/3) = 2 − log2 3 = 0.4150375
    // KL(Q‖M) = 2·¼·log2(¼ / 3/8) + ½·log2(½ / ¼) = ½(1 − log2 3) + ½ = 1 − ½·log2 3 = 0.2075187
    // JSD = ½(0.4150375 + 0.2075187) = 3/2 − ¾·log2 3 = 0.3112781
    const want = 1.5 - 0.75 * Math.log2(3);
    close(want, 0.3112781, 1e-7, 'hand value');
    close(jsd([0.5, 0.5, 0], [0.25, 0.25, 0.5]), want, 1e-8);
    close(jsd([0.25, 0.25, 0.5], [0.5, 0.5, 0]), want, 1e-8, 'symmetry');
  });

  it('an all-zero Q (empty list) is not renormalised: JSD(one-hot, 0) = ½', () => {
    // Q' = ε everywhere: ½·KL(P'‖M) ≈ ½·1·log2(1 / ½) = ½; the Q' terms are O(ε).
    close(jsd([1, 0, 0], [0, 0, 0]), 0.5, 1e-8);
  });

  it('uses exactly ε = 1e-10 added to both sides', () => {
    assert.equal(DIVERGENCE_EPS, 1e-10);
    // With a large ε the effect is visible: P = (1, 0), Q = (0, 1), ε = 1 → P' = (2, 1),
    // Q' = (1, 2), M = (1.5, 1.5). KL(P'‖M) = 2·log2(4/3) + log2(2/3) = 0.8300750 − 0.5849625
    // = 0.2451125 = KL(Q'‖M) (mirror image), so JSD = ½(0.2451125 + 0.2451125) = 0.2451125.
    const want = 2 * Math.log2(4 / 3) + Math.log2(2 / 3);
    close(jsd([1, 0], [0, 1], 1), want, 1e-12);
    close(want, 0.2451125, 1e-7, 'hand value');
  });
});

describe('jsdNormalized (CP: +ε, renormalise, base 2)', () => {
  it('agrees with jsd on proper distributions', () => {
    close(jsdNormalized([0.5, 0.5, 0], [0.25, 0.25, 0.5]), 1.5 - 0.75 * Math.log2(3), 1e-8);
    close(jsdNormalized([1, 0, 0], [0, 1, 0]), 1, 1e-8);
    close(jsdNormalized([0.3, 0.3, 0.4], [0.3, 0.3, 0.4]), 0, 1e-12);
  });

  it('an all-zero Q becomes uniform', () => {
    // P' ≈ (1, 0, 0), Q' = (⅓, ⅓, ⅓), M = (⅔, ⅙, ⅙):
    // KL(P'‖M) = log2(3/2) = 0.5849625; KL(Q'‖M) = ⅓·log2(½) + ⅔·log2(2) = ⅓;
    // JSD = ½(0.5849625 + 0.3333333) = 0.4591479.
    const want = 0.5 * (Math.log2(1.5) + 1 / 3);
    close(want, 0.4591479, 1e-7, 'hand value');
    close(jsdNormalized([1, 0, 0], [0, 0, 0]), want, 1e-8);
  });

  it('is scale-invariant (counts work as well as fractions)', () => {
    close(jsdNormalized([2, 2, 0], [1, 1, 2]), 1.5 - 0.75 * Math.log2(3), 1e-8);
  });
});

describe('kl and klEps (natural log)', () => {
  it('kl known answers and conventions', () => {
    // ½·ln(½/¼) + ½·ln(½/¾) = ½·ln(4/3) = 0.1438410
    close(kl([0.5, 0.5], [0.25, 0.75]), 0.5 * Math.log(4 / 3), 1e-15);
    close(0.5 * Math.log(4 / 3), 0.143841, 1e-7, 'hand value');
    assert.equal(kl([0, 1], [0.5, 0.5]), Math.log(2)); // 0·log 0 = 0
    assert.equal(kl([0.5, 0.5], [1, 0]), Infinity);
    assert.equal(kl([0.1, 0.9], [0.1, 0.9]), 0);
  });

  it('klEps is the CaliTune calibration term', () => {
    // P = (½, ½, 0), Q = (¼, ¼, ½): 2·½·ln 2 = ln 2 (the ε terms are O(ε·|ln ε|)).
    close(klEps([0.5, 0.5, 0], [0.25, 0.25, 0.5]), Math.LN2, 1e-8);
    // P = (1, 0), Q = (0, 1): (1+ε)(ln(1+ε) − ln ε) + ε(ln ε − ln(1+ε)) ≈ −ln ε = 23.0258509.
    close(klEps([1, 0], [0, 1]), 23.02585093, 1e-7);
    close(klEps([0.2, 0.8], [0.2, 0.8]), 0, 1e-15);
  });

  it('rejects distributions of different lengths', () => {
    assert.throws(() => jsd([1], [0.5, 0.5]), RangeError);
    assert.throws(() => jsdNormalized([1], [0.5, 0.5]), RangeError);
    assert.throws(() => kl([1], [0.5, 0.5]), RangeError);
    assert.throws(() => klEps([1], [0.5, 0.5]), RangeError);
  });
});

describe('properties', () => {
  const dist = (n: number) =>
    fc.array(fc.integer({ min: 0, max: 10 }), { minLength: n, maxLength: n }).map((c) => {
      const s = c.reduce((a, b) => a + b, 0);
      return s === 0 ? c.map(() => 1 / n) : c.map((x) => x / s);
    });
  it('JSDs are symmetric, within [0, 1] and 0 on equal inputs; klEps ≥ 0', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(dist(n), dist(n))),
        ([p, q]) => {
          for (const f of [jsd, jsdNormalized]) {
            const v = f(p, q);
            assert.ok(v >= -1e-12 && v <= 1 + 1e-12, `${f.name} = ${v}`);
            close(v, f(q, p), 1e-12, `${f.name} symmetry`);
            close(f(p, p), 0, 1e-12);
          }
          assert.ok(klEps(p, q) >= -1e-9);
          assert.ok(kl(p, q) >= -1e-12);
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('oracle (../shared)', () => {
  it('mean JSD@10 of the reference base lists is 0.23925', (t) => {
    if (!requireShared(t, ORACLE_DIR)) return;
    const lists = readNpy(join(ORACLE_DIR, 'lists', 'base_recs_test.npy'));
    const rows = (f: string) =>
      readFileSync(join(ORACLE_DIR, f), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split('\t').slice(1).map(Number));
    const groups = rows('ml-100k.popularity'); // row = internal item id, one-hot over 3 groups
    const targets = rows('ml-100k.userbaseline'); // row = internal user id
    const [nUsers, k] = lists.shape as [number, number];
    const q = [0, 0, 0];
    let sum = 0;
    for (let u = 1; u < nUsers; u++) {
      q.fill(0);
      for (let j = 0; j < k; j++) {
        const item = Number(lists.data[u * k + j]!);
        const g = groups[item]!;
        for (let c = 0; c < 3; c++) q[c]! += g[c]! / k;
      }
      sum += jsd(targets[u]!, q);
    }
    close(sum / (nUsers - 1), 0.23924992978572845, 1e-6);
  });
});
