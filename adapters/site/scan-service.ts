/**
 * The site's scan worker: takes queued scan jobs in batches (expedited first, then in arrival order), scans each
 * client's latest inventory against the current catalog, and stores the result. Machines with the same profile
 * share one stored result set per catalog version, so a fleet's rescan after a new catalog costs one engine scan
 * per profile.
 *
 * A job ends in the same transaction that stores its result: a crash leaves the job leased, its lease runs out and
 * another worker scans it again. Any process with the site open may run jobs (`patchscan worker`, `serve`,
 * `patchscan rescan`); with PostgreSQL, any number of them on any number of machines.
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
import type { ResultGroupRow, ResultUpdateRow, SiteStore } from '../store/port.js';
import type { ScanJob } from '../store/queue.js';
import { now } from '../store/sql/store.js';
import type { Site } from './site.js';
import { localCatalogFile } from './catalog-files.js';
import { type Targeting, TargetingSnapshot } from './targeting.js';

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
  async current(): Promise<Loaded | undefined> {
    const row = await this.store.currentCatalog();
    if (!row) return undefined;
    if (this.loaded?.catalogId !== row.id) {
      const catalog = new Catalog(readCatalogFile(await localCatalogFile(this.store, row, this.site.catalogsDir)));
      this.loaded = { catalogId: row.id, catalog, scanner: new Scanner(catalog), details: relevantDetails(catalog) };
    }
    return this.loaded;
  }

  /** Queues a scan of every client with a stored inventory (after a new catalog: nobody has to upload again). */
  rescanAll(reason: string): Promise<number> {
    return this.store.transaction(async (store) => {
      const ids = await store.clientsWithInventory();
      for (const id of ids) await store.enqueueScan(id, 'normal', reason);
      return ids.length;
    });
  }

  private lastDaily = 0;

  /** Records today's fleet compliance for the trend chart (at most every `minMs`; 0 forces it). */
  async noteDaily(minMs = 10_000): Promise<void> {
    if (Date.now() - this.lastDaily < minMs) return;
    this.lastDaily = Date.now();
    const t = await this.store.fleetTotals();
    await this.store.recordDaily({ day: now().slice(0, 10), clients: await this.store.clientCount(), ...t });
  }

  /**
   * Runs up to `max` queued scans, `chunk` jobs per transaction. Returns early (with the rest still queued) when
   * there is no catalog yet.
   */
  async runQueue(max = Number.POSITIVE_INFINITY, chunk = 25, leaseSeconds?: number): Promise<QueueRun> {
    let scanned = 0, skipped = 0, shared = 0;
    while (scanned + skipped < max) {
      const loaded = await this.current();
      if (!loaded) break;
      const jobs = await this.store.takeScans(Math.min(chunk, max - scanned - skipped), leaseSeconds);
      if (jobs.length === 0) break;
      // Read before the transaction: on SQLite one connection writes, and a read that opened a transaction of its
      // own inside this one would wait for it forever.
      const targeting = await this.targeting.current();
      try {
        await this.store.transaction(async (store) => {
          for (const job of jobs) {
            const r = await this.scanOne(store, loaded, targeting, job);
            if (r === 'skipped') skipped++;
            else {
              scanned++;
              if (r === 'shared') shared++;
            }
          }
          await store.completeScans(jobs);
        }, { durability: 'relaxed' });
      } catch (e) {
        // The batch's results were rolled back: each job goes back with backoff (and fails after its retries).
        for (const job of jobs) await this.store.failScan(job, PatchscanError.is(e) ? `${e.code}: ${e.message}` : String((e as Error).message ?? e));
        throw e;
      }
    }
    if (scanned > 0) await this.noteDaily(max === Number.POSITIVE_INFINITY ? 0 : 10_000);
    return { scanned, skipped, shared };
  }

  private async scanOne(store: SiteStore, l: Loaded, targeting: Targeting, job: ScanJob): Promise<'scanned' | 'shared' | 'skipped'> {
    const client = await store.clientById(job.clientId);
    const inv = client && (await store.latestInventory(job.clientId));
    if (!client || !inv) return 'skipped';
    const expedited = job.priority === 'expedited';
    const target = targeting.program(client, expedited) ?? (expedited ? targeting.program(client, false) : undefined);
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
    let setId = await store.resultSetId(l.catalogId, fp);
    const wasShared = setId !== undefined;
    if (setId === undefined) setId = await this.storeResultSet(store, l, fp, inventory);
    await store.recordScan({ clientId: client.id, inventoryId: inv.id, catalogId: l.catalogId, setId, program: target.program, scannedAt: now() });
    return wasShared ? 'shared' : 'scanned';
  }

  private storeResultSet(store: SiteStore, l: Loaded, fp: string, inventory: Inventory): Promise<number> {
    const { outcomes, reasons } = scanOutcomes(l.scanner, inventory, { all: false, reasons: true });
    const counts = [0, 0, 0, 0];
    for (const w of outcomes) counts[(w >>> 1) & 3]!++;
    const updates: ResultUpdateRow[] = [];
    // Per classification and per product: what fleet summaries add up (machines × sets, never rows).
    const groups = new Map<string, { kind: ResultGroupRow['kind']; name: string; installed: number; required: number; unknown: number }>();
    const tally = (kind: 'classification' | 'product', name: string, state: number): void => {
      const key = `${kind}\u0000${name}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { kind, name, installed: 0, required: 0, unknown: 0 }));
      if (state === 0) g.installed++;
      else if (state === 1) g.required++;
      else if (state === 3) g.unknown++;
    };
    outcomes.forEach((w, k) => {
      const i = outcomeIndex(w);
      updates.push({ update_index: i, update_id: l.catalog.updateId(i), revision_number: l.catalog.revisionNumber(i), state: outcomeState(w), superseded: outcomeSuperseded(w) ? 1 : 0, reason: reasons?.[k] ?? '' });
      const state = (w >>> 1) & 3;
      tally('classification', l.catalog.classification(i) || 'Unclassified', state);
      for (const p of l.catalog.products(i)) tally('product', p, state);
    });
    return store.addResultSet({
      catalogId: l.catalogId,
      fingerprint: fp,
      counts: { installed: counts[0]!, required: counts[1]!, notApplicable: counts[2]!, unknown: counts[3]! },
      updates,
      groups: [...groups.values()],
    });
  }
}
