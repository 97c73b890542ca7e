import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInteractions } from '../../src/data/readers.js';
import { logStats } from '../../src/data/stats.js';
import { generateSynthetic, generateSyntheticWithTruth, writeInterFile } from '../../src/data/synthetic.js';
import { UserError } from '../../src/util/errors.js';

test('default sizes are ML-100K-like, deterministic per seed', () => {
  const a = generateSynthetic({ seed: 5 });
  const st = logStats(a);
  assert.equal(st.users, 943);
  assert.equal(st.items, 1682);
  assert.equal(st.interactions, 100_000);
  assert.ok(st.perUser.min >= 20);
  assert.ok(st.perItem.min >= 1);
  const small = { users: 200, items: 400, interactions: 10_000 };
  const x = generateSynthetic({ ...small, seed: 5 });
  const y = generateSynthetic({ ...small, seed: 5 });
  assert.deepEqual(x.users, y.users);
  assert.deepEqual(x.items, y.items);
  assert.deepEqual(x.itemMap.tokens, y.itemMap.tokens);
  const z = generateSynthetic({ ...small, seed: 6 });
  assert.notDeepEqual(x.items, z.items);
  assert.equal(logStats(z).interactions, 10_000);
});

test('long-tailed popularity and users who differ in head share', () => {
  const { log, taste } = generateSyntheticWithTruth({ seed: 9 });
  const nI = log.itemMap.tokens.length;
  const cnt = new Int32Array(nI);
  for (const i of log.items) cnt[i]!++;
  const order = Array.from({ length: nI - 1 }, (_, k) => k + 1).sort((x, y) => cnt[y]! - cnt[x]! || x - y);
  const nHead = Math.round(0.2 * (nI - 1));
  const head = new Uint8Array(nI);
  let headCount = 0;
  for (let k = 0; k < nHead; k++) {
    head[order[k]!] = 1;
    headCount += cnt[order[k]!]!;
  }
  const share = headCount / log.items.length;
  assert.ok(share > 0.55, `top 20% of items carry ${share}`); // ML-100K: 0.646
  // Per-user head share spreads out, and follows the generating taste.
  const nU = log.userMap.tokens.length;
  const hs = new Float64Array(nU);
  const nn = new Float64Array(nU);
  for (let k = 0; k < log.users.length; k++) {
    nn[log.users[k]!]!++;
    hs[log.users[k]!]! += head[log.items[k]!]!;
  }
  const shares: number[] = [];
  for (let u = 1; u < nU; u++) shares.push(hs[u]! / nn[u]!);
  const sorted = [...shares].sort((x, y) => x - y);
  const q10 = sorted[Math.floor(0.1 * sorted.length)]!;
  const q90 = sorted[Math.floor(0.9 * sorted.length)]!;
  assert.ok(q90 - q10 > 0.25, `head share q10 ${q10}, q90 ${q90}`);
  // Correlation between taste and head share.
  let mx = 0,
    my = 0;
  for (let u = 1; u < nU; u++) {
    mx += taste[u]!;
    my += shares[u - 1]!;
  }
  mx /= nU - 1;
  my /= nU - 1;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let u = 1; u < nU; u++) {
    const dx = taste[u]! - mx,
      dy = shares[u - 1]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  assert.ok(sxy / Math.sqrt(sxx * syy) > 0.6, `corr ${sxy / Math.sqrt(sxx * syy)}`);
});

test('written .inter file reads back as the same log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-syn-'));
  try {
    const log = generateSynthetic({ users: 120, items: 300, interactions: 6000, seed: 1 });
    const p = join(dir, 'syn.inter');
    writeInterFile(p, log);
    const back = readInteractions(p);
    assert.deepEqual(back.users, log.users);
    assert.deepEqual(back.items, log.items);
    assert.deepEqual(back.userMap.tokens, log.userMap.tokens);
    assert.deepEqual(back.itemMap.tokens, log.itemMap.tokens);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a seed fixes the written bytes (golden SHA-256 of the .inter file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calitune-syn-'));
  const digest = (options: Parameters<typeof generateSynthetic>[0]): string => {
    const p = join(dir, 'syn.inter');
    writeInterFile(p, generateSynthetic(options));
    return createHash('sha256').update(readFileSync(p)).digest('hex');
  };
  try {
    assert.equal(
      digest({ users: 200, items: 400, interactions: 10_000, seed: 5 }),
      '26b641ab8d449aedeea7fdb5b64f9f4484d90b2dc675085e81235b19062bbd14',
    );
    // Strong latent pull and no niche head: the sampler's running mass collapses and is rebuilt.
    const steep = {
      users: 50,
      items: 60,
      interactions: 1500,
      seed: 3,
      nicheHeadWeight: 0,
      latentStrength: 3,
      activitySigma: 2,
      maxUserFraction: 0.9,
      popularityExponent: 0,
      latentDim: 3,
    };
    assert.equal(digest(steep), 'fa0ff7396c3a3ab89c2aabfec522ee211b28e4e854a9b5fc5f1d149fdc6136c4');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad sizes are UserErrors', () => {
  assert.throws(() => generateSynthetic({ users: 0 }), UserError);
  assert.throws(() => generateSynthetic({ items: -3 }), UserError);
  assert.throws(() => generateSynthetic({ interactions: 1.5 }), UserError);
  assert.throws(() => generateSynthetic({ users: 10, items: 10, interactions: 90 }), /do not fit/);
  assert.throws(() => generateSynthetic({ users: 10, items: 100, interactions: 50, minPerUser: 20 }), /at least 20/);
});
