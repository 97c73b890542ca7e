/**
 * One DMF tower: a bias-free sparse-input linear layer (the interaction row → embedding) and an
 * MLP (linear → ReLU for every layer, ReLU after the last too), with its cached batch for
 * backward.
 */
import type { Csr } from '../math/csr.js';
import { Mlp } from '../nn/mlp.js';
import { makeParam } from '../nn/param-init.js';
import type { Parameter } from '../nn/parameter.js';
import { csrRowsView, sparseLinearBackward, sparseLinearForward, type SparseRows } from '../nn/sparse-linear.js';

/** One tower: sparse first layer (no bias) + MLP, with its cached batch for backward. */
export class DmfTower {
  /** The sparse first layer's weight, [input features, embedding size]. */
  readonly first: Parameter;
  /** The MLP after the first layer. */
  readonly mlp: Mlp;
  private h0 = new Float32Array(0);
  private input: SparseRows | undefined;

  /**
   * `firstName`: tensor name of the first layer (inF → emb); `mlpPrefix`: RecBole's MLPLayers
   * prefix of the hidden layers; `itemSide` marks every tensor of the tower.
   */
  constructor(firstName: string, inF: number, emb: number, hidden: number[], mlpPrefix: string, itemSide: boolean) {
    this.first = makeParam(firstName, [inF, emb], itemSide);
    this.mlp = new Mlp([emb, ...hidden], 'relu', (i) => `${mlpPrefix}.mlp_layers.${3 * i + 1}`, itemSide);
  }

  /** Embedding size (output of the first layer). */
  get emb(): number {
    return this.first.shape[1]!;
  }
  /** Output size of the tower. */
  get out(): number {
    return this.mlp.outSize;
  }

  /** The first layer's weight, then the MLP's tensors. */
  parameters(): Parameter[] {
    return [this.first, ...this.mlp.parameters()];
  }

  /** Training forward of the given sparse rows; the result stays valid until the next forward. */
  forward(x: SparseRows): Float32Array {
    const n = x.n,
      e = this.emb;
    if (this.h0.length < n * e) this.h0 = new Float32Array(n * e);
    const h0 = this.h0.subarray(0, n * e);
    sparseLinearForward(x, this.first.value, e, undefined, h0);
    this.input = x;
    return this.mlp.forward(h0, n);
  }

  /** Backward of the last forward (dOut is overwritten). */
  backward(dOut: Float32Array): void {
    if (!this.input) throw new Error('Tower.backward without forward');
    const dh0 = this.mlp.backward(dOut, true)!;
    sparseLinearBackward(this.input, dh0, this.emb, this.first.grad, undefined);
  }

  /** Inference of the given rows into `out` (n × out), in blocks, not touching the training cache. */
  predict(csr: Csr, rows: Int32Array, out: Float32Array): Float32Array {
    const block = 1024,
      e = this.emb,
      d = this.out;
    const h0 = new Float32Array(Math.min(block, rows.length) * e);
    for (let b0 = 0; b0 < rows.length; b0 += block) {
      const m = Math.min(block, rows.length - b0);
      const x = csrRowsView(csr, rows.subarray(b0, b0 + m));
      sparseLinearForward(x, this.first.value, e, undefined, h0);
      const y = this.mlp.predict(h0.subarray(0, m * e), m);
      out.set(y.subarray(0, m * d), b0 * d);
    }
    return out;
  }
}
