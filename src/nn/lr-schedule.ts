/**
 * torch.optim.lr_scheduler.StepLR: after `epoch` calls of step(), lr = base · γ^floor(epoch / stepSize).
 * We use this closed form (PyTorch's chainable form multiplies by γ at every boundary; the two
 * agree to the last bit or two of a double). The state (epoch, base lr) is saved for resume.
 * A `scale` (1 unless a caller cut the rate, e.g. the fine-tuner's collapse guard) multiplies it:
 * lr = base · scale · γ^⌊epoch / stepSize⌋ (× 1 is exact, so unscaled runs are unchanged).
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
  /** The rate's multiplier when it is not 1 (absent in states saved before it existed). */
  scale?: number;
}

/** PyTorch's StepLR: lr = base · γ^⌊epoch / stepSize⌋, set on the optimizer after every step(). */
export class StepLR {
  private epoch = 0;
  private factor = 1;
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
    return this.baseLr * this.factor * Math.pow(this.gamma, Math.floor(epoch / this.stepSize));
  }

  /** The multiplier applied on top of the schedule (1 unless {@link StepLR.scaleBy} was called). */
  get scale(): number {
    return this.factor;
  }

  /** Multiplies the rate from now on by `f` (> 0) and sets it on the optimizer. */
  scaleBy(f: number): void {
    if (!(f > 0) || !Number.isFinite(f)) throw new UserError(`StepLR: scale factor must be > 0 (got ${f})`);
    this.factor *= f;
    this.optimizer.lr = this.lrAt(this.epoch);
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
    const s: StepLRState = {
      kind: 'step',
      stepSize: this.stepSize,
      gamma: this.gamma,
      baseLr: this.baseLr,
      epoch: this.epoch,
    };
    if (this.factor !== 1) s.scale = this.factor;
    return s;
  }

  loadState(s: StepLRState): void {
    if (s.kind !== 'step' || s.stepSize !== this.stepSize || s.gamma !== this.gamma || s.baseLr !== this.baseLr) {
      throw new UserError(
        `LR schedule state (step ${s.stepSize}, γ ${s.gamma}, base ${s.baseLr}) does not match ` +
          `this run's (step ${this.stepSize}, γ ${this.gamma}, base ${this.baseLr})`,
      );
    }
    if (!Number.isInteger(s.epoch) || s.epoch < 0) throw new UserError(`LR schedule state: bad epoch ${s.epoch}`);
    const scale = s.scale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale)) throw new UserError(`LR schedule state: bad scale ${s.scale}`);
    this.epoch = s.epoch;
    this.factor = scale;
    this.optimizer.lr = this.lrAt(this.epoch);
  }
}
