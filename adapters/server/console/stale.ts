/** Clients that have not reported for N days (/stale), oldest first. */
import { staleClients } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import { intParam } from '../http.js';
import { esc, layout, PAGE } from './html.js';
import { pager } from './table.js';

export async function stalePage(store: SiteStore, url: URL): Promise<string> {
  // The same bounds as GET /v1/reports/stale: a number out of range is 400 naming it, never a date overflow (500).
  const days = intParam(url.searchParams, 'days', 7, 0, 36_500);
  const offset = intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const p = await staleClients(store, days, PAGE, offset);
  return layout('Stale clients', `<h1>Clients that have not reported for ${days} day(s)</h1>
<form class="search" method="get" action="/stale"><input name="days" value="${days}" aria-label="Days"> <button type="submit">Show</button></form>
${pager('/stale', { days: String(days) }, p.total, offset)}
<table data-testid="stale-list"><tr><th>Computer</th><th>Last upload</th><th>Last scan</th></tr>
${p.items.map((c) => `<tr><td><a href="/computers/${encodeURIComponent(c.name)}">${esc(c.name)}</a></td><td>${esc(c.lastUpload ?? 'never')}</td><td>${esc(c.lastScan ?? 'never')}</td></tr>`).join('')}
</table>`);
}

