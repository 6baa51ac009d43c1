/**
 * The site's scan queue worker: takes queued scans (expedited first, then in arrival order), scans each client's
 * latest inventory against the current catalog, and stores the result. Machines with the same profile share one
 * stored result set per catalog version (see migrations.ts), so a fleet's rescan after a new catalog costs one
 * engine scan per profile.
 *
 * Queue items are removed in the same transaction that stores their result: a crash leaves the item queued and a
 * rerun finishes the work. Any process with the site open may run the queue (the server, `patchscan rescan`).
 */
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { PatchscanError } from '../../engine/errors.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { scanOutcomes } from '../../engine/scan/outcomes.js';
import { fingerprint, relevantDetails, type RelevantDetails } from '../../engine/scan/result-cache.js';
import { outcomeIndex, outcomeState, outcomeSuperseded } from '../../engine/scan/result-set.js';
import { Scanner } from '../../engine/scan/scan.js';
import { now, PRIORITY_EXPEDITED, PRIORITY_NORMAL, type SiteStore } from '../store/site-store.js';
import type { Site } from './site.js';
import { TargetingSnapshot } from './targeting.js';
import { fleetTotals } from './reports.js';

interface Loaded {
  readonly catalogId: number;
  readonly catalog: Catalog;
  readonly scanner: Scanner;
  readonly details: RelevantDetails;
}

export interface QueueRun {
  readonly scanned: number;
  /** Removed without a scan: no inventory, or no advertised collection targets the client. */
  readonly skipped: number;
  /** Scans whose profile already had a stored result set for this catalog. */
  readonly shared: number;
}

export class SiteScanner {
  private loaded: Loaded | undefined;
  private readonly targeting: TargetingSnapshot;

  constructor(private readonly site: Site) {
    this.targeting = new TargetingSnapshot(site.store);
  }

  private get store(): SiteStore {
    return this.site.store;
  }

  /** The current catalog, reloaded when another process (a sync) swapped in a new one. */
  current(): Loaded | undefined {
    const row = this.store.currentCatalog();
    if (!row) return undefined;
    if (this.loaded?.catalogId !== row.id) {
      const catalog = new Catalog(readCatalogFile(row.path));
      this.loaded = { catalogId: row.id, catalog, scanner: new Scanner(catalog), details: relevantDetails(catalog) };
    }
    return this.loaded;
  }

  /** Queues a scan of every client with a stored inventory (after a new catalog: nobody has to upload again). */
  rescanAll(reason: string): number {
    return this.store.tx(() => {
      const ids = this.store.stmt('SELECT DISTINCT client_id FROM inventories').all() as { client_id: number }[];
      for (const { client_id } of ids) this.store.enqueue(client_id, PRIORITY_NORMAL, reason);
      return ids.length;
    });
  }

  private lastDaily = 0;

  /** Records today's fleet compliance for the trend chart (at most every `minMs`; 0 forces it). */
  noteDaily(minMs = 10_000): void {
    if (Date.now() - this.lastDaily < minMs) return;
    this.lastDaily = Date.now();
    const t = fleetTotals(this.store);
    const clients = (this.store.stmt('SELECT count(*) AS n FROM clients').get() as { n: number }).n;
    this.store.stmt(`INSERT INTO compliance_daily (day, clients, scanned, compliant, installed, required, unknown) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (day) DO UPDATE SET clients = excluded.clients, scanned = excluded.scanned, compliant = excluded.compliant,
        installed = excluded.installed, required = excluded.required, unknown = excluded.unknown`)
      .run(now().slice(0, 10), clients, t.scanned, t.compliant, t.installed, t.required, t.unknown);
  }

  /**
   * Runs up to `max` queued scans, `chunk` per transaction. Returns early (with the rest still queued) when there
   * is no catalog yet.
   */
  runQueue(max = Number.POSITIVE_INFINITY, chunk = 25): QueueRun {
    let scanned = 0, skipped = 0, shared = 0;
    while (scanned + skipped < max) {
      const loaded = this.current();
      if (!loaded) break;
      const n = this.store.derivedTx(() => {
        let done = 0;
        for (; done < chunk && scanned + skipped < max; done++) {
          const item = this.store.nextQueued();
          if (!item) break;
          const r = this.scanOne(loaded, item.client_id, item.priority === PRIORITY_EXPEDITED);
          this.store.dequeue(item.id);
          if (r === 'skipped') skipped++;
          else {
            scanned++;
            if (r === 'shared') shared++;
          }
        }
        return done;
      });
      if (n === 0) break;
    }
    if (scanned > 0) this.noteDaily(max === Number.POSITIVE_INFINITY ? 0 : 10_000);
    return { scanned, skipped, shared };
  }

  private scanOne(l: Loaded, clientId: number, expedited: boolean): 'scanned' | 'shared' | 'skipped' {
    const store = this.store;
    const client = store.clientById(clientId);
    const inv = client && store.latestInventory(clientId);
    if (!client || !inv) return 'skipped';
    const target = this.targeting.program(client, expedited) ?? (expedited ? this.targeting.program(client, false) : undefined);
    if (!target) return 'skipped';
    let inventory: Inventory;
    try {
      inventory = decodeInventory(inv.body, `${client.name} (stored inventory ${inv.id})`, 'msgpack');
    } catch (e) {
      // Stored inventories were validated on upload; one that no longer decodes is reported, not scanned.
      if (PatchscanError.is(e)) return 'skipped';
      throw e;
    }
    const fp = Buffer.from(fingerprint(inventory, l.details).buffer).toString('base64');
    let set = store.stmt('SELECT id FROM result_sets WHERE catalog_id = ? AND fingerprint = ?').get(l.catalogId, fp) as { id: number } | undefined;
    const wasShared = set !== undefined;
    if (!set) set = { id: this.storeResultSet(l, fp, inventory) };
    store.stmt(`INSERT INTO scans (client_id, inventory_id, catalog_id, set_id, scanned_at, program) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (client_id) DO UPDATE SET inventory_id = excluded.inventory_id, catalog_id = excluded.catalog_id, set_id = excluded.set_id, scanned_at = excluded.scanned_at, program = excluded.program`)
      .run(clientId, inv.id, l.catalogId, set.id, now(), target.program);
    store.stmt('UPDATE clients SET last_scan_at = ? WHERE id = ?').run(now(), clientId);
    return wasShared ? 'shared' : 'scanned';
  }

  private storeResultSet(l: Loaded, fp: string, inventory: Inventory): number {
    const { outcomes, reasons } = scanOutcomes(l.scanner, inventory, { all: false, reasons: true });
    const counts = [0, 0, 0, 0];
    for (const w of outcomes) counts[(w >>> 1) & 3]!++;
    const id = Number(this.store.stmt('INSERT INTO result_sets (catalog_id, fingerprint, installed, required, not_applicable, unknown) VALUES (?, ?, ?, ?, ?, ?)')
      .run(l.catalogId, fp, counts[0], counts[1], counts[2], counts[3]).lastInsertRowid);
    const insert = this.store.stmt('INSERT INTO result_updates (set_id, update_index, update_id, revision_number, state, superseded, reason) VALUES (?, ?, ?, ?, ?, ?, ?)');
    // Per classification and per product: what fleet summaries add up (machines × sets, never rows).
    const groups = new Map<string, [number, number, number]>();
    const tally = (kind: string, name: string, state: number): void => {
      const key = `${kind}\u0000${name}`;
      const g = groups.get(key) ?? [0, 0, 0];
      if (state === 0) g[0]++;
      else if (state === 1) g[1]++;
      else if (state === 3) g[2]++;
      groups.set(key, g);
    };
    outcomes.forEach((w, k) => {
      const i = outcomeIndex(w);
      insert.run(id, i, l.catalog.updateId(i), l.catalog.revisionNumber(i), outcomeState(w), outcomeSuperseded(w) ? 1 : 0, reasons?.[k] ?? '');
      const state = (w >>> 1) & 3;
      tally('classification', l.catalog.classification(i) || 'Unclassified', state);
      for (const p of l.catalog.products(i)) tally('product', p, state);
    });
    const group = this.store.stmt('INSERT INTO result_set_groups (set_id, kind, name, installed, required, unknown) VALUES (?, ?, ?, ?, ?, ?)');
    for (const [key, [inst, req, unk]] of groups) {
      const [kind, name] = key.split('\u0000');
      group.run(id, kind, name, inst, req, unk);
    }
    return id;
  }
}
