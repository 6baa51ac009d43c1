/**
 * One computer's compliance (/computers/NAME): its latest scan, every update with its state, release date, CVEs and
 * reason — paginated and sortable, reasons folded behind a disclosure; filters by state, and superseded Required
 * updates hidden or shown. Counts and listing come from computerCompliance (adapters/site/reports.ts), the function
 * behind `patchscan report computer` and GET /v1/computers/NAME/compliance.
 */
import { PatchscanError } from '../../../engine/errors.js';
import { computerCompliance, stateName, type ComplianceRow } from '../../site/reports.js';
import { HttpError } from '../http.js';
import { whyNotScanned } from '../routes/reports.js';
import { choice, cveLinks, kbText, moreInfo, released, stateCell, stateRank, updateLink } from './cells.js';
import { esc, layout, num, seen, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { folded, type Column } from './table.js';

const STATES = ['Required', 'Installed', 'Unknown'] as const;

const COLUMNS: readonly Column<ComplianceRow>[] = [
  { key: 'state', label: 'State', value: (u) => u.state, sortBy: (u) => stateRank(u.state, u), cell: (u) => stateCell(u.state, u) },
  { key: 'superseded', label: 'Superseded', value: (u) => u.superseded, fixed: true, csvOnly: true },
  { key: 'possiblySuperseded', label: 'Possibly superseded', value: (u) => u.possiblySuperseded, fixed: true, csvOnly: true },
  { key: 'kb', label: 'KB', value: (u) => u.kb, cell: (u) => updateLink(u.updateId, kbText(u.kb)) },
  { key: 'title', label: 'Title', value: (u) => u.title, cell: (u) => `${esc(u.title)} ${moreInfo(u.moreInfoUrl)}` },
  { key: 'classification', label: 'Classification', value: (u) => u.classification },
  { key: 'severity', label: 'Severity', value: (u) => u.severity || null },
  { key: 'releaseDate', label: 'Released', value: (u) => u.releaseDate || null, cell: (u) => released(u.releaseDate) },
  { key: 'cves', label: 'CVEs', value: (u) => u.cves.join('; ') || null, cell: (u) => cveLinks(u.cves) },
  { key: 'reason', label: 'Reason', value: (u) => u.reason, cell: (u) => folded(u.reason) },
  // The KB link and the title's link show these on screen.
  { key: 'moreInfoUrl', label: 'More info', value: (u) => u.moreInfoUrl || null, fixed: true, csvOnly: true },
  { key: 'updateId', label: 'Update ID', value: (u) => u.updateId, fixed: true, csvOnly: true },
];

const kpi = (label: string, testId: string, n: number, cls = ''): string =>
  `<div class="kpi"><span>${esc(label)}</span><b${cls ? ` class="${cls}"` : ''} data-testid="${testId}">${num(n)}</b></div>`;

export async function computerPage({ store, catalogs, url, lists }: PageContext, name: string): PageResult {
  const client = await store.client(name);
  if (!client) return undefined;
  const os = `<span data-testid="os">${esc(client.os ?? 'OS not known yet')}</span>`;
  const show = url.searchParams.get('superseded') === 'show';
  let state;
  try {
    state = stateName(url.searchParams.get('state') || undefined);
  } catch (e) {
    if (PatchscanError.is(e)) throw new HttpError(400, 'BAD_REQUEST', e.message);
    throw e;
  }
  const c = await computerCompliance(store, catalogs, name, { superseded: show ? 'show' : 'hide', ...(state ? { state } : {}) });
  if (!c) {
    // An enrolled computer without a scan gets a page that says why (the lists link to every computer).
    return layout(
      client.name,
      `<h1>Software updates compliance for <span data-testid="computer-name">${esc(client.name)}</span></h1>
<p>${os} · ${esc(client.architecture ?? 'architecture not known yet')} · last seen ${seen(client.last_upload_at)}</p>
<p data-testid="not-scanned"><b>Not scanned yet:</b> ${esc(await whyNotScanned(store, client))}.</p>`,
    );
  }
  const hiddenNote = c.hidden > 0 ? ` (${num(c.hidden)} superseded Required update(s) hidden)` : '';
  const table = lists.rows({
    id: 'update-table',
    main: true,
    columns: COLUMNS,
    all: c.updates,
    defaultOrder: { key: 'state', dir: 'asc' },
    rowAttrs: (u) => `data-state="${esc(u.state)}" data-superseded="${u.superseded}"`,
    empty: `<p>No update of this computer is listed with these filters${hiddenNote}.
<a href="${esc(url.pathname)}">Show all</a>.</p>`,
  });
  const k = c.counts;
  const header = `${os} · ${esc(c.architecture ?? 'architecture not known')} · last seen ${seen(c.lastUpload)}
· scanned <span data-testid="scanned-at">${when(c.scannedAt)}</span> by “${esc(c.program)}”
· catalog <span data-testid="catalog">${esc(c.catalog.sha256.slice(0, 16))}</span> (imported ${when(c.catalog.importedAt)})`;
  const supersededChoice = choice(
    url,
    'superseded',
    [
      ['', `without superseded Required updates${!show && c.hidden > 0 ? ` (${num(c.hidden)} hidden)` : ''}`],
      ['show', 'with superseded Required updates'],
    ],
    'superseded-filter',
  );
  return layout(
    c.computer,
    `<h1>Software updates compliance for <span data-testid="computer-name">${esc(c.computer)}</span></h1>
<p>${header}</p>
<div class="kpis">
${kpi('Required', 'count-Required', k.Required, 'Required')}${kpi('Installed', 'count-Installed', k.Installed, 'Installed')}
${kpi('Unknown', 'count-Unknown', k.Unknown)}${kpi('Required but superseded', 'count-superseded', k.superseded)}
${kpi('Possibly superseded', 'count-possiblySuperseded', k.possiblySuperseded)}
</div>
<p class="muted">Required counts updates this computer needs that no update Installed or Required on it supersedes.</p>
${choice(url, 'state', [['', 'All'], ...STATES.map((s) => [s, s] as const)], 'state-filter')}
${supersededChoice}
${table}`,
  );
}
