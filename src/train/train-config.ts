/** Checks of the training settings every backbone trainer shares (UserError naming the key). */
import { checkPositiveInt } from '../util/checks.js';
import { UserError } from '../util/errors.js';

export function checkCommonConfig(c: { lr: number; weightDecay: number; batchSize: number; epochs: number; patience: number; seed: number; validK: number }): void {
  checkPositiveInt('batchSize', c.batchSize);
  checkPositiveInt('epochs', c.epochs);
  checkPositiveInt('validK', c.validK);
  if (!Number.isInteger(c.patience) || c.patience < 0) throw new UserError(`patience must be an integer ≥ 0 (got ${c.patience})`);
  if (!(typeof c.lr === 'number' && c.lr > 0 && Number.isFinite(c.lr))) throw new UserError(`lr must be a positive number (got ${c.lr})`);
  if (!(typeof c.weightDecay === 'number' && c.weightDecay >= 0 && Number.isFinite(c.weightDecay))) {
    throw new UserError(`weightDecay must be ≥ 0 (got ${c.weightDecay})`);
  }
  if (!Number.isInteger(c.seed)) throw new UserError(`seed must be an integer (got ${c.seed})`);
}
