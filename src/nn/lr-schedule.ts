/**
 * torch.optim.lr_scheduler.StepLR: after `epoch` calls of step(), lr = base · γ^floor(epoch / stepSize).
 * We use this closed form (PyTorch's chainable form multiplies by γ at every boundary; the two
 * agree to the last bit or two of a double). The state (epoch, base lr) is saved for resume.
 */
import { UserError } from '../util/errors.js';
import type { Optimizer } from './optimizer.js';

/** What {@link StepLR} saves for resuming. */
export interface StepLRState {
  kind: 'step';
  stepSize: number;
  gamma: number;
  baseLr: number;
  epoch: number;
}

/** PyTorch's StepLR: lr = base · γ^⌊epoch / stepSize⌋, set on the optimizer after every step(). */
export class StepLR {
  private epoch = 0;
  readonly baseLr: number;

  constructor(
    private readonly optimizer: Pick<Optimizer, 'lr'>,
    readonly stepSize: number,
    readonly gamma: number,
    baseLr?: number,
  ) {
    if (!Number.isInteger(stepSize) || stepSize < 1)
      throw new UserError(`StepLR: step size must be an integer ≥ 1 (got ${stepSize})`);
    if (!(gamma > 0) || !Number.isFinite(gamma)) throw new UserError(`StepLR: gamma must be > 0 (got ${gamma})`);
    this.baseLr = baseLr ?? optimizer.lr;
    this.optimizer.lr = this.lrAt(0);
  }

  /** Learning rate after `epoch` scheduler steps. */
  lrAt(epoch: number): number {
    return this.baseLr * Math.pow(this.gamma, Math.floor(epoch / this.stepSize));
  }

  /** Call once per epoch, after the epoch's optimizer steps (as PyTorch). */
  step(): void {
    this.epoch++;
    this.optimizer.lr = this.lrAt(this.epoch);
  }

  get lastEpoch(): number {
    return this.epoch;
  }

  get lr(): number {
    return this.lrAt(this.epoch);
  }

  state(): StepLRState {
    return { kind: 'step', stepSize: this.stepSize, gamma: this.gamma, baseLr: this.baseLr, epoch: this.epoch };
  }

  loadState(s: StepLRState): void {
    if (s.kind !== 'step' || s.stepSize !== this.stepSize || s.gamma !== this.gamma || s.baseLr !== this.baseLr) {
      throw new UserError(
        `LR schedule state (step ${s.stepSize}, γ ${s.gamma}, base ${s.baseLr}) does not match ` +
          `this run's (step ${this.stepSize}, γ ${this.gamma}, base ${this.baseLr})`,
      );
    }
    if (!Number.isInteger(s.epoch) || s.epoch < 0) throw new UserError(`LR schedule state: bad epoch ${s.epoch}`);
    this.epoch = s.epoch;
    this.optimizer.lr = this.lrAt(this.epoch);
  }
}
