/** Inline SVG charts of the overview: states per classification, compliance per day. */
import type { GroupRow } from '../../site/reports.js';
import type { DailyRow } from '../../store/port.js';
import { esc, formatDay, num } from './html.js';

/** Stacked horizontal bars: Installed, Required, Unknown per group. */
export function barChart(rows: readonly GroupRow[], testId: string): string {
  if (rows.length === 0) return '<div class="empty"><p>No scan results yet.</p></div>';
  const max = Math.max(...rows.map((r) => r.installed + r.required + r.unknown), 1);
  const W = 520,
    label = 220,
    h = 22;
  const bars = rows
    .map((r, k) => {
      const y = k * (h + 6);
      let x = label;
      const seg = (v: number, color: string, name: string): string => {
        const w = (v / max) * W;
        const title = `<title>${esc(r.name)}: ${name} ${num(v)}</title>`;
        const out = w > 0 ? `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}" fill="${color}">${title}</rect>` : '';
        x += w;
        return out;
      };
      const name = esc(r.name.length > 32 ? `${r.name.slice(0, 31)}…` : r.name);
      const segs = `${seg(r.installed, GREEN, 'Installed')}${seg(r.required, RED, 'Required')}${seg(r.unknown, GREY, 'Unknown')}`;
      return (
        `<text x="${label - 8}" y="${y + 15}" text-anchor="end">${name}</text>${segs}` +
        `<text x="${(x + 6).toFixed(1)}" y="${y + 15}">${num(r.required)} required</text>`
      );
    })
    .join('');
  const height = rows.length * (h + 6) + 24;
  const key = (x: number, color: string, text: string): string =>
    `<rect x="${x}" width="10" height="10" fill="${color}"/><text x="${x + 14}" y="9">${text}</text>`;
  const keys = `${key(0, GREEN, 'Installed')}${key(90, RED, 'Required')}${key(180, GREY, 'Unknown')}`;
  const legend = `<g transform="translate(${label},${height - 12})">${keys}</g>`;
  const size = `width="${label + W + 140}" height="${height}"`;
  return `<svg data-testid="${testId}" role="img" aria-label="Update states by classification" ${size}>${bars}${legend}</svg>`;
}

const GREEN = '#2da44e',
  RED = '#cf222e',
  GREY = '#afb8c1';

const pct = (d: DailyRow): number => (d.scanned ? (100 * d.compliant) / d.scanned : 0);
const pctText = (d: DailyRow): string => (d.scanned ? `${pct(d).toFixed(1)} %` : '–');

/**
 * Compliance over time, in words and numbers first: the latest day's share of compliant machines and its change
 * since the first day shown, then (from two days on) a line with each point's value, then the last days as a table.
 * One day of history is a sentence, not a lone dot.
 */
export function trend(days: readonly DailyRow[]): string {
  if (days.length === 0) {
    return `<div class="empty" data-testid="trend-empty"><p>No history yet: a point is recorded each day once machines are scanned
(upload inventories, then <code>patchscan serve</code> scans them).</p></div>`;
  }
  const last = days.at(-1)!;
  const first = days[0]!;
  const delta = pct(last) - pct(first);
  const moved = delta === 0 ? 'Unchanged' : delta > 0 ? `Up ${delta.toFixed(1)} points` : `Down ${(-delta).toFixed(1)} points`;
  const change =
    days.length < 2
      ? ' History builds up one point a day; come back tomorrow for a trend.'
      : ` ${moved} since ${esc(formatDay(first.day))} (${pctText(first)}).`;
  const summary = `<p data-testid="trend-summary"><b>${pctText(last)}</b> of scanned machines compliant on ${esc(formatDay(last.day))}
(${num(last.compliant)} of ${num(last.scanned)}; ${num(last.required)} Required client × update).${change}</p>`;
  const th = ['Scanned', 'Compliant', 'Share', 'Required', 'Unknown'].map((t) => `<th class="n">${t}</th>`).join('');
  const row = (d: DailyRow): string => {
    const cells = [num(d.scanned), num(d.compliant), pctText(d), num(d.required), num(d.unknown)]
      .map((v) => `<td class="n">${v}</td>`)
      .join('');
    return `<tr><td>${esc(formatDay(d.day))}</td>${cells}</tr>`;
  };
  const table = `<table data-testid="trend-table"><thead><tr><th>Day</th>${th}</tr></thead><tbody>
${days.slice(-7).reverse().map(row).join('')}
</tbody></table>`;
  return `${summary}${days.length >= 2 ? line(days) : ''}${table}`;
}

function line(days: readonly DailyRow[]): string {
  const W = 640,
    H = 180,
    pad = 40;
  const lo = Math.max(0, Math.floor(Math.min(...days.map(pct)) / 10) * 10 - 10);
  const pts = days.map((d, k) => {
    const x = pad + (k / (days.length - 1)) * (W - 2 * pad);
    return { x, y: H - pad - ((pct(d) - lo) / (100 - lo || 1)) * (H - 2 * pad), d };
  });
  const poly = pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  // Each point's value is printed when there is room (up to 14 points); its tooltip always has it.
  const label = (p: (typeof pts)[number]): string =>
    `<text x="${p.x.toFixed(1)}" y="${(p.y - 8).toFixed(1)}" text-anchor="middle">${pctText(p.d)}</text>`;
  const labels = days.length > 14 ? '' : pts.map(label).join('');
  const dots = pts
    .map((p) => {
      const title = `${esc(formatDay(p.d.day))}: ${pctText(p.d)} compliant (${num(p.d.compliant)} of ${num(p.d.scanned)})`;
      return `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3" fill="#0b3d66"><title>${title}</title></circle>`;
    })
    .join('');
  const axis = (x1: number, y1: number, x2: number, y2: number): string =>
    `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#8c959f"/>`;
  return `<svg data-testid="trend-chart" role="img" aria-label="Share of compliant machines per day" width="${W}" height="${H}">
${axis(pad, H - pad, W - pad, H - pad)}${axis(pad, pad, pad, H - pad)}
<text x="4" y="${pad + 4}">100 %</text><text x="4" y="${H - pad + 4}">${lo} %</text>
<text x="${pad}" y="${H - 8}">${esc(formatDay(days[0]!.day))}</text>
<text x="${W - pad}" y="${H - 8}" text-anchor="end">${esc(formatDay(days.at(-1)!.day))}</text>
<polyline points="${poly}" fill="none" stroke="#0b3d66" stroke-width="2"/>${dots}${labels}</svg>`;
}
