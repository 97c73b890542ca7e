import { formatTable } from '../../eval/improvement.js';
import { USER_GROUP_NAMES } from '../../eval/user-groups.js';
import { SELECTION_MODES } from '../../eval/results.js';
import { compare, type CompareResult } from '../../pipeline/compare.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { choice, int, requireStr } from '../args.js';
import type { Command } from '../command.js';

/** RBO over users per pair of lists: mean, quartiles and per-group means. */
function printRboTable(r: CompareResult, out: Reporter): void {
  const columns = ['mean', 'q1', 'median', 'q3', ...USER_GROUP_NAMES.map((n) => `${n} mean`)];
  const body: string[][] = [];
  for (const [label, s] of Object.entries(r.rbo)) {
    if (!s) continue;
    const o = s.overall;
    const values = [
      o.mean,
      o.q1,
      o.median,
      o.q3,
      ...USER_GROUP_NAMES.map((n) => (s.by_group[n]!.n ? s.by_group[n]!.mean : 0)),
    ];
    body.push([label, String(o.n), ...values.map((x) => x.toFixed(4))]);
  }
  const head = ['pair', 'users', ...columns];
  const w = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  out.info(`RBO@${r.k} (p = ${r.rbo_p}) over users: mean / median (per group: mean)`);
  out.info(line(head));
  out.info(line(w.map((n) => '-'.repeat(n))));
  for (const row of body) out.info(line(row));
  if (!r.rbo['CP vs CaliTune']) out.info('(CP vs CaliTune: lists not found, skipped)');
}

/** Prints {@link CompareResult} as text: metrics, the verdict against CP's curve and the improvement tables. */
export function printCompare(r: CompareResult, out: Reporter): void {
  const { base, calitune, cp } = r.metrics;
  out.info(
    `${r.experiment} on ${r.run} (${r.split} split, k ${r.k}): CaliTune epoch ${r.epoch} ${r.selection} — ` +
      `NDCG ${calitune.ndcg!.toFixed(5)} JSD ${calitune.jsd!.toFixed(5)}`,
  );
  out.info(
    `closest CP by JSD: λ ${r.cp_lambda} — NDCG ${cp!.ndcg!.toFixed(5)} JSD ${cp!.jsd!.toFixed(5)}; ` +
      `backbone NDCG ${base.ndcg!.toFixed(5)} JSD ${base.jsd!.toFixed(5)}`,
  );
  const vs = r.vs_cp_curve;
  if (vs.delta !== null) {
    out.info(
      `at equal calibration (CP interpolated along its λ curve, backbone = λ 0): ` +
        `CP NDCG ${vs.cp_ndcg!.toFixed(5)} → CaliTune ${vs.verdict} ` +
        `(Δ ${vs.delta >= 0 ? '+' : ''}${vs.delta.toFixed(5)})`,
    );
  } else {
    out.info('at equal calibration: more calibrated than any CP λ reaches (no comparison)');
  }
  const t = r.tables;
  for (const table of [t.vsBase.calitune, t.vsBase.cp, t.seedMetrics, t.seedHead]) {
    out.info('');
    out.info(formatTable(table));
  }
  out.info('');
  printRboTable(r, out);
}

/** `calitune compare`: improvement tables of an experiment's epoch against the backbone and CP. */
export const compareCommand: Command = {
  name: 'compare',
  summary: "Improvement tables: CaliTune's selected epoch vs the backbone and vs CP at the closest JSD",
  usage: 'compare --run RUN --experiment NAME [--mode any|ndcg|pop_jsd|tradeoff | --epoch N] [--json]',
  options: {
    run: { type: 'string' },
    experiment: { type: 'string' },
    mode: { type: 'string' },
    epoch: { type: 'string' },
  },
  help: `Options:
  --run DIR           run directory
  --experiment NAME   an experiment evaluated with 'calitune evaluate --experiment NAME'
  --mode M            which validation-selected epoch to compare (default: the experiment's
                      target metric, else 'any')
  --epoch N           compare this stored epoch instead
  --json              the tables as JSON

Reads RUN/results/NAME.json and NAME_per_user.tsv. CP is the λ whose JSD@10 (on the
evaluated split) is closest to the epoch's. Prints, per user group (mainstream / diverse /
niche / all): % of users whose NDCG@10 / JSD@10 got better / stayed / worse and whose head
item count fell / stayed / rose, for CaliTune and CP vs the backbone; the seed's two tables
("metrics improved", "head items decreased"); RBO over users for backbone vs CaliTune,
backbone vs CP and CP vs CaliTune.

Example:
  calitune compare --run runs/ml-100k --experiment c0.5_frozen`,
  async run(v, _pos, ctx) {
    const r = await compare(
      {
        run: requireStr(v, 'run'),
        experiment: requireStr(v, 'experiment'),
        mode: choice(v, 'mode', SELECTION_MODES),
        epoch: int(v, 'epoch', { min: 0 }),
      },
      ctx,
    );
    printCompare(r, ctx);
    const { k: _k, rbo_p: _rboP, ...json } = r;
    return json;
  },
};
