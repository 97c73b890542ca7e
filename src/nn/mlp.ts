/** A stack of dense layers, each followed by an activation (RecBole's MLPLayers). */
import {
  reluBackward,
  reluForward,
  sigmoidBackward,
  sigmoidForward,
  tanhBackward,
  tanhForward,
} from './activations.js';
import { linearBackward, linearForward } from './dense.js';
import { makeParam } from './param-init.js';
import type { Parameter } from './parameter.js';

/** The activation after an Mlp layer ('none': the layer's output as it is). */
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
  /** Input size, then the output size of each layer. */
  readonly sizes: readonly number[];
  /** Layer weights, [out, in] each (PyTorch layout). */
  readonly weights: Parameter[] = [];
  /** Layer biases. */
  readonly biases: Parameter[] = [];
  private readonly acts: Activation[];
  /** outs[i]: output of layer i after its activation (n × sizes[i+1]). */
  private outs: Float32Array[] = [];
  private grads: Float32Array[] = [];
  /** Scratch for predict(), separate from the training-path buffers. */
  private predOuts: Float32Array[] = [];
  private input: Float32Array = new Float32Array(0);
  private n = 0;

  /**
   * Layers sizes[i] → sizes[i + 1] with activation `acts` (one for all, or one per layer);
   * `names(i)` is the tensor-name prefix of layer i; `itemSide` marks the parameters.
   */
  constructor(
    sizes: readonly number[],
    acts: Activation | Activation[],
    names: (i: number) => string,
    itemSide: boolean,
  ) {
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

  /** Number of linear layers. */
  get nLayers(): number {
    return this.sizes.length - 1;
  }
  /** Output size of the last layer (the input size for 0 layers). */
  get outSize(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /** Weight and bias of each layer, in layer order. */
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
      const inF = this.sizes[i]!,
        outF = this.sizes[i + 1]!;
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
      const inF = this.sizes[i]!,
        outF = this.sizes[i + 1]!;
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
      const inF = this.sizes[i]!,
        outF = this.sizes[i + 1]!;
      const y = this.outs[i]!.subarray(0, n * outF);
      actBackward(this.acts[i]!, y, dy, n * outF);
      const x = i === 0 ? this.input : this.outs[i - 1]!.subarray(0, n * inF);
      let dx: Float32Array | undefined;
      if (i > 0 || wantInputGrad) {
        if (!this.grads[i] || this.grads[i]!.length < n * inF) this.grads[i] = new Float32Array(n * inF);
        dx = this.grads[i]!.subarray(0, n * inF);
      }
      linearBackward(
        x,
        dy,
        n,
        inF,
        outF,
        this.weights[i]!.value,
        noParamGrad ? undefined : this.weights[i]!.grad,
        noParamGrad ? undefined : this.biases[i]!.grad,
        dx,
      );
      if (dx) dy = dx;
    }
    return wantInputGrad ? dy : undefined;
  }
}
