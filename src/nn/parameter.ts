/** The unit the layers, optimizers and models share: a named tensor with its gradient buffer. */

/** A named trainable tensor with its gradient buffer (same shape, row-major). */
export interface Parameter {
  readonly name: string;
  readonly shape: readonly number[];
  readonly value: Float32Array;
  readonly grad: Float32Array;
  /** True for tensors on the item side (frozen by `freeze_item_emb`). */
  readonly itemSide: boolean;
}
