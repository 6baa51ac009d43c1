/** Clients that have not reported for N days (/stale), oldest first. */
import { staleClients } from '../../site/reports.js';
import { intParam } from '../http.js';
import { computerLink } from './computers.js';
import { esc, layout, seen, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import type { Column } from './table.js';
import { STALE_ORDERS, type StaleOrder } from '../../store/port.js';
import { assertStoreOrders } from './table.js';

type StaleRow = Awaited<ReturnType<typeof staleClients>>['items'][number];

// Oldest first by default; every column sorts in the store (STALE_ORDERS).
const COLUMNS: readonly Column<StaleRow>[] = [
  { key: 'name', label: 'Computer', value: (c) => c.name, cell: (c) => computerLink(c.name) },
  { key: 'lastUpload', label: 'Last seen (upload)', value: (c) => c.lastUpload, cell: (c) => seen(c.lastUpload) },
  { key: 'lastScan', label: 'Last scan', value: (c) => c.lastScan, cell: (c) => when(c.lastScan) },
];

export async function stalePage({ store, url, lists }: PageContext): PageResult {
  // The same bounds as GET /v1/reports/stale: a number out of range is 400 naming it, never a date overflow (500).
  const days = intParam(url.searchParams, 'days', 7, 0, 36_500);
  const table = await lists.paged({
    id: 'stale-list',
    main: true,
    columns: COLUMNS,
    defaultOrder: { key: 'lastUpload', dir: 'asc' },
    empty: `<p>Every enrolled client has uploaded an inventory in the last ${days} day(s). Nothing to chase.</p>`,
    fetch: (order, limit, offset) => staleClients(store, days, limit, offset, { key: order.key as StaleOrder['key'], dir: order.dir }),
  });
  return layout(
    'Stale clients',
    `<h1>Clients that have not reported for ${days} day(s)</h1>
<p class="muted">A client that stops uploading keeps its last results: check that its scheduled <code>patchscan upload</code>
still runs.</p>
<form class="search" method="get" action="/stale"><input name="days" value="${esc(days)}" aria-label="Days">
<button type="submit">Show</button></form>
${table}`,
  );
}

assertStoreOrders('stale clients', COLUMNS, STALE_ORDERS);
