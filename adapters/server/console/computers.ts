/** Computer search (/computers): by name prefix, paginated. */
import { searchComputers } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import { intParam } from '../http.js';
import { esc, layout, PAGE } from './html.js';
import { pager } from './table.js';

export async function computersPage(store: SiteStore, url: URL): Promise<string> {
  const q = url.searchParams.get('q') ?? '';
  const offset = intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const page = await searchComputers(store, q, PAGE, offset);
  return layout('Computers', `<h1>Computers</h1>
<form class="search" method="get" action="/computers"><input name="q" value="${esc(q)}" placeholder="name starts with…" aria-label="Computer name" autofocus> <button type="submit">Search</button></form>
${pager('/computers', { q }, page.total, offset)}
<table data-testid="computer-list"><tr><th>Computer</th><th>Architecture</th><th>Last upload</th><th>Scanned</th><th>Installed</th><th>Required</th><th>Unknown</th></tr>
${page.items.map((c) => `<tr><td><a href="/computers/${encodeURIComponent(c.name)}">${esc(c.name)}</a></td><td>${esc(c.architecture ?? '')}</td><td>${esc(c.lastUpload ?? 'never')}</td><td>${esc(c.scannedAt ?? 'not yet')}</td><td class="n">${c.installed ?? ''}</td><td class="n">${c.required ?? ''}</td><td class="n">${c.unknown ?? ''}</td></tr>`).join('')}
</table>`);
}

