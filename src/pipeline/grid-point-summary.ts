/**
 * The summary of a finished grid point: what the registry keeps of it, read from its
 * results file (results/NAME.json) and its experiment folder.
 */
import { findExperiment } from '../store/stored-experiment.js';
import { resultsPaths } from '../store/results-files.js';
import { readCurrentResults } from '../store/results-provenance.js';
import type { CpRow, EpochRow, PointSummary, SelectedSummary } from '../experiments/registry.js';

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Reads results/NAME.json and the experiment folder into the registry's summary rows. */
export function collectPoint(
  run: string,
  name: string,
): { summary: PointSummary; epochs: Omit<EpochRow, 'name'>[]; cp: CpRow[] } {
  const rp = resultsPaths(run, name).json;
  const res = readCurrentResults(run, name);
  const exp = findExperiment(run, name);
  const selected: Record<string, SelectedSummary | null> = {};
  for (const [mode, s] of Object.entries(res.calitune.selected ?? {})) {
    selected[mode] = s ? { epoch: s.epoch, valid: s.valid, test: s.test as SelectedSummary['test'] } : null;
  }
  const epochs: Omit<EpochRow, 'name'>[] = [];
  for (const e of exp.epochs) {
    const m = res.finetuned?.[`epoch_${e.epoch}`];
    if (!m || !e.recorded) continue;
    const tn = num(m.ndcg),
      tj = num(m.jsd);
    if (tn === null || tj === null) continue;
    epochs.push({
      epoch: e.epoch,
      valid_ndcg: e.recorded.valid_ndcg,
      jsd: e.recorded.jsd,
      tradeoff: e.recorded.tradeoff,
      test_ndcg: tn,
      test_jsd: tj,
    });
  }
  const cp: CpRow[] = [];
  const b = res.base_recommendations;
  if (num(b.ndcg) !== null && num(b.jsd) !== null) cp.push({ lambda: '0', ndcg: b.ndcg!, jsd: b.jsd! });
  for (const [l, m] of Object.entries(res.postprocessed ?? {}))
    if (num(m.ndcg) !== null && num(m.jsd) !== null) cp.push({ lambda: l, ndcg: m.ndcg!, jsd: m.jsd! });
  const s = exp.summary ?? {};
  return {
    summary: {
      epochs_run: num(s.epochsRun),
      stop_reason: typeof s.stopReason === 'string' ? s.stopReason : null,
      base: b as PointSummary['base'],
      selected,
      results: rp,
    },
    epochs,
    cp,
  };
}
