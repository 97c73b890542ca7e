/**
 * The native kernels of src/nn/row-sparse-radam.ts, looked up once per optimizer: radamRows
 * (native/optim.cc, a rectified step over listed rows) and radamCatchUpRows (native/rows.cc,
 * flush's catch-up). Either is absent with an older build, without the binding, or with
 * CALITUNE_NATIVE_ADAM=0; the optimizer then runs its TypeScript loops (the same bits).
 */
import { availableParallelism } from 'node:os';
import { loadNativeBlas, type NativeBlas } from '../math/native.js';

/** The binding's rectified step over listed rows. */
export type RadamRowsFn = NonNullable<NativeBlas['radamRows']>;
/** The binding's catch-up of lagging rows. */
export type CatchUpFn = NonNullable<NativeBlas['radamCatchUpRows']>;

/** A row's catch-up factors as the kernels take them: Σ c·ρ^i over its skipped steps, the decays β1^j, β2^j. */
export interface GapFactors {
  S: number;
  b1j: number;
  b2j: number;
}

/** Threads of the native row update (it stays on one below 8K elements a step; native/optim.cc). */
export const NATIVE_ROW_THREADS = Math.min(2, availableParallelism());

/** The binding's radamCatchUpRows, or null (no binding, an older build, or CALITUNE_NATIVE_ADAM=0). */
export function nativeCatchUp(): CatchUpFn | null {
  if (process.env.CALITUNE_NATIVE_ADAM === '0') return null;
  const nb = loadNativeBlas();
  return nb.ok && typeof nb.blas.radamCatchUpRows === 'function' ? nb.blas.radamCatchUpRows.bind(nb.blas) : null;
}

/** The binding's radamRows, or null (no binding, an older build, or CALITUNE_NATIVE_ADAM=0). */
export function nativeRadamRows(): RadamRowsFn | null {
  if (process.env.CALITUNE_NATIVE_ADAM === '0') return null;
  const nb = loadNativeBlas();
  return nb.ok && typeof nb.blas.radamRows === 'function' ? nb.blas.radamRows.bind(nb.blas) : null;
}
