/** Inline SVG charts of the overview: states per classification, compliance per day. */
import type { GroupRow } from '../../site/reports.js';
import type { DailyRow } from '../../store/port.js';
import { esc, formatDay, num } from './html.js';

/** Stacked horizontal bars: Installed, Required, Unknown per group. */
export function barChart(rows: readonly GroupRow[], testId: string): string {
  if (rows.length === 0) return '<div class="empty"><p>No scan results yet.</p></div>';
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

const pct = (d: DailyRow): number => (d.scanned ? (100 * d.compliant) / d.scanned : 0);
const pctText = (d: DailyRow): string => (d.scanned ? `${pct(d).toFixed(1)} %` : '–');

/**
 * Compliance over time, in words and numbers first: the latest day's share of compliant machines and its change
 * since the first day shown, then (from two days on) a line with each point's value, then the last days as a table.
 * One day of history is a sentence, not a lone dot.
 */
export function trend(days: readonly DailyRow[]): string {
  if (days.length === 0) return '<div class="empty" data-testid="trend-empty"><p>No history yet: a point is recorded each day once machines are scanned (upload inventories, then <code>patchscan serve</code> scans them).</p></div>';
  const last = days.at(-1)!;
  const first = days[0]!;
  const delta = pct(last) - pct(first);
  const change = days.length < 2
    ? ' History builds up one point a day; come back tomorrow for a trend.'
    : ` ${delta === 0 ? 'Unchanged' : delta > 0 ? `Up ${delta.toFixed(1)} points` : `Down ${(-delta).toFixed(1)} points`} since ${esc(formatDay(first.day))} (${pctText(first)}).`;
  const summary = `<p data-testid="trend-summary"><b>${pctText(last)}</b> of scanned machines compliant on ${esc(formatDay(last.day))} (${num(last.compliant)} of ${num(last.scanned)}; ${num(last.required)} Required client × update).${change}</p>`;
  const table = `<table data-testid="trend-table"><thead><tr><th>Day</th><th class="n">Scanned</th><th class="n">Compliant</th><th class="n">Share</th><th class="n">Required</th><th class="n">Unknown</th></tr></thead><tbody>
${days.slice(-7).reverse().map((d) => `<tr><td>${esc(formatDay(d.day))}</td><td class="n">${num(d.scanned)}</td><td class="n">${num(d.compliant)}</td><td class="n">${pctText(d)}</td><td class="n">${num(d.required)}</td><td class="n">${num(d.unknown)}</td></tr>`).join('')}
</tbody></table>`;
  return `${summary}${days.length >= 2 ? line(days) : ''}${table}`;
}

function line(days: readonly DailyRow[]): string {
  const W = 640, H = 180, pad = 40;
  const lo = Math.max(0, Math.floor(Math.min(...days.map(pct)) / 10) * 10 - 10);
  const pts = days.map((d, k) => {
    const x = pad + (k / (days.length - 1)) * (W - 2 * pad);
    return { x, y: H - pad - ((pct(d) - lo) / (100 - lo || 1)) * (H - 2 * pad), d };
  });
  const poly = pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  // Each point's value is printed when there is room (up to 14 points); its tooltip always has it.
  const labels = days.length <= 14 ? pts.map((p) => `<text x="${p.x.toFixed(1)}" y="${(p.y - 8).toFixed(1)}" text-anchor="middle">${pctText(p.d)}</text>`).join('') : '';
  const dots = pts.map((p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3" fill="#0b3d66"><title>${esc(formatDay(p.d.day))}: ${pctText(p.d)} compliant (${num(p.d.compliant)} of ${num(p.d.scanned)})</title></circle>`).join('');
  return `<svg data-testid="trend-chart" role="img" aria-label="Share of compliant machines per day" width="${W}" height="${H}">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#8c959f"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#8c959f"/>
<text x="4" y="${pad + 4}">100 %</text><text x="4" y="${H - pad + 4}">${lo} %</text>
<text x="${pad}" y="${H - 8}">${esc(formatDay(days[0]!.day))}</text><text x="${W - pad}" y="${H - 8}" text-anchor="end">${esc(formatDay(days.at(-1)!.day))}</text>
<polyline points="${poly}" fill="none" stroke="#0b3d66" stroke-width="2"/>${dots}${labels}</svg>`;
}
