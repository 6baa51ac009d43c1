/**
 * CVEs (/cves?q=…, /cves/CVE-…): "which machines are exposed to CVE-X" — exposed (an update fixing it is Required by
 * the counting rule), possibly exposed, unknown, not exposed — from adapters/site/reports.ts (cveCompliance,
 * searchCves), the functions behind `patchscan report cve` and GET /v1/cves.
 */
import { HttpError } from '../http.js';
import { cveCompliance, isCveId, searchCves, type CoveredUpdate, type CveCompliance, type CveHit } from '../../site/reports.js';
import { cveLink, kbText, moreInfo, released, stateCell, updateLink } from './cells.js';
import { computerLink } from './computers.js';
import { esc, layout, num, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { assertStoreOrders, folded, type Column } from './table.js';
import { UPDATE_MACHINE_ORDERS, type UpdateMachineOrder } from '../../store/port.js';

type MachineRow = CveCompliance['machines']['items'][number];

const HITS: readonly Column<CveHit>[] = [
  { key: 'cve', label: 'CVE', value: (h) => h.cve, cell: (h) => cveLink(h.cve) },
  {
    key: 'updates',
    label: 'Updates fixing it',
    value: (h) => h.updates.map((u) => (u.kb ? `KB${u.kb}` : u.updateId)).join('; '),
    cell: (h) => h.updates.map((u) => updateLink(u.updateId, kbText(u.kb))).join(', '),
  },
];

const UPDATES: readonly Column<CoveredUpdate>[] = [
  { key: 'kb', label: 'KB', value: (u) => u.kb, cell: (u) => updateLink(u.updateId, kbText(u.kb)) },
  { key: 'title', label: 'Title', value: (u) => u.title, cell: (u) => `${esc(u.title)} ${moreInfo(u.moreInfoUrl)}` },
  { key: 'releaseDate', label: 'Released', value: (u) => u.releaseDate || null, cell: (u) => released(u.releaseDate) },
  { key: 'required', label: 'Required', value: (u) => u.counts.Required, numeric: true },
  { key: 'possiblySuperseded', label: 'Possibly superseded', value: (u) => u.counts.possiblySuperseded, numeric: true },
  { key: 'installed', label: 'Installed', value: (u) => u.counts.Installed, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (u) => u.counts.Unknown, numeric: true },
  { key: 'updateId', label: 'Update ID', value: (u) => u.updateId, fixed: true, csvOnly: true },
];

// Sorted by the store (UPDATE_MACHINE_ORDERS); by computer name by default.
const MACHINES: readonly Column<MachineRow>[] = [
  { key: 'computer', label: 'Computer', value: (m) => m.computer, cell: (m) => computerLink(m.computer) },
  { key: 'updateId', label: 'Update', value: (m) => m.updateId, cell: (m) => updateLink(m.updateId, m.updateId) },
  { key: 'state', label: 'State', value: (m) => m.state, cell: (m) => stateCell(m.state, m) },
  { key: 'reason', label: 'Reason', value: (m) => m.reason, cell: (m) => folded(m.reason) },
  { key: 'scannedAt', label: 'Scanned', value: (m) => m.scannedAt, cell: (m) => when(m.scannedAt) },
];
assertStoreOrders('CVE machines', MACHINES, UPDATE_MACHINE_ORDERS);

export async function cvesPage({ catalogs, url, lists }: PageContext): PageResult {
  const q = url.searchParams.get('q') ?? '';
  const hits = q.trim() === '' ? [] : (await searchCves(catalogs, q, 500)).items;
  const table =
    q.trim() === ''
      ? `<div class="empty"><p>Type part of a CVE id (e.g. <code>CVE-2024-</code> or <code>21351</code>): the CVEs the catalog in service
names, with the updates that fix them.</p></div>`
      : lists.rows({
          id: 'cve-list',
          main: true,
          columns: HITS,
          all: hits,
          defaultOrder: { key: 'cve', dir: 'desc' },
          empty: `<p>No update of the catalog in service names a CVE containing “${esc(q)}”. Updates name the CVEs they fix when Microsoft
lists them.</p>`,
        });
  return layout(
    'CVEs',
    `<h1>CVEs</h1>
<form class="search" method="get" action="/cves"><input name="q" value="${esc(q)}" placeholder="CVE-2024-…" aria-label="CVE" autofocus>
<button type="submit">Search</button></form>
${table}`,
  );
}

export async function cvePage({ store, catalogs, lists }: PageContext, cve: string): PageResult {
  if (!isCveId(cve)) {
    throw new HttpError(400, 'BAD_REQUEST', `${JSON.stringify(cve.slice(0, 40))} is not a CVE id: give CVE-YYYY-NNNN (/cves searches)`);
  }
  const first = await cveCompliance(store, catalogs, cve, { limit: 1 });
  if (!first) return undefined;
  const machines = await lists.paged({
    id: 'exposed-machines',
    main: true,
    columns: MACHINES,
    defaultOrder: { key: 'computer', dir: 'asc' },
    empty: '<p>No scanned machine needs an update that fixes it.</p>',
    fetch: async (o, limit, offset) =>
      (await cveCompliance(store, catalogs, cve, { limit, offset, order: { key: o.key as UpdateMachineOrder['key'], dir: o.dir } }))!
        .machines,
  });
  const updates = lists.rows({
    id: 'cve-updates',
    columns: UPDATES,
    all: first.updates,
    defaultOrder: { key: 'required', dir: 'desc' },
    empty: '',
  });
  return layout(
    first.cve,
    `<h1>${esc(first.cve)}</h1>
<div class="kpis">
<div class="kpi"><span>Exposed (a fix is Required)</span><b class="Required" data-testid="cve-exposed">${num(first.exposed)}</b></div>
<div class="kpi"><span>Possibly exposed</span><b data-testid="cve-possibly">${num(first.possiblyExposed)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="cve-unknown">${num(first.unknown)}</b></div>
<div class="kpi"><span>Not exposed</span><b class="Installed" data-testid="cve-not-exposed">${num(first.notExposed)}</b></div>
<div class="kpi"><span>Scanned</span><b data-testid="cve-scanned">${num(first.scanned)}</b></div>
</div>
<h2>Updates that fix it</h2>${updates}
<h2>Exposed machines</h2>${machines}`,
  );
}
