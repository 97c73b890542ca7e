/** The tuning side of `calitune runs`: `runs list --kind tune` and `runs show TRIAL`. */
import { allStudies, allTrials, TRIAL_STATUSES, trialById, type TrialRow } from '../../experiments/registry-trials.js';
import type { Registry } from '../../experiments/registry.js';
import { configText, printTrialTable, trialStatusText } from '../../pipeline/tune-report.js';
import type { Reporter } from '../../pipeline/reporter.js';

/** Every study and its trials (best first), with counts per status; the JSON result of `runs list --kind tune`. */
export function listTrials(reg: Registry, run: string, out: Reporter): unknown {
  const studies = allStudies(reg);
  const trials = allTrials(reg);
  const counts = Object.fromEntries(TRIAL_STATUSES.map((s) => [s, trials.filter((t) => t.status === s).length]));
  out.info(
    `${studies.length} tuning stud${studies.length === 1 ? 'y' : 'ies'}, ${trials.length} trial(s): ` +
      `${Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')} (running = interrupted unless a tune is running now)`,
  );
  for (const s of studies) {
    const rows = trials.filter((t) => t.study === s.name);
    out.info();
    out.info(`study ${s.name} (${s.model}, scheduler ${String((s.settings.scheduler as { kind?: string })?.kind)}):`);
    printTrialTable(out, rows);
  }
  return { run, counts, studies: studies.map((s) => ({ ...s, trials: trials.filter((t) => t.study === s.name) })) };
}

/** The trial `id`, or undefined when the registry has none of that id. */
export function findTrial(reg: Registry, id: string): TrialRow | undefined {
  return trialById(reg, id);
}

/** `runs show TRIAL`: the trial's configuration, status, rungs, valid NDCG@10 curve and timings. */
export function showTrial(t: TrialRow, run: string, out: Reporter): unknown {
  out.info(`${t.id}: ${trialStatusText(t)}${t.attempts > 1 ? ` (${t.attempts} attempts)` : ''}`);
  out.info(`  study       ${t.study} (trial ${t.idx + 1})`);
  out.info(`  config      ${configText(t.config)}`);
  out.info(
    `  started     ${t.started_at ?? '—'}   finished ${t.finished_at ?? '—'}   ` +
      `seconds ${t.seconds?.toFixed(1) ?? '—'}`,
  );
  if (t.error) out.info(`  error       ${t.error}`);
  const best = t.best_valid_ndcg === null ? '—' : t.best_valid_ndcg.toFixed(5);
  out.info(`  best        valid NDCG@10 ${best} at epoch ${t.best_epoch ?? '—'} of ${t.epochs_run ?? '—'}`);
  for (const r of t.rungs) {
    out.info(`  rung        ${String(r.epochs).padStart(4)} epochs: valid NDCG@10 ${r.metric?.toFixed(5) ?? '—'}`);
  }
  if (t.curve.length > 0) {
    out.info(`  curve       ${t.curve.map((v) => (v === null ? '—' : v.toFixed(4))).join(' ')}`);
  }
  return { run, ...t };
}

/** Under the points list: a line saying the registry also holds tuning trials, and how to list them. */
export function noteTrials(reg: Registry, run: string, out: Reporter): void {
  const n = allTrials(reg).length;
  if (n > 0) out.info(`and ${n} tuning trial(s): 'calitune runs list --run ${run} --kind tune'`);
}
