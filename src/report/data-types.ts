/** The shapes of what the report draws (see data.ts for where each comes from). */
import type { ResultsFile } from '../eval/results-format.js';
import type { SelectionModeName } from '../eval/results.js';
import type { RunInfo } from '../store/run.js';

/** A metric value; null where the input had NaN / Infinity / null or nothing (drawn as a gap). */
export type Num = number | null;

/** NDCG@k and JSD@k overall and per user group. */
export interface MetricSet {
  ndcg: Num;
  jsd: Num;
  /** Per user group (mainstream, diverse, niche). */
  ndcgGroup: Num[];
  jsdGroup: Num[];
}

/** One epoch of the fine-tuner's validation log. */
export interface LogPoint {
  epoch: number;
  validNdcg: Num;
  jsd: Num;
  tradeoff: Num;
}

/** One CaliTune experiment of the run: its evaluated epochs, validation log and selections. */
export interface ExperimentData {
  name: string;
  /** Whether RUN/experiments/NAME exists (fine-tuning output). */
  hasDir: boolean;
  resultsPath?: string;
  perUserPath?: string;
  /** Evaluated split of the results file. */
  split?: string;
  /** Evaluated epochs (metrics on `split`), ascending. */
  epochs: { epoch: number; m: MetricSet }[];
  /** The fine-tuner's per-epoch validation log (epoch 0 = before fine-tuning, when logged). */
  log: LogPoint[];
  /** Validation-selected epoch per selection mode (from the results file). */
  selected: Partial<Record<SelectionModeName, number>>;
  /** The epoch the report compares: the experiment's target metric's selection, else 'any'. */
  primary?: { mode: SelectionModeName; epoch: number };
  /** Short description of the configuration (α, frozen item embeddings). */
  config?: string;
  results?: ResultsFile;
}

/** CP re-ranking's metrics at one λ (as written in the results file). */
export interface CpPoint {
  lambda: string;
  m: MetricSet;
}

/** The item popularity long tail with its popularity groups (docs/numeric-contract.md §3). */
export interface LongTail {
  /** Popularity (distinct users) of items sorted most popular first (item 0 left out). */
  counts: number[];
  /** Popularity group per rank (0 head, 1 mid, 2 tail…). */
  groups: number[];
  groupNames: string[];
  /** Rank (1-based) of the last item of each group. */
  boundaries: number[];
  massShare: number[];
  source: string;
}

/** One epoch of the backbone's training log. */
export interface BackbonePoint {
  epoch: number;
  validNdcg: Num;
  loss: Num;
}

/** Everything the report draws, gathered from one run directory by loadReportData. */
export interface ReportData {
  run: string;
  info?: RunInfo;
  backbone?: { model?: string; validNdcg?: number; testNdcg?: number };
  /** Where base + CP came from. */
  baseSource?: string;
  split: string;
  k: number;
  base?: MetricSet;
  cp: CpPoint[];
  experiments: ExperimentData[];
  longTail?: LongTail;
  backboneLog?: { points: BackbonePoint[]; source: string; bestEpoch?: number };
  userGroupNames: string[];
  userGroupSizes?: number[];
  /** What the report could not draw and how to get it. */
  missing: string[];
  /** Problems found in the inputs (bad values, unreadable files). */
  warnings: string[];
  /** The results files the report was built from, with the inputs each records (null: none recorded). */
  sources: ResultsSource[];
}

/** A results file the report used, and the inputs it records (src/store/results-provenance.ts). */
export interface ResultsSource {
  file: string;
  inputs: unknown;
}
