/**
 * Every update of the catalog in service that some scanned machine has a result for, with its fleet counts —
 * the console's updates page ("most needed first") and its CSV. Counts follow the counting rule
 * (engine/scanner/counting.ts): `required` is Required and not superseded; superseded and possibly superseded Required
 * are counted apart. Filters: classification, product, severity, a state some machine is in, and a text search over
 * KB, title and CVE ids (anywhere in the text, case-insensitive).
 */
import type { Catalog } from '../../engine/catalog/catalog.js';
import { countedAs, emptyCounts, type OutcomeCounts } from '../../engine/scanner/counting.js';
import { computerKey } from '../store/computer-name.js';
import type { CollectionRow, ComputerListRow, ComputerOrder, ComputerSetRow, SiteStore } from '../store/port.js';
import type { CatalogVersions, Page } from './reports.js';
import { TargetingSnapshot } from './targeting.js';

export interface FleetUpdateRow {
  readonly updateId: string;
  readonly kb: string;
  readonly title: string;
  readonly classification: string;
  readonly severity: string;
  readonly products: readonly string[];
  readonly cves: readonly string[];
  /** package.xml's CreationDate of the revision (ISO 8601), '' when the catalog has none. */
  readonly releaseDate: string;
  readonly moreInfoUrl: string;
  /** Machines per counting bucket (each scanned machine with a result for it is in exactly one). */
  readonly counts: Readonly<OutcomeCounts>;
}

/** The states an updates list can be filtered by: machines counted in that bucket > 0. */
export const UPDATE_LIST_STATES = ['required', 'superseded', 'possiblySuperseded', 'installed', 'unknown'] as const;
export type UpdateListState = (typeof UPDATE_LIST_STATES)[number];

export interface UpdateListFilter {
  readonly classification?: string;
  readonly product?: string;
  readonly severity?: string;
  readonly state?: UpdateListState;
  /** Matched anywhere in "KB<kb>", the title and the CVE ids. */
  readonly q?: string;
}

export interface UpdateList {
  /** The catalog in service, or null when there is none yet (then `updates` is empty). */
  readonly catalog: { readonly id: number; readonly sha256: string } | null;
  readonly updates: readonly FleetUpdateRow[];
  /** Values present in the unfiltered list, for the filters' choices. */
  readonly classifications: readonly string[];
  readonly products: readonly string[];
  readonly severities: readonly string[];
}

/** Most needed first: Required machines, then possibly superseded, then Unknown, then by KB and title. */
function mostNeeded(a: FleetUpdateRow, b: FleetUpdateRow): number {
  return (
    b.counts.required - a.counts.required ||
    b.counts.possiblySuperseded - a.counts.possiblySuperseded ||
    b.counts.unknown - a.counts.unknown ||
    a.kb.localeCompare(b.kb, 'en', { numeric: true }) ||
    a.title.localeCompare(b.title) ||
    (a.updateId < b.updateId ? -1 : a.updateId > b.updateId ? 1 : 0)
  );
}

/**
 * The updates list over every scanned machine, or over some machines only (`scope`: result set id → how many of
 * those machines have it as their latest scan — a collection's members, say).
 */
export async function updateList(
  store: SiteStore,
  catalogs: CatalogVersions,
  filter: UpdateListFilter = {},
  scope?: ReadonlyMap<number, number>,
): Promise<UpdateList> {
  const cur = await store.currentCatalog();
  const cat = cur && (await catalogs.get(cur.id));
  if (!cur || !cat) return { catalog: null, updates: [], classifications: [], products: [], severities: [] };
  const byId = new Map<string, OutcomeCounts>();
  const add = (updateId: string, state: string, superseded: number, n: number): void => {
    let c = byId.get(updateId);
    if (!c) byId.set(updateId, (c = emptyCounts()));
    c[countedAs(state, superseded)] += n;
  };
  if (scope) for (const r of await store.setOutcomes([...scope.keys()])) add(r.update_id, r.state, r.superseded, scope.get(r.set_id)!);
  else for (const r of await store.updateOutcomeCounts()) add(r.update_id, r.state, r.superseded, r.n);
  const all: FleetUpdateRow[] = [];
  const meta = metadataOf(cat);
  for (const [updateId, counts] of byId) {
    let m = meta.get(updateId);
    if (m === undefined) {
      // Results of an older catalog can name an update the catalog in service no longer has: it is not listed.
      const i = indexOf(cat, updateId);
      m =
        i === undefined
          ? null
          : {
              updateId,
              kb: cat.kb(i),
              title: cat.title(i),
              classification: cat.classification(i),
              severity: cat.severity(i),
              products: cat.products(i),
              cves: cat.cves(i),
              releaseDate: cat.releaseDate(i),
              moreInfoUrl: cat.moreInfoUrl(i),
            };
      meta.set(updateId, m);
    }
    if (m !== null) all.push({ ...m, counts });
  }
  const q = filter.q?.trim().toLowerCase() ?? '';
  const updates = all.filter(
    (u) =>
      (filter.classification === undefined || u.classification === filter.classification) &&
      (filter.product === undefined || u.products.includes(filter.product)) &&
      (filter.severity === undefined || u.severity === filter.severity) &&
      (filter.state === undefined || u.counts[filter.state] > 0) &&
      (q === '' || `kb${u.kb}\n${u.title}\n${u.cves.join('\n')}`.toLowerCase().includes(q)),
  );
  updates.sort(mostNeeded);
  const distinct = (v: Iterable<string>): string[] => [...new Set(v)].filter((x) => x !== '').sort();
  return {
    catalog: { id: cur.id, sha256: cur.sha256 },
    updates,
    classifications: distinct(all.map((u) => u.classification)),
    products: distinct(all.flatMap((u) => u.products)),
    severities: distinct(all.map((u) => u.severity)),
  };
}

type UpdateMetadata = Omit<FleetUpdateRow, 'counts'>;

/**
 * Each catalog's update metadata, by UpdateId, as rows need it (null: not in that catalog) — read once per catalog
 * version rather than per request (titles, categories and CVEs are looked up, and allocated, per update).
 */
const METADATA = new WeakMap<Catalog, Map<string, UpdateMetadata | null>>();
function metadataOf(cat: Catalog): Map<string, UpdateMetadata | null> {
  let m = METADATA.get(cat);
  if (!m) METADATA.set(cat, (m = new Map()));
  return m;
}

function indexOf(cat: Catalog, updateId: string): number | undefined {
  return cat.find(updateId)[0];
}

/** Machines with results in one classification or product, that group's counts on each, most Required first (or in `order`). */
export async function groupMachines(
  store: SiteStore,
  kind: 'classification' | 'product',
  name: string,
  limit = 50,
  offset = 0,
  order?: ComputerOrder,
): Promise<Page<ComputerListRow>> {
  const { total, items } = await store.groupMachines(kind, name, limit, offset, order);
  return { total, offset, limit, items };
}

export interface CollectionView {
  readonly collection: CollectionRow & { readonly limited: string | null };
  /** Every member: enrolled clients with their latest scan, and direct members that never enrolled (all null). */
  readonly members: readonly ComputerSetRow[];
  /** Result set id → members whose latest scan it is (the scope of the collection's updates list). */
  readonly sets: ReadonlyMap<number, number>;
}

/** A collection's members (the membership rule of targeting.ts, as `patchscan collection show` lists them). */
export async function collectionView(store: SiteStore, name: string): Promise<CollectionView | undefined> {
  const col = (await store.collections()).find((c) => computerKey(c.name) === computerKey(name));
  if (!col) return undefined;
  // The membership rule of targeting.ts over every client read once with its counts (reading the members' names
  // first and then their rows took a query per 500 members), plus the named direct members that never enrolled.
  const snap = await new TargetingSnapshot(store).current();
  const all = await store.computersNamed();
  const rows = all.filter((r) => snap.isMember(col.id, r));
  const known = new Set(all.map((r) => computerKey(r.name)));
  const named = new Map<string, string>();
  for (const n of snap.memberNames()) {
    const key = computerKey(n);
    if (!known.has(key) && !named.has(key) && snap.isMember(col.id, { name: n, architecture: null })) named.set(key, n);
  }
  const never: ComputerSetRow[] = [...named.values()].map((n) => ({
    name: n,
    architecture: null,
    os: null,
    lastUpload: null,
    scannedAt: null,
    installed: null,
    required: null,
    superseded: null,
    possiblySuperseded: null,
    unknown: null,
    setId: null,
  }));
  const sets = new Map<number, number>();
  for (const r of rows) if (r.setId !== null) sets.set(r.setId, (sets.get(r.setId) ?? 0) + 1);
  return { collection: col, members: [...rows, ...never], sets };
}
