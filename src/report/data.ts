/**
 * Everything the report draws, gathered from a run directory. Read-only.
 *
 * Sources:
 *   RUN/run.json, RUN/results/base_model.json      what the run is, the backbone's NDCG@10
 *   RUN/results/NAME.json (+ NAME_per_user.tsv)    'calitune evaluate' output per experiment
 *   RUN/results/base.json                          'calitune evaluate' without an experiment
 *   RUN/experiments/NAME/log.jsonl                 the fine-tuner's epoch log (valid NDCG, JSD)
 *   RUN/model/training_log.jsonl                   the backbone's training log (for an imported
 *                                                  backbone: backbone_training.json of the source)
 *   RUN/prepare/                                   item popularity and groups (long tail)
 *
 * Every file is found and read through the run store (src/store). Which experiments exist is
 * answered by one function, `listExperiments`. The parts: data-types.ts (the shapes),
 * data-results.ts (results files, backbone and CP metrics), data-experiments.ts (experiments and
 * their validation Pareto front), data-backbone.ts (the backbone and its training curve),
 * data-long-tail.ts (popularity), data-per-user.ts (per-user RBO and tables); this module puts
 * them together and re-exports them.
 *
 * Bad values: a metric that is NaN / Infinity / null (or a bare `NaN` token, as Python's json
 * writes) becomes `null` here, is drawn as a gap, and is reported in `warnings`.
 */
import { existsSync, statSync } from 'node:fs';
import { USER_GROUP_NAMES } from '../eval/user-groups.js';
import { experimentsDir } from '../store/experiment-files.js';
import { isRunDirectory, readRunInfo, type RunInfo } from '../store/run.js';
import { InputError, UserError, type Naming } from '../util/errors.js';
import { loadBackbone, loadBackboneLog } from './data-backbone.js';
import { listExperiments, loadExperiment } from './data-experiments.js';
import { loadLongTail } from './data-long-tail.js';
import { loadBaseAndCp } from './data-results.js';
import type { ReportData } from './data-types.js';

export { parseJsonLenient } from '../store/json-files.js';
export type {
  BackbonePoint,
  CpPoint,
  ExperimentData,
  LogPoint,
  LongTail,
  MetricSet,
  Num,
  ReportData,
} from './data-types.js';
export { listExperiments, validationParetoFront } from './data-experiments.js';
export { loadPerUserComparison, type PerUserComparison, type RboUsers } from './data-per-user.js';

/**
 * Everything the report draws for run directory `run`, with what is missing and what was
 * unreadable. UserError when `run` is not a run directory.
 */
export function loadReportData(run: string): ReportData {
  if (!existsSync(run)) throw new UserError(`run directory ${run} does not exist`);
  if (!statSync(run).isDirectory()) throw new UserError(`${run} is not a directory`);
  const missing: string[] = [],
    warnings: string[] = [];
  let info: RunInfo | undefined;
  if (!isRunDirectory(run)) {
    const how = (n: Naming) => `create one with '${n.step('train')}' or '${n.step('import')}'`;
    throw new InputError((n) => `${run} is not a run directory (no run.json); ${how(n)}`, { field: 'run' });
  }
  try {
    info = readRunInfo(run);
  } catch (e) {
    if (e instanceof UserError) warnings.push(e.message);
    else throw e;
  }
  const data: ReportData = {
    run,
    ...(info ? { info } : {}),
    split: 'test',
    k: 10,
    cp: [],
    experiments: [],
    userGroupNames: [...USER_GROUP_NAMES],
    missing,
    warnings,
    sources: [],
  };

  const backbone = loadBackbone(run, data.sources, warnings);
  if (backbone) data.backbone = backbone;

  const names = listExperiments(run);
  for (const n of names) {
    const e = loadExperiment(run, n, warnings, missing);
    data.experiments.push(e);
    if (e.results && e.resultsPath)
      data.sources.push({ file: e.resultsPath, inputs: e.results.calitune.inputs ?? null });
  }
  if (names.length === 0) {
    missing.push(
      `no CaliTune experiments in ${experimentsDir(run)}: ` +
        'run the finetune step (e.g. with examples/ml-100k-finetune.yaml), then the evaluate step on the experiment',
    );
  }

  // base + CP: from the newest evaluated results file (they are the same for every experiment of a run)
  loadBaseAndCp(data);

  data.longTail = loadLongTail(run, missing, warnings);
  data.backboneLog = loadBackboneLog(run, info, missing);
  return data;
}
