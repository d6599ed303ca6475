// Quality vs speedup, one line per policy, from the shipped bench results (plain SVG).

import type { BenchLoad, BenchRow } from './bench-data.ts';

const SVG = 'http://www.w3.org/2000/svg';
const W = 360;
const H = 220;
const PAD = { left: 44, right: 12, top: 12, bottom: 34 };
/** A lossless run (PSNR = ∞) is drawn at this ceiling so it stays on the chart. */
const PSNR_CEILING = 70;

const COLORS: Record<string, string> = {
  none: '#6b7280', uniform: '#0ea5e9', teacache: '#f59e0b', magcache: '#a855f7',
  easycache: '#78716c', taylorseer: '#2563eb', 'taylorseer-2': '#1e3a8a',
  'ertacache-schedule': '#84cc16', 'ertacache-paper': '#d946ef', 'ertacache-schedule+dt': '#14b8a6', ertacache: '#ef4444',
  'ertacache-forecast': '#b91c1c', 'ertacache-forecast+rect': '#fb7185',
};

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The provider whose rows the chart shows: Node's numbers are the least noisy. */
export function pickProvider(rows: readonly BenchRow[]): string {
  const providers = [...new Set(rows.map((r) => r.provider))];
  return providers.find((p) => p.includes('node')) ?? providers[0] ?? 'unknown';
}

function message(text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'chart-empty';
  p.textContent = text;
  return p;
}

function axes(svg: SVGSVGElement, xMax: number, yMin: number, yMax: number): void {
  const x0 = PAD.left, y0 = H - PAD.bottom, x1 = W - PAD.right, y1 = PAD.top;
  svg.append(el('line', { x1: x0, y1: y0, x2: x1, y2: y0, class: 'axis' }));
  svg.append(el('line', { x1: x0, y1: y0, x2: x0, y2: y1, class: 'axis' }));
  for (let k = 0; k <= 4; k++) {
    const xv = 1 + ((xMax - 1) * k) / 4;
    const yv = yMin + ((yMax - yMin) * k) / 4;
    const xt = el('text', { x: x0 + ((x1 - x0) * k) / 4, y: y0 + 14, class: 'tick', 'text-anchor': 'middle' });
    xt.textContent = `${xv.toFixed(1)}×`;
    const yt = el('text', { x: x0 - 6, y: y0 - ((y0 - y1) * k) / 4 + 4, class: 'tick', 'text-anchor': 'end' });
    yt.textContent = yv.toFixed(0);
    svg.append(xt, yt);
  }
  const xl = el('text', { x: (x0 + x1) / 2, y: H - 4, class: 'label', 'text-anchor': 'middle' });
  xl.textContent = 'wall-clock speedup vs no cache';
  const yl = el('text', { x: 12, y: (y0 + y1) / 2, class: 'label', 'text-anchor': 'middle', transform: `rotate(-90 12 ${(y0 + y1) / 2})` });
  yl.textContent = 'PSNR (dB)';
  svg.append(xl, yl);
}

/** While no model is loaded: the chart is the loaded model's, so there is none to show yet. */
export function renderBenchPending(): HTMLElement {
  return message('The benchmark of the loaded model appears here once a model has loaded.');
}

/** Render the chart (or a clear empty state) into a fresh element. */
export function renderBenchChart(load: BenchLoad): HTMLElement {
  if (load.state === 'missing') {
    const has = load.bundled.length > 0 ? `results for ${load.bundled.join(' and ')}` : 'no bench results';
    return message(`No bench results for ${load.model} in this build — the demo bundles ${has}; `
      + '`npm run bench -- --model <dir> --json` measures a model.');
  }
  if (load.state === 'invalid') return message(`Bench results could not be read: ${load.reason}.`);
  const provider = pickProvider(load.rows);
  const rows = load.rows.filter((r) => r.provider === provider && r.psnr !== null);
  if (rows.length === 0) return message(`Bench results for ${provider} have no PSNR values.`);
  const y = (r: BenchRow) => Math.min(PSNR_CEILING, r.psnr!);
  // Four tick intervals of round sizes: 0.5× (or 1×…) on x, 5 dB multiples on y.
  const xMax = 1 + Math.max(1, Math.ceil((Math.max(...rows.map((r) => r.speedup)) - 1) / 2) * 2);
  const yMin = Math.floor(Math.min(...rows.map(y)) / 5) * 5;
  const yMax = yMin + Math.max(20, Math.ceil((Math.max(...rows.map(y)) - yMin) / 20) * 20);
  const px = (v: number) => PAD.left + ((v - 1) / (xMax - 1)) * (W - PAD.left - PAD.right);
  const py = (v: number) => H - PAD.bottom - ((v - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);

  const figure = document.createElement('figure');
  figure.className = 'bench-chart';
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `PSNR against speedup per policy (${load.model !== undefined ? `${load.model}, ` : ''}${provider})` });
  axes(svg, xMax, yMin, yMax);
  const legend = document.createElement('ul');
  legend.className = 'legend';
  for (const policy of [...new Set(rows.map((r) => r.policy))]) {
    const pts = rows.filter((r) => r.policy === policy).sort((a, b) => a.speedup - b.speedup);
    const color = COLORS[policy] ?? '#334155';
    svg.append(el('polyline', {
      points: pts.map((r) => `${px(r.speedup)},${py(y(r))}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2,
    }));
    for (const r of pts) {
      const dot = el('circle', { cx: px(r.speedup), cy: py(y(r)), r: 3.5, fill: color });
      const tip = el('title', {});
      tip.textContent = `${policy}, budget ${r.budget ?? '—'}: ${r.speedup.toFixed(2)}×, ${r.psnr === Infinity ? '∞' : r.psnr!.toFixed(1)} dB`;
      dot.append(tip);
      svg.append(dot);
    }
    const li = document.createElement('li');
    li.innerHTML = `<span class="swatch" style="background:${color}"></span>`;
    li.append(policy);
    legend.append(li);
  }
  const caption = document.createElement('figcaption');
  const model = load.model !== undefined ? `Model: ${load.model}. ` : '';
  caption.textContent = `${model}Provider: ${provider}. Lossless runs are drawn at ${PSNR_CEILING} dB.`;
  if (load.command !== undefined) caption.title = load.command;
  figure.append(svg, legend, caption);
  return figure;
}
