/** One update across the fleet (/updates/ID): who needs it, who has it, why some are Unknown. */
import { updateCompliance, type UpdateCompliance } from '../../site/reports.js';
import { choice, stateCell } from './computer.js';
import { computerLink } from './computers.js';
import { esc, layout, num, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { folded, type Column } from './table.js';

type MachineRow = UpdateCompliance['machines']['items'][number];
type ReasonRow = UpdateCompliance['unknownBecause'][number];

// The store lists machines by name; the columns are not re-sortable (a page reads one slice of an indexed order).
const MACHINES: readonly Column<MachineRow>[] = [
  { key: 'computer', label: 'Computer', value: (m) => m.computer, cell: (m) => computerLink(m.computer), fixed: true },
  { key: 'state', label: 'State', value: (m) => m.state, fixed: true, cell: (m) => stateCell(m.state, m) },
  { key: 'superseded', label: 'Superseded', value: (m) => m.superseded, fixed: true, csvOnly: true },
  { key: 'possiblySuperseded', label: 'Possibly superseded', value: (m) => m.possiblySuperseded, fixed: true, csvOnly: true },
  { key: 'reason', label: 'Reason', value: (m) => m.reason, cell: (m) => folded(m.reason), fixed: true },
  { key: 'scannedAt', label: 'Scanned', value: (m) => m.scannedAt, cell: (m) => when(m.scannedAt), fixed: true },
];

const REASONS: readonly Column<ReasonRow>[] = [
  { key: 'reason', label: 'Reason', value: (r) => r.reason, cell: (r) => folded(r.reason, 160) },
  { key: 'machines', label: 'Machines', value: (r) => r.machines, numeric: true },
];

export async function updatePage({ store, catalogs, url, lists }: PageContext, id: string): PageResult {
  const state = url.searchParams.get('state') ?? '';
  const first = await updateCompliance(store, catalogs, id, { ...(state ? { state } : {}), limit: 1, offset: 0 });
  if (!first) return undefined;
  const u = first;
  const machines = await lists.paged({
    id: 'machine-list', main: true, columns: MACHINES, defaultOrder: { key: 'computer', dir: 'asc' },
    empty: state
      ? `<p>No scanned machine has this update ${esc(state)}.</p>`
      : '<p>No scanned machine has a result for this update yet (machines are listed once their scan with the catalog in service is stored).</p>',
    fetch: async (_order, limit, offset) => (await updateCompliance(store, catalogs, id, { ...(state ? { state } : {}), limit, offset }))!.machines,
  });
  const reasons = u.unknownBecause.length === 0 ? '' : `<h2>Unknown because</h2>${lists.rows({
    id: 'unknown-reasons', columns: REASONS, all: u.unknownBecause, defaultOrder: { key: 'machines', dir: 'desc' }, empty: '',
  })}`;
  const title = u.update.kb ? `KB${u.update.kb}` : u.update.updateId;
  return layout(title, `<h1>${u.update.kb ? `KB${esc(u.update.kb)} — ` : ''}${esc(u.update.title)}</h1>
<p class="muted">${esc(u.update.updateId)} · <a href="/classifications/${encodeURIComponent(u.update.classification)}">${esc(u.update.classification)}</a> · ${esc(u.update.severity || 'no severity')} · ${u.update.products.map((p) => `<a href="/products/${encodeURIComponent(p)}">${esc(p)}</a>`).join(', ')}</p>
<div class="kpis">
<div class="kpi"><span>Need it (Required)</span><b class="Required" data-testid="update-Required">${num(u.counts.Required)}</b></div>
<div class="kpi"><span>Have it (Installed)</span><b class="Installed" data-testid="update-Installed">${num(u.counts.Installed)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="update-Unknown">${num(u.counts.Unknown)}</b></div>
<div class="kpi"><span>Superseded</span><b data-testid="update-superseded">${num(u.counts.superseded)}</b></div>
</div>
${reasons}
<h2>Machines</h2>${choice(url, 'state', [['', 'All'], ['Required', 'Required'], ['Installed', 'Installed'], ['Unknown', 'Unknown']], 'state-filter')}
${machines}`);
}
