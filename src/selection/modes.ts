/**
 * The epoch-selection modes, declared once. Every selection is made without test labels
 * (docs/numeric-contract.md §10): valid NDCG@k, and the JSD@k of the test-time lists against the
 * user targets ("test-list JSD"). `any` replays the reference's rule, the others pick the best epoch
 * by one metric.
 */
export const SELECTION_MODES = ['any', 'ndcg', 'pop_jsd', 'tradeoff'] as const;
/** How an epoch is selected on validation: the last to improve any metric, best NDCG, best JSD or best trade-off. */
export type SelectionMode = (typeof SELECTION_MODES)[number];

/** How each mode reads in tables and logs. */
export const SELECTION_MODE_LABELS: Readonly<Record<SelectionMode, string>> = {
  any: 'any (reference rule)',
  ndcg: 'best valid NDCG',
  pop_jsd: 'best test-list JSD',
  tradeoff: 'best trade-off',
};

/** Whether `x` is one of {@link SELECTION_MODES}. */
export function isSelectionMode(x: unknown): x is SelectionMode {
  return typeof x === 'string' && (SELECTION_MODES as readonly string[]).includes(x);
}

/** The mode a stored target metric names, else `any` (older files name none). */
export function selectionModeOr(target: unknown, fallback: SelectionMode = 'any'): SelectionMode {
  return isSelectionMode(target) ? target : fallback;
}
