/**
 * Every update with its fleet counts (/updates), most needed first: filters by classification, product, severity
 * and state, and a search over KB, title and CVE ids anywhere in the text. The classification and product pages
 * show the same list with their filter fixed (updatesTable).
 */
import { isCveId } from '../../site/reports.js';
import {
  UPDATE_LIST_STATES,
  updateList,
  type FleetUpdateRow,
  type UpdateListFilter,
  type UpdateListState,
} from '../../site/update-list.js';
import { HttpError } from '../http.js';
import { cveLink, cveLinks, kbText, moreInfo, released, updateLink } from './cells.js';
import { esc, layout, num } from './html.js';
import type { PageContext, PageResult } from './page.js';
import type { Column } from './table.js';

const STATE_LABELS: Readonly<Record<UpdateListState, string>> = {
  required: 'needed by some machine (Required)',
  superseded: 'superseded on some machine',
  possiblySuperseded: 'possibly superseded on some machine',
  installed: 'installed on some machine',
  unknown: 'Unknown on some machine',
};

/** A machine count column (data-col names it for tests and styles). */
const count = (key: 'required' | 'superseded' | 'possiblySuperseded' | 'installed' | 'unknown', label: string): Column<FleetUpdateRow> => ({
  key,
  label,
  value: (u) => u.counts[key],
  numeric: true,
  cell: (u) => `<span data-col="${key}">${num(u.counts[key])}</span>`,
});

export const UPDATE_COLUMNS: readonly Column<FleetUpdateRow>[] = [
  { key: 'kb', label: 'KB', value: (u) => u.kb, cell: (u) => updateLink(u.updateId, kbText(u.kb)) },
  { key: 'title', label: 'Title', value: (u) => u.title, cell: (u) => `${esc(u.title)} ${moreInfo(u.moreInfoUrl)}` },
  {
    key: 'classification',
    label: 'Classification',
    value: (u) => u.classification,
    cell: (u) => `<a href="/classifications/${encodeURIComponent(u.classification)}">${esc(u.classification)}</a>`,
  },
  { key: 'severity', label: 'Severity', value: (u) => u.severity || null },
  { key: 'releaseDate', label: 'Released', value: (u) => u.releaseDate || null, cell: (u) => released(u.releaseDate) },
  { key: 'products', label: 'Products', value: (u) => u.products.join('; '), csvOnly: true },
  { key: 'cves', label: 'CVEs', value: (u) => u.cves.join('; ') || null, cell: (u) => cveLinks(u.cves) },
  count('required', 'Required'),
  count('superseded', 'Superseded'),
  count('possiblySuperseded', 'Possibly superseded'),
  count('installed', 'Installed'),
  count('unknown', 'Unknown'),
  { key: 'moreInfoUrl', label: 'More info', value: (u) => u.moreInfoUrl || null, fixed: true, csvOnly: true },
  { key: 'updateId', label: 'Update ID', value: (u) => u.updateId, fixed: true, csvOnly: true },
];

/** The filters a URL asks for (an unknown state is 400 naming the choices). */
export function updateFilter(url: URL, fixed: UpdateListFilter = {}): UpdateListFilter {
  const q = url.searchParams;
  const pick = (k: string): string | undefined => q.get(k) || undefined;
  const state = pick('state');
  if (state !== undefined && !(UPDATE_LIST_STATES as readonly string[]).includes(state)) {
    throw new HttpError(400, 'BAD_REQUEST', `state=${JSON.stringify(state.slice(0, 40))} must be one of ${UPDATE_LIST_STATES.join(', ')}`);
  }
  const f: { -readonly [K in keyof UpdateListFilter]: UpdateListFilter[K] } = {};
  const classification = pick('classification'),
    product = pick('product'),
    severity = pick('severity'),
    text = pick('q');
  if (classification !== undefined) f.classification = classification;
  if (product !== undefined) f.product = product;
  if (severity !== undefined) f.severity = severity;
  if (state !== undefined) f.state = state as UpdateListState;
  if (text !== undefined) f.q = text;
  return { ...f, ...fixed };
}

/** The filter form and the list, for /updates and the drill-down pages (`fixed` filters are not offered). */
export async function updatesTable(
  ctx: PageContext,
  o: {
    readonly fixed?: UpdateListFilter;
    readonly main?: boolean;
    readonly id?: string;
    readonly scope?: ReadonlyMap<number, number>;
  } = {},
): Promise<{ html: string; total: number }> {
  const { store, catalogs, url, lists } = ctx;
  const fixed = o.fixed ?? {};
  const filter = updateFilter(url, fixed);
  const list = await updateList(store, catalogs, filter, o.scope);
  const select = (name: 'classification' | 'product' | 'severity', label: string, values: readonly string[]): string => {
    if (fixed[name] !== undefined) return '';
    const cur = url.searchParams.get(name) ?? '';
    const options = values.map((v) => `<option${v === cur ? ' selected' : ''}>${esc(v)}</option>`).join('');
    return `<label>${esc(label)}<select name="${name}"><option value="">any</option>${options}</select></label>`;
  };
  const curState = url.searchParams.get('state') ?? '';
  const stateOptions = UPDATE_LIST_STATES.map(
    (s) => `<option value="${s}"${s === curState ? ' selected' : ''}>${esc(STATE_LABELS[s])}</option>`,
  ).join('');
  const form = `<form class="filters" method="get" action="${esc(url.pathname)}" data-testid="update-filters">
<label>Search KB, title or CVE
<input name="q" value="${esc(url.searchParams.get('q') ?? '')}" placeholder="e.g. KB5034441, .NET, CVE-2024-21351"></label>
${select('classification', 'Classification', list.classifications)}${select('product', 'Product', list.products)}
${select('severity', 'Severity', list.severities)}
<label>State<select name="state"><option value="">any</option>${stateOptions}</select></label>
<button type="submit">Show</button> <a href="${esc(url.pathname)}">clear</a></form>`;
  const empty = !list.catalog
    ? '<p><b>No catalog yet:</b> run <code>patchscan sync</code> on the server. Updates are listed once machines are scanned ' +
      'against it.</p>'
    : (o.scope ? o.scope.size === 0 : (await store.fleetTotals()).scanned === 0)
      ? '<p><b>No machine is scanned yet.</b> Updates are listed with their counts once clients upload inventories ' +
        '(<code>patchscan upload</code>) and <code>patchscan serve</code> scans them.</p>'
      : `<p>No update matches these filters. <a href="${esc(url.pathname)}">Clear them</a>.</p>`;
  const html = lists.rows({
    id: o.id ?? 'update-list',
    main: o.main ?? true,
    columns: UPDATE_COLUMNS,
    all: list.updates,
    defaultOrder: { key: 'required', dir: 'desc' },
    empty,
    rowAttrs: (u) => `data-update="${esc(u.updateId)}"`,
  });
  return { html: `${form}${html}`, total: list.updates.length };
}

export async function updatesPage(ctx: PageContext): PageResult {
  const t = await updatesTable(ctx);
  const q = (ctx.url.searchParams.get('q') ?? '').trim();
  const exposure = isCveId(q) ? `<p data-testid="cve-hint">Which machines are exposed to ${cveLink(q.toUpperCase())}?</p>` : '';
  return layout(
    'Updates',
    `<h1>Updates</h1>
<p class="muted">Every update some scanned machine has a result for, with how many machines are in each state; most needed first.
“Required” counts machines that need it and have no superseding update Installed or Required.</p>
${exposure}${t.html}`,
  );
}
