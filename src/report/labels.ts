/**
 * Short display labels for experiment names: the reference's grid names
 * (`c0.5__frozen_itememb__selection_relevance__k100__lr0.0001`, see
 * experiments/experiment-naming.ts) are split into their components, the components every
 * experiment of the report shares are dropped, and the rest is joined as
 * "α 0.5 · unfrozen · k 100". Names of any other pattern are shown as they are. Full names
 * stay in tooltips, tables and captions.
 */

export interface NameComponent {
  /** What the component sets ('alpha', 'frozen', 'selection', 'k', 'lr' or the grid key). */
  key: string;
  /** How it is shown. */
  text: string;
}

const NUM = String.raw`-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?`;

/**
 * The components of a reference-style name, or undefined when the name does not follow
 * `c{α}__{frozen|unfrozen}_itememb__selection_{s}__k{k}__lr{lr}[__key{value}…]`.
 */
export function parseExperimentName(name: string): NameComponent[] | undefined {
  const parts = name.split('__');
  if (parts.length < 5) return undefined;
  const [c, fr, sel, k, lr, ...rest] = parts as [string, string, string, string, string, ...string[]];
  const mc = new RegExp(`^c(${NUM})$`).exec(c);
  const mf = /^(frozen|unfrozen)_itememb$/.exec(fr);
  const ms = /^selection_(.+)$/.exec(sel);
  const mk = /^k(\d+)$/.exec(k);
  const ml = new RegExp(`^lr(${NUM})$`).exec(lr);
  if (!mc || !mf || !ms || !mk || !ml) return undefined;
  const out: NameComponent[] = [
    { key: 'alpha', text: `α ${mc[1]}` },
    { key: 'frozen', text: mf[1]! },
    { key: 'selection', text: `sel. ${ms[1]}` },
    { key: 'k', text: `k ${mk[1]}` },
    { key: 'lr', text: `lr ${ml[1]}` },
  ];
  for (const p of rest) {
    if (p === '') return undefined;
    // `key{value}` as experimentName appends it: split before a number / true / false
    const m = new RegExp(`^([A-Za-z_]*[A-Za-z])_?(${NUM}|true|false)$`).exec(p);
    out.push(m ? { key: m[1]!, text: `${m[1]} ${m[2]}` } : { key: p, text: p });
  }
  return out;
}

/** Short display labels of experiments and what all their names share. */
export interface ExperimentLabels {
  /** Display label per experiment name (unique over the given names). */
  label: (name: string) => string;
  /** The labels in the order of the names given. */
  labels: string[];
  /** The components every parsed name shares, as shown ("sel. relevance · lr 0.0001"); '' if none. */
  shared: string;
  /** Whether every name followed the grid pattern (so `shared` holds for all of them). */
  allParsed: boolean;
}

/** Separator between the parts of a display label. */
export const LABEL_SEPARATOR = ' · ';

/** Short labels for a set of experiment names (see the module comment). */
export function experimentLabels(names: readonly string[]): ExperimentLabels {
  const parsed = names.map((n) => parseExperimentName(n));
  const ok = parsed.filter((p): p is NameComponent[] => p !== undefined);
  const sharedKeys = new Set<string>();
  if (ok.length >= 2) {
    for (const c of ok[0]!) {
      if (ok.every((p) => p.some((x) => x.key === c.key && x.text === c.text)))
        sharedKeys.add(`${c.key}\u0000${c.text}`);
    }
  }
  const map = new Map<string, string>();
  names.forEach((n, i) => {
    const p = parsed[i];
    if (!p) {
      map.set(n, n);
      return;
    }
    const kept = p.filter((c) => !sharedKeys.has(`${c.key}\u0000${c.text}`));
    map.set(n, (kept.length ? kept : p).map((c) => c.text).join(LABEL_SEPARATOR));
  });
  // collisions (different names, same label: e.g. a parsed label equal to another experiment's
  // plain name): those experiments keep their full names
  const count = new Map<string, number>();
  for (const n of new Set(names)) count.set(map.get(n)!, (count.get(map.get(n)!) ?? 0) + 1);
  for (const n of names) if ((count.get(map.get(n)!) ?? 0) > 1) map.set(n, n);
  const shared =
    ok.length >= 2
      ? ok[0]!
          .filter((c) => sharedKeys.has(`${c.key}\u0000${c.text}`))
          .map((c) => c.text)
          .join(LABEL_SEPARATOR)
      : '';
  return {
    label: (n) => map.get(n) ?? n,
    labels: names.map((n) => map.get(n)!),
    shared,
    allParsed: ok.length === names.length,
  };
}
