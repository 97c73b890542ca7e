/**
 * Row-sparse RAdam for embedding tables, used by the CaliTune fine-tuner (see the class
 * comment): PyTorch's RAdam, with the steps a row skipped applied in closed form.
 */
import {
  nativeCatchUp,
  nativeRadamRows,
  NATIVE_ROW_THREADS,
  type CatchUpFn,
  type GapFactors,
  type RadamRowsFn,
} from './row-sparse-radam-native.js';
import { UserError } from '../util/errors.js';
import { radamStepCoefficient } from './radam.js';
import type { Optimizer, OptimizerState, Parameter } from './optimizer.js';

/**
 * RAdam (torch.optim.RAdam, defaults β (0.9, 0.999), ε 1e-8, no weight decay) for tensors whose
 * gradients are row-sparse, like embedding tables in CaliTune batches: 16 users touch 16 of
 * the user rows and at most 16·K item rows. Dense RAdam moves every element at every step
 * (m ← β1·m, v ← β2·v, p ← p − c_t·m/(√v + ε) even where g = 0), which on ML-100K costs more
 * than everything else in an epoch. Here a row whose gradient is all zero is not visited; when
 * it is next touched (or at `flush()`), its skipped steps are applied in closed form:
 *   m ← β1^j·m,  v ← β2^j·v,  p ← p − (Σ_{i=1..j} c_{t0+i}·ρ^i)·m/(√v + ε),  ρ = β1/√β2,
 * which is the dense result exactly except that ε is not rescaled by β2^{−i/2} inside the sum
 * (relative difference ≤ ε·(β2^{−i/2} − 1)/(√v + ε), i.e. < 1e-3·ε/√v over 60 skipped steps;
 * below float32 resolution whenever √v ≫ ε) and m, v are rounded to float32 once instead of
 * per step. The first un-rectified steps (ρ_t ≤ 5, t ≤ 5) are run densely. Rows with any
 * non-zero gradient element get the ordinary per-element update. `flush()` (called by the
 * fine-tuner after each epoch's training, before scoring, checkpoints and the resume state)
 * brings every row to the current step, so saved state equals that of a flushed optimizer and
 * resuming is bit-exact. The state format is RAdam's ('radam').
 * Rectified steps run in the native binding's radamRows when it has it (the same float64
 * arithmetic and float32 roundings, bit-identical; off with `native: false` or
 * CALITUNE_NATIVE_ADAM=0), the rows of a step gathered first (each once) and updated in one
 * call, on 2 threads when the step is large.
 */
export class RowSparseRAdam implements Optimizer {
  lr: number;
  readonly beta1 = 0.9;
  readonly beta2 = 0.999;
  readonly eps = 1e-8;
  private t = 0;
  private readonly params: Parameter[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly rows: number[];
  private readonly cols: number[];
  /** Step up to which each row's state is applied. */
  private readonly upTo: Int32Array[];
  /** Float64 views of the gradients for a fast all-zero row test (undefined: use float32). */
  private readonly g64: (Float64Array | undefined)[];
  /** coefs[t] = step size factor c_t of rectified step t. */
  private coefs = new Float64Array(256);
  /** gapFactors(from, gapTo) by `from` (rows lagging by the same steps share them). */
  private readonly gapMemo = new Map<number, GapFactors>();
  private gapTo = -1;
  /** The native row kernel, or null (TypeScript loops). */
  private readonly rowsKernel: RadamRowsFn | null;
  /** The native catch-up kernel of flush(), or null (TypeScript loop). */
  private readonly catchUpKernel: CatchUpFn | null;
  // scratch of the native path (see scratch())
  private listRows = new Int32Array(0);
  private listFactors = new Float64Array(0);

  /** Zero each gradient row after using it (the gradients are all zero after step()). */
  readonly consumeGrads: boolean;

  constructor(params: readonly Parameter[], opts: { lr: number; consumeGrads?: boolean; native?: boolean }) {
    this.lr = opts.lr;
    this.rowsKernel = opts.native === false ? null : nativeRadamRows();
    this.catchUpKernel = opts.native === false ? null : nativeCatchUp();
    this.consumeGrads = opts.consumeGrads ?? false;
    if (!(this.lr >= 0)) throw new UserError(`RAdam: learning rate must be ≥ 0 (got ${this.lr})`);
    this.params = [...params];
    this.m = this.params.map((p) => new Float32Array(p.value.length));
    this.v = this.params.map((p) => new Float32Array(p.value.length));
    this.rows = this.params.map((p) => (p.shape.length >= 2 && p.shape[0]! > 0 ? p.shape[0]! : 1));
    this.cols = this.params.map((p, k) => p.value.length / this.rows[k]!);
    this.upTo = this.params.map((_, k) => new Int32Array(this.rows[k]!));
    this.g64 = this.params.map((p, k) =>
      this.cols[k]! % 2 === 0 && p.grad.byteOffset % 8 === 0
        ? new Float64Array(p.grad.buffer, p.grad.byteOffset, p.grad.length / 2)
        : undefined,
    );
  }

  get stepCount(): number {
    return this.t;
  }

  /**
   * One update. `rows[k]`, when given, lists the rows of parameter k whose gradient may be
   * non-zero (duplicates allowed); every other row of it must have a zero gradient. Without it,
   * rows are found by scanning the gradient.
   */
  step(rows?: readonly (Int32Array | undefined)[]): void {
    const t = ++this.t;
    const { coef, rectified } = radamStepCoefficient(this.lr, t, this.beta1, this.beta2);
    this.recordCoefficient(t, coef);
    for (let k = 0; k < this.params.length; k++) {
      if (rectified) this.sparseStep(k, t, coef, rows?.[k]);
      else this.denseStep(k, t, coef);
    }
  }

  /** Keeps c_t for the closed form of the steps a row skips. */
  private recordCoefficient(t: number, coef: number): void {
    // `while`: after a resume at a late step the table may need to grow more than once.
    while (t >= this.coefs.length) {
      const c = new Float64Array(this.coefs.length * 2);
      c.set(this.coefs);
      this.coefs = c;
    }
    this.coefs[t] = coef;
  }

  /** Un-rectified step t of parameter k (ρ_t ≤ 5): every element moves, as in dense RAdam. */
  private denseStep(k: number, t: number, coef: number): void {
    const b1 = this.beta1,
      b2 = this.beta2,
      omb1 = 1 - b1,
      omb2 = 1 - b2;
    const p = this.params[k]!.value,
      g = this.params[k]!.grad,
      m = this.m[k]!,
      v = this.v[k]!;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i]!;
      const mi = Math.fround(b1 * m[i]! + omb1 * gi);
      m[i] = mi;
      v[i] = b2 * v[i]! + omb2 * gi * gi;
      p[i] = p[i]! - coef * mi;
    }
    this.upTo[k]!.fill(t);
    if (this.consumeGrads) g.fill(0);
  }

  /**
   * Rectified step t of parameter k over the rows with a gradient (those in `hint`, or found by
   * scanning); a row that skipped steps catches up on them in the same pass.
   */
  private sparseStep(k: number, t: number, coef: number, hint: Int32Array | undefined): void {
    if (this.rowsKernel) {
      this.sparseStepNative(this.rowsKernel, k, t, coef, hint);
      return;
    }
    const g = this.params[k]!.grad,
      upTo = this.upTo[k]!,
      d = this.cols[k]!;
    const nVisit = hint ? hint.length : upTo.length;
    for (let q = 0; q < nVisit; q++) {
      const r = hint ? hint[q]! : q;
      const touched = hint ? this.listedRowPending(k, r, t) : this.rowHasGradient(k, r);
      if (!touched) continue;
      const o = r * d;
      if (upTo[r]! < t - 1) this.catchUpAndUpdateRow(k, o, upTo[r]!, t, coef);
      else this.updateRow(k, o, coef);
      if (this.consumeGrads) g.fill(0, o, o + d);
      upTo[r] = t;
    }
  }

  /** sparseStep through the native kernel: the rows to update and their catch-up factors, then one call. */
  private sparseStepNative(kernel: RadamRowsFn, k: number, t: number, coef: number, hint?: Int32Array): void {
    const param = this.params[k]!,
      upTo = this.upTo[k]!;
    const nVisit = hint ? hint.length : upTo.length;
    const { rows, f } = this.scratch(nVisit);
    let n = 0;
    for (let q = 0; q < nVisit; q++) {
      const r = hint ? hint[q]! : q;
      const touched = hint ? this.listedRowPending(k, r, t) : this.rowHasGradient(k, r);
      if (!touched) continue;
      if (upTo[r]! < t - 1) {
        const gap = this.gapFactors(upTo[r]!, t - 1);
        f[3 * n] = gap.S;
        f[3 * n + 1] = gap.b1j;
        f[3 * n + 2] = gap.b2j;
      } else {
        f[3 * n] = NaN; // up to date: this step's update only
      }
      rows[n++] = r;
      upTo[r] = t;
    }
    const { value, grad } = param;
    const [b1, b2, eps, cols] = [this.beta1, this.beta2, this.eps, this.cols[k]!];
    const m = this.m[k]!,
      v = this.v[k]!;
    kernel(value, grad, m, v, cols, rows, n, f, b1, b2, coef, eps, this.consumeGrads, NATIVE_ROW_THREADS);
  }

  /** Whether listed row r of parameter k still needs step t (listed rows are updated once per step). */
  private listedRowPending(k: number, r: number, t: number): boolean {
    const upTo = this.upTo[k]!;
    if (!(r >= 0 && r < upTo.length)) {
      throw new RangeError(`RowSparseRAdam: row ${r} of ${this.params[k]!.name} out of range`);
    }
    return upTo[r] !== t;
  }

  /** Whether any gradient element of row r of parameter k is non-zero. */
  private rowHasGradient(k: number, r: number): boolean {
    const g64 = this.g64[k],
      d = this.cols[k]!;
    if (g64) {
      // Σ|x| over the row's float32 pairs read as float64: 0 only when every bit pattern is
      // ±0 (a NaN/Inf pattern or any non-zero float32 makes the sum non-zero).
      const d2 = d >> 1,
        o2 = r * d2;
      let sum = 0;
      for (let j = 0; j < d2; j++) sum += Math.abs(g64[o2 + j]!);
      return sum !== 0;
    }
    const g = this.params[k]!.grad,
      o = r * d;
    for (let j = 0; j < d; j++) if (g[o + j] !== 0) return true;
    return false;
  }

  /** This step's update of the row of parameter k at offset o, which is up to date (step t − 1). */
  private updateRow(k: number, o: number, coef: number): void {
    const b1 = this.beta1,
      b2 = this.beta2,
      omb1 = 1 - b1,
      omb2 = 1 - b2,
      eps = this.eps;
    const p = this.params[k]!.value,
      g = this.params[k]!.grad,
      m = this.m[k]!,
      v = this.v[k]!;
    const d = this.cols[k]!;
    for (let i = o; i < o + d; i++) {
      const gi = g[i]!;
      const mi = Math.fround(b1 * m[i]! + omb1 * gi);
      const vi = Math.fround(b2 * v[i]! + omb2 * gi * gi);
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i]! - (coef * mi) / (Math.sqrt(vi) + eps);
    }
  }

  /**
   * The skipped steps (from, t − 1] of the row at offset o in closed form, then step t's
   * update, fused in one pass over the row.
   */
  private catchUpAndUpdateRow(k: number, o: number, from: number, t: number, coef: number): void {
    const b1 = this.beta1,
      b2 = this.beta2,
      omb1 = 1 - b1,
      omb2 = 1 - b2,
      eps = this.eps;
    const p = this.params[k]!.value,
      g = this.params[k]!.grad,
      m = this.m[k]!,
      v = this.v[k]!;
    const d = this.cols[k]!;
    const { S, b1j, b2j } = this.gapFactors(from, t - 1);
    for (let i = o; i < o + d; i++) {
      let m0 = m[i]!,
        v0 = v[i]!;
      const gi = g[i]!;
      if (m0 !== 0 || v0 !== 0) {
        // p − S·m0/x − c·mi/y as one division: (S·m0·y + c·mi·x) / (x·y) (div and sqrt bound this loop)
        const x = Math.sqrt(v0) + eps;
        const sm = S * m0;
        m0 = Math.fround(m0 * b1j);
        v0 = Math.fround(v0 * b2j);
        const mi = Math.fround(b1 * m0 + omb1 * gi);
        const vi = Math.fround(b2 * v0 + omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        const y = Math.sqrt(vi) + eps;
        p[i] = p[i]! - (sm * y + coef * mi * x) / (x * y);
      } else {
        const mi = Math.fround(omb1 * gi);
        const vi = Math.fround(omb2 * gi * gi);
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i]! - (coef * mi) / (Math.sqrt(vi) + eps);
      }
    }
  }

  /** gapFactors of (from, to], computed once per `from` while `to` stays the same. */
  private gapFactors(from: number, to: number): GapFactors {
    if (to !== this.gapTo) {
      this.gapMemo.clear();
      this.gapTo = to;
    }
    let f = this.gapMemo.get(from);
    if (f === undefined) {
      f = this.computeGapFactors(from, to);
      this.gapMemo.set(from, f);
    }
    return f;
  }

  /** Σ_{i=1..j} c_{from+i}·ρ^i, β1^j and β2^j for the skipped steps (from, to], j = to − from. */
  private computeGapFactors(from: number, to: number): GapFactors {
    const j = to - from;
    const rho = this.beta1 / Math.sqrt(this.beta2);
    // Terms decay like ρ^i ≈ 0.9^i: after 800 steps they are below 1e-36 of the first.
    let S = 0,
      rp = 1;
    const n = Math.min(j, 800);
    for (let i = 1; i <= n; i++) {
      rp *= rho;
      S += this.coefs[from + i]! * rp;
    }
    return { S, b1j: Math.pow(this.beta1, j), b2j: Math.pow(this.beta2, j) };
  }

  /** Applies the skipped steps (upTo[r], to] of row r of parameter k in closed form. */
  private catchUp(k: number, r: number, to: number): void {
    const upTo = this.upTo[k]!;
    const from = upTo[r]!;
    if (to - from <= 0) return;
    const { S, b1j, b2j } = this.gapFactors(from, to);
    const eps = this.eps;
    const p = this.params[k]!.value,
      m = this.m[k]!,
      v = this.v[k]!;
    const d = this.cols[k]!,
      o = r * d;
    for (let i = o; i < o + d; i++) {
      const mi = m[i]!,
        vi = v[i]!;
      if (mi === 0 && vi === 0) continue;
      p[i] = p[i]! - (S * mi) / (Math.sqrt(vi) + eps);
      m[i] = mi * b1j;
      v[i] = vi * b2j;
    }
    upTo[r] = to;
  }

  /** Scratch for the native path, for `n` rows: their indices and (S, β1^j, β2^j) factors. */
  private scratch(n: number): { rows: Int32Array; f: Float64Array } {
    if (this.listRows.length < n) {
      this.listRows = new Int32Array(n);
      this.listFactors = new Float64Array(3 * n);
    }
    return { rows: this.listRows, f: this.listFactors };
  }

  /** Brings every row to the current step (no-op when none lags); natively when the binding can. */
  flush(): void {
    const t = this.t;
    for (let k = 0; k < this.params.length; k++) {
      const upTo = this.upTo[k]!;
      if (this.catchUpKernel) this.flushNative(this.catchUpKernel, k, t);
      else for (let r = 0; r < upTo.length; r++) if (upTo[r]! < t) this.catchUp(k, r, t);
    }
  }

  /** flush() of parameter k through the native kernel: the lagging rows and their factors, then one call. */
  private flushNative(kernel: CatchUpFn, k: number, t: number): void {
    const upTo = this.upTo[k]!;
    const { rows, f } = this.scratch(upTo.length);
    let n = 0;
    for (let r = 0; r < upTo.length; r++) {
      if (!(upTo[r]! < t)) continue;
      const gap = this.gapFactors(upTo[r]!, t);
      f.set([gap.S, gap.b1j, gap.b2j], 3 * n);
      rows[n++] = r;
      upTo[r] = t;
    }
    if (n > 0) kernel(this.params[k]!.value, this.m[k]!, this.v[k]!, this.cols[k]!, rows, n, f, this.eps);
  }

  state(copy = true): OptimizerState {
    this.flush();
    const buffers: Record<string, Record<string, Float32Array>> = {};
    this.params.forEach((p, k) => {
      buffers[p.name] = copy ? { m: this.m[k]!.slice(), v: this.v[k]!.slice() } : { m: this.m[k]!, v: this.v[k]! };
    });
    return { kind: 'radam', step: this.t, lr: this.lr, buffers };
  }

  loadState(s: OptimizerState): void {
    if (s.kind !== 'radam') throw new UserError(`optimizer state is for ${s.kind}, not radam`);
    if (!Number.isInteger(s.step) || s.step < 0) throw new UserError(`optimizer state: bad step ${s.step}`);
    this.params.forEach((p) => {
      const b = s.buffers[p.name];
      if (!b || !b.m || !b.v || b.m.length !== p.value.length || b.v.length !== p.value.length) {
        throw new UserError(`optimizer state has no moments of ${p.value.length} values for ${p.name}`);
      }
    });
    this.params.forEach((p, k) => {
      this.m[k]!.set(s.buffers[p.name]!.m!);
      this.v[k]!.set(s.buffers[p.name]!.v!);
      this.upTo[k]!.fill(s.step);
    });
    this.t = s.step;
    this.lr = s.lr;
    this.gapMemo.clear();
    this.gapTo = -1;
  }
}
