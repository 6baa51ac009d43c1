/**
 * One update across the fleet (/updates/KB…, or an UpdateId): every update carrying the KB (one per architecture or
 * OS, as Microsoft publishes them) with its own counts, machines counted once by their combined outcome, who needs
 * it and why some are Unknown. From updateCompliance (adapters/site/reports.ts), as `patchscan report update` and
 * GET /v1/updates/KB….
 */
import { PatchscanError } from '../../../engine/errors.js';
import { updateCompliance, type CoveredUpdate, type UpdateCompliance } from '../../site/reports.js';
import { HttpError, intParam } from '../http.js';
import { choice, cveLinks, moreInfo, released, stateCell, updateLink } from './cells.js';
import { computerLink } from './computers.js';
import { esc, layout, num, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { assertStoreOrders, folded, type Column } from './table.js';
import { UPDATE_MACHINE_ORDERS, type UpdateMachineOrder } from '../../store/port.js';

type MachineRow = UpdateCompliance['machines']['items'][number];
type ReasonRow = UpdateCompliance['unknownBecause'][number];

// Sorted by the store (UPDATE_MACHINE_ORDERS); by computer name by default.
const machineColumns = (several: boolean): readonly Column<MachineRow>[] => [
  { key: 'computer', label: 'Computer', value: (m) => m.computer, cell: (m) => computerLink(m.computer) },
  ...(several ? [{ key: 'updateId', label: 'Update', value: (m: MachineRow) => m.updateId }] : []),
  { key: 'state', label: 'State', value: (m) => m.state, cell: (m) => stateCell(m.state, m) },
  { key: 'superseded', label: 'Superseded', value: (m) => m.superseded, fixed: true, csvOnly: true },
  { key: 'possiblySuperseded', label: 'Possibly superseded', value: (m) => m.possiblySuperseded, fixed: true, csvOnly: true },
  { key: 'reason', label: 'Reason', value: (m) => m.reason, cell: (m) => folded(m.reason) },
  { key: 'scannedAt', label: 'Scanned', value: (m) => m.scannedAt, cell: (m) => when(m.scannedAt) },
];
assertStoreOrders('update machines', machineColumns(true), UPDATE_MACHINE_ORDERS);

const REASONS: readonly Column<ReasonRow>[] = [
  { key: 'reason', label: 'Reason', value: (r) => r.reason, cell: (r) => folded(r.reason, 160) },
  { key: 'machines', label: 'Machines', value: (r) => r.machines, numeric: true },
];

const count = (key: keyof CoveredUpdate['counts'], label: string): Column<CoveredUpdate> => ({
  key,
  label,
  value: (u) => u.counts[key],
  numeric: true,
  cell: (u) => `<span data-col="${key}">${num(u.counts[key])}</span>`,
});
const UPDATES: readonly Column<CoveredUpdate>[] = [
  { key: 'updateId', label: 'Update', value: (u) => u.updateId, cell: (u) => updateLink(u.updateId, u.updateId) },
  { key: 'title', label: 'Title', value: (u) => u.title, cell: (u) => `${esc(u.title)} ${moreInfo(u.moreInfoUrl)}` },
  { key: 'releaseDate', label: 'Released', value: (u) => u.releaseDate || null, cell: (u) => released(u.releaseDate) },
  count('Required', 'Required'),
  count('superseded', 'Superseded'),
  count('possiblySuperseded', 'Possibly superseded'),
  count('Installed', 'Installed'),
  count('Unknown', 'Unknown'),
];

const STATE_CHOICES = [
  ['', 'All'],
  ['Required', 'Required'],
  ['Installed', 'Installed'],
  ['Unknown', 'Unknown'],
] as const;

const kpi = (label: string, testId: string, n: number, cls = ''): string =>
  `<div class="kpi"><span>${esc(label)}</span><b${cls ? ` class="${cls}"` : ''} data-testid="${testId}">${num(n)}</b></div>`;

export async function updatePage({ store, catalogs, url, lists }: PageContext, id: string): PageResult {
  // A malformed page offset is the request's mistake whether or not the update exists: 400 before the lookup's 404.
  intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const state = url.searchParams.get('state') || undefined;
  const superseded = url.searchParams.get('superseded') === 'show' ? ('show' as const) : ('hide' as const);
  const ask = (limit: number, offset: number, order?: UpdateMachineOrder): Promise<UpdateCompliance | undefined> =>
    updateCompliance(store, catalogs, id, { ...(state ? { state } : {}), superseded, limit, offset, ...(order ? { order } : {}) }).catch(
      (e: unknown) => {
        if (PatchscanError.is(e)) throw new HttpError(400, 'BAD_REQUEST', e.message);
        throw e;
      },
    );
  const u = await ask(1, 0);
  if (!u) return undefined;
  const several = u.updates.length > 1;
  const machines = await lists.paged({
    id: 'machine-list',
    main: true,
    columns: machineColumns(several),
    defaultOrder: { key: 'computer', dir: 'asc' },
    empty: state
      ? `<p>No scanned machine has this update ${esc(state)}${superseded === 'hide' ? ' (superseded Required ones are hidden)' : ''}.</p>`
      : '<p>No scanned machine has a result for this update yet (machines are listed once their scan with the catalog in service ' +
        'is stored).</p>',
    fetch: async (order, limit, offset) =>
      (await ask(limit, offset, { key: order.key as UpdateMachineOrder['key'], dir: order.dir }))!.machines,
  });
  const reasons =
    u.unknownBecause.length === 0
      ? ''
      : `<h2>Unknown because</h2>${lists.rows({
          id: 'unknown-reasons',
          columns: REASONS,
          all: u.unknownBecause,
          defaultOrder: { key: 'machines', dir: 'desc' },
          empty: '',
        })}`;
  const updates = lists.rows({
    id: 'kb-updates',
    columns: UPDATES,
    all: u.updates,
    defaultOrder: { key: 'Required', dir: 'desc' },
    empty: '',
  });
  const i = u.update;
  const title = i.kb ? `KB${i.kb}` : i.updateId;
  const products = i.products.map((p) => `<a href="/products/${encodeURIComponent(p)}">${esc(p)}</a>`).join(', ');
  const k = u.counts;
  return layout(
    title,
    `<h1>${i.kb ? `KB${esc(i.kb)} — ` : ''}${esc(i.title)}</h1>
<p class="muted">${several ? `${num(u.updates.length)} updates carry this KB` : esc(i.updateId)}
· <a href="/classifications/${encodeURIComponent(i.classification)}">${esc(i.classification)}</a> · ${esc(i.severity || 'no severity')}
· ${products}${i.releaseDate ? ` · released ${released(i.releaseDate)}` : ''} ${moreInfo(i.moreInfoUrl)}</p>
${i.cves.length ? `<p>Fixes ${cveLinks(i.cves, 20)}</p>` : ''}
<div class="kpis">
${kpi('Need it (Required)', 'update-Required', k.Required, 'Required')}
${kpi('Have it (Installed)', 'update-Installed', k.Installed, 'Installed')}
${kpi('Unknown', 'update-Unknown', k.Unknown)}${kpi('Required but superseded', 'update-superseded', k.superseded)}
${kpi('Possibly superseded', 'update-possiblySuperseded', k.possiblySuperseded)}
</div>
<p class="muted">Machines, counted once each${several ? ' over every update of the KB (needing any one counts as Required)' : ''}.</p>
<h2>${several ? 'Updates of this KB' : 'The update'}</h2>${updates}
${reasons}
<h2>Machines</h2>${choice(url, 'state', STATE_CHOICES, 'state-filter')}
${choice(
  url,
  'superseded',
  [
    ['', 'without superseded Required'],
    ['show', 'with superseded Required'],
  ],
  'superseded-filter',
)}
${machines}`,
  );
}
