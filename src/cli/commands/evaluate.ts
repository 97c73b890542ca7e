import { evaluate, type EvaluateResult } from '../../pipeline/evaluate.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { USER_GROUP_NAMES } from '../../eval/user-groups.js';
import type { ReferenceMetrics } from '../../eval/metrics.js';
import { choice, float, positiveInt, requireStr, str } from '../args.js';
import type { Command } from '../command.js';
import type { StoredCpVerdict } from '../../eval/cp-verdicts.js';

function metricsLine(label: string, m: ReferenceMetrics, width: number): string {
  const f = (x: number | undefined) => (x === undefined ? '      -' : x.toFixed(5).padStart(7));
  const parts = [label.padEnd(width), f(m.ndcg), f(m.jsd)];
  for (let g = 1; g <= 3; g++) parts.push(f(m[`ndcg_usergroup_${g}`]), f(m[`jsd_usergroup_${g}`]));
  return parts.join('  ');
}

/** The metrics table of a prepared run: base, every CP λ, the first, selected and last epochs. */
function printMetricsTable(r: EvaluateResult, out: Reporter): void {
  const { split, k } = r.calitune;
  const entries: [string, ReferenceMetrics][] = [['base', r.base_recommendations]];
  for (const [l, m] of Object.entries(r.postprocessed ?? {})) entries.push([`CP λ=${l}`, m]);
  const ft = Object.entries(r.finetuned ?? {});
  const sel = r.calitune.selected ?? {};
  const selEpochs = new Set(
    Object.values(sel)
      .filter((s) => s !== null)
      .map((s) => `epoch_${s!.epoch}`),
  );
  // Print at most the first, selected and last epochs; the JSON has all.
  ft.forEach(([e, m], i) => {
    if (i === 0 || i === ft.length - 1 || selEpochs.has(e)) entries.push([e.replace('_', ' '), m]);
  });
  const w = Math.max(12, ...entries.map(([l]) => l.length));
  const g = USER_GROUP_NAMES.map((n) => n.slice(0, 5));
  out.info(`${split} metrics @${k} (groups ${USER_GROUP_NAMES.join(' / ')}):`);
  out.info(
    [''.padEnd(w), '   NDCG', '    JSD', ...g.flatMap((n) => [`N ${n}`.padStart(7), `J ${n}`.padStart(7)])].join('  '),
  );
  for (const [l, m] of entries) out.info(metricsLine(l, m, w));
  if (!ft.length) return;
  out.info(`${ft.length} stored epoch(s) evaluated; selected on validation:`);
  for (const [mode, s] of Object.entries(sel)) {
    if (!s) continue;
    const m = s[split === 'test' ? 'test' : 'valid_lists'] as ReferenceMetrics;
    out.info(
      `  ${mode.padEnd(8)} epoch ${String(s.epoch).padStart(4)}  valid NDCG ${s.valid.valid_ndcg.toFixed(5)} ` +
        `test-list JSD ${s.valid.jsd.toFixed(5)}  →  ` +
        `${split} NDCG ${m.ndcg!.toFixed(5)} JSD ${m.jsd!.toFixed(5)}${vsCpWords(r.calitune.vs_cp?.[mode])}`,
    );
  }
}

/** Prints an evaluation as text: the backbone's NDCG, a table of every evaluated list (once prepared), the files. */
export function printEvaluate(r: EvaluateResult, out: Reporter): void {
  const k = r.calitune.k;
  if (r.model_type !== undefined) {
    out.info(`${r.model_type} on ${r.run}: ${r.users} users, ${r.items} items`);
    out.info(`valid NDCG@${k} ${r.valid.ndcg.toFixed(5)}   test NDCG@${k} ${r.test.ndcg.toFixed(5)}`);
  }
  if (!r.calitune.prepared) out.info(`(no 'calitune prepare' yet: JSD, user groups and CP/epoch results need it)`);
  else printMetricsTable(r, out);
  out.info(`wrote ${r.results} and ${r.per_user} (${r.calitune.seconds.total!.toFixed(2)} s)`);
}

/** ' · vs CP: ahead +0.01234' — the verdict evaluate stored for a selected epoch. */
function vsCpWords(v: StoredCpVerdict | null | undefined): string {
  if (!v) return '';
  if (v.delta === null) return '  · vs CP: more calibrated than any λ';
  return `  · vs CP: ${v.verdict} ${v.delta >= 0 ? '+' : ''}${v.delta.toFixed(5)}`;
}

/** `calitune evaluate`: metrics of the backbone, every CP λ and every stored epoch of an experiment. */
export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'Evaluate the backbone, every CP λ and every stored fine-tuning epoch: NDCG@10, JSD@10, user groups, RBO',
  usage: 'evaluate --run RUN [--experiment NAME] [--split test|valid] [--rbo-p 0.9] [--k 10]',
  options: {
    run: { type: 'string' },
    k: { type: 'string' },
    experiment: { type: 'string' },
    split: { type: 'string' },
    'rbo-p': { type: 'string' },
  },
  help: `Options:
  --run DIR           run directory with a trained or imported model
  --experiment NAME   also evaluate every stored epoch of RUN/experiments/NAME (needs prepare)
  --split S           'test' (default) or 'valid': which lists and relevant items are scored
  --rbo-p P           persistence of rank-biased overlap vs the base list (default 0.9)
  --k N               list length (default 10)

The base model's lists are recomputed from RUN/model (item 0 and train items masked; test-
time lists also mask valid items) and saved to RUN/lists/base_{valid,test}.npy; without a
model, stored lists are used. CP lists are exactly those RUN/postprocess/summary.json lists.
Metrics are means over every user (no relevant item → NDCG 0, as the reference); a user
without train items has P = 0 and a finite JSD.
Without 'calitune prepare' only the base model's NDCG is computed.

Writes RUN/results/NAME.json (NAME = experiment or 'base') in the reference's shape
(base_recommendations, postprocessed.{λ}, finetuned.epoch_N) plus a 'calitune' block
(validation-selected epoch per mode with its metrics, RBO summaries), and
RUN/results/NAME_per_user.tsv.

Examples:
  calitune evaluate --run runs/ml-100k
  calitune evaluate --run runs/ml-100k --experiment c0.5_frozen`,
  async run(v, _pos, ctx) {
    const r = await evaluate(
      {
        run: requireStr(v, 'run'),
        k: positiveInt(v, 'k'),
        split: choice(v, 'split', ['test', 'valid'] as const),
        rboP: float(v, 'rbo-p'),
        experiment: str(v, 'experiment'),
      },
      ctx,
    );
    printEvaluate(r, ctx);
    const { users: _users, items: _items, ...json } = r;
    return json;
  },
};
