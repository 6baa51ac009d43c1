/**
 * The fleet overview (/): what to do next when the site is not set up yet, KPIs, states per classification (chart
 * and table), compliance over time, collections and products — every name a link to its drill-down page.
 */
import {
  collectionSummary,
  complianceTrend,
  fleetSummary,
  groupSummary,
  type CollectionRow,
  type FleetSummary,
  type GroupRow,
} from '../../site/reports.js';
import { barChart, trend } from './charts.js';
import { esc, layout, num, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import type { Column } from './table.js';

const link = (kind: string, name: string): string => `<a href="/${kind}/${encodeURIComponent(name)}">${esc(name)}</a>`;

const COLLECTIONS: readonly Column<CollectionRow>[] = [
  { key: 'name', label: 'Collection', value: (c) => c.name, cell: (c) => link('collections', c.name) },
  { key: 'limitedTo', label: 'Limited to', value: (c) => c.limitedTo },
  { key: 'members', label: 'Members', value: (c) => c.members, numeric: true },
  { key: 'scanned', label: 'Scanned', value: (c) => c.scanned, numeric: true },
  { key: 'compliant', label: 'Compliant', value: (c) => c.compliant, numeric: true },
  { key: 'required', label: 'Required', value: (c) => c.required, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (c) => c.unknown, numeric: true },
];

export const groupColumns = (kind: 'classifications' | 'products', label: string): readonly Column<GroupRow>[] => [
  { key: 'name', label, value: (g) => g.name, cell: (g) => link(kind, g.name) },
  { key: 'installed', label: 'Installed', value: (g) => g.installed, numeric: true },
  { key: 'required', label: 'Required', value: (g) => g.required, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (g) => g.unknown, numeric: true },
];

/** The first thing an administrator must do, when the site is not fully set up. */
function nextStep(s: FleetSummary): string {
  if (!s.catalog) {
    return `<p><b>No catalog yet:</b> run <code>patchscan sync</code> on the server (it fetches wsusscn2.cab;
<code>--source FILE</code> imports a copy). Machines are scanned against it.</p>`;
  }
  if (s.clients === 0) {
    return `<p><b>No client enrolled yet:</b> <code>patchscan client enroll NAME</code> issues a client token; on that machine
<code>patchscan upload --server URL --token TOKEN</code> sends its inventory.</p>`;
  }
  if (s.scanned === 0) {
    return `<p><b>No machine scanned yet:</b> ${num(s.clients)} client(s) enrolled; once they upload an inventory,
<code>patchscan serve</code> scans it (see <a href="/computers">Computers</a> for why each one is not scanned).</p>`;
  }
  return '';
}

export async function overviewPage({ store, catalogs, lists }: PageContext): PageResult {
  const s = await fleetSummary(store);
  const pct = s.scanned ? ((100 * s.compliant) / s.scanned).toFixed(1) : '–';
  const classes = await groupSummary(store, 'classification', catalogs);
  const step = nextStep(s);
  const catalog = s.catalog
    ? `${esc(s.catalog.sha256.slice(0, 16))} (${num(s.catalog.revisions)} revisions, imported ${when(s.catalog.importedAt)})`
    : 'none yet';
  const noResults = '<p>No scan results yet.</p>';
  const byName = { key: 'name', dir: 'asc' } as const,
    mostRequired = { key: 'required', dir: 'desc' } as const;
  const classTable = lists.rows({
    id: 'classifications',
    columns: groupColumns('classifications', 'Classification'),
    all: classes,
    defaultOrder: mostRequired,
    empty: noResults,
  });
  const collections = lists.rows({
    id: 'collections',
    columns: COLLECTIONS,
    all: await collectionSummary(store),
    defaultOrder: byName,
    empty: '<p>No collections: <code>patchscan init</code> creates the standard ones.</p>',
  });
  const products = lists.rows({
    id: 'products',
    columns: groupColumns('products', 'Product'),
    all: await groupSummary(store, 'product', catalogs),
    defaultOrder: mostRequired,
    empty: noResults,
  });
  return layout(
    'Overview',
    `<h1>Fleet overview</h1>
${step ? `<div class="empty" data-testid="next-step">${step}</div>` : ''}
<div class="kpis">
<div class="kpi"><span>Clients</span><b data-testid="kpi-clients">${num(s.clients)}</b></div>
<div class="kpi"><span>Scanned</span><b data-testid="kpi-scanned">${num(s.scanned)}</b></div>
<div class="kpi"><span>Compliant (nothing Required)</span><b data-testid="kpi-compliant">${num(s.compliant)}</b> <span>${pct} %</span></div>
<div class="kpi"><span>Required (client × update)</span><b class="Required" data-testid="kpi-required">${num(s.states.Required)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="kpi-unknown">${num(s.states.Unknown)}</b></div>
<div class="kpi"><span>Scan queue</span><b data-testid="kpi-queue">${num(s.queue.expedited + s.queue.normal)}</b></div>
</div>
<p class="muted">Catalog in service: ${catalog} — <a href="/sync">sync status</a> · <a href="/updates">most needed updates</a></p>
<h2>Compliance by classification</h2>${barChart(classes, 'classification-chart')}
${classTable}
<h2>Compliance over time</h2>${trend(await complianceTrend(store, 90))}
<h2>Collections</h2>
${collections}
<h2>By product</h2>
${products}`,
  );
}
