/**
 * The margin over CP at fixed calibration levels (docs/numeric-contract.md §13): at each target
 * JSD@k t, the upper envelope of the validation-selected front's test NDCG@k minus CP's test
 * NDCG@k, both read off their curves by the one interpolation rule (cpAtJsd).
 */
import { cpAtJsd, type CpCurve } from './cp-curve.js';
import { paretoFront, type TradeoffPoint } from './pareto.js';

/** The calibration levels (JSD@10) the margin is reported at unless others are asked for. */
export const DEFAULT_MARGIN_TARGETS: readonly number[] = [0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.18];

/** The margin over CP at each target JSD, with both sides' NDCG there; null means n/a. */
export interface MarginsAtTargets {
  /** The target JSD@k values, in the order asked for. */
  targets: number[];
  /** Envelope NDCG − CP NDCG at each target; null where either side does not reach the target. */
  values: (number | null)[];
  /** The front's upper envelope at each target; null where the front does not reach it. */
  front: (number | null)[];
  /** CP's NDCG at each target; null where CP's curve does not reach it. */
  cp: (number | null)[];
}

/**
 * The upper envelope of a front's test points: the points no other point beats on test (NDCG as
 * high at a JSD as low), sorted by JSD ascending — so NDCG rises strictly along it. Reading it
 * with {@link envelopeAt} joins neighbouring points by straight lines, exactly as CP's curve is read.
 */
export function frontEnvelope(points: readonly TradeoffPoint[]): TradeoffPoint[] {
  return paretoFront(points).map((p) => ({ ndcg: p.ndcg, jsd: p.jsd }));
}

/**
 * The upper envelope's NDCG at JSD `t`, by the rule cpAtJsd applies to CP's curve: linear
 * between the two envelope points around t; at an envelope point, its NDCG; above the least
 * calibrated point, that point's NDCG (a model more calibrated than t is at least as calibrated
 * as t asks); null below the most calibrated point (the front does not reach t) or for no points.
 */
export function envelopeAt(envelope: readonly TradeoffPoint[], t: number): number | null {
  return cpAtJsd(envelope, t).ndcg;
}

/**
 * The margin over CP at each target JSD t: the upper envelope of the front's test points at t
 * (see {@link envelopeAt}) minus CP's NDCG at t (cpAtJsd on CP's curve); null where the front does
 * not reach t (t below its most calibrated point) or CP's curve does not (t below CP's most
 * calibrated point). Both sides use one reading rule, so the margin measures the methods, not the
 * rule: a step rule for the front only would charge CaliTune for the gaps between its stored
 * epochs and not CP for the gaps between its λ.
 *
 * @param front the front's points with TEST metrics (the front itself is chosen on validation)
 */
export function marginsAtTargets(
  front: readonly TradeoffPoint[],
  curve: CpCurve,
  targets: readonly number[] = DEFAULT_MARGIN_TARGETS,
): MarginsAtTargets {
  const envelope = frontEnvelope(front);
  const frontAt = targets.map((t) => envelopeAt(envelope, t));
  const cpAt = targets.map((t) => cpAtJsd(curve, t).ndcg);
  const values = targets.map((_, i) => {
    const f = frontAt[i] ?? null;
    const c = cpAt[i] ?? null;
    return f === null || c === null ? null : f - c;
  });
  return { targets: [...targets], values, front: frontAt, cp: cpAt };
}
