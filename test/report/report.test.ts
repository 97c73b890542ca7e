/**
 * `calitune report` / writeReport: the charts are drawn from a real (small) run,
 * the PNG exports are not blank, bad input is handled (no experiments, NaN in a results file,
 * unwritable output folder), and the helpers (CP interpolation, box statistics, Pareto front,
 * PNG decoder, lenient JSON) give known answers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { buildFixture, cli, gridCopy, GRID_NAMES, type Fixture } from './fixture.js';
import { writeReport } from '../../src/report/report.js';
import {
  listExperiments,
  loadReportData,
  parseJsonLenient,
  validationParetoFront,
  type ExperimentData,
} from '../../src/report/data.js';
import { MAX_PATH_POINTS, thinEpochs } from '../../src/report/charts/tradeoff-rows.js';
import { niceDomain, placeLabels } from '../../src/report/charts/label-geometry.js';
import { boxStats } from '../../src/report/box-stats.js';
import { experimentLabels, parseExperimentName } from '../../src/report/labels.js';
import { cpAtJsd, cpCurve } from '../../src/selection/cp-curve.js';
import { compactSvg, countSvgMarks, renderChart } from '../../src/report/render.js';
import { decodePng, pngInk } from '../../src/report/png.js';
import { UserError } from '../../src/util/errors.js';
import { runUnderTrainedWarning } from '../../src/store/backbone-convergence.js';

let fx: Fixture;
before(async () => {
  fx = await buildFixture();
});
after(() => fx?.cleanup());

test('writeReport on a run with one experiment: every chart drawn, PNGs not blank, page self-contained', async () => {
  const out = join(fx.tmp, 'report-full');
  const r = await writeReport(fx.run, out, { pngScale: 1 });
  assert.equal(r.index, join(out, 'index.html'));
  assert.deepEqual(r.missing, []);
  assert.deepEqual(r.warnings, []);
  const ids = r.chartInfo.map((c) => c.id).sort();
  assert.deepEqual(ids, ['backbone_curve', 'finetune_curves', 'long_tail', 'rbo_a', 'tradeoff', 'tradeoff_groups']);
  for (const c of r.chartInfo) {
    assert.ok(c.markElements > 0 && c.markGroups > 0, `${c.id} drew no marks`);
    assert.ok(existsSync(c.svg) && existsSync(c.spec), c.id);
    const png = decodePng(readFileSync(c.png!), c.png);
    const ink = pngInk(png);
    assert.ok(png.width > 250 && png.height > 150, `${c.id}: ${png.width}×${png.height}`);
    assert.ok(ink.distinctColours > 8 && ink.share > 0.01, `${c.id} PNG looks blank: ${JSON.stringify(ink)}`);
  }
  assert.equal(r.charts.length, 12); // 6 × (svg + png)
  // the trade-off chart: backbone cross, 3 CP points, 5 epochs of 'a'
  const spec = JSON.parse(readFileSync(join(out, 'charts', 'tradeoff.vl.json'), 'utf8')) as {
    data: { values: { layer: string; epoch?: number }[] };
  };
  const byLayer = (l: string) => spec.data.values.filter((v) => v.layer === l);
  assert.equal(byLayer('base').length, 1);
  assert.equal(byLayer('cp').length, 3);
  assert.deepEqual(
    byLayer('path').map((v) => v.epoch),
    [1, 2, 3, 4, 5],
  );
  assert.ok(byLayer('front').length >= 1);
  const html = readFileSync(r.index, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=/i, 'no external scripts');
  assert.doesNotMatch(html, /<link[^>]+href=/i, 'no external style sheets');
  assert.match(html, /<svg/);
  assert.match(html, /Metric definitions/);
  assert.match(html, /Percentage of users for which metrics were improved/);
  assert.match(html, /Percentage of users for which the number of popular \(head\) items was decreased/);
  assert.equal((html.match(/data-chart="/g) ?? []).length, 6);
  // every user as a dot: the RBO chart is static SVG only; the others get an interactive view
  assert.deepEqual(
    r.chartInfo.filter((c) => !c.interactive).map((c) => c.id),
    ['rbo_a'],
  );
  assert.equal((html.match(/<script type="application\/json" id="spec-/g) ?? []).length, 5);
  assert.doesNotMatch(html, /id="spec-rbo_a"/);
  assert.match(html, /data-chart="rbo_a" data-mode="static"/);
  // the long tail: one step area per popularity group, not a rectangle per item
  const lt = JSON.parse(readFileSync(join(out, 'charts', 'long_tail.vl.json'), 'utf8')) as {
    data: { values: { kind: string }[] };
    layer: { mark: { type: string } }[];
  };
  assert.equal(lt.layer[0]!.mark.type, 'area');
  const steps = lt.data.values.filter((v) => v.kind === 'step').length;
  assert.ok(steps <= 119 + 3, 'at most one point per item (+ closing points)');
  // 3 group areas, 2 boundary rules, 2 labels
  assert.equal(r.chartInfo.find((c) => c.id === 'long_tail')!.markElements, 3 + 2 + 2);
  const rj = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    findings: { sentences: string[] };
    comparisons: Record<string, unknown>;
  };
  // The fixture's backbone trains a few epochs and stops at its cap still improving: the
  // findings open with the under-trained warning (src/train/convergence.ts).
  assert.ok(runUnderTrainedWarning(fx.run));
  assert.equal(rj.findings.sentences.length, 2);
  assert.match(
    rj.findings.sentences[0]!,
    /^Warning: the bpr backbone of .* hit its epoch cap \(6\) while still improving/,
  );
  assert.ok('a' in rj.comparisons);
});

test('a run with no experiments: the report shows what exists and says what is missing', async () => {
  const out = join(fx.tmp, 'report-bare');
  const r = await cli(['report', '--run', fx.bare, '--out', out, '--no-png']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /missing: no CaliTune experiments/);
  assert.match(r.err, /missing: no evaluated results/);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /id="missing"/);
  assert.match(html, /no CaliTune experiments/);
  assert.match(html, /data-chart="long_tail"/);
  assert.match(html, /data-chart="backbone_curve"/);
  assert.doesNotMatch(html, /data-chart="tradeoff"/);
  assert.match(html, /<dt>results files<\/dt><dd>none<\/dd>/);
  assert.ok(!existsSync(join(out, 'charts', 'long_tail.png')), '--no-png');
  assert.deepEqual(listExperiments(fx.bare), []);
});

test('a results file with NaN values: read, drawn as a gap, reported', async () => {
  const run = join(fx.tmp, 'nan-run');
  cpSync(fx.run, run, { recursive: true });
  const p = join(run, 'results', 'a.json');
  const j = JSON.parse(readFileSync(p, 'utf8')) as {
    finetuned: Record<string, Record<string, number>>;
    postprocessed: Record<string, Record<string, number>>;
  };
  // Python's json writes bare NaN tokens
  const text = JSON.stringify(j, null, 1)
    .replace(/("epoch_3": \{\s*"ndcg": )[-0-9.e]+/, '$1NaN')
    .replace(/("0.5": \{\s*"ndcg": )[-0-9.e]+/, '$1NaN');
  assert.equal((text.match(/NaN/g) ?? []).length, 2, 'the fixture has the NaNs');
  writeFileSync(p, text);
  const d = loadReportData(run);
  assert.equal(d.experiments[0]!.epochs.find((e) => e.epoch === 3)!.m.ndcg, null);
  assert.equal(d.cp.find((c) => c.lambda === '0.5')!.m.ndcg, null);
  const out = join(fx.tmp, 'report-nan');
  const r = await writeReport(run, out, { png: false });
  assert.ok(
    r.warnings.some((w) => /NaN\/Infinity value\(s\)/.test(w)),
    r.warnings.join('\n'),
  );
  assert.ok(
    r.warnings.some((w) => /finetuned\.epoch_3\.ndcg/.test(w) && /gaps/.test(w)),
    r.warnings.join('\n'),
  );
  const spec = JSON.parse(readFileSync(join(out, 'charts', 'tradeoff.vl.json'), 'utf8')) as {
    data: { values: { layer: string; epoch?: number; ndcg: number | null }[] };
    layer: { mark: { invalid?: string } }[];
  };
  assert.equal(spec.data.values.find((v) => v.layer === 'path' && v.epoch === 3)!.ndcg, null);
  assert.equal(spec.layer[1]!.mark.invalid, 'break-paths-filter-domains');
  // the path is broken in two around epoch 3: the SVG has two line segments for experiment 'a'
  const svg = readFileSync(join(out, 'charts', 'tradeoff.svg'), 'utf8');
  assert.ok(r.chartInfo.find((c) => c.id === 'tradeoff')!.markElements > 0);
  assert.match(readFileSync(r.index, 'utf8'), /id="warnings"/);
  // CP (NaN at λ 0.5) and the path of 'a' (NaN at epoch 3) are each broken into two segments
  const lines = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*><path[^>]* d="([^"]+)"/g)].map(
    (m) => (m[1]!.match(/M/g) ?? []).length,
  );
  assert.deepEqual(lines.slice(0, 2), [2, 2], `segments per line: ${lines.join(', ')}`);
  const cliR = await cli(['report', '--run', run, '--out', join(fx.tmp, 'report-nan2'), '--no-png']);
  assert.equal(cliR.code, 0, cliR.err);
  assert.match(cliR.err, /warning: .*NaN/);
});

test('a path with a missing value is drawn with a gap (two line segments)', async () => {
  const spec = {
    width: 200,
    height: 100,
    data: {
      values: [
        { x: 1, y: 1 },
        { x: 2, y: 2 },
        { x: 3, y: null },
        { x: 4, y: 1 },
        { x: 5, y: 2 },
      ],
    },
    mark: { type: 'line', invalid: 'break-paths-filter-domains' },
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  };
  const r = await renderChart(spec);
  const m = /<g class="mark-line role-mark[^"]*"[^>]*><path[^>]* d="([^"]+)"/.exec(r.svg);
  assert.ok(m, 'line path drawn');
  assert.equal((m[1]!.match(/M/g) ?? []).length, 2, `expected two segments: ${m[1]}`);
});

test('an unwritable output folder is a clear error with exit code 2', async () => {
  const file = join(fx.tmp, 'a-file');
  writeFileSync(file, 'x');
  const r = await cli(['report', '--run', fx.run, '--out', join(file, 'report')]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /cannot write the report to .*a-file\/report: .*(not a folder|ENOTDIR)/);
  const r2 = await cli(['report', '--run', fx.run, '--out', file]);
  assert.equal(r2.code, 2);
  assert.match(r2.err, /it is a file, not a folder/);
  await assert.rejects(writeReport(fx.run, join(file, 'x')), UserError);
  if (process.getuid?.() !== 0) {
    const ro = join(fx.tmp, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    try {
      const r3 = await cli(['report', '--run', fx.run, '--out', join(ro, 'report')]);
      assert.equal(r3.code, 2);
      assert.match(r3.err, /permission denied/);
    } finally {
      chmodSync(ro, 0o700);
    }
  }
});

test('bad usage: no --run, a folder that is not a run', async () => {
  assert.equal((await cli(['report'])).code, 2);
  const r = await cli(['report', '--run', join(fx.tmp, 'nope')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /does not exist/);
  mkdirSync(join(fx.tmp, 'empty-dir'), { recursive: true });
  const r2 = await cli(['report', '--run', join(fx.tmp, 'empty-dir')]);
  assert.equal(r2.code, 2);
  assert.match(r2.err, /not a run directory/);
});

test('parseJsonLenient: NaN / Infinity tokens become null, strings untouched', () => {
  const r = parseJsonLenient('{"a": NaN, "b": [1, -Infinity, Infinity], "s": "NaN inside", "t": "x\\"NaN"}');
  assert.deepEqual(r.value, { a: null, b: [1, null, null], s: 'NaN inside', t: 'x"NaN' });
  assert.equal(r.replaced, 3);
  assert.equal(parseJsonLenient('{"a": 1}').replaced, 0);
  assert.throws(() => parseJsonLenient('{"a": }'));
});

test("report findings use the selection module's CP rule (backbone = λ 0; above the backbone compares with it)", () => {
  const curve = cpCurve({ jsd: 0.24, ndcg: 0.28 }, [
    { lambda: 0.1, jsd: 0.2, ndcg: 0.27 },
    { lambda: 0.5, jsd: 0.1, ndcg: 0.25 },
    { lambda: 0.9, jsd: 0.05, ndcg: 0.2 },
  ]);
  assert.ok(Math.abs(cpAtJsd(curve, 0.15).ndcg! - 0.26) < 1e-12);
  assert.ok(Math.abs(cpAtJsd(curve, 0.22).ndcg! - 0.275) < 1e-12);
  assert.deepEqual(cpAtJsd(curve, 0.01), { ndcg: null, where: 'beyond' });
  assert.deepEqual(cpAtJsd(curve, 0.3), { ndcg: 0.28, where: 'above' });
});

test('boxStats: quartiles (linear interpolation) and Tukey whiskers', () => {
  const b = boxStats([1, 2, 3, 4, 5, 6, 7, 8, 9, 100, NaN])!;
  assert.equal(b.n, 10);
  assert.equal(b.median, 5.5);
  assert.equal(b.q1, 3.25);
  assert.equal(b.q3, 7.75);
  assert.equal(b.lo, 1);
  assert.equal(b.hi, 9); // 100 is an outlier
  assert.equal(b.mean, 14.5); // (45 + 100) / 10
  // a low outlier: quartiles at positions 1 and 3 (10, 12), IQR 2, whiskers within [7, 15]
  assert.deepEqual(boxStats([12, -50, 13, 10, 11]), { n: 5, q1: 10, median: 11, q3: 12, lo: 10, hi: 13, mean: -0.8 });
  assert.equal(boxStats([NaN]), null);
});

test('validationParetoFront: non-dominated epochs on valid NDCG (max) and JSD (min), evaluated epochs only', () => {
  const mk = (name: string, pts: [number, number, number][], evaluated: number[]): ExperimentData => ({
    name,
    hasDir: true,
    selected: {},
    log: pts.map(([epoch, v, j]) => ({ epoch, validNdcg: v, jsd: j, tradeoff: null })),
    epochs: evaluated.map((epoch) => ({ epoch, m: { ndcg: 0, jsd: 0, ndcgGroup: [], jsdGroup: [] } })),
  });
  const front = validationParetoFront([
    mk(
      'a',
      [
        [0, 0.3, 0.3],
        [1, 0.29, 0.2],
        [2, 0.25, 0.25],
        [3, 0.2, 0.1],
      ],
      [1, 2, 3],
    ),
    mk(
      'b',
      [
        [1, 0.28, 0.15],
        [2, 0.28, 0.15],
      ],
      [1, 2],
    ),
  ]);
  // epoch 0 of 'a' is not evaluated; a/2 is dominated by b/1; b/2 duplicates b/1
  assert.deepEqual(
    front.map((f) => `${f.experiment}/${f.epoch}`),
    ['a/3', 'b/1', 'a/1'],
  );
});

test('countSvgMarks and decodePng on a known picture', async () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">' +
    '<rect width="20" height="10" fill="#ffffff"/><rect x="10" width="10" height="10" fill="#ff0000"/></svg>';
  const png = decodePng(new Resvg(svg).render().asPng());
  assert.equal(png.width, 20);
  assert.equal(png.height, 10);
  const px = (x: number, y: number) => Array.from(png.rgba.subarray(4 * (y * 20 + x), 4 * (y * 20 + x) + 4));
  assert.deepEqual(px(2, 5), [255, 255, 255, 255]);
  assert.deepEqual(px(15, 5), [255, 0, 0, 255]);
  assert.equal(pngInk(png).share, 0.5);
  const blankSvg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">' + '<rect width="8" height="8" fill="#fff"/></svg>';
  const blank = decodePng(new Resvg(blankSvg).render().asPng());
  assert.equal(pngInk(blank).nonBackground, 0);
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3])), /not a PNG/);
  const marks =
    '<g class="mark-symbol role-mark x"><path d="M0"/><path d="M1"/></g>' +
    '<g class="mark-rule role-axis-tick"><line/></g><g class="mark-line role-mark y"></g>';
  assert.deepEqual(countSvgMarks(marks), { groups: 1, elements: 2 });
  // an empty mark group written self-closed does not count the next group's elements
  const selfClosed = '<g class="mark-text role-mark a"/><g class="mark-text role-mark b"><text>x</text></g>';
  assert.deepEqual(countSvgMarks(selfClosed), { groups: 1, elements: 1 });
});

test('grid-named experiments: short labels, full names in tooltips, per-user dots for front experiments', async () => {
  const run = gridCopy(fx.run, join(fx.tmp, 'grid-run'));
  const out = join(fx.tmp, 'report-grid');
  const r = await writeReport(run, out, { png: false });
  assert.deepEqual(r.missing, []);
  // every chart fits the page's column in a 1400 px window (1400 − 2 × 24 px padding) without being scaled
  // down: the per-group chart's legend sits below its panels
  for (const c of r.chartInfo) {
    const width = Number(/<svg[^>]* width="([\d.]+)"/.exec(readFileSync(c.svg, 'utf8'))?.[1]);
    assert.ok(width > 300 && width <= 1352, `${c.id}: ${width} px wide`);
  }
  const spec = JSON.parse(readFileSync(join(out, 'charts', 'tradeoff.vl.json'), 'utf8')) as {
    data: { values: { layer: string; ei?: number; epoch?: number }[] };
    transform: { lookup: string; from: { data: { values: { ei: number; experiment: string; elabel: string }[] } } }[];
    layer: { encoding?: { color?: { scale: { domain: string[] }; title: string[] } } }[];
  };
  // 'a' does not follow the pattern: shown as is; the grid names lose what they all share
  const lookup = spec.transform[0]!.from.data.values;
  assert.deepEqual(
    lookup.map((v) => v.experiment),
    ['a', ...GRID_NAMES],
  );
  assert.deepEqual(
    lookup.map((v) => v.elabel),
    ['a', 'α 0.5 · frozen', 'α 0.5 · unfrozen', 'α 1.0 · frozen', 'α 1.0 · unfrozen'],
  );
  const colour = spec.layer[1]!.encoding!.color!;
  assert.deepEqual(
    colour.scale.domain,
    lookup.map((v) => v.elabel),
  );
  assert.deepEqual(colour.title, ['CaliTune experiment', '(grid names: sel. relevance · k 50 · lr 0.0001)']);
  // one end label per experiment; rows carry an index, not the long name
  assert.equal(spec.data.values.filter((v) => v.layer === 'label').length, 5);
  assert.ok(!JSON.stringify(spec.data.values).includes('__'), 'no long names repeated in the rows');
  const svg = readFileSync(join(out, 'charts', 'tradeoff.svg'), 'utf8');
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
  assert.ok(texts.includes('α 1.0 · unfrozen'), texts.join(' | '));
  assert.ok(!texts.some((t) => t.includes('__')), 'the drawn text uses the short labels');
  // the full names stay in the tables and the RBO captions
  const html = readFileSync(r.index, 'utf8');
  // the facts name every results file read: one per experiment, the backbone's and CP's source, the per-user tables
  const files = /<dt>results files<\/dt><dd>([^<]*)<\/dd>/.exec(html)?.[1] ?? '';
  assert.ok(files.startsWith(`in ${join(run, 'results')}: experiments: a.json, ${GRID_NAMES[0]}.json`), files);
  for (const n of ['a', ...GRID_NAMES]) {
    assert.ok(files.includes(`${n}.json`) && files.includes(`${n}_per_user.tsv`), `${n} in: ${files}`);
  }
  assert.match(files, /; backbone and CP: [^;]+\.json; per-user tables: a_per_user\.tsv, /);
  assert.match(html, /<dt>metrics reported on<\/dt><dd>the test split; epochs selected on validation<\/dd>/);
  for (const n of GRID_NAMES) assert.ok(html.includes(`${n} epoch`), `metrics table row for ${n}`);
  // identical copies: the validation front dedups identical points, so only the first of them is on it
  const rbo = r.chartInfo.filter((c) => c.id.startsWith('rbo_'));
  assert.equal(rbo.length, 5);
  const dotted = rbo.filter((c) => !c.interactive).map((c) => c.id);
  assert.deepEqual(dotted, ['rbo_a']);
  const full = rbo.find((c) => c.id === 'rbo_a')!.markElements;
  for (const c of rbo.filter((x) => x.interactive)) {
    const what = `${c.id}: ${c.markElements} marks vs ${full} with every user`;
    assert.ok(c.markElements > 0 && c.markElements < full / 3, what);
    assert.match(html, new RegExp(`id="spec-${c.id.replace(/\./g, '\\.')}"`));
  }
});

test('parseExperimentName / experimentLabels: grid names shortened, shared parts dropped, other names kept', () => {
  const texts = (name: string) => parseExperimentName(name)!.map((c) => c.text);
  assert.deepEqual(texts('c0.5__frozen_itememb__selection_relevance__k100__lr0.0001'), [
    'α 0.5',
    'frozen',
    'sel. relevance',
    'k 100',
    'lr 0.0001',
  ]);
  const long = 'c1e-05__unfrozen_itememb__selection_random__k50__lr1e-05__random_seed7__finetuning_modecombined';
  assert.deepEqual(texts(long), [
    'α 1e-05',
    'unfrozen',
    'sel. random',
    'k 50',
    'lr 1e-05',
    'random_seed 7',
    'finetuning_modecombined',
  ]);
  assert.equal(parseExperimentName('a'), undefined);
  assert.equal(parseExperimentName('c0.5__frozen__selection_relevance__k100__lr0.0001'), undefined);
  const names = [
    'c0.0__frozen_itememb__selection_relevance__k50__lr0.0001',
    'c0.5__unfrozen_itememb__selection_relevance__k100__lr0.0001',
    'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001',
  ];
  const l = experimentLabels(names);
  assert.deepEqual(l.labels, ['α 0.0 · frozen · k 50', 'α 0.5 · unfrozen · k 100', 'α 0.5 · frozen · k 50']);
  assert.equal(l.shared, 'sel. relevance · lr 0.0001');
  assert.equal(l.allParsed, true);
  // one grid name alone keeps all its parts; other names stay as they are
  assert.equal(experimentLabels([names[0]!]).labels[0], 'α 0.0 · frozen · sel. relevance · k 50 · lr 0.0001');
  assert.deepEqual(experimentLabels(['base-run', 'x']).labels, ['base-run', 'x']);
  // a short label equal to another experiment's plain name: both keep their full names
  const clash = experimentLabels([
    'c0.5__frozen_itememb__selection_relevance__k50__lr0.0001',
    'c1.0__frozen_itememb__selection_relevance__k50__lr0.0001',
    'α 0.5',
  ]);
  assert.deepEqual(clash.labels, ['c0.5__frozen_itememb__selection_relevance__k50__lr0.0001', 'α 1.0', 'α 0.5']);
});

test('placeLabels: crowded points get labels inside the plot without overlaps', () => {
  // 12 points within 30 px of each other, as the end points of a grid often are
  const pts = Array.from({ length: 12 }, (_, i) => ({ x: 300 + (i % 3) * 10, y: 200 + i * 2.5, width: 120 }));
  const placed = placeLabels(pts, 640, 420);
  for (const p of placed) {
    assert.ok(p.box.x0 >= 0 && p.box.x1 <= 640 && p.box.y0 >= 0 && p.box.y1 <= 420, JSON.stringify(p.box));
  }
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i]!.box,
        b = placed[j]!.box;
      const overlap = Math.min(a.x1, b.x1) > Math.max(a.x0, b.x0) && Math.min(a.y1, b.y1) > Math.max(a.y0, b.y0);
      assert.ok(!overlap, `labels ${i} and ${j} overlap`);
    }
  }
  assert.ok(
    placed.some((p) => p.leader),
    'displaced labels get a leader line',
  );
  // a lone point: right of it, no leader
  const [one] = placeLabels([{ x: 100, y: 100, width: 50 }], 640, 420);
  assert.deepEqual([one!.ax, one!.ay, one!.align, one!.leader], [108, 100, 'left', false]);
  // at the right edge the label goes to the left
  assert.equal(placeLabels([{ x: 630, y: 100, width: 50 }], 640, 420)[0]!.align, 'right');
});

test('thinEpochs, niceDomain, compactSvg', () => {
  const all = Array.from({ length: 500 }, (_, i) => i + 1);
  const kept = thinEpochs(all, new Set([123, 377]));
  assert.ok(kept.length <= MAX_PATH_POINTS + 3, String(kept.length));
  for (const e of [1, 123, 377, 500]) assert.ok(kept.includes(e), `epoch ${e} kept`);
  assert.deepEqual(
    kept,
    [...kept].sort((a, b) => a - b),
  );
  assert.deepEqual(thinEpochs([1, 2, 3], new Set()), [1, 2, 3]);
  assert.deepEqual(niceDomain(0.031, 0.239), [0, 0.25]);
  assert.deepEqual(niceDomain(0.1736, 0.2835), [0.16, 0.3]);
  const d = niceDomain(0.5, 0.5);
  assert.ok(d[0] < 0.5 && d[1] > 0.5);
  assert.equal(
    compactSvg(
      '<path transform="translate(94.12266666666666,342.18)" ' +
        'd="M0.3804994054696789,45.499999999999986h-0.0001v2Z" aria-label="lr 0.00012345"/>' +
        '<text x="1.23456">0.00012345</text>',
    ),
    '<path transform="translate(94.12,342.18)" d="M0.38,45.5h0v2Z" aria-label="lr 0.00012345"/>' +
      '<text x="1.23">0.00012345</text>',
  );
});
