/**
 * What the trade-off chart says in words: for a CaliTune point (JSD, NDCG), the NDCG that CP
 * reaches at the same JSD (linear interpolation along CP's curve, the backbone as λ = 0), and
 * whether CaliTune is ahead (higher NDCG at equal calibration).
 */
import type { CpPoint, MetricSet, Num, ReportData } from './data.js';

export interface CpAtJsd {
  /** CP's interpolated NDCG at this JSD, or null when the JSD is outside CP's range. */
  cpNdcg: Num;
  /** 'inside' CP's JSD range, 'beyond' (more calibrated than any λ), 'above' (less calibrated than the backbone). */
  where: 'inside' | 'beyond' | 'above' | 'none';
}

export function cpNdcgAtJsd(base: [Num, Num] | undefined, cp: [Num, Num][], jsd: number): CpAtJsd {
  const pts = [...(base ? [base] : []), ...cp].filter((p): p is [number, number] => p[0] !== null && p[1] !== null).sort((a, b) => a[0] - b[0]);
  if (pts.length === 0) return { cpNdcg: null, where: 'none' };
  if (jsd < pts[0]![0]) return { cpNdcg: null, where: 'beyond' };
  if (jsd > pts[pts.length - 1]![0]) return { cpNdcg: null, where: 'above' };
  for (let i = 0; i + 1 < pts.length; i++) {
    const [x0, y0] = pts[i]!, [x1, y1] = pts[i + 1]!;
    if (jsd >= x0 && jsd <= x1) return { cpNdcg: x1 === x0 ? Math.max(y0, y1) : y0 + ((jsd - x0) / (x1 - x0)) * (y1 - y0), where: 'inside' };
  }
  return { cpNdcg: pts[pts.length - 1]![1], where: 'inside' };
}

export interface Finding {
  experiment: string;
  epoch: number;
  mode: string;
  /** 'all' or a user group name. */
  panel: string;
  ndcg: number;
  jsd: number;
  cpNdcg: Num;
  where: CpAtJsd['where'];
  /** CaliTune NDCG − CP NDCG at the same JSD (null outside CP's range). */
  delta: Num;
}

export interface Findings {
  rows: Finding[];
  /** Per experiment, over all its evaluated epochs inside CP's range: how many are above CP's curve. */
  epochsAhead: { experiment: string; ahead: number; compared: number; beyond: number }[];
  sentences: string[];
}

function pick(m: MetricSet, panel: number): [Num, Num] {
  return panel < 0 ? [m.jsd, m.ndcg] : [m.jsdGroup[panel] ?? null, m.ndcgGroup[panel] ?? null];
}

export function tradeoffFindings(d: ReportData): Findings {
  const rows: Finding[] = [];
  const epochsAhead: Findings['epochsAhead'] = [];
  const sentences: string[] = [];
  if (!d.base && d.cp.length === 0) return { rows, epochsAhead, sentences };
  const panels: [number, string][] = [[-1, 'all'], ...d.userGroupNames.slice(0, 3).map((n, i) => [i, n] as [number, string])];
  const curve = (p: number) => ({ base: d.base ? pick(d.base, p) : undefined, cp: d.cp.map((c: CpPoint) => pick(c.m, p)) });
  for (const e of d.experiments) {
    if (!e.primary) continue;
    const ep = e.epochs.find((x) => x.epoch === e.primary!.epoch);
    if (!ep) continue;
    for (const [p, name] of panels) {
      const [j, n] = pick(ep.m, p);
      if (j === null || n === null) continue;
      const c = curve(p);
      const r = cpNdcgAtJsd(c.base, c.cp, j);
      rows.push({ experiment: e.name, epoch: ep.epoch, mode: e.primary.mode, panel: name, ndcg: n, jsd: j, cpNdcg: r.cpNdcg, where: r.where, delta: r.cpNdcg === null ? null : n - r.cpNdcg });
    }
    const c = curve(-1);
    let ahead = 0, compared = 0, beyond = 0;
    for (const x of e.epochs) {
      if (x.m.jsd === null || x.m.ndcg === null) continue;
      const r = cpNdcgAtJsd(c.base, c.cp, x.m.jsd);
      if (r.where === 'beyond') beyond++;
      if (r.cpNdcg === null) continue;
      compared++;
      if (x.m.ndcg > r.cpNdcg) ahead++;
    }
    epochsAhead.push({ experiment: e.name, ahead, compared, beyond });
  }
  const f = (x: number) => x.toFixed(4);
  for (const e of d.experiments) {
    const all = rows.find((r) => r.experiment === e.name && r.panel === 'all');
    if (!all) continue;
    const groupsAhead = rows.filter((r) => r.experiment === e.name && r.panel !== 'all' && r.delta !== null && r.delta > 0).map((r) => r.panel);
    const groupsBehind = rows.filter((r) => r.experiment === e.name && r.panel !== 'all' && r.delta !== null && r.delta <= 0).map((r) => r.panel);
    const ea = epochsAhead.find((x) => x.experiment === e.name)!;
    let s = `${e.name}, epoch ${all.epoch} (selected on validation, ${all.mode}): ${d.split} NDCG@${d.k} ${f(all.ndcg)} at JSD@${d.k} ${f(all.jsd)}; `;
    if (all.where === 'inside') s += `CP at the same JSD: NDCG ${f(all.cpNdcg!)} → CaliTune ${all.delta! > 0 ? 'ahead' : 'behind'} by ${all.delta! >= 0 ? '+' : ''}${f(all.delta!)}.`;
    else if (all.where === 'beyond') s += `more calibrated than any CP λ reaches.`;
    else if (all.where === 'above') s += `less calibrated than the backbone.`;
    if (groupsAhead.length || groupsBehind.length) s += ` Per group: ahead of CP for ${groupsAhead.length ? groupsAhead.join(', ') : 'none'}${groupsBehind.length ? `; behind for ${groupsBehind.join(', ')}` : ''}.`;
    if (ea.compared) s += ` Over its evaluated epochs, ${ea.ahead} of ${ea.compared} lie above CP's curve.`;
    sentences.push(s);
  }
  return { rows, epochsAhead, sentences };
}
