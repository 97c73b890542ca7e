/**
 * The Pareto front of (NDCG high, JSD low), the one definition used for checkpoint keeping, the
 * report and `runs frontier` (docs/numeric-contract.md §10). A point is dominated when another is
 * at least as good in both and better in one; exact duplicates do not dominate each other.
 * Points with a non-finite coordinate are never on the front.
 */

export interface TradeoffPoint {
  ndcg: number;
  jsd: number;
}

/** Indices sorted by JSD ascending, then NDCG descending; ties keep the input order. */
function sweepOrder(points: readonly TradeoffPoint[]): number[] {
  const idx: number[] = [];
  points.forEach((p, i) => {
    if (Number.isFinite(p.ndcg) && Number.isFinite(p.jsd)) idx.push(i);
  });
  return idx.sort((a, b) => points[a]!.jsd - points[b]!.jsd || points[b]!.ndcg - points[a]!.ndcg || a - b);
}

/**
 * Per point: 'front' (not dominated, first of its exact duplicates in input order),
 * 'duplicate' (an exact copy of a front point) or 'dominated'. One O(n log n) sweep.
 */
export function paretoStatus(points: readonly TradeoffPoint[]): ('front' | 'duplicate' | 'dominated')[] {
  const status: ('front' | 'duplicate' | 'dominated')[] = points.map(() => 'dominated');
  let best: TradeoffPoint | null = null;
  for (const i of sweepOrder(points)) {
    const p = points[i]!;
    if (best === null || p.ndcg > best.ndcg) {
      status[i] = 'front';
      best = p;
    } else if (p.ndcg === best.ndcg && p.jsd === best.jsd) {
      status[i] = 'duplicate';
    }
  }
  return status;
}

/** Whether each point is on the front (exact duplicates of a front point count as on it). */
export function onParetoFront(points: readonly TradeoffPoint[]): boolean[] {
  return paretoStatus(points).map((s) => s !== 'dominated');
}

/** The front itself, duplicates collapsed (the first in input order kept), sorted by JSD ascending. */
export function paretoFront<T extends TradeoffPoint>(points: readonly T[]): T[] {
  const status = paretoStatus(points);
  return sweepOrder(points)
    .filter((i) => status[i] === 'front')
    .map((i) => points[i]!);
}
