/**
 * The evaluation of a run's stored lists on one split (src/eval/results.ts computes): reads the
 * base model's, every stored CP λ's and every stored epoch's lists from the run store and has
 * the store write RUN/results/NAME.json and RUN/results/NAME_per_user.tsv (NAME = the
 * experiment's name, or "base" without one).
 */
import { accuracyFloorNdcg } from '../selection/index.js';
import { InputError, type Naming } from '../util/errors.js';
import type { Prepared } from '../calibration/prepare.js';
import type { ReferenceMetrics } from '../eval/metrics.js';
import {
  addGroupFacts,
  addVsCp,
  beforeFinetuning,
  evaluateBaseLists,
  evaluateWithoutGroups,
  listEvaluator,
  perUserTable,
  recomputedPoint,
  selectedPerMode,
  startEvaluation,
  type CalituneBlock,
  type Evaluation,
  type EvaluationInput,
  type ListEvaluator,
  type ResultsFile,
  type SelectionPoint,
} from '../eval/results.js';
import { postprocessPaths, readCpList, staleCpInputs, storedCpLambdas } from '../store/postprocess-files.js';
import { describeStaleInputs, experimentInputs, staleInputs } from '../store/provenance.js';
import { findExperiment, type StoredEpoch, type StoredExperiment } from '../store/stored-experiment.js';
import { BASE_RESULTS_NAME, resultsPaths, writePerUserResults, writeResults } from '../store/results-files.js';
import { readListMatrix } from '../store/list-files.js';
import { currentResultsInputs } from '../store/results-provenance.js';

/** The evaluation's input, and where its notes go. */
export interface EvaluateRunOptions extends EvaluationInput {
  warn?: (line: string) => void;
}

/** The results and where they were written. */
export interface EvaluateRunResult {
  results: ResultsFile;
  paths: { json: string; perUser: string };
}

type ResultsPaths = EvaluateRunResult['paths'];

/** Without popularity groups: the base model's NDCG only, and a note when CP lists are left out. */
function writeWithoutGroups(ev: Evaluation, paths: ResultsPaths, warn: (line: string) => void): EvaluateRunResult {
  const { o, k } = ev;
  if (o.experiment !== undefined) {
    const name = o.experiment;
    const prepare = (n: Naming) => n.step('prepare', { run: o.run });
    throw new InputError(
      (n) => `evaluating experiment '${name}' needs JSD@${k} and user groups: run '${prepare(n)}' first`,
      { field: 'experiment' },
    );
  }
  if (storedCpLambdas(o.run, ev.split).length > 0) {
    const dir = postprocessPaths(o.run).dir;
    warn(`note: CP lists in ${dir} are not evaluated without the prepare step (JSD needs popularity groups)`);
  }
  const results = evaluateWithoutGroups(ev);
  writeResults(paths.json, results);
  ev.calitune.per_user_sha256 = writePerUserResults(paths.perUser, perUserTable(ev, undefined));
  return { results, paths };
}

/** A CP set computed from another backbone or another prepare is refused, naming the step that renews it. */
function refuseStaleCpSet(run: string): void {
  const stale = staleCpInputs(run);
  if (stale.length === 0) return;
  const what = describeStaleInputs(stale);
  const dir = postprocessPaths(run).dir;
  throw new InputError(
    (n) => `the CP lists in ${dir} are stale: ${what} since; re-run '${n.step('postprocess', { run })}'`,
    { field: 'run' },
  );
}

/** An experiment fine-tuned from another backbone or another prepare is refused, naming finetune. */
function refuseStaleExperiment(run: string, name: string, dir: string): void {
  const stale = staleInputs(run, experimentInputs(run, name));
  if (stale.length === 0) return;
  const what = describeStaleInputs(stale);
  const again = (n: Naming) => n.step('finetune', { run, experiment: 'NEW_NAME' });
  throw new InputError(
    (n) => `experiment '${name}' in ${dir} is stale: ${what} since it was fine-tuned; fine-tune again ('${again(n)}')`,
    { field: 'experiment' },
  );
}

/** Every stored CP λ of the evaluated split. */
function evaluateCp(ev: Evaluation, evalOne: ListEvaluator): Record<string, ReferenceMetrics> {
  const tCp = performance.now();
  const { o, split, nU, k } = ev;
  const postprocessed: Record<string, ReferenceMetrics> = {};
  const files: Record<string, string> = {};
  const keys = storedCpLambdas(o.run, split);
  if (keys.length) refuseStaleCpSet(o.run);
  for (const key of keys) {
    postprocessed[key] = evalOne(readCpList(o.run, key, split, nU, k, o.ds.nItems), `postprocessed_${key}`, true);
    files[key] = postprocessPaths(o.run).cpList(key, split);
  }
  if (keys.length) ev.calitune.postprocess = { lambdas: keys, files };
  ev.calitune.seconds.postprocessed = (performance.now() - tCp) / 1000;
  return postprocessed;
}

/** An epoch's validation metrics from its stored lists of both splits (none when one is missing). */
function storedEpochPoint(
  ev: Evaluation,
  prep: Prepared,
  ep: StoredEpoch,
  evaluated: Int32Array,
  ref: ReferenceMetrics,
  before: ReturnType<typeof beforeFinetuning>,
): SelectionPoint | undefined {
  const { split, k, nU } = ev;
  const vp = ep.lists.valid,
    tp = ep.lists.test;
  if (!vp || !tp) return undefined;
  const lists = {
    valid: split === 'valid' ? evaluated : readListMatrix(vp, nU, k, ev.o.ds.nItems),
    test: split === 'test' ? evaluated : readListMatrix(tp, nU, k, ev.o.ds.nItems),
  };
  return recomputedPoint(ev, prep, ep.epoch, lists, ref, before);
}

/** Every stored epoch of the experiment with lists of the evaluated split, and the selection over them. */
function evaluateExperiment(
  ev: Evaluation,
  prep: Prepared,
  evalOne: ListEvaluator,
  name: string,
  warn: (line: string) => void,
): Record<string, ReferenceMetrics> {
  const tFt = performance.now();
  const { o, split, k, nU, calitune } = ev;
  const exp = findExperiment(o.run, name);
  refuseStaleExperiment(o.run, name, exp.dir);
  if (exp.epochs.length === 0) warn(`note: experiment '${name}' has no stored epoch lists yet (${exp.dir})`);
  const finetuned: Record<string, ReferenceMetrics> = {};
  const points: SelectionPoint[] = [];
  const skipped: number[] = [];
  const before = beforeFinetuning(ev, prep);
  const byEpoch = new Map<number, ReferenceMetrics>();
  for (const ep of exp.epochs) {
    const p = ep.lists[split];
    if (!p) {
      skipped.push(ep.epoch);
      continue;
    }
    const lists = readListMatrix(p, nU, k, o.ds.nItems);
    const ref = evalOne(lists, `finetuned_epoch_${ep.epoch}`, true);
    finetuned[`epoch_${ep.epoch}`] = ref;
    byEpoch.set(ep.epoch, ref);
    const point = ep.recorded
      ? { epoch: ep.epoch, m: ep.recorded, source: 'recorded' as const }
      : storedEpochPoint(ev, prep, ep, lists, ref, before);
    if (point) points.push(point);
  }
  if (skipped.length) {
    const shown = `${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', …' : ''}`;
    warn(`note: ${skipped.length} stored epoch(s) have no ${split} lists and are skipped: ${shown}`);
  }
  const floor = accuracyFloorNdcg(before.validNdcg, exp.accuracyFloor);
  calitune.selected = selectedPerMode(points, byEpoch, split, floor);
  calitune.experiment = experimentFacts(exp, byEpoch, skipped);
  calitune.seconds.finetuned = (performance.now() - tFt) / 1000;
  return finetuned;
}

function experimentFacts(
  exp: StoredExperiment,
  evaluated: ReadonlyMap<number, unknown>,
  skipped: number[],
): NonNullable<CalituneBlock['experiment']> {
  return {
    dir: exp.dir,
    layout: exp.layout,
    epochs: exp.epochs.map((e) => e.epoch).filter((e) => evaluated.has(e)),
    skipped,
    ...(exp.logFile ? { log: exp.logFile } : {}),
    ...(exp.summary && 'targetMetric' in exp.summary ? { target_metric: exp.summary.targetMetric } : {}),
  };
}

function writeEvaluation(ev: Evaluation, prep: Prepared, results: ResultsFile, paths: ResultsPaths): EvaluateRunResult {
  const { calitune } = ev;
  calitune.rbo = ev.rbo;
  const tw = performance.now();
  calitune.per_user_sha256 = writePerUserResults(paths.perUser, perUserTable(ev, prep));
  calitune.seconds.per_user_table = (performance.now() - tw) / 1000;
  calitune.seconds.total = (performance.now() - ev.t0) / 1000;
  writeResults(paths.json, results);
  return { results, paths };
}

/** Evaluates the run on one split and writes its results files (see the file comment). */
export function evaluateRun(o: EvaluateRunOptions): EvaluateRunResult {
  const paths = resultsPaths(o.run, o.experiment ?? BASE_RESULTS_NAME);
  const warn = o.warn ?? (() => {});
  // Fingerprinted before anything is read: the results record what they were computed from.
  const scope = { prepared: o.prepared !== undefined, model: o.baseModel !== undefined };
  const inputs = currentResultsInputs(
    o.run,
    o.experiment === undefined ? scope : { ...scope, experiment: o.experiment },
  );
  const ev = startEvaluation(o, paths.perUser);
  ev.calitune.inputs = inputs;
  const prep = o.prepared;
  if (!prep) return writeWithoutGroups(ev, paths, warn);
  addGroupFacts(ev, prep);
  const evalOne = listEvaluator(ev, prep);
  const base = evaluateBaseLists(ev, evalOne);
  const postprocessed = evaluateCp(ev, evalOne);
  const results: ResultsFile = { base_recommendations: base, calitune: ev.calitune };
  if (Object.keys(postprocessed).length) results.postprocessed = postprocessed;
  if (o.experiment !== undefined) results.finetuned = evaluateExperiment(ev, prep, evalOne, o.experiment, warn);
  addVsCp(ev, results);
  return writeEvaluation(ev, prep, results, paths);
}
