/**
 * The table printed after a grid or experiments run (and by `runs list`): one row per point
 * with its validation-selected ('any') epoch's test metrics and its place on the front.
 */
import type { PointRow } from '../experiments/registry.js';
import type { Reporter } from './reporter.js';

/** A metric with 5 decimals, or '—' when it is missing or not finite. */
export function formatMetric5(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(5);
}

/** The final table: one row per point with its validation-selected ('any') epoch's test metrics. */
export function printSummaryTable(ctx: Reporter, rows: readonly PointRow[]): void {
  if (rows.length === 0) return;
  const w = Math.max(5, ...rows.map((r) => r.name.length));
  ctx.info('');
  ctx.info(`${'point'.padEnd(w)}  status  epochs  seconds  sel.epoch  test NDCG@10  test JSD@10  on front`);
  for (const r of rows) {
    const a = r.summary?.selected?.any;
    ctx.info(
      `${r.name.padEnd(w)}  ${r.status.padEnd(6)}  ${String(r.summary?.epochs_run ?? '—').padStart(6)}  ` +
        `${(r.seconds === null ? '—' : r.seconds.toFixed(1)).padStart(7)}  ${String(a?.epoch ?? '—').padStart(9)}  ` +
        `${formatMetric5(a?.test.ndcg).padStart(12)}  ${formatMetric5(a?.test.jsd).padStart(11)}  ` +
        `${frontCell(a?.epoch, r.frontEpochs)}`,
    );
    if (r.status === 'failed' && r.error) ctx.info(`${''.padEnd(w)}  error: ${r.error.split('\n')[0]}`);
  }
  ctx.info(
    'on front: * when the selected epoch shown is on the validation Pareto front over all points; ' +
      "(+N) counts the point's other epochs on it (the frontier report lists them).",
  );
  ctx.info('');
}

/** '*' when the shown epoch is on the front, then '(+N)' for the point's other front epochs. */
function frontCell(shown: number | undefined, frontEpochs: readonly number[]): string {
  const star = shown !== undefined && frontEpochs.includes(shown) ? '*' : '';
  const others = frontEpochs.filter((e) => e !== shown).length;
  return `${star}${others > 0 ? ` (+${others})` : ''}`.trim() || '—';
}
