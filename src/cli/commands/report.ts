import { report } from '../../pipeline/report.js';
import { bool, requireStr, str } from '../args.js';
import type { Command } from '../command.js';

/** `calitune report`: the HTML report of a run. */
export const reportCommand: Command = {
  name: 'report',
  summary: 'Charts and an HTML report of a run: trade-off, user groups, RBO, tables, training curves',
  usage: 'report --run RUN [--out DIR] [--no-png] [--static] [--json]',
  options: {
    run: { type: 'string' },
    out: { type: 'string' },
    'no-png': { type: 'boolean' },
    static: { type: 'boolean' },
  },
  optionFlags: { outDir: 'out' },
  help: `Options:
  --run DIR     run directory
  --out DIR     output folder (default RUN/report)
  --no-png      skip the PNG exports (SVG only)
  --static      no inline JavaScript: static SVG charts only (no tooltips)
  --json        print the summary (files, warnings, missing inputs, findings) as JSON

Reads the run's results files (RUN/results/NAME.json and NAME_per_user.tsv from
'calitune evaluate'), the fine-tuning logs (RUN/experiments/NAME/log.jsonl), the backbone's
training log and RUN/prepare. Writes OUT/index.html (self-contained: opens without network
access; tooltips via inline Vega, except on the heavy per-user dot charts, which are static
SVG), OUT/charts/*.svg, *.png and *.vl.json (Vega-Lite specs)
and OUT/report.json. Charts: test NDCG@10 vs JSD@10 (backbone, CP curve by λ, each
experiment's path through its epochs, the validation Pareto front), the same per user group
(mainstream / diverse / niche), RBO box plots over users, improvement tables, fine-tuning
and backbone training curves, the item popularity long tail with the group boundaries.
Grid names (c0.5__frozen_itememb__selection_relevance__k100__lr0.0001) are shown as short
labels of the parts that differ ("α 0.5 · frozen · k 100"); tooltips and tables keep the
full names. RBO charts draw every user as a dot for the (at most 3) experiments with the most
epochs on the validation Pareto front, boxes and outliers for the others.
What is missing (no experiments, not evaluated, …) is listed in the report; NaN values are
drawn as gaps and reported.

Example:
  calitune report --run runs/ml-100k
  calitune report --run runs/ml-100k --out /tmp/ml-100k-report`,
  async run(v, _pos, ctx) {
    const r = await report(
      { run: requireStr(v, 'run'), outDir: str(v, 'out'), png: !bool(v, 'no-png'), interactive: !bool(v, 'static') },
      ctx,
    );
    for (const s of r.findings) ctx.info(s);
    ctx.info(`report: ${r.summary}`);
    ctx.info(`wrote ${r.index}`);
    const { summary: _summary, ...json } = r;
    return json;
  },
};
