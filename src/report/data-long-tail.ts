/** The item popularity long tail and its groups for the report, from RUN/prepare. */
import { hasPrepared, loadPrepared, preparePaths } from '../store/prepare-files.js';
import type { LongTail } from './data-types.js';

/**
 * Item popularity sorted most popular first with the popularity groups (docs/numeric-contract.md
 * §3); notes in `missing` when the run is not prepared, in `warnings` when RUN/prepare is unreadable.
 */
export function loadLongTail(run: string, missing: string[], warnings: string[]): LongTail | undefined {
  if (!hasPrepared(run)) {
    missing.push('no popularity groups: run the prepare step (long-tail chart, JSD and user groups need it)');
    return undefined;
  }
  try {
    const { summary, popularity: pop, itemGroup: grp } = loadPrepared(run);
    const items: number[] = [];
    for (let i = 1; i < pop.length; i++) items.push(i);
    // docs/numeric-contract.md §3: most popular first, ties lower id first
    items.sort((a, b) => Number(pop[b]) - Number(pop[a]) || a - b);
    const counts = items.map((i) => Number(pop[i]));
    const groups = items.map((i) => Number(grp[i]));
    const G = summary.n_groups;
    const boundaries: number[] = [];
    for (let g = 0; g < G; g++) {
      let last = -1;
      groups.forEach((x, r) => {
        if (x === g) last = r;
      });
      boundaries.push(last + 1);
    }
    const total = counts.reduce((s, x) => s + x, 0);
    const massShare = Array.from(
      { length: G },
      (_, g) => counts.reduce((s, x, r) => s + (groups[r] === g ? x : 0), 0) / (total || 1),
    );
    return {
      counts,
      groups,
      groupNames: summary.group_names,
      boundaries,
      massShare,
      source: summary.popularity_source,
    };
  } catch (e) {
    warnings.push(`cannot read the popularity groups in ${preparePaths(run).dir}: ${(e as Error).message}`);
    return undefined;
  }
}
