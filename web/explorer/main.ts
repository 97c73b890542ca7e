/**
 * The explorer page (served at / by `calitune serve`): the trade-off chart, whose points choose
 * CP's λ or a CaliTune epoch, and a user's three top-10 lists side by side. Bundled by esbuild
 * (scripts/build-web.mjs); talks only to the server it came from.
 */
import embed from 'vega-embed';

interface Point {
  kind: 'base' | 'cp' | 'epoch';
  ndcg: number;
  jsd: number;
  lambda?: number;
  experiment?: string;
  epoch?: number;
  front?: boolean;
}

interface ListView {
  name: string;
  model: string;
  items: { item: string; title?: string; group: number; heldOut: boolean }[];
  ndcg: number;
  jsd: number;
  composition: number[];
}

interface UserView {
  user: string;
  userGroup: string;
  groupNames: string[];
  history: number[];
  target: number[];
  lists: ListView[];
  rbo: { pair: string; value: number }[];
}

const GROUP_COLOURS = ['#d62728', '#ff7f0e', '#1f77b4'];
const state: { lambda: number; experiment?: string; epoch?: number; user?: string } = { lambda: 0.5 };

function el(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no #${id}`);
  return e;
}

function pointLabel(p: Point): string {
  if (p.kind === 'base') return 'backbone';
  if (p.kind === 'cp') return `CP λ ${p.lambda}`;
  return `${p.experiment} epoch ${p.epoch}${p.front ? ' (front)' : ''}`;
}

function status(text: string): void {
  el('status').textContent = text;
}

/** Chooses what the lists show from a chart point; the backbone point changes nothing. */
function choose(p: Point): void {
  if (p.kind === 'cp' && p.lambda !== undefined) state.lambda = p.lambda;
  if (p.kind === 'epoch' && p.experiment !== undefined && p.epoch !== undefined) {
    state.experiment = p.experiment;
    state.epoch = p.epoch;
  }
  void refresh();
}

function frontLabel(p: Point): string {
  if (p.kind !== 'epoch') return 'not an epoch';
  return p.front ? 'on the validation front' : 'off the front';
}

async function drawChart(points: Point[]): Promise<void> {
  const values = points.map((p, i) => ({
    ...p,
    i,
    label: pointLabel(p),
    series: p.kind === 'epoch' ? `CaliTune ${p.experiment}` : p.kind === 'cp' ? 'CP' : 'backbone',
    marker: frontLabel(p),
  }));
  const x = {
    field: 'jsd',
    type: 'quantitative',
    title: 'JSD@10 (lower is better calibrated)',
    scale: { zero: false },
  } as const;
  const y = { field: 'ndcg', type: 'quantitative', title: 'NDCG@10', scale: { zero: false } } as const;
  const result = await embed(
    '#chart',
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 'container',
      height: 300,
      data: { values },
      layer: [
        {
          // CP's curve: the backbone (λ 0) and CP's points in order of JSD.
          transform: [{ filter: "datum.kind !== 'epoch'" }],
          mark: { type: 'line', color: '#999', strokeDash: [4, 3] },
          encoding: { x, y, order: { field: 'jsd', type: 'quantitative' } },
        },
        {
          mark: { type: 'point', filled: true, size: 80, cursor: 'pointer' },
          encoding: {
            x,
            y,
            color: { field: 'series', type: 'nominal', title: 'series' },
            shape: { field: 'marker', type: 'nominal', title: 'epochs' },
            tooltip: [{ field: 'label' }, { field: 'ndcg', format: '.4f' }, { field: 'jsd', format: '.4f' }],
          },
        },
      ],
    },
    { renderer: 'svg', actions: false },
  );
  result.view.addEventListener('click', (_event, item) => {
    const hit = item as { mark?: { marktype?: string }; datum?: { i?: number } } | null | undefined;
    if (hit?.mark?.marktype === 'symbol' && hit.datum?.i !== undefined) choose(points[hit.datum.i]!);
  });
}

function fillPointSelect(points: Point[]): void {
  const select = el('point') as HTMLSelectElement;
  select.replaceChildren(
    ...points.map((p, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = `${pointLabel(p)}: NDCG ${p.ndcg.toFixed(4)}, JSD ${p.jsd.toFixed(4)}`;
      return o;
    }),
  );
  select.addEventListener('change', () => choose(points[Number(select.value)]!));
}

function bar(shares: number[], names: string[]): HTMLElement {
  const b = document.createElement('div');
  b.className = 'bar';
  b.setAttribute('role', 'img');
  b.setAttribute('aria-label', shares.map((s, g) => `${names[g]} ${(s * 100).toFixed(0)}%`).join(', '));
  shares.forEach((s, g) => {
    const part = document.createElement('span');
    part.style.width = `${s * 100}%`;
    part.style.background = GROUP_COLOURS[g] ?? '#999';
    b.append(part);
  });
  return b;
}

function renderList(l: ListView, names: string[]): HTMLElement {
  const box = document.createElement('div');
  box.className = 'list';
  box.dataset.list = l.name;
  const h = document.createElement('h3');
  h.textContent = l.name;
  const metrics = document.createElement('p');
  metrics.className = 'muted';
  metrics.textContent = `NDCG@10 ${l.ndcg.toFixed(4)} · JSD@10 ${l.jsd.toFixed(4)}`;
  const ol = document.createElement('ol');
  for (const it of l.items) {
    const li = document.createElement('li');
    li.dataset.item = it.item;
    const sw = document.createElement('span');
    sw.className = `swatch g${it.group}`;
    sw.title = names[it.group - 1] ?? '';
    li.append(sw, `${it.title ?? it.item}${it.title ? ` (${it.item})` : ''}`);
    if (it.heldOut) {
      li.classList.add('held');
      li.append(' ★ held-out');
    }
    ol.append(li);
  }
  box.append(h, metrics, bar(l.composition, names), ol);
  return box;
}

function render(v: UserView): void {
  const summary = el('user-summary');
  const title = document.createElement('h2');
  title.textContent = `User ${v.user} (${v.userGroup})`;
  const hist = document.createElement('p');
  hist.textContent = `History: ${v.history.map((s, g) => `${v.groupNames[g]} ${(s * 100).toFixed(0)}%`).join(', ')}`;
  const target = document.createElement('p');
  target.textContent = `Target: ${v.target.map((s, g) => `${v.groupNames[g]} ${(s * 100).toFixed(0)}%`).join(', ')}`;
  summary.replaceChildren(title, hist, bar(v.history, v.groupNames), target, bar(v.target, v.groupNames));
  el('lists').replaceChildren(...v.lists.map((l) => renderList(l, v.groupNames)));
  el('rbo').textContent = v.rbo.map((r) => `RBO ${r.pair}: ${r.value.toFixed(3)}`).join(' · ');
}

async function refresh(): Promise<void> {
  if (state.user === undefined) return;
  const q = new URLSearchParams({ user: state.user, lambda: String(state.lambda) });
  if (state.experiment !== undefined) q.set('experiment', state.experiment);
  if (state.epoch !== undefined) q.set('epoch', String(state.epoch));
  status('loading…');
  const r = await fetch(`/explorer/user?${q}`);
  const body = (await r.json()) as UserView & { error?: string };
  if (!r.ok) return status(body.error ?? `error ${r.status}`);
  render(body);
  status(`showing user ${body.user}`);
}

async function main(): Promise<void> {
  const { points } = (await (await fetch('/explorer/tradeoff')).json()) as { points: Point[] };
  const first = points.find((p) => p.kind === 'epoch' && p.front) ?? points.find((p) => p.kind === 'epoch');
  if (first) {
    state.experiment = first.experiment;
    state.epoch = first.epoch;
  }
  fillPointSelect(points);
  el('user-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.user = (el('user') as HTMLInputElement).value.trim();
    void refresh();
  });
  el('random').addEventListener('click', async () => {
    const group = (el('group') as HTMLSelectElement).value;
    const r = (await (await fetch(`/explorer/random?group=${group}`)).json()) as { user: string };
    (el('user') as HTMLInputElement).value = r.user;
    state.user = r.user;
    await refresh();
  });
  await drawChart(points);
  document.body.dataset.ready = 'true';
}

void main();
