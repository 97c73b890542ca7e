/**
 * The results file `evaluate` writes (RUN/results/NAME.json; the run store reads and writes
 * it): the reference's shape — `base_recommendations`, `postprocessed.{λ}`,
 * `finetuned.epoch_N`, each with ndcg, jsd, ndcg_usergroup_{1,2,3}, jsd_usergroup_{1,2,3} —
 * plus our `calitune` block (format_version, split, k, user groups, the base model's NDCG,
 * the experiment's stored epochs, the validation-selected epoch per mode, RBO summaries).
 */
import type { ReferenceMetrics } from './metrics.js';
import type { StoredCpVerdict } from './cp-verdicts.js';

/** Version of our `calitune` block in results files; the reader refuses other versions. */
export const RESULTS_FORMAT_VERSION = 1;
/** The split a results file scores: test (the default) or valid. */
export type EvalSplit = 'test' | 'valid';

/** The fine-tuner's validation metrics of an epoch (or their recomputation from its lists). */
export interface SelectionMetrics {
  valid_ndcg: number;
  jsd: number;
  tradeoff: number | null;
}

/** RBO against the base lists over users: mean, quartiles, extremes, and mean and quartiles per user group. */
export interface RboEntry {
  mean: number;
  quartiles: [number, number, number];
  min: number;
  max: number;
  by_group: Record<string, { mean: number; quartiles: [number, number, number] }>;
}

/** A validation-selected epoch in a results file: its validation metrics and its metrics on the evaluated split. */
export interface SelectedOut {
  epoch: number;
  source: 'recorded' | 'lists';
  valid: SelectionMetrics;
  /** Metrics of the epoch on the evaluated split (key = split name). */
  [split: string]: unknown;
}

/**
 * Our block of a results file: format, split, k, user groups, CP and experiment inputs, the selected
 * epochs and their verdicts against CP, RBO summaries and timings.
 */
export interface CalituneBlock {
  format_version: number;
  created: string;
  run: string;
  name: string;
  split: EvalSplit;
  k: number;
  rbo_p: number;
  prepared: boolean;
  user_group_names: string[];
  user_group_sizes?: number[];
  user_group_tie_break?: string;
  popularity_source?: string;
  empty_users?: number[];
  base_model?: Record<string, unknown>;
  postprocess?: { lambdas: string[]; files: Record<string, string> };
  experiment?: {
    dir: string;
    layout: string;
    epochs: number[];
    skipped: number[];
    log?: string;
    target_metric?: unknown;
  };
  selected?: Record<string, SelectedOut | null>;
  /** Each selected epoch against CP at the same JSD on this split (src/selection's rule). */
  vs_cp?: Record<string, StoredCpVerdict | null>;
  rbo?: Record<string, RboEntry>;
  per_user_table: string;
  seconds: Record<string, number>;
  [extra: string]: unknown;
}

/**
 * A results file: the metrics of the backbone, of each CP λ and of each fine-tuned epoch, in the
 * reference's keys, plus our `calitune` block.
 */
export interface ResultsFile {
  base_recommendations: ReferenceMetrics;
  postprocessed?: Record<string, ReferenceMetrics>;
  finetuned?: Record<string, ReferenceMetrics>;
  calitune: CalituneBlock;
}
