/** One computer's compliance (/computers/NAME): its latest scan, every update with its state and reason. */
import { computerCompliance, type CatalogVersions } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import { whyNotScanned } from '../routes/reports.js';
import { esc, layout } from './html.js';

export async function computerPage(store: SiteStore, catalogs: CatalogVersions, name: string, url: URL): Promise<string | undefined> {
  const c = await computerCompliance(store, catalogs, name);
  if (!c) {
    // An enrolled computer without a scan gets a page that says why (the lists link to every computer).
    const client = await store.client(name);
    if (!client) return undefined;
    return layout(client.name, `<h1>Software updates compliance for <span data-testid="computer-name">${esc(client.name)}</span></h1>
<p>${esc(client.architecture ?? 'architecture not known yet')} · last upload ${esc(client.last_upload_at ?? 'never')}</p>
<p data-testid="not-scanned"><b>Not scanned yet:</b> ${esc(await whyNotScanned(store, client))}.</p>`);
  }
  const state = url.searchParams.get('state') ?? '';
  const rows = state ? c.updates.filter((u) => u.state === state) : c.updates;
  const filter = ['', 'Required', 'Installed', 'Unknown'].map((s) => (s === state ? `<b>${s || 'All'}</b>` : `<a href="?state=${s}">${s || 'All'}</a>`)).join(' · ');
  return layout(c.computer, `<h1>Software updates compliance for <span data-testid="computer-name">${esc(c.computer)}</span></h1>
<p>${esc(c.architecture ?? '?')} · last upload ${esc(c.lastUpload ?? '?')} · scanned <span data-testid="scanned-at">${esc(c.scannedAt)}</span> by “${esc(c.program)}” · catalog <span data-testid="catalog">${esc(c.catalog.sha256.slice(0, 16))}</span> (imported ${esc(c.catalog.importedAt)})</p>
<div class="kpis">
<div class="kpi"><span>Installed</span><b class="Installed" data-testid="count-Installed">${c.counts.Installed}</b></div>
<div class="kpi"><span>Required</span><b class="Required" data-testid="count-Required">${c.counts.Required}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="count-Unknown">${c.counts.Unknown}</b></div>
</div>
<p>${filter}</p>
<table data-testid="update-table"><tr><th>State</th><th>KB</th><th>Title</th><th>Classification</th><th>Severity</th><th>Reason</th></tr>
${rows.map((u) => `<tr data-state="${esc(u.state)}"><td class="${esc(u.state)}">${esc(u.state)}${u.superseded ? ' <span class="muted">(superseded)</span>' : ''}</td><td>${u.kb ? `<a href="/updates/${esc(u.updateId)}">KB${esc(u.kb)}</a>` : `<a href="/updates/${esc(u.updateId)}">—</a>`}</td><td>${esc(u.title)}</td><td>${esc(u.classification)}</td><td>${esc(u.severity)}</td><td class="reason">${esc(u.reason)}</td></tr>`).join('')}
</table>`);
}

