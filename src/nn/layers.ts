/**
 * Neural-network layers with hand-written forward/backward passes (no autograd).
 *
 * Conventions: every activation is a row-major Float32Array of `n` rows; a dense linear
 * layer keeps PyTorch's weight layout [out, in] (so y = x·Wᵀ + b is sgemm(N, T)), and
 * every batched dense product goes through the sgemm seam. Backward functions *add* into
 * the parameter gradients (PyTorch accumulates) and *write* the input gradient.
 *
 * The sparse linear layer is the first layer of DMF's towers and MultiVAE's encoder: its
 * input rows are (scaled) 0/1 interaction rows, so x·W is a sum of weight rows — a
 * gather-sum — and its weight gradient a scatter-add, both through src/math/sparse.ts
 * (native C++ kernel on 2 threads, TypeScript fallback). Its weight is stored [in, out]
 * (rows = input features), the transpose of PyTorch's nn.Linear layout, because the
 * gather-sum reads whole rows.
 */
import { sgemm } from '../math/gemm.js';
import { spmmRows, spmmRowsT, transposeRows } from '../math/sparse.js';
import type { Rng } from '../math/rng.js';
import type { Parameter } from './parameter.js';
import { UserError } from '../util/errors.js';

/** A parameter with fresh zeroed value and grad buffers. */
export function makeParam(name: string, shape: readonly number[], itemSide: boolean): Parameter {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape: [...shape], value: new Float32Array(n), grad: new Float32Array(n), itemSide };
}

/** Fills with N(mean, std²) draws. */
export function normalInit(out: Float32Array, std: number, rng: Rng, mean = 0): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  return out;
}

/** PyTorch xavier_normal_ for a weight with the given fans: std = sqrt(2 / (fanIn + fanOut)). */
export function xavierNormalInit(out: Float32Array, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  return normalInit(out, Math.sqrt(2 / (fanIn + fanOut)), rng);
}

/** Checks a list of layer sizes: non-empty, positive integers. UserError otherwise. */
export function checkSizes(name: string, sizes: unknown): number[] {
  if (!Array.isArray(sizes) || sizes.length === 0) throw new UserError(`${name} must be a non-empty list of positive integers (got ${JSON.stringify(sizes)})`);
  for (const s of sizes) {
    if (typeof s !== 'number' || !Number.isInteger(s) || s <= 0) {
      throw new UserError(`${name} must be a list of positive integers (got ${JSON.stringify(sizes)})`);
    }
  }
  return [...sizes] as number[];
}

// ---------------------------------------------------------------- dense linear

/** y[n×out] = x[n×in]·Wᵀ + b, W [out×in] (PyTorch layout); b may be undefined. */
export function linearForward(
  x: Float32Array, n: number, inF: number, W: Float32Array, b: Float32Array | undefined, outF: number, y: Float32Array,
): Float32Array {
  sgemm(false, true, n, outF, inF, 1, x, inF, W, inF, 0, y, outF);
  if (b) addBiasRows(y, n, outF, b);
  return y;
}

/**
 * Backward of linearForward: dW += dyᵀ·x, db += Σ_rows dy, and (when dx is given)
 * dx = dy·W.
 */
export function linearBackward(
  x: Float32Array, dy: Float32Array, n: number, inF: number, outF: number,
  W: Float32Array, dW: Float32Array | undefined, db: Float32Array | undefined, dx: Float32Array | undefined,
): void {
  if (dW) sgemm(true, false, outF, inF, n, 1, dy, outF, x, inF, 1, dW, inF);
  if (db) colSumInto(dy, n, outF, db);
  if (dx) sgemm(false, false, n, inF, outF, 1, dy, outF, W, inF, 0, dx, inF);
}

export function addBiasRows(y: Float32Array, n: number, m: number, b: Float32Array): void {
  for (let r = 0; r < n; r++) {
    const o = r * m;
    for (let j = 0; j < m; j++) y[o + j]! += b[j]!;
  }
}

/** acc[j] += Σ_r a[r, j] (float64 accumulation per column). */
export function colSumInto(a: Float32Array, n: number, m: number, acc: Float32Array): void {
  const tmp = new Float64Array(m);
  for (let r = 0; r < n; r++) {
    const o = r * m;
    for (let j = 0; j < m; j++) tmp[j]! += a[o + j]!;
  }
  for (let j = 0; j < m; j++) acc[j]! += tmp[j]!;
}

// ---------------------------------------------------------------- sparse-input linear

/**
 * A batch of sparse input rows: row r's features are indices[indptr[r] .. indptr[r+1]) with
 * values (1 when `values` is absent — a 0/1 interaction row).
 */
export interface SparseRows {
  readonly n: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values?: Float32Array;
  /** When set, row r is row rows[r] of the whole CSR matrix (indptr, indices, values): see csrRowsView. */
  readonly rows?: Int32Array;
}

/** The given rows of a CSR matrix as a SparseRows batch without copying (rows are checked). */
export function csrRowsView(csr: { indptr: Int32Array; indices: Int32Array; nRows: number }, rows: Int32Array): SparseRows {
  for (let r = 0; r < rows.length; r++) {
    const u = rows[r]!;
    if (!(u >= 0 && u < csr.nRows)) throw new RangeError(`csrRowsView: row ${u} out of range`);
  }
  return { n: rows.length, indptr: csr.indptr, indices: csr.indices, rows };
}

/** Gathers the given rows of a CSR matrix into a SparseRows batch (copies the indices). */
export function gatherCsrRows(
  csr: { indptr: Int32Array; indices: Int32Array; nRows: number }, rows: Int32Array,
): SparseRows {
  const indptr = new Int32Array(rows.length + 1);
  for (let r = 0; r < rows.length; r++) {
    const u = rows[r]!;
    if (u < 0 || u >= csr.nRows) throw new RangeError(`gatherCsrRows: row ${u} out of range`);
    indptr[r + 1] = indptr[r]! + csr.indptr[u + 1]! - csr.indptr[u]!;
  }
  const indices = new Int32Array(indptr[rows.length]!);
  for (let r = 0; r < rows.length; r++) {
    const u = rows[r]!;
    indices.set(csr.indices.subarray(csr.indptr[u]!, csr.indptr[u + 1]!), indptr[r]!);
  }
  return { n: rows.length, indptr, indices };
}

/**
 * y[n×out] = X·Wt (+ b), X sparse, Wt [in×out] (rows = input features): row r of y is
 * Σ_q values[q]·Wt[indices[q]]. Columns are processed in register blocks of 8 so each
 * weight row segment is read once per block.
 */
export function sparseLinearForward(x: SparseRows, Wt: Float32Array, outF: number, b: Float32Array | undefined, y: Float32Array): Float32Array {
  if (y.length < x.n * outF) throw new RangeError('sparseLinearForward: output too small');
  spmmRows(x, Wt, Math.floor(Wt.length / Math.max(1, outF)), outF, y);
  if (b) addBiasRows(y, x.n, outF, b);
  return y;
}

/**
 * Backward of sparseLinearForward: dWt[j] += Σ_{(r, j) ∈ X} value·dy[r] (a scatter-add),
 * db += Σ dy. Computed as the gather-sum Xᵀ·dy: the batch is transposed (O(nnz)) so every
 * touched weight row is accumulated in registers and written once.
 */
export function sparseLinearBackward(x: SparseRows, dy: Float32Array, outF: number, dWt: Float32Array, db: Float32Array | undefined): void {
  spmmRowsT(x, dy, outF, dWt, Math.floor(dWt.length / Math.max(1, outF)));
  if (db) colSumInto(dy, x.n, outF, db);
}

/**
 * The transpose of a sparse batch restricted to the features that occur: features[k] is a
 * feature id, its (batch row, value) entries are indices/values[indptr[k] .. indptr[k+1]).
 */
export function transposeSparse(x: SparseRows, nFeatures: number): { features: Int32Array; indptr: Int32Array; indices: Int32Array; values: Float32Array } {
  return transposeRows(x, nFeatures);
}

// ---------------------------------------------------------------- activations (element-wise)

/** y = max(0, x); y may alias x. */
export function reluForward(x: Float32Array, y: Float32Array, len = x.length): Float32Array {
  for (let i = 0; i < len; i++) { const v = x[i]!; y[i] = v > 0 ? v : 0; }
  return y;
}

/** dx = dy·[y > 0] given the forward *output* y; dx may alias dy. */
export function reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, len = y.length): Float32Array {
  for (let i = 0; i < len; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
  return dx;
}

export function tanhForward(x: Float32Array, y: Float32Array, len = x.length): Float32Array {
  for (let i = 0; i < len; i++) y[i] = Math.tanh(x[i]!);
  return y;
}

/** dx = dy·(1 − y²) given the forward output y. */
export function tanhBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, len = y.length): Float32Array {
  for (let i = 0; i < len; i++) { const t = y[i]!; dx[i] = dy[i]! * (1 - t * t); }
  return dx;
}

/** Numerically stable logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function sigmoidForward(x: Float32Array, y: Float32Array, len = x.length): Float32Array {
  for (let i = 0; i < len; i++) y[i] = sigmoid(x[i]!);
  return y;
}

/** dx = dy·y·(1 − y) given the forward output y. */
export function sigmoidBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, len = y.length): Float32Array {
  for (let i = 0; i < len; i++) { const s = y[i]!; dx[i] = dy[i]! * s * (1 - s); }
  return dx;
}

/**
 * Inverted dropout as PyTorch's F.dropout in training mode: each element is zeroed with
 * probability p and the survivors scaled by 1/(1 − p). Writes the scale (0 or 1/(1−p)) of
 * every element into `mask` (for the backward pass). p = 0 copies; p = 1 zeroes.
 */
export function dropoutForward(x: Float32Array, p: number, rng: Rng, mask: Float32Array, y: Float32Array, len = x.length): Float32Array {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability must be in [0, 1] (got ${p})`);
  const scale = p < 1 ? 1 / (1 - p) : 0;
  for (let i = 0; i < len; i++) {
    const m = p === 0 ? 1 : rng.nextFloat() < p ? 0 : scale;
    mask[i] = m;
    y[i] = x[i]! * m;
  }
  return y;
}

export function dropoutBackward(mask: Float32Array, dy: Float32Array, dx: Float32Array, len = mask.length): Float32Array {
  for (let i = 0; i < len; i++) dx[i] = dy[i]! * mask[i]!;
  return dx;
}

/** F.normalize's default ε: rows are divided by max(‖x‖₂, ε). */
export const L2_NORM_EPS = 1e-12;

/**
 * y = x / max(‖x_r‖₂, 1e-12) per row (PyTorch F.normalize(x, dim=1)); writes the divisor of
 * each row into `norms` (length n) for the backward pass.
 */
export function l2NormalizeRowsForward(x: Float32Array, n: number, m: number, y: Float32Array, norms: Float64Array): Float32Array {
  for (let r = 0; r < n; r++) {
    const o = r * m;
    let s = 0;
    for (let j = 0; j < m; j++) { const v = x[o + j]!; s += v * v; }
    const d = Math.max(Math.sqrt(s), L2_NORM_EPS);
    norms[r] = d;
    for (let j = 0; j < m; j++) y[o + j] = x[o + j]! / d;
  }
  return y;
}

/**
 * Backward of l2NormalizeRowsForward given the forward output y: for a row with
 * ‖x‖ > ε, dx = (dy − y·(y·dy)) / ‖x‖; for a clamped row (‖x‖ ≤ ε) the divisor is
 * constant, so dx = dy / ε.
 */
export function l2NormalizeRowsBackward(y: Float32Array, dy: Float32Array, n: number, m: number, norms: Float64Array, dx: Float32Array): Float32Array {
  for (let r = 0; r < n; r++) {
    const o = r * m, d = norms[r]!;
    if (d <= L2_NORM_EPS) {
      for (let j = 0; j < m; j++) dx[o + j] = dy[o + j]! / d;
      continue;
    }
    let dot = 0;
    for (let j = 0; j < m; j++) dot += y[o + j]! * dy[o + j]!;
    for (let j = 0; j < m; j++) dx[o + j] = (dy[o + j]! - y[o + j]! * dot) / d;
  }
  return dx;
}

// ---------------------------------------------------------------- MLP (linear → activation)

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'none';

function actForward(a: Activation, x: Float32Array, len: number): void {
  if (a === 'relu') reluForward(x, x, len);
  else if (a === 'tanh') tanhForward(x, x, len);
  else if (a === 'sigmoid') sigmoidForward(x, x, len);
}

function actBackward(a: Activation, y: Float32Array, dy: Float32Array, len: number): void {
  if (a === 'relu') reluBackward(y, dy, dy, len);
  else if (a === 'tanh') tanhBackward(y, dy, dy, len);
  else if (a === 'sigmoid') sigmoidBackward(y, dy, dy, len);
}

/**
 * A stack of dense linear layers, each followed by an activation (RecBole's MLPLayers with
 * activation after every layer, including the last; or a custom activation per layer).
 * Keeps its activations from the last forward for backward; buffers grow as needed and are
 * reused. Parameters are named `${prefix}${linearIndex[i]}.weight` / `.bias`.
 */
export class Mlp {
  readonly sizes: readonly number[];
  readonly weights: Parameter[] = [];
  readonly biases: Parameter[] = [];
  private readonly acts: Activation[];
  /** outs[i]: output of layer i after its activation (n × sizes[i+1]). */
  private outs: Float32Array[] = [];
  private grads: Float32Array[] = [];
  /** Scratch for predict(), separate from the training-path buffers. */
  private predOuts: Float32Array[] = [];
  private input: Float32Array = new Float32Array(0);
  private n = 0;

  constructor(sizes: readonly number[], acts: Activation | Activation[], names: (i: number) => string, itemSide: boolean) {
    if (sizes.length < 1) throw new RangeError('Mlp needs at least an input size');
    this.sizes = [...sizes];
    const L = sizes.length - 1;
    this.acts = Array.isArray(acts) ? [...acts] : new Array<Activation>(L).fill(acts);
    if (this.acts.length !== L) throw new RangeError('Mlp: one activation per layer');
    for (let i = 0; i < L; i++) {
      const base = names(i);
      this.weights.push(makeParam(`${base}.weight`, [sizes[i + 1]!, sizes[i]!], itemSide));
      this.biases.push(makeParam(`${base}.bias`, [sizes[i + 1]!], itemSide));
    }
  }

  get nLayers(): number { return this.sizes.length - 1; }
  get outSize(): number { return this.sizes[this.sizes.length - 1]!; }

  parameters(): Parameter[] {
    const ps: Parameter[] = [];
    for (let i = 0; i < this.nLayers; i++) ps.push(this.weights[i]!, this.biases[i]!);
    return ps;
  }

  /** Forward of n rows; returns the last output (a view into an internal buffer, or x itself for 0 layers). */
  forward(x: Float32Array, n: number): Float32Array {
    this.input = x;
    this.n = n;
    let cur = x;
    for (let i = 0; i < this.nLayers; i++) {
      const inF = this.sizes[i]!, outF = this.sizes[i + 1]!;
      if (!this.outs[i] || this.outs[i]!.length < n * outF) this.outs[i] = new Float32Array(n * outF);
      const y = this.outs[i]!.subarray(0, n * outF);
      linearForward(cur, n, inF, this.weights[i]!.value, this.biases[i]!.value, outF, y);
      actForward(this.acts[i]!, y, n * outF);
      cur = y;
    }
    return cur;
  }

  /**
   * Inference forward: like forward but into separate scratch buffers, so it never disturbs
   * what a pending backward needs. Returns a view valid until the next predict().
   */
  predict(x: Float32Array, n: number): Float32Array {
    let cur = x;
    for (let i = 0; i < this.nLayers; i++) {
      const inF = this.sizes[i]!, outF = this.sizes[i + 1]!;
      if (!this.predOuts[i] || this.predOuts[i]!.length < n * outF) this.predOuts[i] = new Float32Array(n * outF);
      const y = this.predOuts[i]!.subarray(0, n * outF);
      linearForward(cur, n, inF, this.weights[i]!.value, this.biases[i]!.value, outF, y);
      actForward(this.acts[i]!, y, n * outF);
      cur = y;
    }
    return cur;
  }

  /**
   * Backward for the last forward: dOut (n × outSize) is consumed (overwritten). Adds the
   * parameter gradients (skipped when `noParamGrad`) and returns d(input) (a view into an
   * internal buffer) when wantInputGrad.
   */
  backward(dOut: Float32Array, wantInputGrad: boolean, noParamGrad = false): Float32Array | undefined {
    const n = this.n;
    let dy = dOut;
    for (let i = this.nLayers - 1; i >= 0; i--) {
      const inF = this.sizes[i]!, outF = this.sizes[i + 1]!;
      const y = this.outs[i]!.subarray(0, n * outF);
      actBackward(this.acts[i]!, y, dy, n * outF);
      const x = i === 0 ? this.input : this.outs[i - 1]!.subarray(0, n * inF);
      let dx: Float32Array | undefined;
      if (i > 0 || wantInputGrad) {
        if (!this.grads[i] || this.grads[i]!.length < n * inF) this.grads[i] = new Float32Array(n * inF);
        dx = this.grads[i]!.subarray(0, n * inF);
      }
      linearBackward(x, dy, n, inF, outF, this.weights[i]!.value,
        noParamGrad ? undefined : this.weights[i]!.grad, noParamGrad ? undefined : this.biases[i]!.grad, dx);
      if (dx) dy = dx;
    }
    return wantInputGrad ? dy : undefined;
  }
}

// ---------------------------------------------------------------- parameter snapshots

/** Deep copies of the parameter values (best-epoch snapshots never alias live tensors). */
export function snapshotParams(params: readonly Parameter[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const p of params) out[p.name] = p.value.slice();
  return out;
}

/** Copies weights in by name; a missing tensor or a size mismatch is a UserError. */
export function loadParams(params: readonly Parameter[], w: Readonly<Record<string, Float32Array>>): void {
  for (const p of params) {
    const src = w[p.name];
    if (!src) throw new UserError(`missing tensor ${p.name}`);
    if (src.length !== p.value.length) throw new UserError(`tensor ${p.name} has ${src.length} values, expected ${p.value.length} (${p.shape.join('×')})`);
    p.value.set(src);
  }
}

/** A cheap order-sensitive checksum of tensors (detects weights changed behind a cache). */
export function paramsChecksum(params: readonly Parameter[]): number {
  let s = 0;
  for (const p of params) {
    const v = p.value;
    let a = 0, b = 0;
    for (let i = 0; i + 1 < v.length; i += 2) { a += v[i]!; b += v[i + 1]! * 1.6180339887; }
    if (v.length & 1) a += v[v.length - 1]! * 0.5;
    s = s * 1.000001 + a + b + v.length;
  }
  return s;
}
