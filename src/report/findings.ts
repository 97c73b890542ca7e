/**
 * What the trade-off chart says in words: for each CaliTune experiment's selected epoch, CP's NDCG
 * at the same JSD and the verdict, by the one rule in src/selection (docs/numeric-contract.md §13).
 */
import {
  AHEAD_TOLERANCE,
  compareWithCp,
  cpCurve,
  type CpCurve,
  type CurvePosition,
  type Verdict,
} from '../selection/cp-curve.js';
import type { CpPoint, MetricSet, Num, ReportData } from './data.js';

/** One selected epoch against CP at its JSD, overall or in one user group. */
export interface Finding {
  experiment: string;
  epoch: number;
  mode: string;
  /** 'all' or a user group name. */
  panel: string;
  ndcg: number;
  jsd: number;
  cpNdcg: Num;
  where: CurvePosition;
  verdict: Verdict | null;
  /** CaliTune NDCG − CP NDCG at the same JSD (null outside CP's range). */
  delta: Num;
}

/** The findings of the trade-off chart: one row per selected epoch and panel, counts of epochs ahead, sentences. */
export interface Findings {
  rows: Finding[];
  /** Per experiment, over all its evaluated epochs inside CP's range: how many are above CP's curve. */
  epochsAhead: { experiment: string; ahead: number; compared: number; beyond: number }[];
  sentences: string[];
}

function pick(m: MetricSet, panel: number): [Num, Num] {
  return panel < 0 ? [m.jsd, m.ndcg] : [m.jsdGroup[panel] ?? null, m.ndcgGroup[panel] ?? null];
}

/** Each experiment's selected epochs against CP's curve, in rows and in sentences, by src/selection's rule. */
export function tradeoffFindings(d: ReportData): Findings {
  const rows: Finding[] = [];
  const epochsAhead: Findings['epochsAhead'] = [];
  const sentences: string[] = [];
  if (!d.base && d.cp.length === 0) return { rows, epochsAhead, sentences };
  const panels: [number, string][] = [
    [-1, 'all'],
    ...d.userGroupNames.slice(0, 3).map((n, i) => [i, n] as [number, string]),
  ];
  const curve = (p: number): CpCurve => {
    const point = ([jsd, ndcg]: [Num, Num]) => ({ jsd, ndcg });
    return cpCurve(
      d.base ? point(pick(d.base, p)) : null,
      d.cp.map((c: CpPoint) => ({ lambda: Number(c.lambda), ...point(pick(c.m, p)) })),
    );
  };
  for (const e of d.experiments) {
    if (!e.primary) continue;
    const ep = e.epochs.find((x) => x.epoch === e.primary!.epoch);
    if (!ep) continue;
    for (const [p, name] of panels) {
      const [j, n] = pick(ep.m, p);
      if (j === null || n === null) continue;
      const r = compareWithCp({ ndcg: n, jsd: j }, curve(p));
      rows.push({
        experiment: e.name,
        epoch: ep.epoch,
        mode: e.primary.mode,
        panel: name,
        ndcg: n,
        jsd: j,
        cpNdcg: r.ndcg,
        where: r.where,
        delta: r.delta,
        verdict: r.verdict,
      });
    }
    const c = curve(-1);
    let ahead = 0,
      compared = 0,
      beyond = 0;
    for (const x of e.epochs) {
      if (x.m.jsd === null || x.m.ndcg === null) continue;
      const r = compareWithCp({ ndcg: x.m.ndcg, jsd: x.m.jsd }, c);
      if (r.where === 'beyond') beyond++;
      if (r.verdict === null) continue;
      compared++;
      if (r.verdict === 'ahead') ahead++;
    }
    epochsAhead.push({ experiment: e.name, ahead, compared, beyond });
  }
  for (const e of d.experiments) {
    const all = rows.find((r) => r.experiment === e.name && r.panel === 'all');
    const ea = epochsAhead.find((x) => x.experiment === e.name);
    if (all && ea)
      sentences.push(
        findingSentence(
          d,
          all,
          rows.filter((r) => r.experiment === e.name && r.panel !== 'all'),
          ea,
        ),
      );
  }
  return { rows, epochsAhead, sentences };
}

const f4 = (x: number) => x.toFixed(4);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${f4(x)}`;

/** The verdict against CP in words. */
function verdictWords(r: Finding): string {
  if (r.where === 'beyond') return 'more calibrated than any CP λ reaches.';
  if (r.verdict === null || r.cpNdcg === null || r.delta === null) return 'no CP curve to compare with.';
  const where = r.where === 'above' ? ' (less calibrated than the backbone: compared with the backbone)' : '';
  const verdict =
    r.verdict === 'level'
      ? `level with CP (Δ ${signed(r.delta)}, within ±${AHEAD_TOLERANCE})`
      : `${r.verdict} by ${signed(r.delta)}`;
  return `CP at the same JSD: NDCG ${f4(r.cpNdcg)}${where} → CaliTune ${verdict}.`;
}

function findingSentence(
  d: ReportData,
  all: Finding,
  groups: readonly Finding[],
  ea: Findings['epochsAhead'][number],
): string {
  let s =
    `${all.experiment}, epoch ${all.epoch} (selected on validation, ${all.mode}): ` +
    `${d.split} NDCG@${d.k} ${f4(all.ndcg)} ` +
    `at JSD@${d.k} ${f4(all.jsd)}; ${verdictWords(all)}`;
  const named = (v: Verdict) => groups.filter((r) => r.verdict === v).map((r) => r.panel);
  const parts = (['ahead', 'level', 'behind'] as const)
    .map((v) => [v, named(v)] as const)
    .filter(([, g]) => g.length > 0);
  const groupWords = parts.map(([v, g]) => `${v === 'level' ? 'level with' : `${v} of`} CP for ${g.join(', ')}`);
  if (parts.length) s += ` Per group: ${groupWords.join('; ')}.`;
  if (ea.compared)
    s +=
      ` Over its evaluated epochs, ${ea.ahead} of ${ea.compared} ` +
      `lie above CP's curve by more than ${AHEAD_TOLERANCE}.`;
  return s;
}
