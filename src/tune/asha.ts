/**
 * Early stopping of tuning trials: ASHA, asynchronous successive halving (Li et al. 2020, "A
 * System for Massively Parallel Hyperparameter Tuning"), and a scheduler that never stops a
 * trial. A training loop calls `onReport` after each validated epoch; at a rung the scheduler
 * answers whether the trial goes on. Decisions are final (a stopped trial is not resumed
 * later), so the scheduler fits trials that run side by side, each in its own loop.
 */
import { z } from 'zod';
import { parseBackboneConfig, type ModelType } from '../train/configs/index.js';
import { InputError } from '../util/errors.js';

/** What a trial does after a report: go on training, or stop now. */
export type Decision = 'continue' | 'stop';

/** Decides, from the valid metric a trial reports after an epoch, whether it goes on. */
export interface TrialScheduler {
  /** Which scheduler: ASHA, or the plain one that never stops a trial. */
  readonly kind: 'asha' | 'none';
  /**
   * Trial `trial` has trained `epochs` epochs (1 after its first; the epoch loop's 0-based
   * `epoch` + 1) and reached `metric` on validation (bigger is better; NaN is worst). A report
   * the scheduler has answered before (a resumed trial replaying an epoch) gets the same answer.
   */
  onReport(trial: string, epochs: number, metric: number): Decision;
  /** The state as plain JSON data, for {@link schedulerFromState} after a restart. */
  state(): SchedulerState;
}

/** ASHA's reduction factor η: a third of the trials at a rung go on to the next. */
export const DEFAULT_ETA = 3;
/**
 * ASHA's first rung, in epochs. Five epochs keep a trial stopped there cheap (5 of BPR's 300-epoch
 * cap, under 2%) while giving slow learners a fair start: at the default learning rates the first
 * epochs mostly move the scores away from their random start, and a rung at 1 or 2 epochs ranks
 * trials by how fast they start rather than where they go. With η 3 and 300 epochs the rungs are
 * 5, 15, 45 and 135 epochs.
 */
export const DEFAULT_GRACE_EPOCHS = 5;

/** ASHA's settings. */
export interface AshaOptions {
  /** The most epochs a trial trains: the backbone's epoch cap (see {@link backboneEpochCap}). */
  maxEpochs: number;
  /** Reduction factor, an integer ≥ 2 (default {@link DEFAULT_ETA}). */
  eta?: number;
  /** Epochs of the first rung, an integer ≥ 1 below maxEpochs (default {@link DEFAULT_GRACE_EPOCHS}). */
  graceEpochs?: number;
}

/** A trial's metric as it reached a rung. */
export interface RungReport {
  /** The trial's name, as given to onReport. */
  trial: string;
  /** null stands for NaN (JSON has no NaN). */
  metric: number | null;
}

/** A scheduler's state as JSON data: ASHA's settings and each rung's reports in arrival order. */
export type SchedulerState =
  | { kind: 'none' }
  | {
      kind: 'asha';
      eta: number;
      graceEpochs: number;
      maxEpochs: number;
      rungs: Array<{ epochs: number; reports: RungReport[] }>;
    };

/** The epoch cap of a backbone's configuration (its `epochs` key, or the default): ASHA's maxEpochs. */
export function backboneEpochCap(model: ModelType, config: Record<string, unknown> = {}): number {
  const epochs = parseBackboneConfig(model, config).epochs;
  if (typeof epochs !== 'number') throw new InputError(`model ${model} trains no epochs`, { field: 'model' });
  return epochs;
}

/** The rungs, in epochs: graceEpochs·η^k for k = 0, 1, … while below maxEpochs. */
export function ashaRungs(options: AshaOptions): number[] {
  const { eta, graceEpochs, maxEpochs } = checkedOptions(options);
  const rungs: number[] = [];
  for (let r = graceEpochs; r < maxEpochs; r *= eta) rungs.push(r);
  return rungs;
}

function checkedOptions(options: AshaOptions): Required<AshaOptions> {
  const { maxEpochs, eta = DEFAULT_ETA, graceEpochs = DEFAULT_GRACE_EPOCHS } = options;
  const int = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!int(maxEpochs, 2)) {
    throw new InputError(`maxEpochs must be an integer ≥ 2 (got ${maxEpochs})`, { field: 'maxEpochs' });
  }
  if (!int(eta, 2)) throw new InputError(`eta must be an integer ≥ 2 (got ${eta})`, { field: 'eta' });
  if (!int(graceEpochs, 1) || graceEpochs >= maxEpochs) {
    const message = `graceEpochs must be an integer in [1, ${maxEpochs}) (got ${graceEpochs}), below maxEpochs`;
    throw new InputError(message, { field: 'graceEpochs' });
  }
  return { maxEpochs, eta, graceEpochs };
}

/**
 * ASHA. A trial that reaches rung k (trains graceEpochs·η^k epochs) joins the n_k trials that
 * reached it so far and goes on only when its metric ranks in the top max(1, ⌊n_k/η⌋) of them;
 * otherwise it stops there, for good. Ties go to the trial that reached the rung first; a NaN
 * metric ranks last and never goes on. Past the last rung a trial runs to its own end (its epoch
 * cap or its own early stopping).
 *
 * The "max(1, …)": Li et al.'s ASHA promotes the top ⌊n_k/η⌋ of a rung and pauses the others,
 * which may still be promoted later; here a decision is final, so with ⌊n_k/η⌋ = 0 the first
 * η − 1 trials to reach each rung would always stop, whatever their metric. Instead the leader of
 * a rung goes on, so a trial that reaches a rung early is promoted when it beats those before it
 * (as in Ray Tune's asynchronous ASHA, which the reference's search uses).
 */
export class AshaScheduler implements TrialScheduler {
  readonly kind = 'asha';
  readonly eta: number;
  readonly graceEpochs: number;
  readonly maxEpochs: number;
  /** The rungs, in epochs (see {@link ashaRungs}). */
  readonly rungs: readonly number[];
  private readonly reports: RungReport[][];
  /** A trial's rung index → its decision there. */
  private readonly decisions = new Map<string, Decision[]>();

  constructor(options: AshaOptions) {
    ({ eta: this.eta, graceEpochs: this.graceEpochs, maxEpochs: this.maxEpochs } = checkedOptions(options));
    this.rungs = ashaRungs(options);
    this.reports = this.rungs.map(() => []);
  }

  /** A scheduler in the state `state()` returned: it answers every report as the original would. */
  static fromState(state: unknown): AshaScheduler {
    const s = ashaStateSchema.parse(state);
    const scheduler = new AshaScheduler(s);
    const expected = scheduler.rungs;
    if (s.rungs.length !== expected.length || s.rungs.some((r, k) => r.epochs !== expected[k])) {
      throw new Error(`ASHA state: rungs ${JSON.stringify(s.rungs.map((r) => r.epochs))} ≠ ${expected.join(', ')}`);
    }
    s.rungs.forEach((rung, k) => {
      for (const r of rung.reports) scheduler.record(r.trial, k, r.metric ?? NaN);
    });
    return scheduler;
  }

  /** See {@link TrialScheduler.onReport}. */
  onReport(trial: string, epochs: number, metric: number): Decision {
    checkReport(trial, epochs, metric);
    for (let k = 0; k < this.rungs.length && this.rungs[k]! <= epochs; k++) {
      // a rung decided before keeps its decision: a replayed report gets the same answer
      const decision = this.decisions.get(trial)?.[k] ?? this.record(trial, k, metric);
      if (decision === 'stop') return 'stop';
    }
    return 'continue';
  }

  /** The rung (in epochs) at which `trial` was stopped, or undefined while it goes on. */
  stoppedAt(trial: string): number | undefined {
    const k = (this.decisions.get(trial) ?? []).indexOf('stop');
    return k < 0 ? undefined : this.rungs[k];
  }

  /** The metric `trial` had at each rung it reached, in rung order. */
  rungMetrics(trial: string): Array<{ epochs: number; metric: number }> {
    const reached = (this.decisions.get(trial) ?? []).length;
    return this.rungs.slice(0, reached).map((epochs, k) => {
      const report = this.reports[k]!.find((r) => r.trial === trial)!;
      return { epochs, metric: report.metric ?? NaN };
    });
  }

  /** See {@link TrialScheduler.state}. */
  state(): SchedulerState {
    return {
      kind: 'asha',
      eta: this.eta,
      graceEpochs: this.graceEpochs,
      maxEpochs: this.maxEpochs,
      rungs: this.rungs.map((epochs, k) => ({ epochs, reports: this.reports[k]!.map((r) => ({ ...r })) })),
    };
  }

  /** Adds `trial` to rung k (the last to reach it) and decides whether it goes on. */
  private record(trial: string, k: number, metric: number): Decision {
    const rung = this.reports[k]!;
    const decided = this.decisions.get(trial) ?? [];
    if (decided.length !== k || decided.includes('stop')) {
      throw new Error(`ASHA: trial ${trial} cannot reach rung ${k} after ${decided.length} rung decisions`);
    }
    rung.push({ trial, metric: Number.isNaN(metric) ? null : metric });
    const keep = Math.max(1, Math.floor(rung.length / this.eta));
    let ahead = 0;
    for (let i = 0; i < rung.length - 1; i++) if (ranksAhead(rung[i]!.metric, metric)) ahead++;
    const decision: Decision = !Number.isNaN(metric) && ahead < keep ? 'continue' : 'stop';
    this.decisions.set(trial, [...decided, decision]);
    return decision;
  }
}

/** Whether an earlier report `earlier` ranks ahead of a later `metric`: not worse (ties go to the earlier). */
function ranksAhead(earlier: number | null, metric: number): boolean {
  if (Number.isNaN(metric)) return true;
  return earlier !== null && earlier >= metric;
}

function checkReport(trial: string, epochs: number, metric: number): void {
  if (typeof trial !== 'string' || trial === '') throw new RangeError('a trial is named by a non-empty string');
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be an integer ≥ 1 (got ${epochs})`);
  if (typeof metric !== 'number' || metric === Infinity || metric === -Infinity) {
    throw new RangeError(`a trial's metric must be a finite number or NaN (got ${metric})`);
  }
}

/** The plain mode: every trial trains to its own end, as without tuning. */
export class NoScheduler implements TrialScheduler {
  readonly kind = 'none';

  /** Always 'continue' (the arguments are checked only). */
  onReport(trial: string, epochs: number, metric: number): Decision {
    checkReport(trial, epochs, metric);
    return 'continue';
  }

  /** See {@link TrialScheduler.state}. */
  state(): SchedulerState {
    return { kind: 'none' };
  }
}

const ashaStateSchema = z
  .object({
    kind: z.literal('asha'),
    eta: z.number(),
    graceEpochs: z.number(),
    maxEpochs: z.number(),
    rungs: z.array(
      z.object({
        epochs: z.number(),
        reports: z.array(z.object({ trial: z.string().min(1), metric: z.number().finite().nullable() }).strict()),
      }),
    ),
  })
  .strict();

/** A scheduler from the JSON data its `state()` returned (e.g. read back from a resume file). */
export function schedulerFromState(state: unknown): TrialScheduler {
  if (typeof state === 'object' && state !== null && (state as { kind?: unknown }).kind === 'none') {
    return new NoScheduler();
  }
  return AshaScheduler.fromState(state);
}
