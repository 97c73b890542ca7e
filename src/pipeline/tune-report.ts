/**
 * The text of a tuning study: one line per trial (its status, best valid NDCG@10, seconds and
 * configuration), and the study's closing lines (counts, epochs, the best trial, its file).
 */
import type { TrialRow } from '../experiments/registry-trials.js';
import type { Reporter } from './reporter.js';

const f5 = (x: number | null) => (x === null ? '—' : x.toFixed(5));

/** A trial's configuration in short: key=value, numbers with 4 significant digits. */
export function configText(config: Record<string, unknown>): string {
  return Object.entries(config)
    .map(([k, v]) => {
      const shown = typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v;
      return `${k}=${JSON.stringify(shown)}`;
    })
    .join(' ');
}

/** A trial's status in words: queued, running, stopped at rung r (E epochs), completed (E epochs), failed. */
export function trialStatusText(row: TrialRow): string {
  switch (row.status) {
    case 'stopped':
      return `stopped at rung ${row.rungs.length} (${row.stopped_at} epochs)`;
    case 'completed':
      return `completed (${row.epochs_run} epochs)`;
    case 'failed':
      return `failed after ${row.epochs_run ?? 0} epoch(s)`;
    default:
      return row.status;
  }
}

/** One progress line for an ended trial. */
export function describeTrial(row: TrialRow): string {
  const seconds = row.seconds === null ? '' : `, ${row.seconds.toFixed(1)}s`;
  const best =
    row.status === 'failed'
      ? `: ${row.error ?? 'no error recorded'}`
      : `: best valid NDCG@10 ${f5(row.best_valid_ndcg)} at epoch ${row.best_epoch}`;
  return `${row.id} ${trialStatusText(row)}${best}${seconds}; ${configText(row.config)}`;
}

/** The table of a study's trials, best first, through `out.info`. */
export function printTrialTable(out: Reporter, rows: readonly TrialRow[]): void {
  const sorted = [...rows].sort(
    (a, b) => (b.best_valid_ndcg ?? -Infinity) - (a.best_valid_ndcg ?? -Infinity) || a.idx - b.idx,
  );
  const idWidth = Math.max(5, ...rows.map((r) => r.id.length));
  out.info(`${'trial'.padEnd(idWidth)}  ${'status'.padEnd(30)}  best valid  epoch  seconds  configuration`);
  for (const r of sorted) {
    const seconds = r.seconds === null ? '—' : r.seconds.toFixed(1);
    out.info(
      `${r.id.padEnd(idWidth)}  ${trialStatusText(r).padEnd(30)}  ${f5(r.best_valid_ndcg).padStart(10)}  ` +
        `${String(r.best_epoch ?? '—').padStart(5)}  ${seconds.padStart(7)}  ${configText(r.config)}`,
    );
  }
}

/** The study's closing lines: the trial table, counts and epochs, the best trial and its file. */
export function reportStudy(
  out: Reporter,
  rows: readonly TrialRow[],
  best: TrialRow | undefined,
  bestFile: string | null,
): void {
  const count = (s: TrialRow['status']) => rows.filter((r) => r.status === s).length;
  const epochs = rows.reduce((n, r) => n + (r.epochs_run ?? 0), 0);
  printTrialTable(out, rows);
  out.info(
    `${rows.length} trial(s): ${count('completed')} completed, ${count('stopped')} stopped at a rung, ` +
      `${count('failed')} failed; ${epochs} epochs trained`,
  );
  if (best === undefined || bestFile === null) {
    out.info('no trial has a valid NDCG@10: no best configuration');
    return;
  }
  out.info(
    `best trial ${best.id}: valid NDCG@10 ${f5(best.best_valid_ndcg)} at epoch ${best.best_epoch} ` +
      `(${configText(best.config)})`,
  );
  out.info(`best configuration written to ${bestFile}`);
}
