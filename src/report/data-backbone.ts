/** The backbone for the report: its type and NDCG@10, and its training curve. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBaseModelResults } from '../store/base-files.js';
import { modelPaths, readTrainingLog } from '../store/model-files.js';
import { runPaths, type RunInfo } from '../store/run.js';
import { UserError } from '../util/errors.js';
import { finiteOrNull } from './data-results.js';
import type { BackbonePoint, ReportData, ResultsSource } from './data-types.js';

/** backbone_training.json of a reference run. */
interface ImportedTrainingLog {
  history?: Record<string, unknown>[];
  best_epoch_0based?: number;
}

/** The reference's own training log of an imported backbone, when its source folder is still there. */
function loadImportedBackboneLog(info: RunInfo | undefined): ReportData['backboneLog'] {
  const src =
    info?.source.kind === 'import' && info.source.path ? join(info.source.path, 'backbone_training.json') : undefined;
  if (src && existsSync(src)) {
    try {
      const j = JSON.parse(readFileSync(src, 'utf8')) as ImportedTrainingLog;
      const pts: BackbonePoint[] = (j.history ?? []).map((r) => ({
        epoch: Number(r.epoch),
        validNdcg: finiteOrNull(r['valid_ndcg@10']),
        loss: finiteOrNull(r.loss_sum),
      }));
      if (pts.length) {
        const best = typeof j.best_epoch_0based === 'number' ? { bestEpoch: j.best_epoch_0based } : {};
        return { points: pts, source: src, ...best };
      }
    } catch {
      /* fall through */
    }
  }
  return undefined;
}

/**
 * The backbone's training curve (valid NDCG and loss per epoch, the best epoch) from
 * RUN/model/training_log.jsonl, else from an imported backbone's backbone_training.json; notes in
 * `missing` when there is none.
 */
export function loadBackboneLog(run: string, info: RunInfo | undefined, missing: string[]): ReportData['backboneLog'] {
  const p = modelPaths(run).trainingLog;
  let records: Record<string, unknown>[] = [];
  try {
    records = readTrainingLog(run);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
  }
  if (records.length) {
    const pts: BackbonePoint[] = [];
    let best: number | undefined,
      bestV = -Infinity;
    for (const r of records) {
      const ep = finiteOrNull(r.epoch);
      if (ep === null) continue;
      const v = finiteOrNull(r.valid_ndcg);
      pts.push({ epoch: ep, validNdcg: v, loss: finiteOrNull(r.loss) });
      if (v !== null && v > bestV) {
        bestV = v;
        best = ep;
      }
    }
    if (pts.length) return { points: pts, source: p, ...(best !== undefined ? { bestEpoch: best } : {}) };
  }
  const imported = loadImportedBackboneLog(info);
  if (imported) return imported;
  const why = info?.source.kind === 'import' ? ' — the backbone was imported' : '';
  missing.push(`no backbone training log (${p})${why}: the backbone training curve is not drawn`);
  return undefined;
}

/**
 * The backbone's type and NDCG@10 from results/base_model.json, added to `sources` (optional: undefined when
 * absent; when unreadable or stale, undefined with a warning).
 */
export function loadBackbone(run: string, sources: ResultsSource[], warnings: string[]): ReportData['backbone'] {
  let j: Record<string, unknown> | undefined;
  try {
    j = readBaseModelResults(run, (line) => warnings.push(line));
  } catch (e) {
    if (e instanceof UserError) warnings.push(`skipped: ${e.message}`);
    return undefined;
  }
  if (j === undefined) return undefined;
  sources.push({ file: runPaths(run).baseResults, inputs: j.inputs ?? null });
  const pick = (o: unknown): number | undefined => {
    if (typeof o === 'number') return o;
    if (o && typeof o === 'object') {
      const n = (o as Record<string, unknown>).ndcg ?? (o as Record<string, unknown>)['ndcg@10'];
      return typeof n === 'number' ? n : undefined;
    }
    return undefined;
  };
  const valid = pick(j.valid),
    test = pick(j.test);
  return {
    ...(typeof j.model_type === 'string' ? { model: j.model_type } : {}),
    ...(valid !== undefined ? { validNdcg: valid } : {}),
    ...(test !== undefined ? { testNdcg: test } : {}),
  };
}
