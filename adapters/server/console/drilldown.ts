/**
 * Drill-down from a classification (/classifications/NAME) or a product (/products/NAME): its fleet counts, the
 * machines with results in it (that group's counts on each, most Required first), and its updates.
 */
import { groupSummary } from '../../site/reports.js';
import { groupMachines } from '../../site/update-list.js';
import { COMPUTER_ORDERS, type ComputerListRow, type ComputerOrder } from '../../store/port.js';
import { computerLink } from './computers.js';
import { esc, layout, num, seen, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { assertStoreOrders, type Column } from './table.js';
import { updatesTable } from './updates.js';

// Most Required first by default (what a drill-down is for); every column sorts in the store (COMPUTER_ORDERS).
const MACHINES: readonly Column<ComputerListRow>[] = [
  { key: 'name', label: 'Computer', value: (c) => c.name, cell: (c) => computerLink(c.name) },
  { key: 'architecture', label: 'Architecture', value: (c) => c.architecture },
  { key: 'os', label: 'OS', value: (c) => c.os },
  { key: 'lastUpload', label: 'Last seen (upload)', value: (c) => c.lastUpload, cell: (c) => seen(c.lastUpload) },
  { key: 'scannedAt', label: 'Scanned', value: (c) => c.scannedAt, cell: (c) => when(c.scannedAt, 'not yet') },
  { key: 'installed', label: 'Installed', value: (c) => c.installed, numeric: true },
  { key: 'required', label: 'Required', value: (c) => c.required, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (c) => c.unknown, numeric: true },
];

export function drillDownPage(kind: 'classification' | 'product'): (ctx: PageContext, name: string) => PageResult {
  return async (ctx, name) => {
    const { store, catalogs } = ctx;
    const totals = (await groupSummary(store, kind, catalogs)).find((g) => g.name === name);
    const fixed = kind === 'classification' ? { classification: name } : { product: name };
    const updates = await updatesTable(ctx, { fixed, main: false, id: 'group-updates' });
    if (!totals && updates.total === 0) return undefined;
    const machines = await ctx.lists.paged({
      id: 'group-machines',
      main: true,
      columns: MACHINES,
      defaultOrder: { key: 'required', dir: 'desc' },
      empty: '<p>No scanned machine has a result in it yet.</p>',
      fetch: (order, limit, offset) =>
        groupMachines(store, kind, name, limit, offset, { key: order.key as ComputerOrder['key'], dir: order.dir }),
    });
    const label = kind === 'classification' ? 'Classification' : 'Product';
    return layout(
      name,
      `<h1>${label}: <span data-testid="group-name">${esc(name)}</span></h1>
<div class="kpis">
<div class="kpi"><span>Required (client × update)</span>
<b class="Required" data-testid="group-required">${num(totals?.required ?? 0)}</b></div>
<div class="kpi"><span>Installed</span><b class="Installed" data-testid="group-installed">${num(totals?.installed ?? 0)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="group-unknown">${num(totals?.unknown ?? 0)}</b></div>
</div>
<h2>Machines</h2>${machines}
<h2>Updates</h2>${updates.html}`,
    );
  };
}

assertStoreOrders('drill-down machines', MACHINES, COMPUTER_ORDERS);
