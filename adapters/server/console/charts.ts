/** Inline SVG charts of the overview: states per classification, compliance per day. */
import type { GroupRow } from '../../site/reports.js';
import { complianceTrend } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import { esc, num } from './html.js';

/** Stacked horizontal bars: Installed, Required, Unknown per group. */
export function barChart(rows: readonly GroupRow[], testId: string): string {
  if (rows.length === 0) return '<p class="muted">No scans yet.</p>';
  const max = Math.max(...rows.map((r) => r.installed + r.required + r.unknown), 1);
  const W = 520, label = 220, h = 22;
  const bars = rows.map((r, k) => {
    const y = k * (h + 6);
    let x = label;
    const seg = (v: number, color: string, name: string): string => {
      const w = (v / max) * W;
      const out = w > 0 ? `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}" fill="${color}"><title>${esc(r.name)}: ${name} ${num(v)}</title></rect>` : '';
      x += w;
      return out;
    };
    return `<text x="${label - 8}" y="${y + 15}" text-anchor="end">${esc(r.name.length > 32 ? `${r.name.slice(0, 31)}…` : r.name)}</text>${seg(r.installed, '#2da44e', 'Installed')}${seg(r.required, '#cf222e', 'Required')}${seg(r.unknown, '#afb8c1', 'Unknown')}<text x="${(x + 6).toFixed(1)}" y="${y + 15}">${num(r.required)} required</text>`;
  }).join('');
  const height = rows.length * (h + 6) + 24;
  const legend = `<g transform="translate(${label},${height - 12})"><rect width="10" height="10" fill="#2da44e"/><text x="14" y="9">Installed</text><rect x="90" width="10" height="10" fill="#cf222e"/><text x="104" y="9">Required</text><rect x="180" width="10" height="10" fill="#afb8c1"/><text x="194" y="9">Unknown</text></g>`;
  return `<svg data-testid="${testId}" role="img" aria-label="Update states by classification" width="${label + W + 140}" height="${height}">${bars}${legend}</svg>`;
}

/** The share of scanned clients with nothing Required, per day. */
export async function trendChart(store: SiteStore): Promise<string> {
  const days = await complianceTrend(store, 90);
  if (days.length === 0) return '<p class="muted">No history yet (recorded as scans run).</p>';
  const W = 640, H = 160, pad = 36;
  const pts = days.map((d, k) => {
    const x = pad + (days.length === 1 ? (W - 2 * pad) / 2 : (k / (days.length - 1)) * (W - 2 * pad));
    const pct = d.scanned ? (100 * d.compliant) / d.scanned : 0;
    return { x, y: H - pad - (pct / 100) * (H - 2 * pad), pct, day: d.day };
  });
  const line = pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  const dots = pts.map((p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3" fill="#0b3d66"><title>${p.day}: ${p.pct.toFixed(1)} % compliant</title></circle>`).join('');
  return `<svg data-testid="trend-chart" role="img" aria-label="Compliance over time" width="${W}" height="${H}">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#8c959f"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#8c959f"/>
<text x="4" y="${pad + 4}">100 %</text><text x="12" y="${H - pad + 4}">0 %</text>
<text x="${pad}" y="${H - 8}">${esc(days[0]!.day)}</text><text x="${W - pad}" y="${H - 8}" text-anchor="end">${esc(days.at(-1)!.day)}</text>
<polyline points="${line}" fill="none" stroke="#0b3d66" stroke-width="2"/>${dots}</svg>`;
}

