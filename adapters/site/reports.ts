/**
 * Reports over the site database: the compliance of one computer (the seed's "Software updates compliance for a
 * specific computer"), one KB or CVE across the fleet, and fleet summaries. Every figure is counted by the counting
 * rule (engine/scanner/counting.ts; docs/semantics.md, "Counting"): the CLI, HTTP, CSV and the console all call these
 * functions, so they show the same numbers. Update metadata (KB, title, classification, severity, CVEs, release date,
 * More-info link) comes from the catalog version each result was computed with; loaded catalogs are kept in a small LRU.
 */
import { LRUCache } from 'lru-cache';
import { PatchscanError } from '../../engine/errors.js';
import { acceptedChoices, matchChoice } from '../text/choice.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFileInPieces } from '../../engine/catalog/file.js';
import {
  combineBuckets,
  countedAs,
  emptyCounts,
  listedBuckets,
  type CountBucket,
  type OutcomeCounts,
} from '../../engine/scanner/counting.js';
import type { ScanRow } from '../../engine/scanner/scanner.js';
import type { UpdateState } from '../../engine/scanner/machine-scan.js';
import { supersedenceFlags } from '../../engine/scanner/supersedence.js';
import type {
  ComputerListRow,
  ComputerOrder,
  ComputerScanRow,
  DailyRow,
  FleetTotals,
  ResultUpdateRow,
  SiteStore,
  StaleOrder,
  UpdateMachineOrder,
} from '../store/port.js';
import { computerKey } from '../store/computer-name.js';
import { localCatalogFile } from './catalog-files.js';
import { inCollection } from './targeting.js';
import { updateList } from './update-list.js';

export class CatalogVersions {
  private readonly lru = new LRUCache<number, Catalog>({ max: 3 });
  /** @param cacheDir where copies fetched from the store are kept (the site's catalogs/ folder) */
  constructor(
    private readonly store: SiteStore,
    private readonly cacheDir?: string,
  ) {}

  async get(id: number): Promise<Catalog | undefined> {
    let c = this.lru.get(id);
    if (c) return c;
    const row = await this.store.catalog(id);
    if (!row) return undefined;
    c = new Catalog(await readCatalogFileInPieces(this.cacheDir ? await localCatalogFile(this.store, row, this.cacheDir) : row.path));
    this.lru.set(id, c);
    return c;
  }

  /** The catalog in service, or undefined before the first sync. */
  async current(): Promise<Catalog | undefined> {
    const cur = await this.store.currentCatalog();
    return cur ? this.get(cur.id) : undefined;
  }
}

/** Show or hide, in lists, the Required updates that are superseded (they are counted either way). */
export type SupersededListing = 'show' | 'hide';

/** The update states a report can filter on (any case where a user types them). */
export const REPORT_STATES: readonly UpdateState[] = ['Installed', 'Required', 'NotApplicable', 'Unknown'];

/** Counts as reports print them: Required (the counting rule's), then superseded ones apart. */
export interface StateCounts {
  readonly Installed: number;
  /** Required and not superseded by an update Installed or Required on the machine. */
  readonly Required: number;
  readonly NotApplicable: number;
  readonly Unknown: number;
  /** Required, but superseded by an update Installed or Required on the machine. */
  readonly superseded: number;
  /** Required, and a superseding update is Unknown on the machine. */
  readonly possiblySuperseded: number;
}

const stateCounts = (c: OutcomeCounts): StateCounts => ({
  Installed: c.installed,
  Required: c.required,
  NotApplicable: c.notApplicable,
  Unknown: c.unknown,
  superseded: c.superseded,
  possiblySuperseded: c.possiblySuperseded,
});

/** Counts as every text report prints them: Required (the counting rule's) first, superseded ones apart. */
export function countsText(c: Pick<StateCounts, 'Installed' | 'Required' | 'Unknown' | 'superseded' | 'possiblySuperseded'>): string {
  return (
    `Required ${c.Required}, Installed ${c.Installed}, Unknown ${c.Unknown}; ` +
    `Required but superseded ${c.superseded}, possibly superseded ${c.possiblySuperseded}`
  );
}

/** Update metadata every update row carries (CLI, HTTP, CSV, JSONL, console). */
export interface UpdateInfo {
  readonly updateId: string;
  readonly kb: string;
  readonly title: string;
  readonly classification: string;
  readonly severity: string;
  readonly products: readonly string[];
  readonly cves: readonly string[];
  /** package.xml's CreationDate of the revision: when it was published (docs/semantics.md). */
  readonly releaseDate: string;
  readonly moreInfoUrl: string;
}

export function updateInfo(c: Catalog, i: number): UpdateInfo {
  return {
    updateId: c.updateId(i),
    kb: c.kb(i),
    title: c.title(i),
    classification: c.classification(i),
    severity: c.severity(i),
    products: c.products(i),
    cves: c.cves(i),
    releaseDate: c.releaseDate(i),
    moreInfoUrl: c.moreInfoUrl(i),
  };
}

/** A stored outcome as a report row: the scan row of the engine, without the per-machine columns. */
export type ComplianceRow = Omit<ScanRow, 'computer' | 'type' | 'isBundle'>;

export interface ComputerCompliance {
  readonly computer: string;
  readonly architecture: string | null;
  readonly lastUpload: string | null;
  readonly scannedAt: string;
  readonly program: string;
  readonly catalog: { readonly id: number; readonly sha256: string; readonly importedAt: string };
  /** Every stored outcome, counted by the counting rule (whatever the listing shows). */
  readonly counts: StateCounts;
  /** Whether `updates` lists the superseded Required updates. */
  readonly superseded: SupersededListing;
  /**
   * Superseded Required updates left out of `updates` because superseded ones are hidden (0 when they are shown, or
   * when the state filter lists no Required update).
   */
  readonly hidden: number;
  readonly updates: readonly ComplianceRow[];
}

/**
 * A computer's latest scan and its result set's rows, or undefined when it has none. Read again once when the set is
 * gone between the two reads: the client was scanned again meanwhile and its old set pruned (store: NOT_FOUND).
 */
export async function latestScanRows(
  store: SiteStore,
  name: string,
): Promise<{ readonly scan: ComputerScanRow; readonly rows: ResultUpdateRow[] } | undefined> {
  for (let attempt = 0; ; attempt++) {
    const scan = await store.computerScan(name);
    if (!scan) return undefined;
    try {
      return { scan, rows: await store.resultUpdates(scan.set_id) };
    } catch (e) {
      if (attempt > 0 || !PatchscanError.is(e, 'NOT_FOUND')) throw e;
    }
  }
}

/**
 * The latest scan of one computer, every update with its metadata; undefined when it was never scanned. Superseded
 * Required updates are counted, and listed only with `superseded: 'show'`; `state` lists one state only.
 */
export async function computerCompliance(
  store: SiteStore,
  catalogs: CatalogVersions,
  name: string,
  o: { superseded?: SupersededListing; state?: UpdateState } = {},
): Promise<ComputerCompliance | undefined> {
  const latest = await latestScanRows(store, name);
  if (!latest) return undefined;
  const { scan, rows } = latest;
  const cat = (await store.catalog(scan.catalog_id))!;
  const c = await catalogs.get(scan.catalog_id);
  const show = o.superseded ?? 'hide';
  const listed = new Set(listedBuckets(o.state, show === 'show'));
  // What the state filter would list with superseded Required updates shown: those of them not listed are `hidden`
  // (rows another state filter leaves out are not).
  const withSuperseded = new Set(listedBuckets(o.state, true));
  const counts = emptyCounts();
  const updates: ComplianceRow[] = [];
  let hidden = 0;
  for (const r of rows) {
    const bucket = countedAs(r.state, r.superseded);
    counts[bucket]++;
    if (!listed.has(bucket)) {
      if (withSuperseded.has(bucket)) hidden++;
      continue;
    }
    const i = r.update_index;
    updates.push({
      updateId: r.update_id,
      revisionNumber: r.revision_number,
      kb: c ? c.kb(i) : '',
      title: c ? c.title(i) : '',
      classification: c ? c.classification(i) : '',
      severity: c ? c.severity(i) : '',
      releaseDate: c ? c.releaseDate(i) : '',
      cves: c ? c.cves(i) : [],
      moreInfoUrl: c ? c.moreInfoUrl(i) : '',
      state: r.state as UpdateState,
      ...supersedenceFlags(r.superseded),
      reason: r.reason,
    });
  }
  return {
    computer: scan.name,
    architecture: scan.architecture,
    lastUpload: scan.last_upload_at,
    scannedAt: scan.scanned_at,
    program: scan.program,
    catalog: { id: cat.id, sha256: cat.sha256, importedAt: cat.imported_at },
    counts: { ...stateCounts(counts), NotApplicable: scan.not_applicable },
    superseded: show,
    hidden,
    updates,
  };
}

export interface FleetSummary {
  readonly clients: number;
  readonly scanned: number;
  /** Scanned clients with nothing Required and nothing possibly superseded (counting.ts isCompliant). */
  readonly compliant: number;
  /** Client × update pairs by the counting rule. */
  readonly states: {
    readonly Installed: number;
    readonly Required: number;
    readonly Unknown: number;
    readonly superseded: number;
    readonly possiblySuperseded: number;
  };
  readonly queue: { readonly expedited: number; readonly normal: number };
  readonly catalog: { readonly id: number; readonly sha256: string; readonly revisions: number; readonly importedAt: string } | null;
}

/** Scanned clients and their states, added up per result set (machines × set counts). */
export function fleetTotals(store: SiteStore): Promise<FleetTotals> {
  return store.fleetTotals();
}

export async function fleetSummary(store: SiteStore): Promise<FleetSummary> {
  const t = await store.fleetTotals();
  const clients = await store.clientCount();
  const cat = await store.currentCatalog();
  const q = await store.queueStatus();
  return {
    clients,
    scanned: t.scanned,
    compliant: t.compliant,
    states: {
      Installed: t.installed,
      Required: t.required,
      Unknown: t.unknown,
      superseded: t.superseded,
      possiblySuperseded: t.possiblySuperseded,
    },
    queue: q.queued,
    catalog: cat ? { id: cat.id, sha256: cat.sha256, revisions: cat.revisions, importedAt: cat.imported_at } : null,
  };
}

// ---- Fleet reports (CLI `patchscan report …`, HTTP /v1/reports/…, and the web console use the same functions)

export interface Page<T> {
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly items: readonly T[];
}

/** A computer in a list: the store's row as it is. */
export type ComputerListItem = ComputerListRow;

/** Computers whose name starts with `prefix` (case-insensitive, by computer-name key), by name. */
export async function searchComputers(
  store: SiteStore,
  prefix: string,
  limit = 50,
  offset = 0,
  order?: ComputerOrder,
): Promise<Page<ComputerListItem>> {
  const { total, items } = await store.searchComputers(prefix, limit, offset, order);
  return { total, offset, limit, items };
}

/** Machines counted per bucket of the counting rule (a machine with several updates of a KB counts once). */
export type MachineCounts = StateCounts;

/** One of the updates a KB or CVE report covers, with its own machine counts. */
export interface CoveredUpdate extends UpdateInfo {
  readonly counts: MachineCounts;
}

export interface UpdateCompliance {
  /** The first update matched (KB, title, …: what the updates of one KB share). */
  readonly update: UpdateInfo;
  /** Every update the query matched — all updates carrying the KB (one per architecture or OS) — with its counts. */
  readonly updates: readonly CoveredUpdate[];
  /**
   * Machines by their combined outcome of all those updates (counting.ts combineBuckets: needing any one counts as
   * Required); NotApplicable machines are not stored, so it is 0.
   */
  readonly counts: MachineCounts;
  /** Whether `machines` lists superseded Required ones. */
  readonly superseded: SupersededListing;
  /** Why machines are Unknown, most common first (the reason names the rule and the fact). */
  readonly unknownBecause: readonly { readonly reason: string; readonly machines: number }[];
  /** One row per machine and update (a machine appears once per update of the KB it has an outcome for). */
  readonly machines: Page<MachineRow>;
}

/** A machine's outcome of one update, in a KB's or CVE's machine list. */
export interface MachineRow {
  readonly computer: string;
  readonly updateId: string;
  readonly state: string;
  readonly superseded: boolean;
  readonly possiblySuperseded: boolean;
  readonly reason: string;
  readonly scannedAt: string;
}

export interface UpdateListOptions {
  /** A state name, any case (a name that is none is BAD_ARGUMENT naming the accepted ones). */
  readonly state?: UpdateState | string;
  readonly superseded?: SupersededListing;
  readonly limit?: number;
  readonly offset?: number;
  /** The machine list's order (default: by computer name), sorted by the store. */
  readonly order?: UpdateMachineOrder;
}

/** A state typed by someone (any case), or undefined; BAD_ARGUMENT naming the states otherwise. */
export function stateName(raw: string | undefined): UpdateState | undefined {
  if (raw === undefined) return undefined;
  const s = matchChoice(REPORT_STATES, raw);
  if (s === undefined) {
    throw new PatchscanError('BAD_ARGUMENT', `state ${JSON.stringify(raw)}: ${acceptedChoices(REPORT_STATES)}`, { value: raw });
  }
  return s;
}

/** Machine counts over some updates: per update, and per machine combined (what KB and CVE reports show). */
async function machineCounts(
  store: SiteStore,
  updateIds: readonly string[],
): Promise<{ total: OutcomeCounts; perUpdate: Map<string, OutcomeCounts> }> {
  const rows = await store.updateOutcomes(updateIds);
  const total = emptyCounts();
  const perUpdate = new Map(updateIds.map((u) => [u, emptyCounts()]));
  // Rows come ordered by set: each set's buckets are combined, then counted for its machines.
  let set = -1,
    machines = 0;
  let buckets: CountBucket[] = [];
  const flush = (): void => {
    const b = combineBuckets(buckets);
    if (b) total[b] += machines;
  };
  for (const r of rows) {
    if (r.setId !== set) {
      flush();
      set = r.setId;
      machines = r.machines;
      buckets = [];
    }
    const b = countedAs(r.state, r.superseded);
    buckets.push(b);
    perUpdate.get(r.updateId)![b] += r.machines;
  }
  flush();
  return { total, perUpdate };
}

/** The updates a query names in a catalog: every update carrying a KB, an UpdateId's revisions, or a RevisionId. */
export function updatesOf(c: Catalog, query: string): number[] {
  const seen = new Set<string>();
  return c.find(query).filter((i) => c.isReportable(i) && !seen.has(c.updateId(i)) && seen.add(c.updateId(i)) !== undefined);
}

/**
 * Updates across the fleet: who needs them, who has them, who is Unknown and why — over the given catalog indexes
 * (all updates of one KB, or all fixing one CVE).
 */
async function updatesCompliance(
  store: SiteStore,
  c: Catalog,
  indexes: readonly number[],
  o: UpdateListOptions,
): Promise<UpdateCompliance> {
  const ids = [...new Set(indexes.map((i) => c.updateId(i)))];
  const { total, perUpdate } = await machineCounts(store, ids);
  const unknownBecause = await store.unknownReasons(ids, 20);
  const limit = o.limit ?? 50,
    offset = o.offset ?? 0;
  const show = o.superseded ?? 'hide';
  const page = await store.updateMachines(ids, listedBuckets(stateName(o.state), show === 'show'), limit, offset, o.order);
  const items = page.items.map((r) => ({ ...r, ...supersedenceFlags(r.superseded) }));
  const byId = new Map(indexes.map((i) => [c.updateId(i), i]));
  return {
    update: updateInfo(c, indexes[0]!),
    updates: ids.map((id) => ({ ...updateInfo(c, byId.get(id)!), counts: stateCounts(perUpdate.get(id)!) })),
    counts: stateCounts(total),
    superseded: show,
    unknownBecause,
    machines: { total: page.total, offset, limit, items },
  };
}

/** One KB (every update carrying it), UpdateId or RevisionId across the fleet; undefined when the catalog in service has none. */
export async function updateCompliance(
  store: SiteStore,
  catalogs: CatalogVersions,
  query: string,
  o: UpdateListOptions = {},
): Promise<UpdateCompliance | undefined> {
  const c = await catalogs.current();
  const found = c ? updatesOf(c, query) : [];
  return c && found.length > 0 ? updatesCompliance(store, c, found, o) : undefined;
}

export interface CveCompliance {
  readonly cve: string;
  /** The updates that fix it (name it in their CveID list), with their machine counts. */
  readonly updates: readonly CoveredUpdate[];
  readonly scanned: number;
  /** An update fixing it is Required (the counting rule) on the machine. */
  readonly exposed: number;
  /** An update fixing it is Required there, but possibly superseded (its superseder is Unknown). */
  readonly possiblyExposed: number;
  /** Nothing fixing it is Required or possibly superseded, but one is Unknown: not known. */
  readonly unknown: number;
  /** Scanned, and none of the above. */
  readonly notExposed: number;
  readonly machines: UpdateCompliance['machines'];
}

const CVE_FORM = /^CVE-\d{4}-\d{4,}$/i;

/** Whether a string is written as a CVE id (CVE-YYYY-NNNN…). */
export const isCveId = (s: string): boolean => CVE_FORM.test(s.trim());

/**
 * Which machines are exposed to a CVE: exposed (an update fixing it is Required by the counting rule), possibly
 * exposed, unknown, not exposed. undefined when no update of the catalog in service names it.
 */
export async function cveCompliance(
  store: SiteStore,
  catalogs: CatalogVersions,
  cve: string,
  o: UpdateListOptions = {},
): Promise<CveCompliance | undefined> {
  const c = await catalogs.current();
  const found = c ? c.findByCve(cve).filter((i) => c.isReportable(i)) : [];
  if (!c || found.length === 0) return undefined;
  const u = await updatesCompliance(store, c, found, { ...o, state: o.state ?? 'Required' });
  const { scanned } = await store.fleetTotals();
  const exposed = u.counts.Required,
    possiblyExposed = u.counts.possiblySuperseded,
    unknown = u.counts.Unknown;
  const notExposed = scanned - exposed - possiblyExposed - unknown;
  const id = cve.trim().toUpperCase();
  return { cve: id, updates: u.updates, scanned, exposed, possiblyExposed, unknown, notExposed, machines: u.machines };
}

/** CVEs of the catalog in service that contain `text` (any case), with the updates naming them — for CVE search. */
/** A CVE a search found, with the updates of the catalog in service that name it. */
export interface CveHit {
  readonly cve: string;
  readonly updates: readonly { readonly updateId: string; readonly kb: string; readonly title: string }[];
}

export async function searchCves(catalogs: CatalogVersions, text: string, limit = 50, offset = 0): Promise<Page<CveHit>> {
  const c = await catalogs.current();
  if (!c) return { total: 0, offset, limit, items: [] };
  const want = text.trim().toUpperCase();
  const hits = new Map<string, { updateId: string; kb: string; title: string }[]>();
  for (let i = 0; i < c.size; i++) {
    if (!c.isReportable(i)) continue;
    for (const cve of c.cves(i)) {
      if (!cve.toUpperCase().includes(want)) continue;
      const list = hits.get(cve) ?? [];
      list.push({ updateId: c.updateId(i), kb: c.kb(i), title: c.title(i) });
      hits.set(cve, list);
    }
  }
  const items = [...hits.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .slice(offset, offset + limit)
    .map(([cve, updates]) => ({ cve, updates }));
  return { total: hits.size, offset, limit, items };
}

/** One line of the sync history (ITMU's sync status messages), as reports show it. */
export interface SyncEvent {
  readonly id: number;
  readonly at: string;
  /** The status message id (docs/semantics.md, "Sync"). */
  readonly messageId: number;
  readonly severity: string;
  readonly text: string;
  /** The catalog the sync put in service, null when it put none. */
  readonly catalogId: number | null;
}

export interface SyncHistory {
  /**
   * The catalog in service: where it came from and who signed it; its compiled file's `path` only when asked (the CLI,
   * run on the server, shows it for `patchscan scan -c`; HTTP does not show server paths).
   */
  readonly catalog: {
    readonly id: number;
    readonly sha256: string;
    readonly source: string;
    readonly revisions: number;
    readonly signer: string | null;
    readonly signedAt: string | null;
    readonly importedAt: string;
    readonly path?: string;
  } | null;
  /** Newest first. */
  readonly messages: readonly SyncEvent[];
}

/** The catalog in service and the last `limit` sync messages (`report sync`, GET /v1/sync). */
export async function syncHistory(store: SiteStore, limit: number, o: { readonly path?: boolean } = {}): Promise<SyncHistory> {
  const c = await store.currentCatalog();
  return {
    catalog: c
      ? {
          id: c.id,
          sha256: c.sha256,
          source: c.source,
          revisions: c.revisions,
          signer: c.signer,
          signedAt: c.signed_at,
          importedAt: c.imported_at,
          ...(o.path ? { path: c.path } : {}),
        }
      : null,
    messages: (await store.syncMessages(limit)).map((m) => ({
      id: m.id,
      at: m.at,
      messageId: m.message_id,
      severity: m.severity,
      text: m.text,
      catalogId: m.catalog_id,
    })),
  };
}

export interface GroupRow {
  readonly name: string;
  readonly installed: number;
  readonly required: number;
  readonly superseded: number;
  readonly possiblySuperseded: number;
  readonly unknown: number;
}

/** Update states across the fleet per classification or per product (client × update pairs, by the counting rule). */
export async function groupSummary(store: SiteStore, kind: 'classification' | 'product', catalogs?: CatalogVersions): Promise<GroupRow[]> {
  const { updates } = await updateList(store, catalogs ?? new CatalogVersions(store));
  const rows = new Map<string, { -readonly [K in keyof GroupRow]: GroupRow[K] }>();
  for (const u of updates) {
    for (const name of kind === 'classification' ? [u.classification || 'Unclassified'] : u.products) {
      let g = rows.get(name);
      if (!g) rows.set(name, (g = { name, installed: 0, required: 0, superseded: 0, possiblySuperseded: 0, unknown: 0 }));
      g.installed += u.counts.installed;
      g.required += u.counts.required;
      g.superseded += u.counts.superseded;
      g.possiblySuperseded += u.counts.possiblySuperseded;
      g.unknown += u.counts.unknown;
    }
  }
  return [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface CollectionRow {
  readonly name: string;
  readonly limitedTo: string | null;
  /**
   * Computers in the collection (targeting.ts inCollection): enrolled clients that match its rule, and computers
   * named as direct members that have not enrolled (a sync host, a machine named before it enrolls).
   */
  readonly members: number;
  /** Members that are enrolled clients. */
  readonly enrolled: number;
  readonly scanned: number;
  /** Scanned members with nothing Required and nothing possibly superseded. */
  readonly compliant: number;
  /** Required updates (the counting rule) on its members, client × update. */
  readonly required: number;
  readonly superseded: number;
  readonly possiblySuperseded: number;
  readonly unknown: number;
}

/**
 * Per collection: its members counted once, by the one membership rule (targeting.ts inCollection) — what
 * `collection list`, `report collections`, /v1/reports/collections and the console show. Membership depends only on
 * a client's architecture and its direct memberships, so clients are added up per architecture in one grouped query
 * (those without direct memberships), and the few direct members one by one; computers named as direct members that
 * are not enrolled count as members with no architecture.
 */
export async function collectionSummary(store: SiteStore): Promise<CollectionRow[]> {
  const cols = await store.collections();
  const byId = new Map(cols.map((c) => [c.id, c]));
  const memberships = (await store.targeting()).members;
  const groups = (await store.membershipGroups()).map((g) => ({
    ...g,
    direct: new Set(
      g.name === undefined || g.name === null
        ? []
        : memberships.filter((m) => computerKey(m.computer) === computerKey(g.name!)).map((m) => m.collection_id),
    ),
  }));
  // A direct member is enrolled exactly when membershipGroups lists it by name (it names every enrolled client that is
  // a direct member): no need to read every client (100k rows) to tell the named-only ones apart.
  const enrolled = new Set(groups.flatMap((g) => (g.name === undefined || g.name === null ? [] : [computerKey(g.name)])));
  const named = new Map<string, Set<number>>();
  for (const m of memberships) {
    const key = computerKey(m.computer);
    if (enrolled.has(key)) continue;
    const set = named.get(key) ?? new Set<number>();
    set.add(m.collection_id);
    named.set(key, set);
  }
  return cols.map((c) => {
    const row = {
      name: c.name,
      limitedTo: c.limited,
      members: 0,
      enrolled: 0,
      scanned: 0,
      compliant: 0,
      required: 0,
      superseded: 0,
      possiblySuperseded: 0,
      unknown: 0,
    };
    for (const g of groups) {
      if (!inCollection(byId, c.id, g.architecture, (id) => g.direct.has(id))) continue;
      row.members += g.n;
      row.enrolled += g.n;
      row.scanned += g.scanned;
      row.compliant += g.compliant;
      row.required += g.required;
      row.superseded += g.superseded;
      row.possiblySuperseded += g.possiblySuperseded;
      row.unknown += g.unknown;
    }
    for (const direct of named.values()) if (inCollection(byId, c.id, null, (id) => direct.has(id))) row.members++;
    return row;
  });
}

/** Clients that have not uploaded for `days` days (or never), oldest first unless `order` says otherwise. */
export async function staleClients(
  store: SiteStore,
  days: number,
  limit = 100,
  offset = 0,
  order?: StaleOrder,
): Promise<Page<{ readonly name: string; readonly lastUpload: string | null; readonly lastScan: string | null }>> {
  const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
  const { total, items } = await store.staleClients(cutoff, limit, offset, order);
  return { total, offset, limit, items };
}

export type { DailyRow };

/** Fleet compliance per day: the recorded snapshots, with today's figures computed now (snapshots lag by design). */
export async function complianceTrend(store: SiteStore, days = 90): Promise<DailyRow[]> {
  const rows = await store.dailyRows(days);
  const t = await store.fleetTotals();
  if (t.scanned === 0 && rows.length === 0) return rows;
  // Keys in the stored rows' order (compliant after scanned), so every row of the JSON answer reads alike.
  const today: DailyRow = {
    day: new Date().toISOString().slice(0, 10),
    clients: await store.clientCount(),
    scanned: t.scanned,
    compliant: t.compliant,
    installed: t.installed,
    required: t.required,
    superseded: t.superseded,
    possiblySuperseded: t.possiblySuperseded,
    unknown: t.unknown,
  };
  return [...rows.filter((r) => r.day !== today.day), today].slice(-days);
}
