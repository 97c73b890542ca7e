/**
 * RecBole's early stopping (bigger is better): a score ≥ the best so far is an improvement
 * (the counter resets); otherwise the counter grows, and training stops once it exceeds
 * `patience` — i.e. after `patience` + 1 evaluations without improvement.
 */
import { UserError } from '../util/errors.js';

/** Whether the latest score improved, and whether training should stop. */
export type EarlyStopDecision = { improved: boolean; stop: boolean };

/** RecBole's early stopping on a score where bigger is better (see the module comment). */
export class EarlyStopping {
  readonly patience: number;
  best = -Infinity;
  bestStep = -1;
  /** Evaluations since the last improvement. */
  sinceBest = 0;
  private steps = 0;

  constructor(patience: number) {
    if (!Number.isInteger(patience) || patience < 0)
      throw new UserError(`patience must be an integer ≥ 0 (got ${patience})`);
    this.patience = patience;
  }

  /** Records one evaluation; `step` defaults to the evaluation's index (0-based). */
  update(score: number, step = this.steps): EarlyStopDecision {
    this.steps++;
    if (score >= this.best) {
      this.best = score;
      this.bestStep = step;
      this.sinceBest = 0;
      return { improved: true, stop: false };
    }
    this.sinceBest++;
    return { improved: false, stop: this.sinceBest > this.patience };
  }
}
