/**
 * Reports over the site database: the compliance of one computer (the seed's "Software updates compliance for a
 * specific computer") and fleet summaries. Update metadata (KB, title, classification, severity) comes from the
 * catalog version each result was computed with; loaded catalogs are kept in a small LRU.
 */
import { LRUCache } from 'lru-cache';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { ScanRow } from '../../engine/scan/scan.js';
import type { UpdateState } from '../../engine/scan/scanner.js';
import { supersedenceFlags } from '../../engine/scan/supersedence.js';
import type { ComputerListRow, ComputerOrder, DailyRow, FleetTotals, SiteStore } from '../store/port.js';
import { computerKey } from '../store/computer-name.js';
import { localCatalogFile } from './catalog-files.js';
import { inCollection } from './targeting.js';

export class CatalogVersions {
  private readonly lru = new LRUCache<number, Catalog>({ max: 3 });
  /** @param cacheDir where copies fetched from the store are kept (the site's catalogs/ folder) */
  constructor(private readonly store: SiteStore, private readonly cacheDir?: string) {}

  async get(id: number): Promise<Catalog | undefined> {
    let c = this.lru.get(id);
    if (c) return c;
    const row = await this.store.catalog(id);
    if (!row) return undefined;
    c = new Catalog(readCatalogFile(this.cacheDir ? await localCatalogFile(this.store, row, this.cacheDir) : row.path));
    this.lru.set(id, c);
    return c;
  }
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
  readonly counts: { readonly Installed: number; readonly Required: number; readonly NotApplicable: number; readonly Unknown: number };
  readonly updates: readonly ComplianceRow[];
}

/** The latest scan of one computer, every update with its metadata; undefined when it was never scanned. */
export async function computerCompliance(store: SiteStore, catalogs: CatalogVersions, name: string): Promise<ComputerCompliance | undefined> {
  const scan = await store.computerScan(name);
  if (!scan) return undefined;
  const cat = (await store.catalog(scan.catalog_id))!;
  const c = await catalogs.get(scan.catalog_id);
  const rows = await store.resultUpdates(scan.set_id);
  return {
    computer: scan.name,
    architecture: scan.architecture,
    lastUpload: scan.last_upload_at,
    scannedAt: scan.scanned_at,
    program: scan.program,
    catalog: { id: cat.id, sha256: cat.sha256, importedAt: cat.imported_at },
    counts: { Installed: scan.installed, Required: scan.required, NotApplicable: scan.not_applicable, Unknown: scan.unknown },
    updates: rows.map((r) => ({
      updateId: r.update_id,
      revisionNumber: r.revision_number,
      kb: c ? c.kb(r.update_index) : '',
      title: c ? c.title(r.update_index) : '',
      classification: c ? c.classification(r.update_index) : '',
      severity: c ? c.severity(r.update_index) : '',
      state: r.state as UpdateState,
      ...supersedenceFlags(r.superseded),
      reason: r.reason,
    })),
  };
}

export interface FleetSummary {
  readonly clients: number;
  readonly scanned: number;
  /** Scanned clients with nothing Required (not superseded counts too: WSUS counts superseded as needed). */
  readonly compliant: number;
  readonly states: { readonly Installed: number; readonly Required: number; readonly Unknown: number };
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
    states: { Installed: t.installed, Required: t.required, Unknown: t.unknown },
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
export async function searchComputers(store: SiteStore, prefix: string, limit = 50, offset = 0, order?: ComputerOrder): Promise<Page<ComputerListItem>> {
  const { total, items } = await store.searchComputers(prefix, limit, offset, order);
  return { total, offset, limit, items };
}

export interface UpdateCompliance {
  readonly update: { readonly updateId: string; readonly kb: string; readonly title: string; readonly classification: string; readonly severity: string; readonly products: readonly string[] };
  readonly counts: { readonly Installed: number; readonly Required: number; readonly Unknown: number; readonly superseded: number };
  /** Why machines are Unknown, most common first (the reason names the rule and the fact). */
  readonly unknownBecause: readonly { readonly reason: string; readonly machines: number }[];
  readonly machines: Page<{ readonly computer: string; readonly state: string; readonly superseded: boolean; readonly possiblySuperseded: boolean; readonly reason: string; readonly scannedAt: string }>;
}

/** One update across the fleet: who needs it, who has it, who is Unknown and why. `query`: KB, UpdateId or RevisionId. */
export async function updateCompliance(store: SiteStore, catalogs: CatalogVersions, query: string, o: { state?: string; limit?: number; offset?: number } = {}): Promise<UpdateCompliance | undefined> {
  const cur = await store.currentCatalog();
  const c = cur && (await catalogs.get(cur.id));
  if (!c) return undefined;
  const i = c.find(query)[0];
  if (i === undefined) return undefined;
  const updateId = c.updateId(i);
  const byState = await store.updateStateCounts(updateId);
  const count = (st: string): number => byState.filter((r) => r.state === st).reduce((a, r) => a + r.n, 0);
  const unknownBecause = await store.unknownReasons(updateId, 20);
  const limit = o.limit ?? 50, offset = o.offset ?? 0;
  const page = await store.updateMachines(updateId, o.state, limit, offset);
  const total = page.total;
  const items = page.items.map((r) => ({ ...r, ...supersedenceFlags(r.superseded) }));
  return {
    update: { updateId, kb: c.kb(i), title: c.title(i), classification: c.classification(i), severity: c.severity(i), products: c.products(i) },
    counts: { Installed: count('Installed'), Required: count('Required'), Unknown: count('Unknown'), superseded: byState.filter((r) => r.superseded === 1).reduce((a, r) => a + r.n, 0) },
    unknownBecause,
    machines: { total, offset, limit, items },
  };
}

export interface GroupRow {
  readonly name: string;
  readonly installed: number;
  readonly required: number;
  readonly unknown: number;
}

/** Update states across the fleet per classification or per product (client × update pairs). */
export function groupSummary(store: SiteStore, kind: 'classification' | 'product'): Promise<GroupRow[]> {
  return store.groupTotals(kind);
}

export interface CollectionRow {
  readonly name: string;
  readonly limitedTo: string | null;
  readonly members: number;
  readonly scanned: number;
  readonly compliant: number;
  readonly required: number;
  readonly unknown: number;
}

/**
 * Per collection. Membership depends only on a client's architecture and its direct memberships, so clients are
 * added up per architecture in one grouped query (those without direct memberships), and the few direct members
 * one by one; each collection's rule (direct ∪ architecture query, within its limiting collection) is then applied
 * to those groups — the work grows with architectures and direct members, not with clients.
 */
export async function collectionSummary(store: SiteStore): Promise<CollectionRow[]> {
  const cols = await store.collections();
  const byId = new Map(cols.map((c) => [c.id, c]));
  const memberships = (await store.targeting()).members;
  const groups = (await store.membershipGroups()).map((g) => ({
    ...g,
    direct: new Set(g.name === undefined || g.name === null ? [] : memberships.filter((m) => computerKey(m.computer) === computerKey(g.name!)).map((m) => m.collection_id)),
  }));
  return cols.map((c) => {
    const row = { name: c.name, limitedTo: c.limited, members: 0, scanned: 0, compliant: 0, required: 0, unknown: 0 };
    for (const g of groups) {
      if (!inCollection(byId, c.id, g.architecture, (id) => g.direct.has(id))) continue;
      row.members += g.n;
      row.scanned += g.scanned;
      row.compliant += g.compliant;
      row.required += g.required;
      row.unknown += g.unknown;
    }
    return row;
  });
}

/** Clients that have not uploaded for `days` days (or never), oldest first. */
export async function staleClients(store: SiteStore, days: number, limit = 100, offset = 0): Promise<Page<{ readonly name: string; readonly lastUpload: string | null; readonly lastScan: string | null }>> {
  const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
  const { total, items } = await store.staleClients(cutoff, limit, offset);
  return { total, offset, limit, items };
}

export type { DailyRow };

/** Fleet compliance per day: the recorded snapshots, with today's figures computed now (snapshots lag by design). */
export async function complianceTrend(store: SiteStore, days = 90): Promise<DailyRow[]> {
  const rows = await store.dailyRows(days);
  const t = await store.fleetTotals();
  if (t.scanned === 0 && rows.length === 0) return rows;
  const today: DailyRow = { day: new Date().toISOString().slice(0, 10), clients: await store.clientCount(), ...t };
  return [...rows.filter((r) => r.day !== today.day), today].slice(-days);
}
