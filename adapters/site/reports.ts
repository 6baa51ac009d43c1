/**
 * Reports over the site database: the compliance of one computer (the seed's "Software updates compliance for a
 * specific computer") and fleet summaries. Update metadata (KB, title, classification, severity) comes from the
 * catalog version each result was computed with; loaded catalogs are kept in a small LRU.
 */
import { LRUCache } from 'lru-cache';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { SiteStore } from '../store/site-store.js';

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

export interface ComplianceRow {
  readonly updateId: string;
  readonly revisionNumber: number;
  readonly kb: string;
  readonly title: string;
  readonly classification: string;
  readonly severity: string;
  readonly state: string;
  readonly superseded: boolean;
  readonly reason: string;
}

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
  const scan = store.db.prepare(`SELECT c.name, c.architecture, c.last_upload_at, s.scanned_at, s.program, s.catalog_id, s.set_id,
      r.installed, r.required, r.not_applicable, r.unknown
    FROM clients c JOIN scans s ON s.client_id = c.id JOIN result_sets r ON r.id = s.set_id WHERE c.name = ?`).get(name) as
    | { name: string; architecture: string | null; last_upload_at: string | null; scanned_at: string; program: string; catalog_id: number; set_id: number; installed: number; required: number; not_applicable: number; unknown: number }
    | undefined;
  if (!scan) return undefined;
  const cat = store.catalog(scan.catalog_id)!;
  const c = catalogs.get(scan.catalog_id);
  const rows = store.db.prepare('SELECT update_index, update_id, revision_number, state, superseded, reason FROM result_updates WHERE set_id = ? ORDER BY update_index').all(scan.set_id) as
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
      state: r.state,
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

export function fleetSummary(store: SiteStore): FleetSummary {
  const t = store.db.prepare(`SELECT count(*) AS scanned, coalesce(sum(r.installed), 0) AS installed, coalesce(sum(r.required), 0) AS required,
      coalesce(sum(r.unknown), 0) AS unknown, coalesce(sum(r.required = 0), 0) AS compliant
    FROM scans s JOIN result_sets r ON r.id = s.set_id`).get() as { scanned: number; installed: number; required: number; unknown: number; compliant: number };
  const clients = (store.db.prepare('SELECT count(*) AS n FROM clients').get() as { n: number }).n;
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
