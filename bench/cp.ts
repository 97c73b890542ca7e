/**
 * bench:cp — CP re-ranking of all 943 ML-100K users × 9 λ (0.1…0.9), m = 100, n = 10, from
 * the oracle's BPR embeddings and split (../shared/oracle/ml-100k-bpr).
 *
 * Phases: scoring (GEMM users × items, then train+valid masking), candidate preparation
 * (min-max normalisation over all finite scores + per-user top-m), and the greedy re-ranking
 * (in this thread and with worker threads). Each phase is repeated and the median reported.
 * Last line: `RESULT cp_seconds_per_lambda <s> s` = (candidate preparation + greedy for all
 * λ in the faster mode) / 9 — the scoring GEMM, which the base model's top-k needs anyway,
 * is reported separately.
 *
 *   node dist/bench/cp.js [--reps N] [--workers N] [--oracle DIR]
 */
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { readNpyMatrixF32, readNpyMatrixI32 } from '../src/data/npy.js';
import { readSplitTsv } from '../src/data/split-io.js';
import { gemmBackend, sgemm } from '../src/math/gemm.js';
import { readPopularityFile, readUserBaselineFile } from '../src/calibration/reference-files.js';
import { cpRerank, cpRerankSync, maskScores, prepareCpCandidates } from '../src/rerank/cp.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const shared = process.env.CALITUNE_SHARED ?? join(process.cwd(), '..', 'shared');
const oracle = arg('oracle', join(shared, 'oracle', 'ml-100k-bpr'));
const reps = Math.max(1, Number(arg('reps', '5')));
const nWorkers = Number(arg('workers', String(Math.min(availableParallelism(), 8))));
const lambdas = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const m = 100,
  n = 10;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
const now = () => performance.now() / 1000;

const U = readNpyMatrixF32(join(oracle, 'user_emb.npy'));
const I = readNpyMatrixF32(join(oracle, 'item_emb.npy'));
const nU = U.rows,
  nI = I.rows,
  d = U.cols;
const train = readSplitTsv(join(oracle, 'splits', 'train_split.tsv'), nU, nI);
const valid = readSplitTsv(join(oracle, 'splits', 'valid_split.tsv'), nU, nI);
const pop = readPopularityFile(join(oracle, 'ml-100k.popularity'));
const base = readUserBaselineFile(join(oracle, 'ml-100k.userbaseline'));
const be = gemmBackend();
console.log(`oracle: ${oracle}`);
console.log(`  ${nU - 1} users × ${nI - 1} items, dim ${d}; m ${m}, n ${n}, λ ${lambdas.join(', ')}`);
console.log(`gemm: ${be.name} — ${be.detail}`);

const scores = new Float32Array(nU * nI);
const tScore: number[] = [],
  tPrep: number[] = [],
  tSync: number[] = [],
  tPar: number[] = [];
let candidates = prepareCpCandidates(new Float32Array(nU * nI).fill(1), nU, nI, m); // warm-up shapes
let parWorkers = 0;
for (let r = 0; r < reps + 1; r++) {
  let t = now();
  sgemm(false, true, nU, nI, d, 1, U.data, d, I.data, d, 0, scores, nI);
  maskScores(scores, nU, nI, [train, valid]);
  const score = now() - t;
  t = now();
  candidates = prepareCpCandidates(scores, nU, nI, m);
  const prep = now() - t;
  t = now();
  const sync = cpRerankSync({ candidates, itemGroup: pop.itemGroup, targets: base.targets, nGroups: 3, lambdas, m, n });
  const tsync = now() - t;
  t = now();
  const par = await cpRerank({
    candidates,
    itemGroup: pop.itemGroup,
    targets: base.targets,
    nGroups: 3,
    lambdas,
    m,
    n,
    workers: nWorkers,
  });
  const tpar = now() - t;
  parWorkers = par.workersUsed;
  for (let k = 0; k < lambdas.length; k++) {
    const a = sync.lists[k]!,
      b = par.lists[k]!;
    for (let i = 0; i < a.length; i++)
      if (a[i] !== b[i]) throw new Error(`worker and in-thread lists differ at λ ${lambdas[k]}`);
  }
  if (r === 0) continue; // warm-up
  tScore.push(score);
  tPrep.push(prep);
  tSync.push(tsync);
  tPar.push(tpar);
}

// agreement with the oracle's CP lists (a sanity line, not timed)
let same = 0,
  total = 0;
{
  const sync = cpRerankSync({ candidates, itemGroup: pop.itemGroup, targets: base.targets, nGroups: 3, lambdas, m, n });
  lambdas.forEach((l, k) => {
    const ref = readNpyMatrixI32(join(oracle, 'lists', `cp_result_${l}_test.npy`));
    for (let u = 1; u < nU; u++) {
      total++;
      let eq = true;
      for (let j = 0; j < n; j++)
        if (sync.lists[k]![u * n + j] !== ref.data[u * n + j]) {
          eq = false;
          break;
        }
      if (eq) same++;
    }
  });
}

const score = median(tScore),
  prep = median(tPrep),
  sync = median(tSync),
  par = median(tPar);
const users = nU - 1;
console.log(`median of ${reps} repetitions:`);
console.log(`  scoring (GEMM + mask)            ${ms(score)}`);
console.log(`  candidates (normalise + top-${m})  ${ms(prep)}`);
console.log(
  `  greedy, 9 λ, this thread         ${ms(sync)}  ` +
    `(${ms(sync / lambdas.length)} per λ, ${((sync / lambdas.length / users) * 1e6).toFixed(1)} µs per user)`,
);
console.log(`  greedy, 9 λ, ${parWorkers} workers          ${ms(par)}  (incl. worker start-up)`);
console.log(`oracle agreement: ${same}/${total} user-λ lists identical to lists/cp_result_{λ}_test.npy`);
const best = Math.min(sync, par);
const perLambda = (prep + best) / lambdas.length;
console.log(`reference: 3–4 s per λ (3.5 ms per user)`);
console.log(`RESULT cp_seconds_per_lambda ${perLambda.toFixed(4)} s`);
