/**
 * Experiment names in the reference's style:
 *   c0.5__frozen_itememb__selection_relevance__k100__lr0.0001
 * = α (combined_mode_alpha), frozen/unfrozen item embeddings, candidate selection, number of
 * candidates and learning rate, numbers written as Python's str() writes floats (0 → "0.0",
 * 1e-5 → "1e-05"; a '+' in an exponent is dropped: 1e+30 → "1e30"), since the reference builds the name
 * with an f-string. Any other key that a grid varies is appended as `__key{value}` so that every point of
 * a grid gets its own name.
 */
import { DEFAULT_FINETUNE_CONFIG, type FinetuneConfig } from '../calibration/finetune-config.js';
import { withNameCharsOnly } from '../store/experiment-name.js';

/** The keys that are always part of a name. */
export const NAME_KEYS = [
  'combined_mode_alpha',
  'freeze_item_emb',
  'candidate_selection',
  'k_candidates',
  'learning_rate',
] as const;

/** Keys of ours that the reference lacks; named only when not at their default. */
export const EXTENSION_KEYS = [
  'candidates_per_group',
  'user_adapter',
  'group_offsets',
  'calibration_candidates',
] as const;

/** Python's str(float): integers get ".0", exponents have at least two digits. */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const abs = Math.abs(x);
  // Python switches to exponent notation below 1e-4 and from 1e16.
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [m, e] = x.toExponential().split('e') as [string, string];
    const sign = e.startsWith('-') ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${m}e${sign}${digits}`;
  }
  return String(x);
}

/** pyFloat without a '+' (not allowed in experiment names): 1e+30 → 1e30; 1e-05 stays. */
export function nameFloat(x: number): string {
  return pyFloat(x).replace('e+', 'e');
}

/** A value as it appears in a name part. */
export function nameValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : nameFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return withNameCharsOnly(String(v));
}

/**
 * The reference-style name of a configuration. `varied` lists the keys a grid varies; those
 * outside NAME_KEYS are appended in the order given.
 */
export function experimentName(c: FinetuneConfig, varied: readonly string[] = []): string {
  const parts = [
    `c${nameFloat(c.combined_mode_alpha)}`,
    `${c.freeze_item_emb ? 'frozen' : 'unfrozen'}_itememb`,
    `selection_${c.candidate_selection}`,
    `k${c.k_candidates}`,
    `lr${nameFloat(c.learning_rate)}`,
  ];
  // Our extension keys join the name whenever they leave their default (the reference has no
  // such key, so its names stay as they are): two runs that differ only there must not collide.
  const extra = EXTENSION_KEYS.filter(
    (k) => (c as Record<string, unknown>)[k] !== DEFAULT_FINETUNE_CONFIG[k] && !varied.includes(k),
  );
  for (const key of [...varied, ...extra]) {
    if ((NAME_KEYS as readonly string[]).includes(key)) continue;
    parts.push(`${key}${nameValue((c as Record<string, unknown>)[key])}`);
  }
  return parts.join('__');
}
