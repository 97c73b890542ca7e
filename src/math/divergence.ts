/**
 * Divergences between discrete distributions over popularity groups (docs/numeric-contract.md §7, §9, §11). Three
 * variants exist because the reference uses three, and the numbers must match it:
 *  - `jsd`: evaluation JSD@k — ε added to P and Q without renormalising, log base 2;
 *  - `jsdNormalized`: CP's re-ranking objective — ε added, then each renormalised, base 2;
 *  - `klEps`: the CaliTune calibration loss per user — Σ (P+ε)(ln(P+ε) − ln(Q+ε)), natural log.
 * `kl` is the plain natural-log KL with the 0·log 0 = 0 convention (the accuracy term).
 * All take equal-length array-likes and allocate nothing, so CP's greedy inner loop can
 * call them per candidate.
 */

/** The ε = 1e-10 that docs/numeric-contract.md adds wherever an ε appears. */
export const DIVERGENCE_EPS = 1e-10;

function checkLengths(p: ArrayLike<number>, q: ArrayLike<number>, what: string): void {
  if (p.length !== q.length) throw new RangeError(`${what}: distributions of length ${p.length} and ${q.length}`);
}

/** KL(P‖Q) = Σ p·ln(p/q), natural log; terms with p = 0 are 0; p > 0 with q = 0 gives +∞. */
export function kl(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkLengths(p, q, 'kl');
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi > 0) s += pi * Math.log(pi / q[i]!);
  }
  return s;
}

/** The CaliTune calibration term for one user: Σ_g (P_g + ε)·(ln(P_g + ε) − ln(Q_g + ε)). */
export function klEps(p: ArrayLike<number>, q: ArrayLike<number>, eps = DIVERGENCE_EPS): number {
  checkLengths(p, q, 'klEps');
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const pe = p[i]! + eps;
    s += pe * (Math.log(pe) - Math.log(q[i]! + eps));
  }
  return s;
}

/**
 * JSD@k of docs/numeric-contract.md §7: P' = P + ε, Q' = Q + ε (not renormalised), M = (P' + Q')/2,
 * JSD = ½·KL(P'‖M) + ½·KL(Q'‖M), base 2 — in [0, 1] up to ~ε.
 */
export function jsd(p: ArrayLike<number>, q: ArrayLike<number>, eps = DIVERGENCE_EPS): number {
  checkLengths(p, q, 'jsd');
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! + eps,
      b = q[i]! + eps,
      m = 0.5 * (a + b);
    s += a * Math.log2(a / m) + b * Math.log2(b / m);
  }
  return 0.5 * s;
}

/**
 * CP's JSD ("normalised-ε"): P' = (P + ε)/Σ(P + ε), Q' likewise, then the base-2 JSD.
 * Renormalising keeps the result a true divergence of distributions even when Q is the
 * all-zero histogram of an empty list (Q' is then uniform).
 */
export function jsdNormalized(p: ArrayLike<number>, q: ArrayLike<number>, eps = DIVERGENCE_EPS): number {
  checkLengths(p, q, 'jsdNormalized');
  let sp = 0,
    sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]! + eps;
    sq += q[i]! + eps;
  }
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = (p[i]! + eps) / sp,
      b = (q[i]! + eps) / sq,
      m = 0.5 * (a + b);
    s += a * Math.log2(a / m) + b * Math.log2(b / m);
  }
  return 0.5 * s;
}
