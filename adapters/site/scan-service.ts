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
import { readCatalogFileInPieces } from '../../engine/catalog/file.js';
import { PatchscanError } from '../../engine/errors.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { relevantDetails, type RelevantDetails } from '../../engine/catalog/relevant-details.js';
import { fingerprint } from '../../engine/fleet/fingerprint.js';
import { outcomeIndex, outcomeState, outcomeSupersedence, packOutcome } from '../../engine/fleet/result-set.js';
import { supersedenceCode, type SupersedenceCode } from '../../engine/scanner/supersedence.js';
import { countOutcome, emptyCounts } from '../../engine/scanner/counting.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { createScannerPool, type ScannerPool } from '../../engine/pool/scanner-pool.js';
import type { UpdateState } from '../../engine/scanner/machine-scan.js';
import type { CatalogRow, NewResultSet, ResultSetBase, ResultSetLayers, ResultUpdateRow, SiteStore } from '../store/port.js';
import type { ScanJob } from '../store/queue.js';
import { now } from '../store/sql/store.js';
import type { Site } from './site.js';
import { storeCatalogSource, type CatalogSource } from './catalog-files.js';
import { CatalogCarryOver, type CarriedChanges, type CarriedOutcome } from './catalog-carry-over.js';
import { composeIndexMaps, OWN_SHARE } from './carried-changes.js';
import { sameIndexMap } from '../store/sql/index-map.js';
import { GroupTally, recountStaleGroups, type RecountRun } from './result-groups.js';
import { TargetingSnapshot } from './targeting.js';

/** One scanned outcome on its way to the store (supersedence as the code stored in result_updates.superseded). */
interface Outcome {
  readonly index: number;
  readonly state: UpdateState;
  readonly supersedence: SupersedenceCode;
  readonly reason: string;
}

interface Loaded {
  readonly catalogId: number;
  readonly catalog: Catalog;
  readonly scanner: Scanner;
  readonly details: RelevantDetails;
  /** The worker pool scanning against this catalog version, when threads > 0 (created on first use). */
  pool?: Promise<ScannerPool>;
}

export interface QueueRun {
  readonly scanned: number;
  /** Removed without a scan: no inventory, or no advertised collection targets the client. */
  readonly skipped: number;
  /** Scans whose profile already had a stored result set for this catalog. */
  readonly shared: number;
  /** Result sets carried over from the client's previous catalog instead of scanned in full (catalog-carry-over.ts). */
  readonly carried: number;
  /** Result sets of earlier catalogs deleted because nothing reads them any more ({@link ScanService.pruneResultSets}). */
  readonly pruned: number;
}

export interface ScanServiceOptions {
  /**
   * Worker threads that run the engine (piscina, one shared compiled catalog); 0 scans on the calling thread.
   * `serve` uses threads so that no scan runs on its HTTP event loop.
   */
  readonly threads?: number;
  /**
   * Carry stored result sets over to a new catalog where that is exact, instead of scanning them in full (default
   * true; false: always the full scan, as before).
   */
  readonly carryOver?: boolean;
  /**
   * Delete result sets of earlier catalogs that nothing reads any more when the queue runs dry ({@link
   * ScanService.pruneResultSets}; default true; false: only when called, as a benchmark does to time it apart).
   */
  readonly prune?: boolean;
  /** Where a carry-over that was refused or failed is said (then the full scan runs); default standard error. */
  readonly log?: (line: string) => void;
  /**
   * Where compiled catalog files come from: default the site's file at its recorded path, else the verified copy in
   * the site database (catalog-files.ts); `worker --catalog-from` fetches them from a site server
   * (catalog-download.ts).
   */
  readonly catalogs?: CatalogSource;
  /** Told when a new catalog version in service is loaded (between batches), not at the first load. */
  readonly onCatalogSwitch?: (row: CatalogRow) => void;
  /**
   * A queue batch taken, scanned and stored within this many milliseconds a job is fast: the next one may be larger
   * ({@link ScanService.runQueue}; default {@link FAST_JOB_MS}).
   */
  readonly fastJobMs?: number;
}

/** The carry-over from one catalog to the one in service (ScanService.carry). */
interface Carry {
  readonly fromId: number;
  readonly toId: number;
  /** Undefined: refused or failed (clients of `fromId` are scanned in full). */
  readonly co: CatalogCarryOver | undefined;
  /** The old catalog, once read (only when the carry-over had to be made here, or a fingerprint on it is needed). */
  from?: Catalog;
  fromError?: Error;
  fromDetails?: RelevantDetails;
}

/**
 * A batch of the queue whose jobs took this long each or less counts as fast: the next one may be larger
 * (ScanService.runQueue). Between what a job costs when its set is carried over or shared (~2–5 ms, stored with the
 * batch) and what a full scan costs (~60–90 ms with its ~2,300 rows), with room for a loaded machine either side.
 */
export const FAST_JOB_MS = 20;
/**
 * A batch whose store transaction took longer than this is not fast, whatever its time a job: the transaction holds
 * SQLite's write lock, and an upload waits for it up to its busy timeout (5 s) before it is answered 503. Doubled, a
 * batch of the same kind then still commits within ~2 s. (200 carried sets commit in ~0.2–0.35 s.)
 */
export const MAX_FAST_STORE_MS = 1_000;
/** How many times its `chunk` a batch of runQueue may grow to. */
export const MAX_CHUNK_GROWTH = 8;

/** One job of a batch, prepared outside any transaction. */
type Prepared =
  | { readonly job: ScanJob; readonly skip: true }
  | {
      readonly job: ScanJob;
      readonly skip: false;
      readonly clientId: number;
      readonly inventoryId: number;
      readonly program: string;
      readonly fingerprint: string;
      readonly inventory: Inventory;
    };

export class ScanService {
  private loaded: Loaded | undefined;
  private readonly targeting: TargetingSnapshot;
  private readonly threads: number;

  constructor(
    private readonly site: Site,
    o: ScanServiceOptions = {},
  ) {
    this.targeting = new TargetingSnapshot(site.store);
    this.threads = o.threads ?? 0;
    this.carryOverOn = o.carryOver ?? true;
    this.fastJobMs = o.fastJobMs ?? FAST_JOB_MS;
    this.pruneOn = o.prune ?? true;
    this.log = o.log ?? ((line) => process.stderr.write(`patchscan: ${line}\n`));
    this.catalogs = o.catalogs ?? storeCatalogSource(site.store, site.catalogsDir);
    this.onCatalogSwitch = o.onCatalogSwitch;
  }

  private readonly catalogs: CatalogSource;
  /** The file the loaded catalog was read from, and the catalog whose load last pruned the cache. */
  private loadedFile = '';
  private prunedFor: number | undefined;
  private readonly onCatalogSwitch: ((row: CatalogRow) => void) | undefined;

  private readonly carryOverOn: boolean;
  private readonly fastJobMs: number;
  private readonly pruneOn: boolean;
  private readonly log: (line: string) => void;
  /**
   * The carry-over to the loaded catalog from the first earlier one a queued client was last scanned with (after a
   * sync, every client's), built once; `co` undefined: refused or failed.
   */
  private carry: Carry | undefined;
  private carriedCount = 0;

  private get store(): SiteStore {
    return this.site.store;
  }

  /**
   * The current catalog, reloaded when another process (a sync) swapped in a new one — between batches only: a batch
   * is scanned, and its results are stored naming, the catalog version loaded before it was scanned.
   */
  async current(): Promise<Loaded | undefined> {
    const row = await this.store.currentCatalog();
    if (!row) return undefined;
    if (this.loaded?.catalogId !== row.id) {
      const old = this.loaded;
      const file = await this.catalogs.file(row);
      // Into shared memory, read in pieces at once (faster than one read): worker threads, when there are any, then
      // share the bytes read, uncopied.
      const catalog = new Catalog(await readCatalogFileInPieces(file));
      this.loaded = { catalogId: row.id, catalog, scanner: new Scanner(catalog), details: relevantDetails(catalog) };
      if (old) this.onCatalogSwitch?.(row);
      if (old?.pool) void old.pool.then((p) => p.close());
      this.loadedFile = file;
    }
    return this.loaded;
  }

  /** Stops the worker threads, if any. */
  async close(): Promise<void> {
    const pool = this.loaded?.pool;
    if (pool) await (await pool).close();
  }

  /** Queues a scan of every client with a stored inventory (after a new catalog: nobody has to upload again). */
  rescanAll(reason: string): Promise<number> {
    return this.store.transaction(async (store) => {
      const ids = await store.clientsWithInventory();
      // In chunks of multi-row inserts (one pg-boss insert per chunk on PostgreSQL), not a statement per client.
      for (let k = 0; k < ids.length; k += 1000)
        await store.enqueueScans(ids.slice(k, k + 1000).map((clientId) => ({ clientId, priority: 'normal', reason })));
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
   * Runs up to `max` queued scans, `chunk` jobs at a time: each batch is prepared and scanned outside any
   * transaction (on SQLite no write lock is held while the engine runs), then its results and its jobs' ends are
   * committed together. Returns early (with the rest still queued) when there is no catalog yet.
   *
   * While batches go fast (at most `fastJobMs` a job, default {@link FAST_JOB_MS}: result sets carried over to a new
   * catalog, or shared), the next one is twice as large, up to {@link MAX_CHUNK_GROWTH} × `chunk`; a slow one, or a new
   * catalog in service (its first scans may all be full ones), brings it back to `chunk`. A batch is judged by its
   * time a job, not its whole time: judged whole, a batch grown to 200 carried sets (~0.7–1 s) counted as slow, and a
   * 1,000-client carry-over went 25, 50, 100, 200, 25, 50, … (10 to 15 takes where 8 do). A batch whose commit held
   * the write lock longer than {@link MAX_FAST_STORE_MS} is slow too (uploads wait for that lock). The size carries
   * over from call to call ({@link batchSize}: a caller taking one batch a call passes it as `max`). Each batch costs two commits
   * whatever its size: a catalog change's carry-over of 300 clients stored 25 sets a commit, with a 30–40 ms commit
   * (the WAL's checkpoint, by its length) every second or third batch.
   */
  async runQueue(max = Number.POSITIVE_INFINITY, chunk = 25, leaseSeconds?: number): Promise<QueueRun> {
    let scanned = 0,
      skipped = 0,
      shared = 0;
    const carriedBefore = this.carriedCount;
    let drained = false;
    await this.recountStale();
    while (scanned + skipped < max) {
      const before = await this.current();
      if (!before) break;
      // After current(): a size learned on another catalog is not this one's (batchSize).
      const size = this.batchSize(chunk);
      const started = performance.now();
      const jobs = await this.store.takeScans(Math.min(size, max - scanned - skipped), leaseSeconds);
      if (jobs.length === 0) {
        drained = true;
        break;
      }
      let requeued = false;
      try {
        // A sync that put a new catalog in service after the read above queues its rescans after that commit: jobs
        // taken now may be those, and must be scanned with the new catalog, not the one just loaded.
        let loaded = before;
        if ((await this.store.currentCatalog())?.id !== before.catalogId) {
          try {
            loaded = (await this.current()) ?? before;
          } catch (e) {
            // That catalog cannot be loaded here yet (a copy that does not verify, a server that is down): the jobs
            // are not why, so they go back as they were, no try counted, and wait for it as queued jobs do.
            await this.requeue(jobs);
            requeued = true;
            throw e;
          }
        }
        const prepared = await this.prepare(loaded, jobs);
        const fresh = await this.scanFresh(loaded, prepared);
        const storing = performance.now();
        await this.store.transaction(
          async (store) => {
            // The batch's result sets first, in fingerprint order: two workers storing overlapping profiles then take
            // the result_sets rows in one order. In job order they deadlocked on PostgreSQL (two workers, 2,000
            // clients: one run in three lost a batch to a retry).
            const sets = new Map<string, { readonly id: number; readonly existed: boolean }>();
            const fingerprints = [...new Set(prepared.flatMap((p) => (p.skip ? [] : [p.fingerprint])))].sort();
            // Before any other lock of the batch, the update numbers its sets need, in catalog order (port.ts).
            await store.numberUpdates(updateIdsInCatalogOrder(fingerprints.flatMap((fp) => fresh.get(fp) ?? [])));
            for (const fp of fingerprints) {
              const existing = await store.resultSetId(loaded.catalogId, fp);
              const made = fresh.get(fp);
              // Seen stored when the batch was scanned, gone now (pruned: its catalog left service meanwhile).
              if (existing === undefined && !made)
                throw new PatchscanError(
                  'INTERNAL',
                  'a result set this batch shares was deleted while it was scanned; the batch is retried',
                );
              sets.set(fp, { id: existing ?? (await store.addResultSet(made!)), existed: existing !== undefined });
            }
            const stored = new Set<string>();
            for (const p of prepared) {
              if (p.skip) {
                skipped++;
                continue;
              }
              const set = sets.get(p.fingerprint)!;
              const setId = set.id;
              // Shared: the set was there before this batch, or an earlier job of it stored it.
              const wasShared = set.existed || stored.has(p.fingerprint);
              stored.add(p.fingerprint);
              await store.recordScan({
                clientId: p.clientId,
                inventoryId: p.inventoryId,
                catalogId: loaded.catalogId,
                setId,
                program: p.program,
                scannedAt: now(),
              });
              scanned++;
              if (wasShared) shared++;
            }
            await store.completeScans(jobs);
          },
          // Scan results: recomputable, and stored by many 100-row INSERTs (their journals in memory: driver.ts).
          { durability: 'relaxed', statementJournals: 'memory' },
        );
        const done = performance.now();
        const fast = (done - started) / jobs.length <= this.fastJobMs && done - storing <= MAX_FAST_STORE_MS && loaded === before;
        const next = fast && jobs.length === size ? Math.min(size * 2, chunk * MAX_CHUNK_GROWTH) : fast ? size : Math.max(1, chunk);
        this.grown = { chunk, size: next, catalogId: loaded.catalogId };
      } catch (e) {
        // Nothing of the batch was stored: each job goes back with backoff (and fails after its retries).
        if (!requeued)
          for (const job of jobs)
            await this.store.failScan(job, PatchscanError.is(e) ? `${e.code}: ${e.message}` : String((e as Error).message ?? e));
        throw e;
      }
    }
    if (scanned > 0) await this.noteDaily(max === Number.POSITIVE_INFINITY ? 0 : 10_000);
    await this.pruneCatalogs();
    this.scannedSincePrune += scanned;
    // When the queue runs dry after scans (a rescan wave done).
    const pruned = this.pruneOn && drained && this.scannedSincePrune > 0 ? await this.pruneResultSets() : 0;
    return { scanned, skipped, shared, carried: this.carriedCount - carriedBefore, pruned };
  }

  /**
   * One step of a server's scan loop (`serve`, on its HTTP thread or in its scan thread): batches of 5 jobs to start
   * with, growing as {@link runQueue} lets them, and at least 25 jobs or one grown batch a step, so the thread answers
   * its messages between steps while a step still commits a grown batch whole.
   */
  runQueueStep(leaseSeconds?: number): Promise<QueueRun> {
    return this.runQueue(Math.max(25, this.batchSize(5)), 5, leaseSeconds);
  }

  private scannedSincePrune = 0;

  /** The batch size runQueue last left for its `chunk`, and the catalog it was learned with. */
  private grown: { readonly chunk: number; readonly size: number; readonly catalogId: number } | undefined;

  /**
   * How many jobs the next batch of `runQueue(…, chunk)` takes: `chunk`, or more while batches have gone fast on the
   * catalog in service (runQueue; learned on another catalog, it does not count: the first scans on a new one may all
   * be full ones). `patchscan worker` passes it as `max` to take one batch a call.
   */
  batchSize(chunk: number): number {
    const g = this.grown;
    return g && g.chunk === chunk && g.catalogId === this.loaded?.catalogId ? g.size : Math.max(1, chunk);
  }

  /**
   * Deletes the result sets of earlier catalogs that nothing reads any more (store.unreadResultSets: no client's latest
   * scan, no set stored on it), a few sets per transaction: without it every catalog change left a whole fleet's rows
   * behind. `runQueue` calls it when the queue runs dry after scans. Only while no scan job is queued or taken anywhere
   * on the site: a worker carrying a set over may be reading one such set (a client whose inventory changed finds its
   * old set by profile), and one reading a set that went meanwhile falls back to a full scan or retries its batch.
   * Returns how many went (0 when the queue is busy). Never fatal: a failure is said, and the next time tries again.
   */
  async pruneResultSets(): Promise<number> {
    const q = await this.store.queueStatus();
    if (q.queued.expedited + q.queued.normal + q.active > 0) return 0;
    this.scannedSincePrune = 0;
    const current = (await this.store.currentCatalog())?.id;
    if (current === undefined) return 0;
    let pruned = 0;
    try {
      // Again while a pass deletes some: a base is read only by the sets on it, so it is unread once they are gone.
      for (let gone = -1; gone !== 0;) {
        const ids = await this.store.unreadResultSets(current);
        gone = 0;
        // Short transactions (5 sets, ~0.25 s on a slow VM): each set takes its rows with it (a few thousand each), and uploads
        // and scans wait for the write lock meanwhile.
        for (let k = 0; k < ids.length; k += 5) gone += await this.store.deleteUnreadResultSets(current, ids.slice(k, k + 5));
        pruned += gone;
      }
    } catch (e) {
      this.log(`pruning result sets of earlier catalogs failed (the next run tries again): ${(e as Error).message}`);
    }
    return pruned;
  }

  /** Puts taken jobs back as new ones (their tries not counted): ended and queued again in one transaction. */
  private async requeue(jobs: readonly ScanJob[]): Promise<void> {
    await this.store.transaction(async (store) => {
      await store.completeScans(jobs);
      await store.enqueueScans(jobs.map((j) => ({ clientId: j.clientId, priority: j.priority, reason: j.reason })));
    });
  }

  /**
   * Once per catalog loaded, after the batches that switched to it: by then the carry-over has read the previous
   * version it needed (both are held in memory), so older cached copies can go. Never fatal: a failure is said.
   */
  private async pruneCatalogs(): Promise<void> {
    const l = this.loaded;
    if (!this.catalogs.prune || !l || this.prunedFor === l.catalogId) return;
    this.prunedFor = l.catalogId;
    try {
      await this.catalogs.prune(this.loadedFile);
    } catch (e) {
      this.log(`pruning the catalog cache failed: ${(e as Error).message}`);
    }
  }

  /** Reads each job's client, latest inventory and target; decodes and fingerprints the inventory. */
  private async prepare(l: Loaded, jobs: readonly ScanJob[]): Promise<Prepared[]> {
    const targeting = await this.targeting.current();
    const out: Prepared[] = [];
    for (const job of jobs) {
      const client = await this.store.clientById(job.clientId);
      const inv = client && (await this.store.latestInventory(job.clientId));
      const expedited = job.priority === 'expedited';
      const target =
        client && inv ? (targeting.program(client, expedited) ?? (expedited ? targeting.program(client, false) : undefined)) : undefined;
      if (!client || !inv || !target) {
        out.push({ job, skip: true });
        continue;
      }
      let inventory: Inventory;
      try {
        inventory = decodeInventory(inv.body, `${client.name} (stored inventory ${inv.id})`, 'msgpack');
      } catch (e) {
        // Stored inventories were validated on upload; one that no longer decodes is reported, not scanned.
        if (PatchscanError.is(e)) {
          out.push({ job, skip: true });
          continue;
        }
        throw e;
      }
      const fp = Buffer.from(fingerprint(inventory, l.details).buffer).toString('base64');
      out.push({ job, skip: false, clientId: client.id, inventoryId: inv.id, program: target.program, fingerprint: fp, inventory });
    }
    return out;
  }

  /** Result sets for the profiles of this batch that have none stored yet, scanned in the pool or here. */
  private async scanFresh(l: Loaded, prepared: readonly Prepared[]): Promise<Map<string, NewResultSet>> {
    const todo = new Map<string, Inventory>();
    const sets = new Map<string, NewResultSet>();
    for (const p of prepared) {
      if (p.skip || todo.has(p.fingerprint) || sets.has(p.fingerprint)) continue;
      if ((await this.store.resultSetId(l.catalogId, p.fingerprint)) !== undefined) continue;
      const carried = this.carryOverOn ? await this.carriedSet(l, p.clientId, p.inventoryId, p.fingerprint, p.inventory) : undefined;
      if (carried) sets.set(p.fingerprint, carried);
      else todo.set(p.fingerprint, p.inventory);
    }
    if (todo.size === 0) return sets;
    if (this.threads === 0) {
      for (const [fp, inv] of todo) {
        const { outcomes, reasons } = scanOutcomes(l.scanner, inv, { all: false, reasons: true });
        const updates: Outcome[] = [];
        outcomes.forEach((w, k) =>
          updates.push({
            index: outcomeIndex(w),
            state: outcomeState(w),
            supersedence: outcomeSupersedence(w),
            reason: reasons?.[k] ?? '',
          }),
        );
        sets.set(fp, this.resultSet(l, fp, updates));
      }
      return sets;
    }
    l.pool ??= createScannerPool({ catalog: l.catalog, threads: this.threads, reasons: true, all: false, cache: false });
    const pool = await l.pool;
    const fps = [...todo.keys()];
    let k = 0;
    for await (const r of pool.scanMany(todo.values())) {
      const fp = fps[k++]!;
      if (!r.ok) throw new PatchscanError('INTERNAL', `the scan pool failed on a stored inventory: ${r.error.code}: ${r.error.message}`);
      sets.set(
        fp,
        this.resultSet(
          l,
          fp,
          r.updates.map((u) => ({ index: u.index, state: u.state, supersedence: supersedenceCode(u), reason: u.reason ?? '' })),
        ),
      );
    }
    return sets;
  }

  /**
   * The result set of a profile carried over from the catalog its client was last scanned with, when that set is
   * stored and the carry-over is exact; else undefined (the full scan runs). Never throws: an error is logged.
   */
  private async carriedSet(
    l: Loaded,
    clientId: number,
    inventoryId: number,
    fp: string,
    inventory: Inventory,
  ): Promise<NewResultSet | undefined> {
    try {
      const last = await this.store.lastScan(clientId);
      if (!last || last.catalog_id === l.catalogId) return undefined;
      // One old catalog per catalog in service: a client last scanned on yet another one is scanned in full, so that
      // clients from mixed catalogs cannot make each batch load a catalog and diff again.
      if (this.carry?.toId === l.catalogId && this.carry.fromId !== last.catalog_id) return undefined;
      if (this.carry?.toId !== l.catalogId) {
        this.carry = { fromId: last.catalog_id, toId: l.catalogId, co: undefined }; // refused until built
        this.carry = await this.carryOverFrom(last.catalog_id, l);
      }
      const carry = this.carry;
      const co = carry.co;
      if (!co || co.refused !== undefined) return undefined;
      // The set this inventory had on the old catalog: its last scan's when it is the inventory scanned then, else the
      // stored set of its profile there (the old catalog is then read, once, for its fingerprint).
      let setId: number | undefined = last.set_id;
      if (last.inventory_id !== inventoryId) {
        carry.fromDetails ??= relevantDetails(await this.oldCatalog(carry));
        setId = await this.store.resultSetId(
          last.catalog_id,
          Buffer.from(fingerprint(inventory, carry.fromDetails).buffer).toString('base64'),
        );
      }
      if (setId === undefined) return undefined;
      // Stored as its changes on the set it came from (or on that set's base), where the catalogs' index map allows and
      // the changes are few: then the old rows' reasons are not read (a changed row's reason is worded again).
      // The set's packed outcomes where it was stored with them, else its rows.
      const packed = await this.store.resultSetOutcomes(setId);
      const layers = packed ? undefined : await this.store.resultSetLayers(setId, { reasons: false });
      const stored = packed ?? layers!;
      const old = packed ? packed.words : co.oldWords(layers!.rows);
      const baseToNew = old && (await this.baseToNew(last.catalog_id, l.catalogId, co, stored.base));
      const changes = baseToNew && co.carryChanges(inventory, old, stored.base?.overridden, old.length * OWN_SHARE);
      if (changes && baseToNew) {
        this.carriedCount++;
        const base = stored.base ?? { setId, catalogId: last.catalog_id };
        const own = [...changes.own, ...(await this.differFromBase(l.catalog, base.setId, baseToNew, changes.unsure))];
        return this.changedSet(
          l,
          fp,
          { ...changes, own },
          {
            setId: base.setId,
            catalogId: base.catalogId,
            indexMap: baseToNew,
            removed: changes.removed,
          },
        );
      }
      // Stored whole, with the stored reasons that still hold.
      const outcomes = co.carry(inventory, (await this.store.resultSetLayers(setId)).rows);
      if (!outcomes) return undefined;
      this.carriedCount++;
      return this.resultSet(l, fp, outcomes);
    } catch (e) {
      this.log(
        `carrying a result set over to catalog ${l.catalogId} failed, scanning it in ` +
          `full: ${PatchscanError.is(e) ? `${e.code}: ${e.message}` : String((e as Error).message ?? e)}`,
      );
      return undefined;
    }
  }

  /**
   * The carry-over from catalog `fromId` to the loaded one: the one stored when a sync put it in service
   * ({@link prepareCarryOver}), else made here (the old catalog read and diffed) and stored for the other processes.
   * A stored one that does not decode is said, made again and replaced. Throws when the old catalog cannot be read (carriedSet
   * says it; the clients are then scanned in full).
   */
  private async carryOverFrom(fromId: number, l: Loaded): Promise<Carry> {
    const carry: Carry = { fromId, toId: l.catalogId, co: undefined };
    const stored = await this.store.catalogCarryOver(fromId, l.catalogId);
    let co: CatalogCarryOver | undefined;
    if (stored)
      try {
        co = CatalogCarryOver.decode(fromId, stored, l.catalog);
      } catch (e) {
        this.log(`the stored carry-over from catalog ${fromId} is not used (made again here): ${(e as Error).message}`);
      }
    if (!co) {
      co = CatalogCarryOver.between(fromId, await this.oldCatalog(carry), l.catalog);
      try {
        // A damaged one is replaced (the same bytes, should two processes do it at once).
        if (stored) await this.store.replaceCatalogCarryOver(fromId, l.catalogId, co.encode());
        else await this.store.addCatalogCarryOver(fromId, l.catalogId, co.encode());
      } catch (e) {
        this.log(`storing the carry-over from catalog ${fromId} failed (each process makes its own): ${(e as Error).message}`);
      }
    }
    if (co.refused !== undefined) this.log(`result sets of catalog ${fromId} are rescanned in full: ${co.refused}`);
    return { ...carry, co };
  }

  /** The carry's old catalog, read once; a failure to read it is kept too (not tried again for each client). */
  private async oldCatalog(carry: Carry): Promise<Catalog> {
    if (carry.from) return carry.from;
    if (carry.fromError) throw carry.fromError;
    try {
      const row = await this.store.catalog(carry.fromId);
      if (!row) throw new PatchscanError('NOT_FOUND', `catalog ${carry.fromId} is not recorded`);
      return (carry.from = new Catalog(await readCatalogFileInPieces(await this.catalogs.file(row))));
    } catch (e) {
      throw (carry.fromError = e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Makes and stores how result sets of catalog `fromId` carry over to the catalog in service (what a sync does right
   * after it puts a new catalog in service, before it queues the rescans): each scanning process then reads it instead
   * of loading the old catalog and diffing the two. Returns a line to say; never throws (scans make it if this failed).
   */
  async prepareCarryOver(fromId: number): Promise<string> {
    try {
      const l = await this.current();
      if (!l || l.catalogId === fromId) return 'no carry-over to prepare';
      if (await this.store.catalogCarryOver(fromId, l.catalogId)) return `the carry-over from catalog ${fromId} is stored already`;
      const t = performance.now();
      const co = CatalogCarryOver.between(fromId, await this.oldCatalog({ fromId, toId: l.catalogId, co: undefined }), l.catalog);
      const plan = co.encode();
      await this.store.addCatalogCarryOver(fromId, l.catalogId, plan);
      const took = `${((performance.now() - t) / 1000).toFixed(1)} s, ${(plan.length / 1024).toFixed(0)} KiB`;
      return co.refused !== undefined
        ? `result sets of the previous catalog will be rescanned in full: ${co.refused} (${took})`
        : `prepared the carry-over of result sets from the previous catalog: ${co.affectedCount} update(s) to decide again (${took})`;
    } catch (e) {
      return `preparing the carry-over from catalog ${fromId} failed (scans will make it): ${(e as Error).message}`;
    }
  }

  /**
   * Per index of the catalog of a carried set's base, the index of the same update revision in the catalog in service
   * (the map a set stored on that base is read through), or undefined when the map the store holds for that pair of
   * catalogs is another one, or the base is of the catalog in service (the set is then stored whole). Known maps are
   * kept per base catalog for the carry-over.
   */
  private async baseToNew(
    fromId: number,
    toId: number,
    co: CatalogCarryOver,
    base: ResultSetLayers['base'],
  ): Promise<Int32Array | undefined> {
    const baseCatalogId = base?.catalogId ?? fromId;
    // Back to the catalog of the base (a sync put an older catalog in service again): no set is stored on a base of its
    // own catalog.
    if (baseCatalogId === toId) return undefined;
    const known = this.indexMaps.get(baseCatalogId);
    if (known?.toId === toId) return known.map ?? undefined;
    const ours = base ? composeIndexMaps(base.indexMap, co.indexMap) : co.indexMap;
    // Stored now, in a transaction of its own, before the batch that stores sets placed by it (port.ts).
    const stored = await this.store.addCatalogIndexMap(baseCatalogId, toId, ours);
    const map = sameIndexMap(stored, ours) ? ours : null;
    this.indexMaps.set(baseCatalogId, { toId, map });
    return map ?? undefined;
  }

  private readonly indexMaps = new Map<number, { readonly toId: number; readonly map: Int32Array | null }>();

  /**
   * Of outcomes whose stored reason may have moved (CarriedChanges.unsure), those that differ from the base row the set
   * would show at their index (the row at the base index `baseToNew` maps there): the rest are the base's rows exactly,
   * and are not stored again (after a 1 % edit, over half of a carried set's changed rows).
   */
  private async differFromBase(
    catalog: Catalog,
    baseSetId: number,
    baseToNew: Int32Array,
    unsure: readonly CarriedOutcome[],
  ): Promise<CarriedOutcome[]> {
    if (unsure.length === 0) return [];
    let inverse = this.inverseMaps.get(baseToNew);
    if (!inverse) {
      inverse = new Int32Array(catalog.size).fill(-1);
      for (let b = 0; b < baseToNew.length; b++) if (baseToNew[b]! >= 0) inverse[baseToNew[b]!] = b;
      this.inverseMaps.set(baseToNew, inverse);
    }
    const at = new Map<number, CarriedOutcome>();
    for (const o of unsure) if (inverse[o.index]! >= 0) at.set(inverse[o.index]!, o);
    const same = new Set<CarriedOutcome>();
    for (const r of await this.store.resultRowsAt(baseSetId, [...at.keys()])) {
      const o = at.get(r.update_index)!;
      const exact =
        r.update_id === catalog.updateId(o.index) &&
        r.revision_number === catalog.revisionNumber(o.index) &&
        r.state === o.state &&
        r.superseded === o.supersedence &&
        r.reason === o.reason;
      if (exact) same.add(o);
    }
    return unsure.filter((o) => !same.has(o));
  }

  private readonly inverseMaps = new WeakMap<Int32Array, Int32Array>();

  /** A carried set stored as its changes on `base`: counted (and per classification and product) from every outcome. */
  private changedSet(l: Loaded, fp: string, changes: CarriedChanges, base: ResultSetBase): NewResultSet {
    const groups = new GroupTally(l.catalog);
    const counts = groups.addWords(changes.words);
    const updates = changes.own.map((o): ResultUpdateRow => ({
      update_index: o.index,
      update_id: l.catalog.updateId(o.index),
      revision_number: l.catalog.revisionNumber(o.index),
      state: o.state,
      superseded: o.supersedence,
      reason: o.reason,
    }));
    return { catalogId: l.catalogId, fingerprint: fp, counts, updates, groups: groups.rows(), base, outcomes: changes.words };
  }

  /** A scan's outcomes as a stored result set, counted by the counting rule, with its counts per classification and product. */
  private resultSet(l: Loaded, fp: string, outcomes: readonly Outcome[]): NewResultSet {
    const counts = emptyCounts();
    const updates: ResultUpdateRow[] = [];
    // Per classification and per product (result_set_groups), by the same rule.
    const groups = new GroupTally(l.catalog);
    const words = new Uint32Array(outcomes.length);
    for (const [k, o] of outcomes.entries()) {
      const i = o.index;
      words[k] = packOutcome(i, o.state, o.supersedence);
      const bucket = countOutcome(counts, STATE_CODE[o.state], o.supersedence);
      updates.push({
        update_index: i,
        update_id: l.catalog.updateId(i),
        revision_number: l.catalog.revisionNumber(i),
        state: o.state,
        superseded: o.supersedence,
        reason: o.reason,
      });
      groups.add(i, bucket);
    }
    return { catalogId: l.catalogId, fingerprint: fp, counts, updates, groups: groups.rows(), outcomes: words.sort() };
  }

  private recount: Promise<RecountRun> | undefined;

  /**
   * Recounts, once per process, the result sets stored before the counting rule (result-groups.ts). Never throws:
   * a failure is logged and the sets stay marked (left out of reports) for the next process.
   */
  recountStale(): Promise<RecountRun> {
    this.recount ??= recountStaleGroups(this.store, this.catalogs, this.log).catch((e: unknown) => {
      this.log(`recounting result sets by the counting rule failed: ${(e as Error).message}`);
      this.recount = undefined;
      return { recounted: 0, left: 0 };
    });
    return this.recount;
  }
}

const STATE_CODE = { Installed: 0, Required: 1, NotApplicable: 2, Unknown: 3 } as const;

/** Every update id the sets name, once, in catalog order (their rows' update index). */
function updateIdsInCatalogOrder(sets: readonly NewResultSet[]): string[] {
  const at = new Map<string, number>();
  for (const set of sets) for (const u of set.updates) if (!at.has(u.update_id)) at.set(u.update_id, u.update_index);
  return [...at].sort((a, b) => a[1] - b[1]).map(([id]) => id);
}
