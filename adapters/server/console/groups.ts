/**
 * Software update groups (/groups) and one group (/groups/NAME): "Compliance 1 – Overall compliance" of the group
 * across the fleet and per collection, its computers (Compliant, NonCompliant, Unknown; overdue after the deadline),
 * and its updates. Every number comes from adapters/site/update-groups.ts (the CLI's and HTTP's functions).
 */
import { PatchscanError } from '../../../engine/errors.js';
import {
  describeCriteria,
  GROUP_STATES,
  listUpdateGroups,
  updateGroupView,
  type GroupComputer,
  type GroupState,
  type GroupSummary,
  type GroupTally,
  type GroupUpdate,
} from '../../site/update-groups.js';
import { HttpError } from '../http.js';
import { choice, kbText, updateLink } from './cells.js';
import { computerLink } from './computers.js';
import { esc, layout, num, when } from './html.js';
import type { PageContext, PageResult } from './page.js';
import type { Column } from './table.js';

const groupLink = (name: string): string => `<a href="/groups/${encodeURIComponent(name)}">${esc(name)}</a>`;
const pctCell = (t: GroupTally): string =>
  t.compliancePercent === null ? '<span class="muted">n/a</span>' : `${t.compliancePercent.toFixed(1)} %`;
const deadlineCell = (g: { deadline: string | null; pastDeadline: boolean }): string =>
  g.deadline ? `${when(g.deadline)}${g.pastDeadline ? ' <span class="Required">passed</span>' : ''}` : '<span class="muted">none</span>';

const tallyColumns = <T>(get: (r: T) => GroupTally): Column<T>[] => [
  { key: 'members', label: 'Computers', value: (r) => get(r).members, numeric: true },
  { key: 'compliant', label: 'Compliant', value: (r) => get(r).compliant, numeric: true },
  { key: 'nonCompliant', label: 'Non-compliant', value: (r) => get(r).nonCompliant, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (r) => get(r).unknown, numeric: true },
  { key: 'overdue', label: 'Overdue', value: (r) => get(r).overdue, numeric: true },
  { key: 'compliancePercent', label: 'Compliance', value: (r) => get(r).compliancePercent, numeric: true, cell: (r) => pctCell(get(r)) },
];

const GROUPS: readonly Column<GroupSummary>[] = [
  { key: 'name', label: 'Group', value: (g) => g.name, cell: (g) => groupLink(g.name) },
  { key: 'updates', label: 'Updates', value: (g) => g.updates, numeric: true },
  { key: 'deadline', label: 'Deadline', value: (g) => g.deadline, cell: deadlineCell },
  ...tallyColumns<GroupSummary>((g) => g.fleet),
];

const EMPTY =
  '<p><b>No update group yet.</b> Make one from KBs, a release window, classifications or products, e.g. ' +
  '<code>patchscan group create "Patch Tuesday 2026-12" --released-after 2026-12-01 --classification "Security Updates" ' +
  '--deadline 2026-12-24</code>.</p>';

export async function groupsPage({ store, catalogs, lists }: PageContext): PageResult {
  const groups = await listUpdateGroups(store, catalogs);
  const table = lists.rows({
    id: 'group-list',
    main: true,
    columns: GROUPS,
    all: groups,
    defaultOrder: { key: 'name', dir: 'asc' },
    empty: EMPTY,
  });
  return layout(
    'Update groups',
    `<h1>Software update groups</h1>
<p class="muted">A computer is Compliant when none of the group's updates is Required (by the counting rule), Non-compliant when one is,
Unknown when none is but one is not known there. After the deadline, non-compliant computers are overdue.</p>
${table}`,
  );
}

const COMPUTERS: readonly Column<GroupComputer>[] = [
  { key: 'computer', label: 'Computer', value: (c) => c.computer, cell: (c) => computerLink(c.computer) },
  {
    key: 'state',
    label: 'State',
    value: (c) => c.state,
    cell: (c) => {
      const cls = c.state === 'NonCompliant' ? 'Required' : c.state === 'Compliant' ? 'Installed' : 'Unknown';
      return `<span class="${cls}">${esc(c.state)}</span>${c.overdue ? ' <b class="Required">overdue</b>' : ''}`;
    },
  },
  { key: 'overdue', label: 'Overdue', value: (c) => c.overdue, fixed: true, csvOnly: true },
  { key: 'architecture', label: 'Architecture', value: (c) => c.architecture },
  { key: 'scannedAt', label: 'Scanned', value: (c) => c.scannedAt, cell: (c) => when(c.scannedAt, 'never') },
  { key: 'missing', label: 'Missing', value: (c) => c.missing, numeric: true },
  { key: 'possiblySuperseded', label: 'Possibly superseded', value: (c) => c.possiblySuperseded, numeric: true },
  { key: 'unknown', label: 'Unknown', value: (c) => c.unknown, numeric: true },
  { key: 'installed', label: 'Installed', value: (c) => c.installed, numeric: true },
  { key: 'superseded', label: 'Superseded', value: (c) => c.superseded, numeric: true },
  { key: 'notApplicable', label: 'Not applicable', value: (c) => c.notApplicable, numeric: true },
];

const UPDATES: readonly Column<GroupUpdate>[] = [
  { key: 'kb', label: 'KB', value: (u) => u.kb, cell: (u) => updateLink(u.updateId, kbText(u.kb)) },
  { key: 'title', label: 'Title', value: (u) => u.title },
  { key: 'updateId', label: 'Update ID', value: (u) => u.updateId, fixed: true, csvOnly: true },
];

const STATE_ORDER: Readonly<Record<GroupState, number>> = { NonCompliant: 0, Unknown: 1, Compliant: 2 };

export async function groupPage({ store, catalogs, url, lists }: PageContext, name: string): PageResult {
  if (!(await store.updateGroup(name))) return undefined;
  const q = url.searchParams;
  const state = q.get('state') || undefined;
  if (state !== undefined && !(GROUP_STATES as readonly string[]).includes(state)) {
    throw new HttpError(400, 'BAD_REQUEST', `state=${JSON.stringify(state.slice(0, 40))} must be one of ${GROUP_STATES.join(', ')}`);
  }
  const collection = q.get('collection') || undefined;
  const overdue = q.get('overdue') === '1';
  if (collection !== undefined && !(await store.collectionByName(collection))) {
    throw new HttpError(400, 'BAD_REQUEST', `no collection named "${collection}" (patchscan collection list)`);
  }
  // The group is evaluated once for its tallies and its computers.
  let view;
  try {
    view = await updateGroupView(store, catalogs, name, {
      ...(collection !== undefined ? { collection } : {}),
      ...(state ? { state: state as GroupState } : {}),
      overdue,
    });
  } catch (e) {
    if (PatchscanError.is(e) && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  const g = view.detail;
  const page = { items: view.computers };
  const computers = lists.rows({
    id: 'group-computers',
    main: true,
    all: page.items,
    defaultOrder: { key: 'state', dir: 'asc' },
    columns: COMPUTERS.map((c) => (c.key === 'state' ? { ...c, sortBy: (r: GroupComputer) => STATE_ORDER[r.state] } : c)),
    rowAttrs: (c) => `data-state="${esc(c.state)}"`,
    empty: `<p>No computer${state ? ` is ${esc(state)}` : ''}${overdue ? ' overdue' : ''}${collection ? ` in ${esc(collection)}` : ''}.
<a href="${esc(url.pathname)}">Show every computer</a>.</p>`,
  });
  const perCollection = lists.rows({
    id: 'group-collections',
    all: g.collections,
    defaultOrder: { key: 'collection', dir: 'asc' },
    empty: '<p>No collections.</p>',
    columns: [
      {
        key: 'collection',
        label: 'Collection',
        value: (c) => c.collection,
        cell: (c) => `<a href="${esc(`${url.pathname}?collection=${encodeURIComponent(c.collection)}`)}">${esc(c.collection)}</a>`,
      },
      ...tallyColumns<GroupTally & { collection: string }>((c) => c),
    ],
  });
  const updates = lists.rows({
    id: 'group-update-list',
    all: g.updateList,
    columns: UPDATES,
    defaultOrder: { key: 'kb', dir: 'asc' },
    empty: '<p>The group holds no update.</p>',
  });
  const f = g.fleet;
  return layout(
    g.name,
    `<h1>Update group: <span data-testid="group-title">${esc(g.name)}</span></h1>
<p class="muted">${esc(describeCriteria(g.criteria))} · ${num(g.updates)} update(s) · deadline ${deadlineCell(g)}
· created ${when(g.createdAt)}</p>
<div class="kpis">
<div class="kpi"><span>Compliance</span><b data-testid="ug-percent">${pctCell(f)}</b></div>
<div class="kpi"><span>Compliant</span><b class="Installed" data-testid="ug-compliant">${num(f.compliant)}</b></div>
<div class="kpi"><span>Non-compliant</span><b class="Required" data-testid="ug-noncompliant">${num(f.nonCompliant)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="ug-unknown">${num(f.unknown)}</b></div>
<div class="kpi"><span>Overdue</span><b class="Required" data-testid="ug-overdue">${num(f.overdue)}</b></div>
</div>
<h2>Per collection</h2>${perCollection}
<h2>Computers${collection ? ` in ${esc(collection)}` : ''}</h2>
${choice(url, 'state', [['', 'All'], ...GROUP_STATES.map((s) => [s, s] as const)], 'group-state-filter')}
${choice(
  url,
  'overdue',
  [
    ['', 'overdue or not'],
    ['1', 'overdue only'],
  ],
  'group-overdue-filter',
)}
${computers}
<h2>Updates</h2>${updates}`,
  );
}
