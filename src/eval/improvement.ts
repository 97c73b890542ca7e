/**
 * Improvement tables (docs/numeric-contract.md §12), from per-user metrics.
 *
 * All inputs are indexed by user id (index 0 = padding, ignored); `userGroup[u]` is the
 * 0-based user group (−1 = none: counted only in the "all" row). A difference counts as a
 * change only when it exceeds `tol` (default 1e-12) in absolute value, so two lists with the
 * same metrics "stay" even after float noise. Shares are percentages of the row's users
 * (0 for an empty group, never NaN). A user whose value is NaN in either side is skipped.
 *
 * Tables:
 * - `vsBase[method]`: per group, % of users whose NDCG@k got better (higher) / stayed / worse,
 *   JSD@k better (lower) / stayed / worse, and head items in the top-k fewer / same / more,
 *   for the selected CaliTune epoch and for the CP λ with the closest JSD.
 * - `seedMetrics`: "Percentage of users for which metrics were improved" — CaliTune > backbone
 *   (NDCG), CaliTune < backbone (JSD), CaliTune > CP (NDCG), CaliTune < CP (JSD),
 *   CP > backbone (NDCG), CP < backbone (JSD).
 * - `seedHead`: "Percentage of users for which the number of popular (head) items was
 *   decreased" — CaliTune < backbone, CP < CaliTune, CaliTune < CP.
 */
export interface MethodPerUser {
  ndcg: ArrayLike<number>;
  jsd: ArrayLike<number>;
  /** Head (group 1) items in the top-k per user. */
  head: ArrayLike<number>;
}

/** One row of an improvement table: a user group, its size and the row's percentages. */
export interface Row {
  group: string;
  users: number;
  values: number[];
}

/** An improvement table: title, column headings and one row per user group plus "all". */
export interface Table {
  title: string;
  columns: string[];
  rows: Row[];
}

/** Per-user metrics of the backbone, CaliTune and CP, with user groups and the labels for titles. */
export interface ImprovementInput {
  base: MethodPerUser;
  calitune: MethodPerUser;
  cp: MethodPerUser;
  userGroup: ArrayLike<number>;
  groupNames: readonly string[];
  /** Labels used in titles, e.g. 'CaliTune epoch 184', 'CP λ=0.3'. */
  calituneLabel?: string;
  cpLabel?: string;
  tol?: number;
}

/** The improvement tables of one comparison (see the module comment for each). */
export interface ImprovementTables {
  vsBase: { calitune: Table; cp: Table };
  seedMetrics: Table;
  seedHead: Table;
}

type Cmp = (a: number, b: number) => boolean;

/** Per group (+ 'all'), the % of users for which each predicate holds. */
export function sharesByGroup(
  nUsers: number,
  userGroup: ArrayLike<number>,
  groupNames: readonly string[],
  preds: ((u: number) => boolean | undefined)[],
): Row[] {
  const K = groupNames.length;
  const cnt = Array.from({ length: K + 1 }, () => new Array<number>(preds.length).fill(0));
  const tot = Array.from({ length: K + 1 }, () => new Array<number>(preds.length).fill(0));
  for (let u = 1; u < nUsers; u++) {
    const g = userGroup[u] ?? -1;
    for (let p = 0; p < preds.length; p++) {
      const r = preds[p]!(u);
      if (r === undefined) continue;
      tot[K]![p]!++;
      if (r) cnt[K]![p]!++;
      if (g >= 0 && g < K) {
        tot[g]![p]!++;
        if (r) cnt[g]![p]!++;
      }
    }
  }
  const rows: Row[] = [];
  for (let g = 0; g <= K; g++) {
    rows.push({
      group: g < K ? groupNames[g]! : 'all',
      users: Math.max(0, ...tot[g]!),
      values: cnt[g]!.map((c, p) => (tot[g]![p]! > 0 ? (100 * c) / tot[g]![p]! : 0)),
    });
  }
  return rows;
}

function pred(a: ArrayLike<number>, b: ArrayLike<number>, cmp: Cmp) {
  return (u: number) => {
    const x = a[u]!,
      y = b[u]!;
    if (Number.isNaN(x) || Number.isNaN(y) || x === undefined || y === undefined) return undefined;
    return cmp(x, y);
  };
}

/** Percentages of users, per group, whose NDCG@k, JSD@k and head items got better, stayed or got worse. */
export function improvementTables(inp: ImprovementInput): ImprovementTables {
  const tol = inp.tol ?? 1e-12;
  const gt: Cmp = (a, b) => a - b > tol;
  const lt: Cmp = (a, b) => b - a > tol;
  const eq: Cmp = (a, b) => Math.abs(a - b) <= tol;
  const n = Math.max(inp.base.ndcg.length, inp.calitune.ndcg.length, inp.cp.ndcg.length);
  const ct = inp.calituneLabel ?? 'CaliTune';
  const cp = inp.cpLabel ?? 'CP';
  const vs = (m: MethodPerUser, label: string): Table => ({
    title: `${label} vs backbone: % of users`,
    columns: [
      'NDCG better',
      'NDCG same',
      'NDCG worse',
      'JSD better',
      'JSD same',
      'JSD worse',
      'head fewer',
      'head same',
      'head more',
    ],
    rows: sharesByGroup(n, inp.userGroup, inp.groupNames, [
      pred(m.ndcg, inp.base.ndcg, gt),
      pred(m.ndcg, inp.base.ndcg, eq),
      pred(m.ndcg, inp.base.ndcg, lt),
      pred(m.jsd, inp.base.jsd, lt),
      pred(m.jsd, inp.base.jsd, eq),
      pred(m.jsd, inp.base.jsd, gt),
      pred(m.head, inp.base.head, lt),
      pred(m.head, inp.base.head, eq),
      pred(m.head, inp.base.head, gt),
    ]),
  });
  const c = inp.calitune,
    p = inp.cp,
    b = inp.base;
  return {
    vsBase: { calitune: vs(c, ct), cp: vs(p, cp) },
    seedMetrics: {
      title: `Percentage of users for which metrics were improved (${ct}; ${cp})`,
      columns: [
        'CaliTune > backbone (NDCG)',
        'CaliTune < backbone (JSD)',
        'CaliTune > CP (NDCG)',
        'CaliTune < CP (JSD)',
        'CP > backbone (NDCG)',
        'CP < backbone (JSD)',
      ],
      rows: sharesByGroup(n, inp.userGroup, inp.groupNames, [
        pred(c.ndcg, b.ndcg, gt),
        pred(c.jsd, b.jsd, lt),
        pred(c.ndcg, p.ndcg, gt),
        pred(c.jsd, p.jsd, lt),
        pred(p.ndcg, b.ndcg, gt),
        pred(p.jsd, b.jsd, lt),
      ]),
    },
    seedHead: {
      title: `Percentage of users for which the number of popular (head) items was decreased (${ct}; ${cp})`,
      columns: ['CaliTune < backbone', 'CP < CaliTune', 'CaliTune < CP'],
      rows: sharesByGroup(n, inp.userGroup, inp.groupNames, [
        pred(c.head, b.head, lt),
        pred(p.head, c.head, lt),
        pred(c.head, p.head, lt),
      ]),
    },
  };
}

/** A table as aligned text columns (percentages with one decimal). */
export function formatTable(t: Table, digits = 1): string {
  const head = ['user group', 'users', ...t.columns];
  const body = t.rows.map((r) => [r.group, String(r.users), ...r.values.map((v) => v.toFixed(digits))]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [t.title, line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
