/**
 * One computer's compliance (/computers/NAME): its latest scan, every update with its state and reason, paginated
 * and sortable, reasons folded behind a disclosure; filters by state and for superseded updates.
 */
import { computerCompliance, type ComplianceRow } from '../../site/reports.js';
import { whyNotScanned } from '../routes/reports.js';
import { esc, layout, num, seen, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { folded, hrefWith, type Column } from './table.js';

export const updateLink = (updateId: string, text: string): string => `<a href="/updates/${encodeURIComponent(updateId)}">${esc(text)}</a>`;
export const kbText = (kb: string): string => (kb ? `KB${kb}` : '—');

const STATES = ['Required', 'Installed', 'Unknown'] as const;

/** A state, with "(superseded)" or "(possibly superseded)" after it when it is. */
export function stateCell(state: string, f: { readonly superseded: boolean; readonly possiblySuperseded?: boolean }): string {
  const note = f.superseded ? ' <span class="muted">(superseded)</span>' : f.possiblySuperseded ? ' <span class="muted">(possibly superseded)</span>' : '';
  return `<span class="${esc(state)}">${esc(state)}</span>${note}`;
}

/** What needs action first: Required, then Unknown (not known), superseded Required, Installed, NotApplicable. */
export function stateRank(state: string, superseded: boolean): number {
  return state === 'Required' ? (superseded ? 2 : 0) : state === 'Unknown' ? 1 : state === 'Installed' ? 3 : 4;
}

const COLUMNS: readonly Column<ComplianceRow>[] = [
  {
    key: 'state', label: 'State', value: (u) => u.state, sortBy: (u) => stateRank(u.state, u.superseded),
    cell: (u) => stateCell(u.state, u),
  },
  { key: 'superseded', label: 'Superseded', value: (u) => u.superseded, fixed: true, csvOnly: true },
  { key: 'possiblySuperseded', label: 'Possibly superseded', value: (u) => u.possiblySuperseded, fixed: true, csvOnly: true },
  { key: 'kb', label: 'KB', value: (u) => u.kb, cell: (u) => updateLink(u.updateId, kbText(u.kb)) },
  { key: 'title', label: 'Title', value: (u) => u.title },
  { key: 'classification', label: 'Classification', value: (u) => u.classification },
  { key: 'severity', label: 'Severity', value: (u) => u.severity },
  { key: 'reason', label: 'Reason', value: (u) => u.reason, cell: (u) => folded(u.reason) },
  // The state cell and the KB link show these on screen.
  { key: 'updateId', label: 'Update ID', value: (u) => u.updateId, fixed: true, csvOnly: true },
];

/** Links that set one query parameter, the current value in bold. */
export function choice(url: URL, param: string, options: readonly (readonly [string, string])[], testId: string): string {
  const cur = url.searchParams.get(param) ?? '';
  return `<p class="choice" data-testid="${esc(testId)}">${options.map(([v, label]) => (v === cur ? `<b>${esc(label)}</b>` : `<a href="${esc(hrefWith(url, { [param]: v || null, offset: null }))}">${esc(label)}</a>`)).join(' · ')}</p>`;
}

export async function computerPage({ store, catalogs, url, lists }: PageContext, name: string): PageResult {
  const client = await store.client(name);
  if (!client) return undefined;
  const os = `<span data-testid="os">${esc(client.os ?? 'OS not known yet')}</span>`;
  const c = await computerCompliance(store, catalogs, name);
  if (!c) {
    // An enrolled computer without a scan gets a page that says why (the lists link to every computer).
    return layout(client.name, `<h1>Software updates compliance for <span data-testid="computer-name">${esc(client.name)}</span></h1>
<p>${os} · ${esc(client.architecture ?? 'architecture not known yet')} · last seen ${seen(client.last_upload_at)}</p>
<p data-testid="not-scanned"><b>Not scanned yet:</b> ${esc(await whyNotScanned(store, client))}.</p>`);
  }
  const state = url.searchParams.get('state') ?? '';
  const hideSuperseded = url.searchParams.get('superseded') === 'hide';
  const rows = c.updates.filter((u) => (!state || u.state === state) && !(hideSuperseded && u.superseded));
  const table = lists.rows({
    id: 'update-table', main: true, columns: COLUMNS, all: rows, defaultOrder: { key: 'state', dir: 'asc' },
    rowAttrs: (u) => `data-state="${esc(u.state)}" data-superseded="${u.superseded}"`,
    empty: c.updates.length === 0
      ? '<p>The catalog in service has no update that applies to this computer.</p>'
      : `<p>No update of this computer matches these filters. <a href="${esc(url.pathname)}">Show all ${num(c.updates.length)}</a>.</p>`,
  });
  return layout(c.computer, `<h1>Software updates compliance for <span data-testid="computer-name">${esc(c.computer)}</span></h1>
<p>${os} · ${esc(c.architecture ?? 'architecture not known')} · last seen ${seen(c.lastUpload)} · scanned <span data-testid="scanned-at">${when(c.scannedAt)}</span> by “${esc(c.program)}” · catalog <span data-testid="catalog">${esc(c.catalog.sha256.slice(0, 16))}</span> (imported ${when(c.catalog.importedAt)})</p>
<div class="kpis">
<div class="kpi"><span>Installed</span><b class="Installed" data-testid="count-Installed">${num(c.counts.Installed)}</b></div>
<div class="kpi"><span>Required</span><b class="Required" data-testid="count-Required">${num(c.counts.Required)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="count-Unknown">${num(c.counts.Unknown)}</b></div>
</div>
${choice(url, 'state', [['', 'All'], ...STATES.map((s) => [s, s] as const)], 'state-filter')}
${choice(url, 'superseded', [['', 'with superseded updates'], ['hide', 'without superseded updates']], 'superseded-filter')}
${table}`);
}
