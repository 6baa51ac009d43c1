/** The fleet overview (/): KPIs, states per classification, compliance over time, collections, products. */
import { collectionSummary, fleetSummary, groupSummary } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import { barChart, trendChart } from './charts.js';
import { esc, layout, num } from './html.js';

export async function overviewPage(store: SiteStore): Promise<string> {
  const s = await fleetSummary(store);
  const pct = s.scanned ? ((100 * s.compliant) / s.scanned).toFixed(1) : '–';
  const cols = await collectionSummary(store);
  return layout('Overview', `<h1>Fleet overview</h1>
<div class="kpis">
<div class="kpi"><span>Clients</span><b data-testid="kpi-clients">${num(s.clients)}</b></div>
<div class="kpi"><span>Scanned</span><b data-testid="kpi-scanned">${num(s.scanned)}</b></div>
<div class="kpi"><span>Compliant (nothing Required)</span><b data-testid="kpi-compliant">${num(s.compliant)}</b> <span>${pct} %</span></div>
<div class="kpi"><span>Required (client × update)</span><b class="Required" data-testid="kpi-required">${num(s.states.Required)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="kpi-unknown">${num(s.states.Unknown)}</b></div>
<div class="kpi"><span>Scan queue</span><b>${num(s.queue.expedited + s.queue.normal)}</b></div>
</div>
<p class="muted">Catalog in service: ${s.catalog ? `${esc(s.catalog.sha256.slice(0, 16))} (${num(s.catalog.revisions)} revisions, ${esc(s.catalog.importedAt)})` : 'none yet'} — <a href="/sync">sync status</a></p>
<h2>Compliance by classification</h2>${barChart(await groupSummary(store, 'classification'), 'classification-chart')}
<h2>Compliance over time</h2>${await trendChart(store)}
<h2>Collections</h2>
<table data-testid="collections"><tr><th>Collection</th><th>Limited to</th><th>Members</th><th>Scanned</th><th>Compliant</th><th>Required</th><th>Unknown</th></tr>
${cols.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.limitedTo ?? '')}</td><td class="n">${num(c.members)}</td><td class="n">${num(c.scanned)}</td><td class="n">${num(c.compliant)}</td><td class="n">${num(c.required)}</td><td class="n">${num(c.unknown)}</td></tr>`).join('')}
</table>
<h2>By product</h2>
<table><tr><th>Product</th><th>Installed</th><th>Required</th><th>Unknown</th></tr>
${(await groupSummary(store, 'product')).map((g) => `<tr><td>${esc(g.name)}</td><td class="n">${num(g.installed)}</td><td class="n">${num(g.required)}</td><td class="n">${num(g.unknown)}</td></tr>`).join('')}
</table>`);
}

