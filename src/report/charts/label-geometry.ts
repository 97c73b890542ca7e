/**
 * Pixel geometry for the charts' labels and axes: "nice" axis domains, an estimate of text
 * widths, and a greedy placement of point labels that avoids overlaps (Vega-Lite has no
 * overlap avoidance for text).
 */

/** A "nice" axis domain around [lo, hi] (ends on multiples of a 1/2/5 step, ~6 ticks). */
export function niceDomain(lo: number, hi: number): [number, number] {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.05 || 0.01;
    return [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const fix = (x: number) => Math.round(x / step) * step;
  return [fix(Math.floor(lo / step) * step), fix(Math.ceil(hi / step) * step)];
}

/** Approximate width in pixels of bold DejaVu Sans at `size` px. */
export const textWidth = (s: string, size: number) => [...s].length * size * 0.56 + 2;

/** A label's bounding box in pixels. */
export interface LabelBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Where a point's label was placed, and whether it needs a leader line. */
export interface PlacedLabel {
  /** The text anchor (pixels from the plot's top left). */
  ax: number;
  ay: number;
  align: 'left' | 'right' | 'center';
  box: LabelBox;
  /** Whether the label sits away from its point and needs a leader line. */
  leader: boolean;
}

type Candidate = [dx: number, dy: number, align: PlacedLabel['align']];

/** Offsets tried in order: beside the point, above / below it, then further away (leader line). */
function candidateOffsets(): Candidate[] {
  const cands: Candidate[] = [
    [8, 0, 'left'],
    [-8, 0, 'right'],
    [8, -11, 'left'],
    [8, 11, 'left'],
    [-8, -11, 'right'],
    [-8, 11, 'right'],
    [0, -13, 'center'],
    [0, 13, 'center'],
  ];
  for (let s = 2; s <= 8; s++) {
    for (const sg of [-1, 1]) cands.push([14, sg * 11 * s, 'left'], [-14, sg * 11 * s, 'right']);
  }
  return cands;
}

function boxOverlap(a: LabelBox, b: LabelBox): number {
  const w = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const h = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  return w * h;
}

/**
 * Greedy label placement in pixels: each label tries positions right / left / above / below
 * its point, then further away with a leader line, and takes the first that stays inside the
 * W × H plot and overlaps no label placed before and no obstacle (the labelled points
 * themselves); else the one with the least overlap. Labels are placed top to bottom.
 */
export function placeLabels(
  points: { x: number; y: number; width: number }[],
  W: number,
  H: number,
  obstacles: LabelBox[] = [],
  height = 12,
): PlacedLabel[] {
  const cands = candidateOffsets();
  const placed: LabelBox[] = [];
  const out: PlacedLabel[] = new Array(points.length);
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.y - points[b]!.y || points[a]!.x - points[b]!.x);
  for (const i of order) {
    const p = points[i]!;
    let best: PlacedLabel | undefined,
      bestCost = Infinity;
    for (const [dx, dy, align] of cands) {
      const ax = p.x + dx,
        ay = p.y + dy;
      const x0 = align === 'left' ? ax : align === 'right' ? ax - p.width : ax - p.width / 2;
      const box = { x0, x1: x0 + p.width, y0: ay - height / 2, y1: ay + height / 2 };
      const outside = Math.max(0, -box.x0) + Math.max(0, box.x1 - W) + Math.max(0, -box.y0) + Math.max(0, box.y1 - H);
      let cost = outside * 1000;
      for (const b of placed) cost += boxOverlap(box, b) * 10;
      for (const b of obstacles) cost += boxOverlap(box, b);
      if (cost === 0) {
        best = { ax, ay, align, box, leader: Math.abs(dy) > 13 };
        break;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = { ax, ay, align, box, leader: Math.abs(dy) > 13 };
      }
    }
    placed.push(best!.box);
    out[i] = best!;
  }
  return out;
}
