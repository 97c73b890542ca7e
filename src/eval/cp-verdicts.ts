/**
 * The verdict of each validation-selected epoch against CP at the same JSD, written by `evaluate`
 * into the results file so that every reader (compare, the report, the demo) quotes the same
 * numbers. The rule itself lives in src/selection (docs/numeric-contract.md §13).
 */
import { compareWithCp, cpCurve, type CpComparison, type CpCurve } from '../selection/cp-curve.js';
import { SELECTION_MODES, type SelectionMode } from '../selection/modes.js';
import type { ReferenceMetrics } from './metrics.js';

/** What a results file stores per selection mode. */
export interface StoredCpVerdict {
  epoch: number;
  /** CP's NDCG@k interpolated at the epoch's JSD@k (null: more calibrated than any λ). */
  cp_ndcg: number | null;
  delta: number | null;
  verdict: CpComparison['verdict'];
  where: CpComparison['where'];
}

const finiteOrNull = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** CP's curve on the evaluated split: the backbone (λ 0) and every stored λ. */
export function resultsCpCurve(
  base: ReferenceMetrics,
  postprocessed: Readonly<Record<string, ReferenceMetrics>> = {},
): CpCurve {
  const point = (m: ReferenceMetrics) => ({ ndcg: finiteOrNull(m.ndcg), jsd: finiteOrNull(m.jsd) });
  return cpCurve(
    point(base),
    Object.entries(postprocessed).map(([lambda, m]) => ({ lambda: Number(lambda), ...point(m) })),
  );
}

/** Per selection mode: the selected epoch's metrics on the evaluated split against CP's curve. */
export function selectedVsCp(
  curve: CpCurve,
  selected: Readonly<Record<string, { epoch: number } | null>>,
  finetuned: Readonly<Record<string, ReferenceMetrics>>,
): Record<SelectionMode, StoredCpVerdict | null> {
  const out = {} as Record<SelectionMode, StoredCpVerdict | null>;
  for (const mode of SELECTION_MODES) {
    const s = selected[mode];
    const m = s ? finetuned[`epoch_${s.epoch}`] : undefined;
    if (!s || !m || !Number.isFinite(m.ndcg) || !Number.isFinite(m.jsd)) {
      out[mode] = null;
      continue;
    }
    const c = compareWithCp({ ndcg: m.ndcg!, jsd: m.jsd! }, curve);
    out[mode] = { epoch: s.epoch, cp_ndcg: c.ndcg, delta: c.delta, verdict: c.verdict, where: c.where };
  }
  return out;
}
