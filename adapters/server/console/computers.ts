/** Computer search (/computers): by name prefix, sortable by any column, paginated; each row links to its page. */
import { searchComputers, type ComputerListItem } from '../../site/reports.js';
import { COMPUTER_ORDERS, type ComputerOrder } from '../../store/port.js';
import { esc, layout, num, seen, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { assertStoreOrders, type Column } from './table.js';

export const computerLink = (name: string): string => `<a href="/computers/${encodeURIComponent(name)}">${esc(name)}</a>`;

const COLUMNS: readonly Column<ComputerListItem>[] = [
  { key: 'name', label: 'Computer', value: (c) => c.name, cell: (c) => computerLink(c.name) },
  { key: 'architecture', label: 'Architecture', value: (c) => c.architecture },
  { key: 'os', label: 'OS', value: (c) => c.os },
  { key: 'lastUpload', label: 'Last seen (upload)', value: (c) => c.lastUpload, cell: (c) => seen(c.lastUpload) },
  { key: 'scannedAt', label: 'Scanned', value: (c) => c.scannedAt, cell: (c) => when(c.scannedAt, 'not yet') },
  { key: 'installed', label: 'Installed', value: (c) => c.installed, numeric: true },
  { key: 'required', label: 'Required', value: (c) => c.required, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (c) => c.unknown, numeric: true },
];

export async function computersPage({ store, url, lists }: PageContext): PageResult {
  const q = url.searchParams.get('q') ?? '';
  const clients = await store.clientCount();
  const empty =
    clients === 0
      ? `<p><b>No client is enrolled yet.</b> Enroll one with <code>patchscan client enroll NAME</code> (it prints the client's token),
then run <code>patchscan upload</code> on that machine.</p>`
      : `<p>No computer's name starts with “${esc(q)}”. <a href="/computers">Show every computer</a> (${num(clients)}).</p>`;
  const table = await lists.paged({
    id: 'computer-list',
    main: true,
    columns: COLUMNS,
    defaultOrder: { key: 'name', dir: 'asc' },
    empty,
    fetch: (order, limit, offset) => searchComputers(store, q, limit, offset, { key: order.key as ComputerOrder['key'], dir: order.dir }),
  });
  return layout(
    'Computers',
    `<h1>Computers</h1>
<form class="search" method="get" action="/computers">
<input name="q" value="${esc(q)}" placeholder="name starts with…" aria-label="Computer name" autofocus>
<button type="submit">Search</button></form>
${table}`,
  );
}

assertStoreOrders('computer list', COLUMNS, COMPUTER_ORDERS);
