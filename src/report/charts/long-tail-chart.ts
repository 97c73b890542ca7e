/** The item-popularity chart: the long tail of popularity and the popularity groups' boundaries. */
import type { LongTail } from '../data.js';
import { BASE_CONFIG, POP_COLOURS, VEGA_LITE_SCHEMA, type ChartDef } from './spec-common.js';

/** Legend text per popularity group: its ranks, item count and share of the interactions. */
function groupLabels(lt: LongTail): string[] {
  const out: string[] = [];
  let prev = 0;
  for (let g = 0; g < lt.groupNames.length; g++) {
    const b = lt.boundaries[g]!;
    const share = (100 * lt.massShare[g]!).toFixed(1);
    out.push(`${lt.groupNames[g]}: ranks ${prev + 1}–${b} (${b - prev} items, ${share}% of interactions)`);
    prev = b;
  }
  return out;
}

/**
 * The bars of the items are drawn as one step area per group: a point where the count changes
 * (runs of equal counts collapse), closed at the group's last rank. Same picture, a few hundred
 * points instead of one rectangle per item. Then one row per boundary between two groups.
 */
function longTailRows(lt: LongTail, glabel: string[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  let seg = -1;
  for (let r = 0; r < lt.counts.length; r++) {
    const c = lt.counts[r]!,
      g = lt.groups[r]!;
    const group = glabel[g] ?? `group ${g + 1}`;
    const newSeg = r === 0 || g !== lt.groups[r - 1];
    if (newSeg) seg++;
    if (newSeg || c !== lt.counts[r - 1]) rows.push({ kind: 'step', seg, r0: r, count: c, group });
    const lastOfGroup = r === lt.counts.length - 1 || lt.groups[r + 1] !== g;
    if (lastOfGroup) rows.push({ kind: 'step', seg, r0: r + 1, count: c, group });
  }
  for (let g = 0; g < lt.groupNames.length - 1; g++) {
    const text = `${lt.groupNames[g]} | ${lt.groupNames[g + 1]} (after rank ${lt.boundaries[g]})`;
    rows.push({ kind: 'boundary', rank: lt.boundaries[g]!, text });
  }
  return rows;
}

/** The long tail of item popularity by rank, with the popularity groups' boundaries. */
export function longTailChart(lt: LongTail): ChartDef {
  const glabel = groupLabels(lt);
  const rows = longTailRows(lt, glabel);
  const max = Math.max(1, ...lt.counts);
  const x = {
    type: 'quantitative',
    title: `item rank by popularity (1 = most popular; ${lt.counts.length} items)`,
    scale: { domain: [0, lt.counts.length], nice: false },
  };
  const colour = {
    field: 'group',
    type: 'nominal',
    title: 'popularity group',
    scale: { domain: glabel, range: POP_COLOURS.slice(0, lt.groupNames.length) },
    legend: {
      orient: 'top-right',
      direction: 'vertical',
      labelLimit: 0,
      fillColor: 'white',
      strokeColor: '#ccc',
      padding: 6,
    },
  };
  const y = {
    field: 'count',
    type: 'quantitative',
    title: 'popularity (distinct users)',
    scale: { domain: [0, max] },
    stack: null,
  };
  const boundaries = { filter: "datum.kind === 'boundary'" };
  const counted = lt.source === 'all' ? 'train + valid + test, as the reference' : 'the train split';
  return {
    id: 'long_tail',
    title: 'Item popularity: the long tail and the popularity groups',
    caption:
      `Each item's popularity (number of distinct users, counted on ${counted}), most popular first. ` +
      'Dashed lines: the group boundaries (head = the most popular items holding 20% of all interactions, ' +
      'tail = the least popular holding the last 20%).',
    interactive: true,
    spec: {
      $schema: VEGA_LITE_SCHEMA,
      width: 640,
      height: 300,
      data: { values: rows },
      layer: [
        {
          transform: [{ filter: "datum.kind === 'step'" }],
          mark: { type: 'area', interpolate: 'step-after', line: false },
          encoding: {
            x: { ...x, field: 'r0' },
            y,
            color: colour,
            detail: { field: 'seg', type: 'nominal' },
            tooltip: [{ field: 'group', title: 'popularity group' }],
          },
        },
        {
          transform: [boundaries],
          mark: { type: 'rule', color: '#000', strokeDash: [5, 3], strokeWidth: 1.4 },
          encoding: { x: { ...x, field: 'rank' }, tooltip: [{ field: 'text', title: 'boundary' }] },
        },
        {
          transform: [boundaries],
          mark: { type: 'text', fontSize: 10, align: 'left', dx: 4, baseline: 'top', color: '#000', angle: 0 },
          encoding: {
            x: { ...x, field: 'rank' },
            y: { datum: max * 0.55, type: 'quantitative' },
            text: { field: 'rank' },
          },
        },
      ],
      config: BASE_CONFIG,
    },
  };
}
