/**
 * Finite-difference gradient checking for hand-written backward passes.
 *
 * Central differences in float64 around float32 (or float64) parameters: each checked entry
 * is moved to p ± h (the float32-rounded values actually stored are used for the step), the
 * loss is evaluated twice, and (L⁺ − L⁻) / (p⁺ − p⁻) is compared with the analytic gradient.
 * An entry passes when |analytic − numeric| ≤ atol + rtol · max(|analytic|, |numeric|).
 * The loss callback should accumulate in float64 so the difference quotient is not swamped
 * by float32 rounding.
 */
import { Rng } from '../math/rng.js';

/** A parameter to check: its values and the analytic gradient to compare with. */
export interface GradCheckParam {
  readonly name: string;
  readonly value: Float32Array | Float64Array;
  readonly grad: Float32Array | Float64Array;
}

/** Step and tolerances of the gradient check, and how many entries per parameter to sample. */
export interface GradCheckOptions {
  /** Step h (default 1e-3; float32 parameters need a step well above their 1e-7 resolution). */
  h?: number;
  rtol?: number;
  atol?: number;
  /** Check at most this many entries per parameter, sampled without replacement (default: all). */
  maxPerParam?: number;
  seed?: number;
}

/** One checked entry: the analytic and the numeric derivative and their relative error. */
export interface GradCheckEntry {
  param: string;
  index: number;
  analytic: number;
  numeric: number;
  relError: number;
}

/** The outcome of a gradient check: whether every entry passed, the failures and the worst entry. */
export interface GradCheckResult {
  ok: boolean;
  checked: number;
  failures: GradCheckEntry[];
  /** The entry with the largest relative error. */
  worst: GradCheckEntry | undefined;
  maxRelError: number;
}

/**
 * `lossFn` evaluates the loss at the current parameter values (no side effects on grads);
 * `backward` zeroes nothing itself: gradCheck zeroes every grad buffer, calls `backward()`,
 * which must run forward + backward and leave d(loss)/d(param) in the grad buffers.
 */
export function gradCheck(
  params: readonly GradCheckParam[],
  lossFn: () => number,
  backward: () => void,
  opts: GradCheckOptions = {},
): GradCheckResult {
  const h = opts.h ?? 1e-3;
  const rtol = opts.rtol ?? 1e-3;
  const atol = opts.atol ?? 1e-6;
  const rng = new Rng(opts.seed ?? 1);
  for (const p of params) p.grad.fill(0);
  backward();
  const analyticAll = params.map((p) => Float64Array.from(p.grad));
  const failures: GradCheckEntry[] = [];
  let worst: GradCheckEntry | undefined;
  let checked = 0;
  params.forEach((p, k) => {
    const n = p.value.length;
    let idx: ArrayLike<number>;
    if (opts.maxPerParam !== undefined && opts.maxPerParam < n) {
      idx = rng.permutation(n).subarray(0, opts.maxPerParam);
    } else {
      idx = Int32Array.from({ length: n }, (_, i) => i);
    }
    for (let q = 0; q < idx.length; q++) {
      const i = idx[q]!;
      const orig = p.value[i]!;
      p.value[i] = orig + h;
      const up = p.value[i]!;
      const lp = lossFn();
      p.value[i] = orig - h;
      const down = p.value[i]!;
      const lm = lossFn();
      p.value[i] = orig;
      const numeric = (lp - lm) / (up - down);
      const analytic = analyticAll[k]![i]!;
      const diff = Math.abs(analytic - numeric);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric));
      const relError = scale > 0 ? diff / scale : 0;
      const entry: GradCheckEntry = { param: p.name, index: i, analytic, numeric, relError };
      checked++;
      if (diff > atol + rtol * scale) failures.push(entry);
      if (diff > atol && (!worst || relError > worst.relError)) worst = entry;
    }
  });
  // restore the analytic gradients (callers may inspect them)
  for (const [k, p] of params.entries()) p.grad.set(analyticAll[k]!);
  return { ok: failures.length === 0, checked, failures, worst, maxRelError: worst?.relError ?? 0 };
}

/** A readable one-line summary for assertion messages. */
export function formatGradCheck(r: GradCheckResult): string {
  const w = r.worst;
  const head = `${r.checked} entries, ${r.failures.length} failures, max rel error ${r.maxRelError.toExponential(2)}`;
  return w ? `${head} (worst ${w.param}[${w.index}]: analytic ${w.analytic}, numeric ${w.numeric})` : head;
}
