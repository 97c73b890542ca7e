/**
 * BPR's fused forward/backward with lazy Adam's compact gradients: slot maps put each row's
 * gradient at its slot with the same bits it gets in a whole table; the native kernel (in
 * chunks of triples) and the TypeScript loop agree bit for bit with and without slot maps.
 * The native epoch draw (shuffle, pairs, negatives) gives the TypeScript draws and random stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import { BPR_GAMMA, bprKernel } from '../../src/models/bpr-kernel.js';
import { TouchedRows } from '../../src/nn/sparse-adam.js';
import { nativeBprKernel, nativeEpochDraw } from '../../src/train/bpr-native-kernel.js';
import { positivePairs, sampleNegatives } from '../../src/train/train-data.js';
import { skipOrFailOnCi } from '../helpers/ci.js';
import { csr } from '../helpers/csr.js';

const nUsers = 40,
  nItems = 30,
  d = 19; // odd: the dot products' last column
const nTriples = 300; // several of the native kernel's chunks

function inputs(seed: number) {
  const rng = new Rng(seed);
  const U = Float32Array.from({ length: nUsers * d }, () => rng.normal() * 0.5);
  const I = Float32Array.from({ length: nItems * d }, () => rng.normal() * 0.5);
  const users = Int32Array.from({ length: nTriples }, () => 1 + rng.nextInt(nUsers - 1));
  const pos = Int32Array.from({ length: nTriples }, () => 1 + rng.nextInt(nItems - 1));
  const neg = Int32Array.from({ length: nTriples }, (_, t) => 1 + ((pos[t]! + rng.nextInt(nItems - 2)) % (nItems - 1)));
  const u = new TouchedRows(nUsers),
    i = new TouchedRows(nItems);
  for (let t = 0; t < nTriples; t++) {
    u.add(users[t]!);
    i.add(pos[t]!);
    i.add(neg[t]!);
  }
  return { U, I, users, pos, neg, u, i };
}

type Kernel = typeof bprKernel;
type Inputs = ReturnType<typeof inputs>;

/** Whole-table gradients over triples [s, e). */
function whole(k: Kernel, x: Inputs, s: number, e: number) {
  const gU = new Float32Array(nUsers * d),
    gI = new Float32Array(nItems * d);
  const loss = k(x.U, x.I, gU, gI, d, x.users, x.pos, x.neg, s, e, 1 / (e - s));
  return { loss, gU, gI };
}

/** Compact gradients (one row per touched row, by slot) over triples [s, e). */
function compact(k: Kernel, x: Inputs, s: number, e: number) {
  const gU = new Float32Array(x.u.count * d),
    gI = new Float32Array(x.i.count * d);
  const loss = k(x.U, x.I, gU, gI, d, x.users, x.pos, x.neg, s, e, 1 / (e - s), x.u.slot, x.i.slot);
  return { loss, gU, gI };
}

/** The whole-table rows of the touched rows, in list (slot) order. */
function gathered(g: Float32Array, rows: TouchedRows): Float32Array {
  const out = new Float32Array(rows.count * d);
  for (let k = 0; k < rows.count; k++) out.set(g.subarray(rows.list[k]! * d, rows.list[k]! * d + d), k * d);
  return out;
}

test('TouchedRows: each added row gets its position in the list as its slot', () => {
  const t = new TouchedRows(10);
  for (const r of [5, 2, 5, 9, 2]) t.add(r);
  assert.deepEqual([...t.list.subarray(0, t.count)], [5, 2, 9]);
  assert.deepEqual([t.slot[5], t.slot[2], t.slot[9]], [0, 1, 2]);
  t.clear();
  t.add(9);
  assert.equal(t.slot[9], 0);
});

test('bprKernel: slot maps give each touched row the bits of its whole-table gradient row', () => {
  const x = inputs(3);
  const a = whole(bprKernel, x, 0, nTriples),
    b = compact(bprKernel, x, 0, nTriples);
  assert.equal(b.loss, a.loss);
  assert.deepEqual(b.gU, gathered(a.gU, x.u));
  assert.deepEqual(b.gI, gathered(a.gI, x.i));
  assert.ok(b.gU.some((v) => v !== 0) && b.gI.some((v) => v !== 0));
  // a slot map pointing outside the compact buffer is refused
  const short = new Float32Array((x.u.count - 1) * d);
  const last = x.u.list[x.u.count - 1]!;
  const t = x.users.indexOf(last);
  assert.throws(
    () => bprKernel(x.U, x.I, short, b.gI, d, x.users, x.pos, x.neg, t, t + 1, 1, x.u.slot, x.i.slot),
    RangeError,
  );
});

test('BPR kernels: native (in chunks) and TypeScript give the same bits, with and without slot maps', (t) => {
  const native = nativeBprKernel();
  if (native === null) return skipOrFailOnCi(t, 'native binding without bprScores / compactGrads');
  const x = inputs(11);
  for (const [s, e] of [
    [0, nTriples],
    [17, 230],
  ] as const) {
    assert.deepEqual(whole(native, x, s, e), whole(bprKernel, x, s, e), `whole tables [${s}, ${e})`);
    assert.deepEqual(compact(native, x, s, e), compact(bprKernel, x, s, e), `compact [${s}, ${e})`);
  }
  const gI = new Float32Array(x.i.count * d);
  assert.throws(() => native(x.U, x.I, new Float32Array(d), gI, d, x.users, x.pos, x.neg, 0, 9, 1, x.u.slot, x.i.slot));
});

test('BPR kernels: native and TypeScript agree at every width (the scores in groups of columns and triples)', (t) => {
  const native = nativeBprKernel();
  if (native === null) return skipOrFailOnCi(t, 'native binding without bprScores / compactGrads');
  const rng = new Rng(5);
  for (const width of [1, 2, 3, 4, 5, 7, 8, 9, 64]) {
    const U = Float32Array.from({ length: nUsers * width }, () => rng.normal()),
      I = Float32Array.from({ length: nItems * width }, () => rng.normal());
    const users = Int32Array.from({ length: 23 }, () => rng.nextInt(nUsers));
    const pos = Int32Array.from({ length: 23 }, () => rng.nextInt(nItems));
    const neg = Int32Array.from(pos, (p) => (p + 1 + rng.nextInt(nItems - 1)) % nItems);
    const run = (k: Kernel, s: number, e: number) => {
      const gU = new Float32Array(nUsers * width),
        gI = new Float32Array(nItems * width);
      return { loss: k(U, I, gU, gI, width, users, pos, neg, s, e, 0.25), gU, gI };
    };
    // 23 triples and 6 (from 3): whole groups of four and a remainder
    for (const [s, e] of [
      [0, 23],
      [3, 9],
    ] as const) {
      const got = run(native, s, e);
      assert.deepEqual(got, run(bprKernel, s, e), `width ${width}, triples [${s}, ${e})`);
      assert.ok(got.gU.some((v) => v !== 0));
    }
  }
});

test('BPR kernels: the dot products add their columns in the contract order (a case where order shows)', (t) => {
  const native = nativeBprKernel();
  if (native === null) return skipOrFailOnCi(t, 'native binding without bprScores / compactGrads');
  // u·p over 8 columns: (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ at column 0, 2⁻⁵³ at columns 4 and 6. Added one at a
  // time each 2⁻⁵³ is a tie that rounds back (even), so the float score is the tie 1 + 2⁻¹¹ + 2⁻²⁴, rounded
  // to 1 + 2⁻¹¹; columns 4 and 6 summed first (2⁻⁵²) would lift it over the tie to 1 + 2⁻¹¹ + 2⁻²³.
  const w = 8,
    a = 1 + 2 ** -12;
  const U = Float32Array.from([a, 0, 0, 0, 2 ** -27, 0, 2 ** -27, 0]);
  const I = Float32Array.from([...[a, 0, 0, 0, 2 ** -26, 0, 2 ** -26, 0], ...new Array<number>(w).fill(0)]);
  // four copies of the triple (user 0, item 0, item 1): a whole group of the native kernel
  const users = new Int32Array(4),
    pos = new Int32Array(4),
    neg = new Int32Array(4).fill(1);
  const x = 1 + 2 ** -11;
  const sig = 1 / (1 + Math.exp(-x));
  let expected = 0;
  for (let k = 0; k < 4; k++) expected -= Math.log(BPR_GAMMA + sig);
  for (const k of [native, bprKernel]) {
    const loss = k(U, I, new Float32Array(w), new Float32Array(2 * w), w, users, pos, neg, 0, 4, 1);
    assert.equal(loss, expected);
  }
});

test('BPR epoch draw: native shuffle, pairs, negatives and random stream equal the TypeScript ones', (t) => {
  const draw = nativeEpochDraw();
  if (draw === null) return skipOrFailOnCi(t, 'native binding without bprDrawEpoch');
  const rows = [[], [1, 2, 3], [2], [1, 3, 4, 5, 6, 7, 8], [8], [2, 4, 6]];
  const nItems = 10; // user 3 has 8 of the 9 items: most negatives are redrawn
  const train = csr(nItems, rows);
  const data = {
    nUsers: rows.length,
    nItems,
    train,
    valid: csr(
      nItems,
      rows.map(() => []),
    ),
  };
  const pairs = positivePairs(data);
  const n = pairs.users.length;
  // the train items as a bit matrix (the default at this size) and, with a bound of 0 bits, searched per row
  for (const [how, maxBits] of [
    ['bit matrix', undefined],
    ['row search', 0],
  ] as const) {
    const ts = new Rng(77);
    const seeded = new Rng(77);
    seeded.normal(); // both streams start past a normal draw (a spare normal in the state)
    ts.normal();
    const state = Int32Array.from(seeded.state().slice(0, 4));
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const nativeOrder = order.slice();
    for (let epoch = 0; epoch < 3; epoch++) {
      ts.shuffle(order);
      const users = Int32Array.from(order, (o) => pairs.users[o]!);
      const pos = Int32Array.from(order, (o) => pairs.items[o]!);
      const neg = new Int32Array(n);
      sampleNegatives(train, users, neg, nItems, ts);
      const out = { users: new Int32Array(n), pos: new Int32Array(n), neg: new Int32Array(n) };
      draw(
        state,
        nativeOrder,
        pairs.users,
        pairs.items,
        out.users,
        out.pos,
        out.neg,
        train.indptr,
        train.indices,
        nItems,
        maxBits,
      );
      assert.deepEqual(nativeOrder, order, `${how}, epoch ${epoch}: order`);
      assert.deepEqual(out, { users, pos, neg }, `${how}, epoch ${epoch}: triples`);
      assert.deepEqual([...state], ts.state().slice(0, 4), `${how}, epoch ${epoch}: generator state`);
      for (let k = 0; k < n; k++) assert.ok(!rows[users[k]!]!.includes(neg[k]!) && neg[k]! >= 1 && neg[k]! < nItems);
    }
  }
  const state = Int32Array.from(new Rng(77).state().slice(0, 4));
  const bad = Int32Array.from({ length: n }, (_, i) => (i === 0 ? n : i));
  assert.throws(() => draw(state, bad, pairs.users, pairs.items, bad, bad, bad, train.indptr, train.indices, nItems));
});
