/**
 * Drill-down from a collection (/collections/NAME): its members (the membership rule of `patchscan collection
 * show`), each with its counts, sortable and paginated; and the updates its members have results for, most needed
 * first, counted over its members only.
 */
import { collectionSummary } from '../../site/reports.js';
import { collectionView } from '../../site/update-list.js';
import type { ComputerSetRow } from '../../store/port.js';
import { computerLink } from './computers.js';
import { esc, layout, num, seen, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import type { Column } from './table.js';
import { updatesTable } from './updates.js';

const MEMBERS: readonly Column<ComputerSetRow>[] = [
  { key: 'name', label: 'Computer', value: (c) => c.name, cell: (c) => computerLink(c.name) },
  { key: 'architecture', label: 'Architecture', value: (c) => c.architecture },
  { key: 'os', label: 'OS', value: (c) => c.os },
  { key: 'lastUpload', label: 'Last seen (upload)', value: (c) => c.lastUpload, cell: (c) => seen(c.lastUpload) },
  { key: 'scannedAt', label: 'Scanned', value: (c) => c.scannedAt, cell: (c) => when(c.scannedAt, 'not yet') },
  { key: 'installed', label: 'Installed', value: (c) => c.installed, numeric: true },
  { key: 'required', label: 'Required', value: (c) => c.required, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (c) => c.unknown, numeric: true },
];

export async function collectionPage(ctx: PageContext, name: string): PageResult {
  const v = await collectionView(ctx.store, name);
  if (!v) return undefined;
  const c = v.collection;
  const sum = (await collectionSummary(ctx.store)).find((r) => r.name === c.name);
  const query =
    c.architecture === '*' ? 'every client' : c.architecture ? `clients of architecture ${c.architecture}` : 'direct members only';
  const rule = c.limited ? `${query}, limited to “${c.limited}”` : query;
  const members = ctx.lists.rows({
    id: 'members',
    main: true,
    columns: MEMBERS,
    all: v.members,
    defaultOrder: { key: 'required', dir: 'desc' },
    empty: `<p>This collection has no members. Its rule: ${esc(rule)}. Add one with <code>patchscan collection add-member</code>${
      c.limited ? ', or lift the limit with <code>patchscan collection unlimit</code>' : ''
    }.</p>`,
  });
  const updates = await updatesTable(ctx, { main: false, id: 'collection-updates', scope: v.sets });
  return layout(
    c.name,
    `<h1>Collection: <span data-testid="collection-name">${esc(c.name)}</span></h1>
<p class="muted">Members: ${esc(rule)}.</p>
<div class="kpis">
<div class="kpi"><span>Members</span><b data-testid="collection-members">${num(sum?.members ?? 0)}</b></div>
<div class="kpi"><span>Scanned</span><b data-testid="collection-scanned">${num(sum?.scanned ?? 0)}</b></div>
<div class="kpi"><span>Compliant (nothing Required)</span><b data-testid="collection-compliant">${num(sum?.compliant ?? 0)}</b></div>
<div class="kpi"><span>Required (client × update)</span>
<b class="Required" data-testid="collection-required">${num(sum?.required ?? 0)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="collection-unknown">${num(sum?.unknown ?? 0)}</b></div>
</div>
<h2>Members</h2>${members}
<h2>Updates of its members</h2>${updates.html}`,
  );
}
