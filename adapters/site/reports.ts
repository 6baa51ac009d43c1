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
import type { SiteStore } from '../store/site-store.js';
import { inCollection } from './targeting.js';

export class CatalogVersions {
  private readonly lru = new LRUCache<number, Catalog>({ max: 3 });
  constructor(private readonly store: SiteStore) {}

  get(id: number): Catalog | undefined {
    let c = this.lru.get(id);
    if (c) return c;
    const row = this.store.catalog(id);
    if (!row) return undefined;
    c = new Catalog(readCatalogFile(row.path));
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
export function computerCompliance(store: SiteStore, catalogs: CatalogVersions, name: string): ComputerCompliance | undefined {
  const scan = store.stmt(`SELECT c.name, c.architecture, c.last_upload_at, s.scanned_at, s.program, s.catalog_id, s.set_id,
      r.installed, r.required, r.not_applicable, r.unknown
    FROM clients c JOIN scans s ON s.client_id = c.id JOIN result_sets r ON r.id = s.set_id WHERE c.name = ?`).get(name) as
    | { name: string; architecture: string | null; last_upload_at: string | null; scanned_at: string; program: string; catalog_id: number; set_id: number; installed: number; required: number; not_applicable: number; unknown: number }
    | undefined;
  if (!scan) return undefined;
  const cat = store.catalog(scan.catalog_id)!;
  const c = catalogs.get(scan.catalog_id);
  const rows = store.stmt('SELECT update_index, update_id, revision_number, state, superseded, reason FROM result_updates WHERE set_id = ? ORDER BY update_index').all(scan.set_id) as
    { update_index: number; update_id: string; revision_number: number; state: string; superseded: number; reason: string }[];
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
      superseded: r.superseded === 1,
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
export function fleetTotals(store: SiteStore): { scanned: number; installed: number; required: number; unknown: number; compliant: number } {
  return store.stmt(`SELECT coalesce(sum(s.n), 0) AS scanned, coalesce(sum(r.installed * s.n), 0) AS installed, coalesce(sum(r.required * s.n), 0) AS required,
      coalesce(sum(r.unknown * s.n), 0) AS unknown, coalesce(sum((r.required = 0) * s.n), 0) AS compliant
    FROM (SELECT set_id, count(*) AS n FROM scans GROUP BY set_id) s JOIN result_sets r ON r.id = s.set_id`).get() as { scanned: number; installed: number; required: number; unknown: number; compliant: number };
}

export function fleetSummary(store: SiteStore): FleetSummary {
  const t = fleetTotals(store);
  const clients = (store.stmt('SELECT count(*) AS n FROM clients').get() as { n: number }).n;
  const cat = store.currentCatalog();
  return {
    clients,
    scanned: t.scanned,
    compliant: t.compliant,
    states: { Installed: t.installed, Required: t.required, Unknown: t.unknown },
    queue: store.queueLength(),
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

export interface ComputerListItem {
  readonly name: string;
  readonly architecture: string | null;
  readonly lastUpload: string | null;
  readonly scannedAt: string | null;
  readonly installed: number | null;
  readonly required: number | null;
  readonly unknown: number | null;
}

/** Computers whose name starts with `prefix` (case-insensitive; the name index serves it), by name. */
export function searchComputers(store: SiteStore, prefix: string, limit = 50, offset = 0): Page<ComputerListItem> {
  const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const total = (store.stmt("SELECT count(*) AS n FROM clients WHERE name LIKE ? ESCAPE '\\'").get(like) as { n: number }).n;
  const items = store.stmt(`SELECT c.name, c.architecture, c.last_upload_at AS lastUpload, s.scanned_at AS scannedAt, r.installed, r.required, r.unknown
    FROM clients c LEFT JOIN scans s ON s.client_id = c.id LEFT JOIN result_sets r ON r.id = s.set_id
    WHERE c.name LIKE ? ESCAPE '\\' ORDER BY c.name LIMIT ? OFFSET ?`).all(like, limit, offset) as ComputerListItem[];
  return { total, offset, limit, items };
}

export interface UpdateCompliance {
  readonly update: { readonly updateId: string; readonly kb: string; readonly title: string; readonly classification: string; readonly severity: string; readonly products: readonly string[] };
  readonly counts: { readonly Installed: number; readonly Required: number; readonly Unknown: number; readonly superseded: number };
  /** Why machines are Unknown, most common first (the reason names the rule and the fact). */
  readonly unknownBecause: readonly { readonly reason: string; readonly machines: number }[];
  readonly machines: Page<{ readonly computer: string; readonly state: string; readonly superseded: boolean; readonly reason: string; readonly scannedAt: string }>;
}

/** One update across the fleet: who needs it, who has it, who is Unknown and why. `query`: KB, UpdateId or RevisionId. */
export function updateCompliance(store: SiteStore, catalogs: CatalogVersions, query: string, o: { state?: string; limit?: number; offset?: number } = {}): UpdateCompliance | undefined {
  const cur = store.currentCatalog();
  const c = cur && catalogs.get(cur.id);
  if (!c) return undefined;
  const i = c.find(query)[0];
  if (i === undefined) return undefined;
  const updateId = c.updateId(i);
  const byState = store.stmt(`SELECT r.state, r.superseded, count(*) AS n FROM result_updates r JOIN scans s ON s.set_id = r.set_id
    WHERE r.update_id = ? GROUP BY r.state, r.superseded`).all(updateId) as { state: string; superseded: number; n: number }[];
  const count = (st: string): number => byState.filter((r) => r.state === st).reduce((a, r) => a + r.n, 0);
  const unknownBecause = store.stmt(`SELECT r.reason, count(*) AS machines FROM result_updates r JOIN scans s ON s.set_id = r.set_id
    WHERE r.update_id = ? AND r.state = 'Unknown' GROUP BY r.reason ORDER BY machines DESC LIMIT 20`).all(updateId) as { reason: string; machines: number }[];
  const limit = o.limit ?? 50, offset = o.offset ?? 0;
  const filter = o.state ? 'AND r.state = ?' : '';
  const args: unknown[] = o.state ? [updateId, o.state] : [updateId];
  const total = (store.stmt(`SELECT count(*) AS n FROM result_updates r JOIN scans s ON s.set_id = r.set_id WHERE r.update_id = ? ${filter}`).get(...args) as { n: number }).n;
  const items = (store.stmt(`SELECT cl.name AS computer, r.state, r.superseded, r.reason, s.scanned_at AS scannedAt
    FROM result_updates r JOIN scans s ON s.set_id = r.set_id JOIN clients cl ON cl.id = s.client_id
    WHERE r.update_id = ? ${filter} ORDER BY cl.name LIMIT ? OFFSET ?`).all(...args, limit, offset) as { computer: string; state: string; superseded: number; reason: string; scannedAt: string }[])
    .map((r) => ({ ...r, superseded: r.superseded === 1 }));
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
export function groupSummary(store: SiteStore, kind: 'classification' | 'product'): GroupRow[] {
  // Machines per result set first (the scans_by_set index), then each set's group counts × its machines:
  // the work grows with profiles, not clients.
  return store.stmt(`SELECT g.name, sum(g.installed * s.n) AS installed, sum(g.required * s.n) AS required, sum(g.unknown * s.n) AS unknown
    FROM (SELECT set_id, count(*) AS n FROM scans GROUP BY set_id) s JOIN result_set_groups g ON g.set_id = s.set_id
    WHERE g.kind = ? GROUP BY g.name ORDER BY g.name`).all(kind) as GroupRow[];
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
export function collectionSummary(store: SiteStore): CollectionRow[] {
  const cols = store.stmt('SELECT c.id, c.name, c.architecture, c.limit_to, l.name AS limited FROM collections c LEFT JOIN collections l ON l.id = c.limit_to ORDER BY c.id').all() as
    { id: number; name: string; architecture: string | null; limit_to: number | null; limited: string | null }[];
  const byId = new Map(cols.map((c) => [c.id, c]));
  type Group = { architecture: string | null; n: number; scanned: number; compliant: number; required: number; unknown: number; direct: Set<number> };
  const sums = `count(*) AS n, count(s.client_id) AS scanned, coalesce(sum(r.required = 0), 0) AS compliant, coalesce(sum(r.required), 0) AS required, coalesce(sum(r.unknown), 0) AS unknown`;
  const from = 'FROM clients cl LEFT JOIN scans s ON s.client_id = cl.id LEFT JOIN result_sets r ON r.id = s.set_id';
  const groups: Group[] = (store.stmt(`SELECT cl.architecture, ${sums} ${from} WHERE cl.name NOT IN (SELECT computer FROM collection_members) GROUP BY cl.architecture`).all() as Omit<Group, 'direct'>[])
    .map((g) => ({ ...g, direct: new Set<number>() }));
  const directRows = store.stmt(`SELECT cl.name, cl.architecture, ${sums} ${from} WHERE cl.name IN (SELECT computer FROM collection_members) GROUP BY cl.id`).all() as (Omit<Group, 'direct'> & { name: string })[];
  const memberships = store.stmt('SELECT collection_id, computer FROM collection_members').all() as { collection_id: number; computer: string }[];
  for (const d of directRows) groups.push({ ...d, direct: new Set(memberships.filter((m) => m.computer.toLowerCase() === d.name.toLowerCase()).map((m) => m.collection_id)) });
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
export function staleClients(store: SiteStore, days: number, limit = 100, offset = 0): Page<{ readonly name: string; readonly lastUpload: string | null; readonly lastScan: string | null }> {
  const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
  const total = (store.stmt('SELECT count(*) AS n FROM clients WHERE last_upload_at IS NULL OR last_upload_at < ?').get(cutoff) as { n: number }).n;
  const items = store.stmt('SELECT name, last_upload_at AS lastUpload, last_scan_at AS lastScan FROM clients WHERE last_upload_at IS NULL OR last_upload_at < ? ORDER BY last_upload_at NULLS FIRST, name LIMIT ? OFFSET ?')
    .all(cutoff, limit, offset) as { name: string; lastUpload: string | null; lastScan: string | null }[];
  return { total, offset, limit, items };
}

export interface DailyRow {
  readonly day: string;
  readonly clients: number;
  readonly scanned: number;
  readonly compliant: number;
  readonly installed: number;
  readonly required: number;
  readonly unknown: number;
}

/** Fleet compliance per day: the recorded snapshots, with today's figures computed now (snapshots lag by design). */
export function complianceTrend(store: SiteStore, days = 90): DailyRow[] {
  const rows = (store.stmt('SELECT * FROM compliance_daily ORDER BY day DESC LIMIT ?').all(days) as DailyRow[]).reverse();
  const t = fleetTotals(store);
  if (t.scanned === 0 && rows.length === 0) return rows;
  const today: DailyRow = { day: new Date().toISOString().slice(0, 10), clients: (store.stmt('SELECT count(*) AS n FROM clients').get() as { n: number }).n, ...t };
  return [...rows.filter((r) => r.day !== today.day), today].slice(-days);
}
