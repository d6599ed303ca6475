// Quality vs speedup, one line per policy across budgets, as a standalone SVG (bench/chart.svg).

import type { BenchRow } from './report.ts';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04', '#db2777', '#65a30d',
  '#0f766e', '#7c2d12', '#1e3a8a', '#a21caf'];
const W = 640;
const H = 380;
const PAD = { l: 56, r: 190, t: 36, b: 48 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** x = measured speedup (onnxruntime-node), y = PSNR vs full compute; rows without a speedup are left out. */
export function qualitySpeedSvg(rows: BenchRow[], title: string): string {
  const pts = rows.filter((r) => r.budget !== null && r.speedup !== null && Number.isFinite(r.psnr));
  const policies = [...new Set(pts.map((r) => r.policy))];
  const xs = pts.map((r) => r.speedup!);
  const ys = pts.map((r) => r.psnr);
  const [x0, x1] = [Math.min(1, ...xs), Math.max(2, ...xs) * 1.05];
  const [y0, y1] = [Math.floor(Math.min(...ys) / 5) * 5, Math.ceil(Math.max(...ys) / 5) * 5];
  const px = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const py = (y: number) => H - PAD.b - ((y - y0) / (y1 - y0 || 1)) * (H - PAD.t - PAD.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.l}" y="20" font-size="14">${esc(title)}</text>`,
    `<rect x="${PAD.l}" y="${PAD.t}" width="${W - PAD.l - PAD.r}" height="${H - PAD.t - PAD.b}" fill="none" stroke="#999"/>`,
  ];
  for (let y = y0; y <= y1; y += 5) {
    out.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`,
      `<text x="${PAD.l - 6}" y="${py(y) + 4}" text-anchor="end">${y}</text>`);
  }
  for (let x = Math.ceil(x0 * 2) / 2; x <= x1; x += 0.5) {
    out.push(`<text x="${px(x)}" y="${H - PAD.b + 16}" text-anchor="middle">${x.toFixed(1)}×</text>`);
  }
  out.push(`<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 10}" text-anchor="middle">wall-clock speedup vs no cache</text>`,
    `<text x="14" y="${(PAD.t + H - PAD.b) / 2}" transform="rotate(-90 14 ${(PAD.t + H - PAD.b) / 2})" text-anchor="middle">PSNR vs full compute (dB)</text>`);
  policies.forEach((p, k) => {
    const c = COLORS[k % COLORS.length]!;
    const line = pts.filter((r) => r.policy === p).sort((a, b) => b.budget! - a.budget!); // along the budgets, 1.5× → 3×
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${line.map((r) => `${px(r.speedup!)},${py(r.psnr)}`).join(' ')}"/>`);
    for (const r of line) out.push(`<circle cx="${px(r.speedup!)}" cy="${py(r.psnr)}" r="3.5" fill="${c}"><title>${esc(`${p}, budget ${r.budget}: ${r.speedup!.toFixed(2)}×, ${r.psnr.toFixed(2)} dB`)}</title></circle>`);
    out.push(`<rect x="${W - PAD.r + 12}" y="${PAD.t + k * 18}" width="12" height="3" fill="${c}"/>`,
      `<text x="${W - PAD.r + 30}" y="${PAD.t + k * 18 + 5}">${esc(p)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
