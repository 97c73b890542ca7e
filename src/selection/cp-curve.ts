/**
 * CaliTune against CP at equal calibration (docs/numeric-contract.md §13): CP's curve is the
 * backbone (λ = 0) followed by the CP points, sorted by JSD; CP's NDCG at a JSD is read by linear
 * interpolation along it. This is the one rule behind `evaluate`, `compare`, `runs frontier`, the
 * report's findings and the demo's summary.
 */
import type { TradeoffPoint } from './pareto.js';

/** Δ NDCG@k within ± this counts as level with CP: float noise near the backbone's point. */
export const AHEAD_TOLERANCE = 5e-4;

/** A point of CP's trade-off curve: NDCG@k and JSD@k at one λ. */
export interface CurvePoint {
  /** 0 for the backbone; CP's λ otherwise. */
  lambda: number;
  ndcg: number;
  jsd: number;
}

/** CP's trade-off curve: finite points only, sorted by JSD ascending (most calibrated first). */
export type CpCurve = readonly CurvePoint[];

/** The curve from the backbone's point (null when unknown) and CP's points. */
export function cpCurve(
  backbone: { ndcg: number | null; jsd: number | null } | null,
  cp: readonly { lambda: number; ndcg: number | null; jsd: number | null }[],
): CpCurve {
  const all = [...(backbone ? [{ lambda: 0, ...backbone }] : []), ...cp];
  const finite = all.filter((p): p is CurvePoint => isFiniteNumber(p.ndcg) && isFiniteNumber(p.jsd));
  return finite
    .map((p) => ({ lambda: p.lambda, ndcg: p.ndcg, jsd: p.jsd }))
    .sort((a, b) => a.jsd - b.jsd || a.lambda - b.lambda);
}

function isFiniteNumber(x: number | null): x is number {
  return x !== null && Number.isFinite(x);
}

/**
 * Where a JSD falls on the curve: 'inside' its range, 'beyond' (more calibrated than CP's most
 * calibrated point: no comparison), 'above' (less calibrated than every point of the curve: CP's
 * least calibrated point, normally the backbone, is the comparison — re-ranking can always stop
 * there), 'none' (an empty curve).
 */
export type CurvePosition = 'inside' | 'beyond' | 'above' | 'none';

/** CP's NDCG@k read off its curve at a JSD@k, and where that JSD falls on the curve. */
export interface CpAtJsd {
  /** CP's NDCG at this JSD; null where there is no comparison ('beyond', 'none'). */
  ndcg: number | null;
  where: CurvePosition;
}

/**
 * CP's NDCG at `jsd` by linear interpolation along the curve; the best point where several share
 * that JSD. Any curve sorted by JSD ascending is read the same way (the front's upper envelope in
 * margins.ts is).
 */
export function cpAtJsd(curve: readonly TradeoffPoint[], jsd: number): CpAtJsd {
  if (curve.length === 0 || !Number.isFinite(jsd)) return { ndcg: null, where: 'none' };
  const last = curve[curve.length - 1]!;
  if (jsd < curve[0]!.jsd) return { ndcg: null, where: 'beyond' };
  if (jsd > last.jsd) return { ndcg: last.ndcg, where: 'above' };
  // Points exactly at this JSD: CP can pick the best of them.
  const exact = curve.filter((p) => p.jsd === jsd);
  if (exact.length > 0) return { ndcg: Math.max(...exact.map((p) => p.ndcg)), where: 'inside' };
  const upper = curve.findIndex((p) => p.jsd > jsd);
  const a = curve[upper - 1]!;
  const b = curve[upper]!;
  return { ndcg: a.ndcg + ((jsd - a.jsd) / (b.jsd - a.jsd)) * (b.ndcg - a.ndcg), where: 'inside' };
}

/** CaliTune against CP at equal JSD: ahead or behind by more than {@link AHEAD_TOLERANCE}, else level. */
export type Verdict = 'ahead' | 'level' | 'behind';

/** The verdict for a Δ NDCG (CaliTune − CP at the same JSD), with the one tolerance. */
export function verdictOf(delta: number): Verdict {
  if (delta > AHEAD_TOLERANCE) return 'ahead';
  if (delta < -AHEAD_TOLERANCE) return 'behind';
  return 'level';
}

/** A point against CP's curve at its JSD: CP's NDCG there, the difference and the verdict. */
export interface CpComparison extends CpAtJsd {
  /** CaliTune's NDCG − CP's at the same JSD (null without a comparison). */
  delta: number | null;
  verdict: Verdict | null;
}

/** A CaliTune point (test NDCG@k, JSD@k) against CP's curve. */
export function compareWithCp(point: { ndcg: number; jsd: number }, curve: CpCurve): CpComparison {
  const at = cpAtJsd(curve, point.jsd);
  if (at.ndcg === null || !Number.isFinite(point.ndcg)) return { ...at, delta: null, verdict: null };
  const delta = point.ndcg - at.ndcg;
  return { ...at, delta, verdict: verdictOf(delta) };
}

/** Whether the point is ahead of CP by more than the tolerance. */
export function aheadOfCp(point: { ndcg: number; jsd: number }, curve: CpCurve): boolean {
  return compareWithCp(point, curve).verdict === 'ahead';
}

/**
 * The CP λ whose JSD is closest to `jsd` (ties: the lower λ): the one stored CP list that a
 * per-user comparison (improvement tables, RBO) pairs with a CaliTune epoch. The headline verdict
 * interpolates along the curve instead (compareWithCp).
 */
export function closestCpLambda(cp: Readonly<Record<string, { jsd: number | null }>>, jsd: number): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const lambda of Object.keys(cp).sort((a, b) => Number(a) - Number(b))) {
    const d = Math.abs((cp[lambda]?.jsd ?? Number.NaN) - jsd);
    if (d < bestDistance) {
      bestDistance = d;
      best = lambda;
    }
  }
  return best;
}
