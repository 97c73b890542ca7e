/**
 * Neural-network layers with hand-written forward/backward passes (no autograd), gathered in
 * one import. Each kind lives in its own module:
 *
 * - param-init.ts: new parameters, normal / xavier-normal initialisation;
 * - layer-sizes.ts: validation of layer-size lists;
 * - dense.ts: the dense linear layer (sgemm seam, PyTorch weight layout [out, in]);
 * - sparse-linear.ts: the sparse-input linear layer over CSR rows (gather-sum / scatter-add,
 *   weight stored [in, out]);
 * - activations.ts: ReLU, tanh, sigmoid;
 * - dropout.ts: inverted dropout;
 * - l2-normalize.ts: row-wise L2 normalisation;
 * - mlp.ts: a stack of dense layers with activations;
 * - param-snapshot.ts: snapshots, loading weights by name, the weights checksum.
 *
 * Conventions: every activation is a row-major Float32Array of `n` rows. Backward functions
 * *add* into the parameter gradients (PyTorch accumulates) and *write* the input gradient.
 */
export { makeParam, normalInit, xavierNormalInit } from './param-init.js';
export { checkSizes } from './layer-sizes.js';
export { addBiasRows, colSumInto, linearBackward, linearForward } from './dense.js';
export {
  csrRowsView,
  gatherCsrRows,
  sparseLinearBackward,
  sparseLinearForward,
  transposeSparse,
  type SparseRows,
  type TransposedSparseRows,
} from './sparse-linear.js';
export {
  reluBackward,
  reluForward,
  sigmoid,
  sigmoidBackward,
  sigmoidForward,
  tanhBackward,
  tanhForward,
} from './activations.js';
export { dropoutBackward, dropoutForward } from './dropout.js';
export { L2_NORM_EPS, l2NormalizeRowsBackward, l2NormalizeRowsForward } from './l2-normalize.js';
export { Mlp, type Activation } from './mlp.js';
export { loadParams, paramsChecksum, snapshotParams } from './param-snapshot.js';
