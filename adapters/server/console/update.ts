/** One update across the fleet (/updates/ID): who needs it, who has it, why some are Unknown. */
import { updateCompliance, type CatalogVersions } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import { intParam } from '../http.js';
import { esc, layout, num, PAGE } from './html.js';
import { pager } from './table.js';

export async function updatePage(store: SiteStore, catalogs: CatalogVersions, id: string, url: URL): Promise<string | undefined> {
  const state = url.searchParams.get('state') ?? '';
  const offset = intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const u = await updateCompliance(store, catalogs, id, { ...(state ? { state } : {}), limit: PAGE, offset });
  if (!u) return undefined;
  const filter = ['', 'Required', 'Installed', 'Unknown'].map((s) => (s === state ? `<b>${s || 'All'}</b>` : `<a href="?state=${s}">${s || 'All'}</a>`)).join(' · ');
  return layout(u.update.kb ? `KB${u.update.kb}` : u.update.updateId, `<h1>${u.update.kb ? `KB${esc(u.update.kb)} — ` : ''}${esc(u.update.title)}</h1>
<p class="muted">${esc(u.update.updateId)} · ${esc(u.update.classification)} · ${esc(u.update.severity || 'no severity')} · ${esc(u.update.products.join(', '))}</p>
<div class="kpis">
<div class="kpi"><span>Need it (Required)</span><b class="Required" data-testid="update-Required">${num(u.counts.Required)}</b></div>
<div class="kpi"><span>Have it (Installed)</span><b class="Installed" data-testid="update-Installed">${num(u.counts.Installed)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="update-Unknown">${num(u.counts.Unknown)}</b></div>
<div class="kpi"><span>Superseded</span><b>${num(u.counts.superseded)}</b></div>
</div>
${u.unknownBecause.length ? `<h2>Unknown because</h2><table><tr><th>Reason</th><th>Machines</th></tr>${u.unknownBecause.map((r) => `<tr><td class="reason">${esc(r.reason)}</td><td class="n">${num(r.machines)}</td></tr>`).join('')}</table>` : ''}
<h2>Machines</h2><p>${filter}</p>${pager(url.pathname, state ? { state } : {}, u.machines.total, offset)}
<table data-testid="machine-list"><tr><th>Computer</th><th>State</th><th>Reason</th><th>Scanned</th></tr>
${u.machines.items.map((m) => `<tr><td><a href="/computers/${encodeURIComponent(m.computer)}">${esc(m.computer)}</a></td><td class="${esc(m.state)}">${esc(m.state)}${m.superseded ? ' <span class="muted">(superseded)</span>' : ''}</td><td class="reason">${esc(m.reason)}</td><td>${esc(m.scannedAt)}</td></tr>`).join('')}
</table>`);
}

