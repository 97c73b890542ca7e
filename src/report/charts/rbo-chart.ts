/**
 * The RBO chart of one experiment: per pair of methods (backbone, CP, CaliTune), a Tukey box of
 * the users' rank-biased overlap for all users and per user group, with users as jittered dots
 * (every user, or only the outliers). Above MAX_DOT_USERS users the dots are a seeded sample of
 * users (src/report/user-sample.ts) and the caption says so; the boxes always use every user.
 */
import type { ExperimentData, PerUserComparison, ReportData } from '../data.js';
import { boxStats, type BoxStats } from '../box-stats.js';
import { sampleUsers, type UserSample } from '../user-sample.js';
import { BASE_CONFIG, GROUP_COLOURS, VEGA_LITE_SCHEMA, type ChartDef, type VlSpec } from './spec-common.js';

/** How {@link rboChart} draws users and labels the experiment. */
export interface RboChartOptions {
  /**
   * Every user as a jittered dot (true), or boxes with only the Tukey outliers as dots (false).
   * Per-user dots are thousands of marks per chart: the report keeps them for a few experiments.
   */
  dots: boolean;
  /** The experiment's display label (labels.ts); default its name. */
  label?: string;
}

/** RBO charts with every user as a dot, or with more outlier dots than this, are static only (no interactive view). */
export const RBO_INTERACTIVE_MAX_DOTS = 500;

/** Deterministic jitter in [−1, 1] from a user id (no Math.random: reproducible SVGs). */
function jitter(u: number, salt: number): number {
  let h = (u * 2654435761 + salt * 40503) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 2246822507) >>> 0;
  h ^= h >>> 13;
  return ((h % 10000) / 10000) * 2 - 1;
}

/** Half the width of a box on the x axis (pairs are 1 apart). */
const BOX_HALF = 0.075;

const round5 = (v: number) => Math.round(v * 1e5) / 1e5;

interface RboRows {
  dots: Record<string, unknown>[];
  boxes: Record<string, unknown>[];
}

/** One pair's values split by slot (0 = all users, g + 1 = user group g) and its grouped users. */
function pairValues(values: Float64Array, userGroup: Int32Array, nGroups: number) {
  const bySlot: number[][] = Array.from({ length: nGroups + 1 }, () => []);
  const users: [user: number, group: number, value: number][] = [];
  for (let u = 1; u < values.length; u++) {
    const v = values[u]!;
    if (!Number.isFinite(v)) continue;
    const g = userGroup[u] ?? -1;
    bySlot[0]!.push(v);
    if (g >= 0 && g < nGroups) {
      bySlot[g + 1]!.push(v);
      users.push([u, g, v]);
    }
  }
  return { bySlot, users };
}

/**
 * The chart's rows: one box per pair and slot (all users, then each group, side by side around
 * the pair's x position) and the users' dots (all, or those outside the whiskers).
 */
function rboRows(groups: string[], pu: PerUserComparison, allDots: boolean, sample?: UserSample): RboRows {
  const slots = ['all', ...groups];
  const off = (s: number) => (s - (slots.length - 1) / 2) * 0.2;
  const out: RboRows = { dots: [], boxes: [] };
  pu.rbo.pairs.forEach((p, pi) => {
    const { bySlot, users } = pairValues(p.values, pu.userGroup, groups.length);
    const stats: (BoxStats | null)[] = slots.map((_, si) => boxStats(bySlot[si]!));
    for (const [u, g, v] of users) {
      const b = stats[g + 1];
      if (!allDots && b && v >= b.lo && v <= b.hi) continue; // boxes only: outliers stay dots
      if (sample && !sample.keep[u]) continue;
      const x = Math.round((pi + off(g + 1) + jitter(u, pi) * BOX_HALF * 0.8) * 1e4) / 1e4;
      out.dots.push({ kind: 'dot', x, rbo: round5(v), user: u, group: groups[g], pair: p.label });
    }
    slots.forEach((s, si) => {
      const b = stats[si];
      if (!b) return;
      const c = pi + off(si);
      const rounded = Object.fromEntries(Object.entries(b).map(([k, v]) => [k, round5(v)]));
      const group = s === 'all' ? 'all users' : s;
      out.boxes.push({ kind: 'box', x0: c - BOX_HALF, x1: c + BOX_HALF, xc: c, group, pair: p.label, ...rounded });
    });
  });
  return out;
}

/** Dots, whiskers, boxes and medians over the pairs (x: pair index, labelled by the pair). */
function rboLayers(
  d: ReportData,
  e: ExperimentData,
  groups: string[],
  pairLabels: string[],
  allDots: boolean,
): VlSpec[] {
  const x = {
    type: 'quantitative',
    title: null,
    scale: { domain: [-0.5, pairLabels.length - 0.5], nice: false, zero: false },
    axis: {
      labelLimit: 400,
      values: pairLabels.map((_, i) => i),
      labelExpr: `[${pairLabels.map((l) => `'${l}'`).join(',')}][round(datum.value)]`,
      grid: false,
      labelFontSize: 12,
      labelFontWeight: 'bold',
    },
  };
  const y = {
    type: 'quantitative',
    title: [`RBO@${d.k} (rank-biased overlap, p = ${e.results?.calitune.rbo_p ?? 0.9})`, '1 = same list, 0 = disjoint'],
    scale: { zero: false, domainMax: 1, nice: true },
  };
  const gDomain = ['all users', ...groups];
  const gRange = ['all', ...groups].map((g) => GROUP_COLOURS[g] ?? '#777');
  const colour = { field: 'group', type: 'nominal', title: 'user group', scale: { domain: gDomain, range: gRange } };
  const f3 = (field: string, title: string) => ({ field, title, format: '.3f' });
  const boxTip = [
    { field: 'pair', title: 'pair' },
    { field: 'group', title: 'users' },
    { field: 'n', title: 'n' },
    f3('median', 'median'),
    f3('q1', 'Q1'),
    f3('q3', 'Q3'),
    f3('mean', 'mean'),
  ];
  const dotTip = [
    { field: 'user', title: 'user id' },
    { field: 'group', title: 'group' },
    { field: 'pair', title: 'pair' },
    f3('rbo', 'RBO'),
  ];
  const dots = { filter: "datum.kind === 'dot'" },
    boxes = { filter: "datum.kind === 'box'" };
  return [
    {
      transform: [dots],
      mark: { type: 'circle', size: allDots ? 9 : 16, opacity: allDots ? 0.45 : 0.7, aria: false },
      encoding: { x: { ...x, field: 'x' }, y: { ...y, field: 'rbo' }, color: colour, tooltip: dotTip },
    },
    {
      transform: [boxes],
      mark: { type: 'rule', strokeWidth: 1.2 },
      encoding: { x: { ...x, field: 'xc' }, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: colour },
    },
    {
      transform: [boxes],
      mark: { type: 'rect', fillOpacity: 0.18, strokeWidth: 1.6 },
      encoding: {
        x: { ...x, field: 'x0' },
        x2: { field: 'x1' },
        y: { ...y, field: 'q1' },
        y2: { field: 'q3' },
        color: colour,
        stroke: colour,
        tooltip: boxTip,
      },
    },
    {
      transform: [boxes],
      mark: { type: 'rule', color: '#000', strokeWidth: 2.2 },
      encoding: { x: { ...x, field: 'x0' }, x2: { field: 'x1' }, y: { ...y, field: 'median' }, tooltip: boxTip },
    },
  ];
}

/** One experiment's RBO chart: boxes per method pair and user group, with users as dots. */
export function rboChart(
  d: ReportData,
  e: ExperimentData,
  pu: PerUserComparison,
  opts: RboChartOptions = { dots: true },
): ChartDef {
  const groups = d.userGroupNames.slice(0, 3);
  const sample = sampleUsers(pu.userGroup.length, (u) =>
    pu.rbo.pairs.some((p) => Number.isFinite(p.values[u] ?? NaN) && (pu.userGroup[u] ?? -1) >= 0),
  );
  const { dots, boxes } = rboRows(groups, pu, opts.dots, sample);
  const pairLabels = pu.rbo.pairs.map((p) => p.label);
  const label = opts.label ?? e.name;
  const dotsNote = opts.dots
    ? "every user is a dot in their group's column, jittered sideways."
    : 'dots: the users outside the whiskers (per-user dots for every user are drawn for the experiments ' +
      'on the validation Pareto front).';
  const sampleNote = sample
    ? ` Dots are drawn for a seeded random sample of ${sample.size.toLocaleString('en-US')} of the ` +
      `${sample.of.toLocaleString('en-US')} users (one mark per user would be too many to draw); ` +
      'the boxes use every user.'
    : '';
  return {
    id: `rbo_${e.name}`,
    title: `Rank-biased overlap over users — ${label}, epoch ${pu.epoch} vs CP λ ${pu.lambda}`,
    caption:
      `For each user, how similar two top-${d.k} lists are (RBO, top-weighted). ` +
      `CaliTune: epoch ${pu.epoch} of '${e.name}', selected on validation (${pu.mode}); ` +
      `CP: λ ${pu.lambda}, the λ whose overall JSD@${d.k} is closest to that epoch's. ` +
      'Per pair one box for all users and one per user group ' +
      '(box: quartiles, bar: median, whiskers: 1.5 × IQR); ' +
      dotsNote +
      sampleNote,
    interactive: !opts.dots && dots.length <= RBO_INTERACTIVE_MAX_DOTS,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      width: 640,
      height: 360,
      data: { values: [...dots, ...boxes] },
      layer: rboLayers(d, e, groups, pairLabels, opts.dots),
      config: BASE_CONFIG,
    },
  };
}
