/**
 * Validation-based epoch selection (docs/numeric-contract.md §10), the one implementation used
 * by the fine-tuner's summary and by `evaluate`.
 */
import type { SelectionMode } from './modes.js';

/** What selection looks at: an epoch's validation metrics. */
export interface EpochPoint {
  epoch: number;
  /** Valid NDCG@k (higher is better). */
  validNdcg: number;
  /** JSD@k of the test-time lists (lower is better calibrated); no test labels are used. */
  jsd: number;
  /** (ndcg/ndcg₀)^0.5 · (jsd₀/jsd)^0.5, null where undefined. */
  tradeoff: number | null;
}

/**
 * The default accuracy floor: an epoch whose valid NDCG@k is below this fraction of epoch 0's
 * (the backbone's) has collapsed and is never selected (docs/numeric-contract.md §10).
 */
export const DEFAULT_ACCURACY_FLOOR = 0.8;

/** The lowest valid NDCG@k an epoch may have to be selected: `fraction` of epoch 0's (0 = no floor). */
export function accuracyFloorNdcg(initialValidNdcg: number, fraction: number): number {
  return fraction > 0 && Number.isFinite(initialValidNdcg) ? fraction * initialValidNdcg : 0;
}

/** What besides epoch 0 and non-finite metrics keeps an epoch from being selected. */
export interface SelectionRules {
  /** Epochs with valid NDCG@k below this are never selected (see {@link accuracyFloorNdcg}). */
  readonly minValidNdcg?: number;
  /** Epochs the fine-tuner rolled back (a collapse) are never selected. */
  readonly isRolledBack?: (epoch: number) => boolean;
}

/** The selected point per selection mode; null where no epoch qualifies. */
export type EpochSelection<T> = Record<SelectionMode, T | null>;

/**
 * The selected epoch per mode. Epoch 0 (before fine-tuning) is never selected, nor a point whose
 * metric for that mode is not finite, nor one the rules exclude (below the accuracy floor, or
 * rolled back): excluded points do not count as improvements of `any` either. `ndcg`, `pop_jsd` and `tradeoff` take the first epoch with
 * the best value; `any` takes the last epoch that improved NDCG, JSD or the trade-off over its own
 * running best, starting from 0 / 1 / 0 as the reference does.
 */
export function selectEpochs<T extends EpochPoint>(
  points: readonly T[],
  rules: SelectionRules = {},
): EpochSelection<T> {
  const floor = rules.minValidNdcg ?? 0;
  const eligible = (p: T) => p.epoch >= 1 && !(p.validNdcg < floor) && !rules.isRolledBack?.(p.epoch);
  const sorted = points.filter(eligible).sort((a, b) => a.epoch - b.epoch);
  let bestNdcg: T | null = null;
  let bestJsd: T | null = null;
  let bestTrade: T | null = null;
  let any: T | null = null;
  const running = { ndcg: 0, jsd: 1, tradeoff: 0 };
  for (const p of sorted) {
    const t = p.tradeoff ?? Number.NaN;
    if (Number.isFinite(p.validNdcg) && (bestNdcg === null || p.validNdcg > bestNdcg.validNdcg)) bestNdcg = p;
    if (Number.isFinite(p.jsd) && (bestJsd === null || p.jsd < bestJsd.jsd)) bestJsd = p;
    if (Number.isFinite(t) && (bestTrade === null || t > (bestTrade.tradeoff ?? Number.NaN))) bestTrade = p;
    let improved = false;
    if (p.validNdcg > running.ndcg) {
      running.ndcg = p.validNdcg;
      improved = true;
    }
    if (p.jsd < running.jsd) {
      running.jsd = p.jsd;
      improved = true;
    }
    if (t > running.tradeoff) {
      running.tradeoff = t;
      improved = true;
    }
    if (improved) any = p;
  }
  return { any, ndcg: bestNdcg, pop_jsd: bestJsd, tradeoff: bestTrade };
}
