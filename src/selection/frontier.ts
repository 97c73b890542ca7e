/**
 * The validation-selected Pareto front against CP's curve (docs/numeric-contract.md §10, §13):
 * every stored epoch is a candidate; the front is chosen on validation (valid NDCG@k vs the
 * JSD@k of the test-time lists) and reported with test metrics next to CP at the same test JSD.
 */
import { compareWithCp, type CpCurve, type CurvePoint, type Verdict } from './cp-curve.js';
import { paretoFront } from './pareto.js';

/** A stored epoch of one experiment, with its validation and test metrics. */
export interface FrontCandidate {
  name: string;
  epoch: number;
  valid_ndcg: number;
  /** JSD@k of the test-time lists: the selection metric, no test labels used. */
  jsd: number;
  test_ndcg: number;
  test_jsd: number;
}

/** The validation front over all candidates, sorted by JSD ascending; exact ties keep the first in input order. */
export function validationFront<T extends FrontCandidate>(rows: readonly T[]): T[] {
  const pts = rows.map((r) => ({ ndcg: r.valid_ndcg, jsd: r.jsd, row: r }));
  return paretoFront(pts).map((p) => p.row);
}

/** A front candidate with CP's test NDCG at its test JSD, the difference and the verdict (null: no comparison). */
export type FrontierRow<T extends FrontCandidate = FrontCandidate> = T & {
  cp_ndcg: number | null;
  delta: number | null;
  verdict: Verdict | null;
};

/** A run of consecutive front points (by test JSD) that share one verdict against CP. */
export interface FrontierSegment {
  /** The verdict shared by this run of consecutive front points (by test JSD). */
  verdict: Verdict;
  fromJsd: number;
  toJsd: number;
  points: number;
  meanDelta: number;
  /** Largest |Δ| in the segment, signed. */
  maxDelta: number;
}

/** The validation front compared with CP on test: rows, CP's curve, same-verdict segments and crossings. */
export interface FrontierReport<T extends FrontCandidate = FrontCandidate> {
  rows: FrontierRow<T>[];
  cp: CurvePoint[];
  /** Runs of consecutive front points (by test JSD) with the same verdict, lowest JSD first. */
  segments: FrontierSegment[];
  /** Estimated JSDs where Δ changes sign (interpolated linearly between neighbours). */
  crossings: number[];
  /**
   * The headline: the lowest JSD X such that at every front point with JSD ≥ X CaliTune is ahead
   * of CP or level with it, with at least one point ahead (null: nowhere ahead).
   */
  aheadFromJsd: number | null;
  /** Mean and largest Δ NDCG over the front points with JSD ≥ aheadFromJsd. */
  meanGainAhead: number | null;
  maxGainAhead: number | null;
  /** Points ahead (beyond the tolerance) among the rangePoints with JSD ≥ aheadFromJsd. */
  aheadPoints: number;
  rangePoints: number;
  /** Front points more calibrated than CP's most calibrated point (no comparison). */
  beyondCp: number;
}

type Compared<T extends FrontCandidate> = FrontierRow<T> & { delta: number; verdict: Verdict };

function segmentsOf<T extends FrontCandidate>(comparable: readonly Compared<T>[]): FrontierSegment[] {
  const segments: FrontierSegment[] = [];
  for (const r of comparable) {
    const last = segments[segments.length - 1];
    if (last && last.verdict === r.verdict) {
      last.meanDelta = (last.meanDelta * last.points + r.delta) / (last.points + 1);
      last.points++;
      last.toJsd = r.test_jsd;
      if (Math.abs(r.delta) > Math.abs(last.maxDelta)) last.maxDelta = r.delta;
    } else {
      segments.push({
        verdict: r.verdict,
        fromJsd: r.test_jsd,
        toJsd: r.test_jsd,
        points: 1,
        meanDelta: r.delta,
        maxDelta: r.delta,
      });
    }
  }
  return segments;
}

function crossingsOf<T extends FrontCandidate>(comparable: readonly Compared<T>[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < comparable.length; i++) {
    const a = comparable[i - 1]!;
    const b = comparable[i]!;
    if (Math.sign(a.delta) === Math.sign(b.delta) || a.delta === 0 || b.delta === 0) continue;
    const t = a.delta / (a.delta - b.delta);
    out.push(a.test_jsd + t * (b.test_jsd - a.test_jsd));
  }
  return out;
}

/** Walk down from the highest JSD while CaliTune is ahead or level. */
function headline<T extends FrontCandidate>(comparable: readonly Compared<T>[]) {
  const desc = [...comparable].reverse();
  let n = 0;
  while (n < desc.length && desc[n]!.verdict !== 'behind') n++;
  const range = desc.slice(0, n);
  if (!range.some((r) => r.verdict === 'ahead')) {
    return { aheadFromJsd: null, meanGainAhead: null, maxGainAhead: null, aheadPoints: 0, rangePoints: 0 };
  }
  const ds = range.map((r) => r.delta);
  return {
    aheadFromJsd: range[range.length - 1]!.test_jsd,
    meanGainAhead: ds.reduce((a, b) => a + b, 0) / ds.length,
    maxGainAhead: Math.max(...ds),
    aheadPoints: range.filter((r) => r.verdict === 'ahead').length,
    rangePoints: range.length,
  };
}

/** Chooses the front on validation metrics and compares each of its points with CP at the same test JSD. */
export function frontierReport<T extends FrontCandidate>(candidates: readonly T[], curve: CpCurve): FrontierReport<T> {
  const rows: FrontierRow<T>[] = validationFront(candidates).map((f) => {
    const c = compareWithCp({ ndcg: f.test_ndcg, jsd: f.test_jsd }, curve);
    return { ...f, cp_ndcg: c.ndcg, delta: c.delta, verdict: c.verdict };
  });
  const comparable = rows.filter((r): r is Compared<T> => r.verdict !== null).sort((a, b) => a.test_jsd - b.test_jsd);
  return {
    rows,
    cp: [...curve],
    segments: segmentsOf(comparable),
    crossings: crossingsOf(comparable),
    ...headline(comparable),
    beyondCp: rows.filter((r) => r.delta === null).length,
  };
}
