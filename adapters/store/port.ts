/**
 * The store port: everything a site keeps, as one typed, asynchronous interface. The CLI, the server, the scan
 * service, the reports and the console speak only this; SQL lives behind it (adapters/store/sql/ — portable SQL —
 * with the SQLite and PostgreSQL specifics in adapters/store/sqlite/ and adapters/store/postgres/).
 *
 * Units of work: `transaction(fn)` hands `fn` a store bound to one transaction; everything it does commits or rolls
 * back together (an upload and its scan job; a result set, its scan and the job's end). A store bound to a
 * transaction runs a nested `transaction` inside the same one.
 */
import type { CountBucket } from '../../engine/scanner/counting.js';
import type { FailedJob, NewScan, QueueStatus, ScanJob, ScanPriority } from './queue.js';
import type { TransactionOptions } from './sql/driver.js';

export interface ClientRow {
  readonly id: number;
  readonly name: string;
  readonly token_hash: string | null;
  readonly architecture: string | null;
  /** The operating system of its latest inventory, as people name it (adapters/site/os-name.ts); null until known. */
  readonly os: string | null;
  readonly enrolled_at: string | null;
  readonly last_upload_at: string | null;
  readonly last_scan_at: string | null;
  /** When `patchscan client revoke` took its token away (its data stays); null while enrolled or never enrolled. */
  readonly revoked_at: string | null;
}

/** A client with what the store keeps of it (for `patchscan client list`). */
export interface ClientSummaryRow extends ClientRow {
  readonly inventories: number;
  /** Bytes of its stored inventories (what `limits.storedBytesPerClient` caps). */
  readonly stored_bytes: number;
}

/** What removing a client took with it. */
export interface RemovedClient {
  readonly name: string;
  readonly inventories: number;
  readonly scans: number;
}

/**
 * How much inventory history a client keeps (`limits.inventoriesPerClient`, `limits.storedBytesPerClient`), applied
 * in the transaction that stores a new inventory. The newest `keep` are kept, and the one the client's latest scan
 * read (scans.inventory_id) is never deleted while that scan refers to it. Then, while the kept ones add up to more
 * than `maxBytes`, the oldest go first (never the new one nor the scanned one: a client may hold up to `maxBytes` plus
 * the scanned inventory until a newer one is scanned). A new inventory larger than `maxBytes` alone is refused.
 */
export interface InventoryRetention {
  readonly keep: number;
  readonly maxBytes: number;
}

export interface CatalogRow {
  readonly id: number;
  readonly sha256: string;
  readonly source: string;
  readonly path: string;
  readonly revisions: number;
  readonly signer: string | null;
  readonly signed_at: string | null;
  readonly imported_at: string;
}

export interface SyncMessage {
  readonly id: number;
  readonly at: string;
  readonly message_id: number;
  readonly severity: string;
  readonly text: string;
  readonly catalog_id: number | null;
}

export interface StoredInventory {
  readonly id: number;
  readonly body: Buffer;
  readonly received_at: string;
}

/** One update's outcome in a stored result set. */
export interface ResultUpdateRow {
  readonly update_index: number;
  readonly update_id: string;
  readonly revision_number: number;
  readonly state: string;
  /** The supersedence code (engine/scanner/supersedence.ts): 0 not superseded, 1 superseded, 2 possibly superseded. */
  readonly superseded: number;
  readonly reason: string;
}

/** Counts of one classification or product in a result set (what fleet summaries add up). */
export interface ResultGroupRow {
  readonly kind: 'classification' | 'product';
  readonly name: string;
  readonly installed: number;
  readonly required: number;
  readonly unknown: number;
}

export interface NewResultSet {
  readonly catalogId: number;
  readonly fingerprint: string;
  /** By the counting rule (engine/scanner/counting.ts): required excludes superseded and possibly superseded ones. */
  readonly counts: {
    readonly installed: number;
    readonly required: number;
    readonly superseded: number;
    readonly possiblySuperseded: number;
    readonly notApplicable: number;
    readonly unknown: number;
  };
  /**
   * The set's rows; with `base`, only those that replace the base set's rows of their update ids (its changes).
   * Every row of one update id is given, or none.
   */
  readonly updates: readonly ResultUpdateRow[];
  readonly groups: readonly ResultGroupRow[];
  /** Store the set as its changes on a set stored whole (a carry-over to a new catalog), rather than as a copy. */
  readonly base?: ResultSetBase;
  /**
   * Every outcome of the set, packed (engine/fleet/result-set.ts), ascending: kept with it for a later carry-over, which
   * then reads these words instead of the rows.
   */
  readonly outcomes?: Uint32Array;
}

/**
 * The set a result set is stored on (see the store migration that added base_set_id): the set is its own rows, and
 * the base's rows of every other update id but `removed`, at the index `indexMap` gives them in the set's catalog.
 */
export interface ResultSetBase {
  /** A set stored whole (no base of its own). */
  readonly setId: number;
  readonly catalogId: number;
  /**
   * Per index of the base's catalog, the index of the same update revision in the set's catalog (-1: none). Defined
   * once per pair of catalogs: every set stored on a base of catalog `catalogId` for the same catalog gives the same
   * index to the base rows it keeps.
   */
  readonly indexMap: Int32Array;
  /** Update ids whose base rows are not the set's, with no row of its own either. */
  readonly removed: readonly string[];
}

/** A stored result set's rows as it holds them, and how it is stored. */
export interface ResultSetLayers {
  /** Every row of the set, by update index (what {@link SiteStore.resultUpdates} gives). */
  readonly rows: readonly ResultUpdateRow[];
  /** For a set stored as its changes on a base: the base, and the update ids the set has rows (or no rows) of its own for. */
  readonly base?: {
    readonly setId: number;
    readonly catalogId: number;
    readonly indexMap: Int32Array;
    readonly overridden: ReadonlySet<string>;
  };
}

export interface ScanRecord {
  readonly clientId: number;
  readonly inventoryId: number;
  readonly catalogId: number;
  readonly setId: number;
  readonly program: string;
  readonly scannedAt: string;
}

export interface DailyRow extends FleetTotals {
  readonly day: string;
  readonly clients: number;
}

/** Scanned machines and their outcomes added up by the counting rule (engine/scanner/counting.ts). */
export interface FleetTotals {
  readonly scanned: number;
  readonly installed: number;
  readonly required: number;
  readonly superseded: number;
  readonly possiblySuperseded: number;
  readonly unknown: number;
  /** Scanned machines with nothing Required and nothing possibly superseded (counting.ts isCompliant). */
  readonly compliant: number;
}

/** A computer's latest scan with its result set's counts. */
export interface ComputerScanRow {
  readonly name: string;
  readonly architecture: string | null;
  readonly last_upload_at: string | null;
  readonly scanned_at: string;
  readonly program: string;
  readonly catalog_id: number;
  readonly set_id: number;
  readonly installed: number;
  readonly required: number;
  readonly superseded: number;
  readonly possibly_superseded: number;
  readonly not_applicable: number;
  readonly unknown: number;
}

export interface ComputerListRow {
  readonly name: string;
  readonly architecture: string | null;
  readonly os: string | null;
  readonly lastUpload: string | null;
  readonly scannedAt: string | null;
  readonly installed: number | null;
  readonly required: number | null;
  readonly superseded: number | null;
  readonly possiblySuperseded: number | null;
  readonly unknown: number | null;
}

/** Orders a computer list can be sorted by (each is indexed or cheap: a page reads at most one sort of the matches). */
export const COMPUTER_ORDERS = ['name', 'architecture', 'os', 'lastUpload', 'scannedAt', 'installed', 'required', 'unknown'] as const;
export interface ComputerOrder {
  readonly key: (typeof COMPUTER_ORDERS)[number];
  readonly dir: 'asc' | 'desc';
}

/** Orders of the stale-clients list (never uploaded counts as the oldest). */
export const STALE_ORDERS = ['name', 'lastUpload', 'lastScan'] as const;
export interface StaleOrder {
  readonly key: (typeof STALE_ORDERS)[number];
  readonly dir: 'asc' | 'desc';
}

/**
 * Orders of a list of machines × updates (an update's or a CVE's machines). `state` sorts as the console's state
 * cell ranks them: Required, Unknown, possibly superseded, superseded, Installed, NotApplicable.
 */
export const UPDATE_MACHINE_ORDERS = ['computer', 'updateId', 'state', 'reason', 'scannedAt'] as const;
export interface UpdateMachineOrder {
  readonly key: (typeof UPDATE_MACHINE_ORDERS)[number];
  readonly dir: 'asc' | 'desc';
}

/** A computer in a list, with the result set of its latest scan (null when never scanned). */
export interface ComputerSetRow extends ComputerListRow {
  readonly setId: number | null;
}

export interface UpdateMachineRow {
  readonly computer: string;
  readonly updateId: string;
  readonly state: string;
  /** The supersedence code (0 no, 1 yes, 2 possibly). */
  readonly superseded: number;
  readonly reason: string;
  readonly scannedAt: string;
}

/** Clients of one architecture (or one direct member) added up, for collection summaries. */
export interface MembershipGroupRow {
  /** Set for a client with direct memberships; undefined for a group of clients without any. */
  readonly name?: string;
  readonly architecture: string | null;
  readonly n: number;
  readonly scanned: number;
  readonly compliant: number;
  readonly required: number;
  readonly superseded: number;
  readonly possiblySuperseded: number;
  readonly unknown: number;
}

/** Machines of one result set with one of the asked updates in one state (the rows KB and CVE reports count). */
export interface SetUpdateOutcome {
  readonly setId: number;
  /** Clients whose latest scan is this set. */
  readonly machines: number;
  readonly updateId: string;
  readonly state: string;
  /** The supersedence code. */
  readonly superseded: number;
}

export interface CollectionRow {
  readonly id: number;
  readonly role: string;
  readonly name: string;
  readonly architecture: string | null;
  readonly limit_to: number | null;
}

export interface ProgramRow {
  readonly id: number;
  readonly role: string;
  readonly name: string;
  readonly variant: string | null;
  readonly expedited: number;
  readonly command_line: string;
}

export interface AdvertisementRow {
  readonly id: number;
  readonly role: string;
  readonly name: string;
  readonly program: string;
  readonly variant: string | null;
  readonly expedited: number;
  readonly collection_id: number;
  readonly schedule: string;
}

export interface MemberRow {
  readonly collection_id: number;
  readonly computer: string;
}

/** Collections, direct members and advertisements: all targeting reads, with a version that changes with them. */
export interface TargetingData {
  readonly version: string;
  readonly collections: readonly CollectionRow[];
  readonly members: readonly MemberRow[];
  readonly advertisements: readonly AdvertisementRow[];
}

export interface SettingsStore {
  setting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  deleteSetting(key: string): Promise<void>;
}

export interface ClientStore {
  client(name: string): Promise<ClientRow | undefined>;
  clientById(id: number): Promise<ClientRow | undefined>;
  clientByToken(token: string): Promise<ClientRow | undefined>;
  clients(): Promise<ClientRow[]>;
  clientCount(): Promise<number>;
  /** Every client (or the one named) with its count of stored inventories and their bytes, by name. */
  clientSummaries(name?: string): Promise<ClientSummaryRow[]>;
  /**
   * Issues a new token for `name` (creating the client); only its hash is kept. Returns the token. A revoked client
   * is enrolled again. Throws BAD_ARGUMENT for a name that cannot be a computer name.
   */
  enroll(name: string): Promise<string>;
  /**
   * A new token for an existing, enrolled client: the old one stops working with the commit. NOT_FOUND for an unknown
   * name, BAD_ARGUMENT for a revoked client (enroll it again instead).
   */
  rotateToken(name: string): Promise<string>;
  /**
   * Takes the client's token away: every request with it is refused from the commit on; its inventories and results
   * stay. Returns false when it was already revoked; NOT_FOUND for an unknown name.
   */
  revoke(name: string): Promise<boolean>;
  /** Deletes the client with its inventories, scan, and queued or failed scan jobs; undefined for an unknown name. */
  removeClient(name: string): Promise<RemovedClient | undefined>;
}

/** One accepted upload, as the group commit stores it with its scan job. */
export interface NewUpload {
  readonly clientId: number;
  readonly body: Uint8Array;
  readonly architecture: string;
  /** The operating system as people name it (adapters/site/os-name.ts); null or absent: not known. */
  readonly os?: string | null;
  readonly priority: ScanPriority;
  readonly reason: string;
}

export interface InventoryStore {
  /**
   * Stores many uploads and queues their scans, all in one transaction (the caller's, or one of its own), with a few
   * multi-row statements for the whole group; retention as in addInventory. Returns each upload's inventory id, or
   * undefined for an upload whose client was revoked or removed meanwhile (nothing of it is stored).
   */
  addUploads(uploads: readonly NewUpload[], retention?: InventoryRetention): Promise<(number | undefined)[]>;
  /**
   * Stores an inventory and updates the client; returns its id. Run it in the transaction that queues its scan.
   * With `retention`, older inventories of the client are pruned in the same transaction (see InventoryRetention);
   * a body larger than `retention.maxBytes` is refused (BAD_ARGUMENT, details.limit 'limits.storedBytesPerClient').
   * A client that was revoked or removed meanwhile is refused (NOT_FOUND, details.client 'revoked').
   */
  addInventory(
    clientId: number,
    body: Uint8Array,
    architecture: string,
    retention?: InventoryRetention,
    os?: string | null,
  ): Promise<number>;
  latestInventory(clientId: number): Promise<StoredInventory | undefined>;
  inventoryCount(clientId: number): Promise<number>;
  /** The ids of a client's stored inventories, oldest first. */
  inventoryIds(clientId: number): Promise<number[]>;
  /** Every client with at least one stored inventory. */
  clientsWithInventory(): Promise<number[]>;
}

export interface CatalogStore {
  addCatalog(c: Omit<CatalogRow, 'id' | 'imported_at'>): Promise<number>;
  catalog(id: number): Promise<CatalogRow | undefined>;
  catalogBySha(sha256: string): Promise<CatalogRow | undefined>;
  /** A catalog of another cabinet recorded under this compiled file path, if any. */
  catalogAtPath(path: string, exceptSha256: string): Promise<CatalogRow | undefined>;
  setCatalogPath(id: number, path: string): Promise<void>;
  /** Keeps the compiled catalog's bytes (in chunks) for processes on other machines; `digest` is their SHA-256. */
  putCatalogFile(catalogId: number, digest: string, chunks: Iterable<Uint8Array>): Promise<void>;
  /** The SHA-256 of the stored compiled catalog, when the store holds one. */
  catalogFileDigest(catalogId: number): Promise<string | undefined>;
  catalogFileChunks(catalogId: number): Promise<Buffer[]>;
  currentCatalog(): Promise<CatalogRow | undefined>;
}

export interface ScanStore {
  enqueueScan(clientId: number, priority: ScanPriority, reason: string): Promise<void>;
  /** enqueueScan for many clients, in as few statements as the queue allows. */
  enqueueScans(jobs: readonly NewScan[]): Promise<void>;
  takeScans(max: number, leaseSeconds?: number): Promise<ScanJob[]>;
  /** Ends jobs; run it in the transaction that stores their results. */
  completeScans(jobs: readonly ScanJob[]): Promise<void>;
  failScan(job: ScanJob, error: string): Promise<void>;
  /**
   * Every job a holder leased and did not end, failed with `error` (a try counted): a thread that took jobs under a
   * holder of its own (serve's scan thread) and died. Returns how many.
   */
  releaseScans(holder: string, error: string): Promise<number>;
  queueStatus(): Promise<QueueStatus>;
  failedScans(limit: number): Promise<FailedJob[]>;

  resultSetId(catalogId: number, fingerprint: string): Promise<number | undefined>;
  addResultSet(set: NewResultSet): Promise<number>;
  /**
   * Gives the site's numbers to update ids not numbered yet, in the order given (result rows are indexed by them).
   * A transaction that stores several result sets calls it first, with every update id of them in catalog order:
   * on PostgreSQL, transactions numbering overlapping ids in different orders deadlock.
   */
  numberUpdates(updateIds: readonly string[]): Promise<void>;
  /**
   * A result set's rows, by update index (through its base, for a set stored as its changes on one); NOT_FOUND when no
   * such set is stored (one pruned since its id was read is never read as a set without rows).
   */
  resultUpdates(setId: number): Promise<ResultUpdateRow[]>;
  /**
   * A result set's rows and how it is stored (what a carry-over to a new catalog builds the next set's changes on);
   * `reasons: false`: every row's reason '' (not read).
   */
  resultSetLayers(setId: number, options?: { readonly reasons?: boolean }): Promise<ResultSetLayers>;
  /**
   * The rows a set stored whole holds at some update indexes (by its primary key; an index it has no row at is left
   * out): what a carry-over compares an outcome whose reason may have moved with, before storing it as its own.
   */
  resultRowsAt(setId: number, indexes: readonly number[]): Promise<ResultUpdateRow[]>;
  /**
   * Stores the index map for sets of catalog `toCatalogId` on bases of catalog `fromCatalogId` (ResultSetBase) unless
   * one is stored, and gives the stored one: a set is stored on such a base only with that map. Call it outside the
   * transaction that stores the sets (on PostgreSQL a batch taking this row's lock too could deadlock with another).
   */
  addCatalogIndexMap(fromCatalogId: number, toCatalogId: number, map: Int32Array): Promise<Int32Array>;
  /**
   * A result set's packed outcomes (NewResultSet.outcomes) and how it is stored (as in {@link resultSetLayers}, without
   * rows), or undefined when the set was stored without them; NOT_FOUND when no such set is stored.
   */
  resultSetOutcomes(setId: number): Promise<{ readonly words: Uint32Array; readonly base?: ResultSetLayers['base'] } | undefined>;
  /**
   * Stores how result sets of catalog `fromCatalogId` carry over to `toCatalogId` (adapters/site/catalog-carry-over.ts
   * encode: made once when a sync puts the catalog in service) unless one is stored.
   */
  addCatalogCarryOver(fromCatalogId: number, toCatalogId: number, plan: Uint8Array): Promise<void>;
  /** Replaces the stored carry-over of that pair (one that was found damaged, made again). */
  replaceCatalogCarryOver(fromCatalogId: number, toCatalogId: number, plan: Uint8Array): Promise<void>;
  /** The carry-over stored for that pair of catalogs, if any. */
  catalogCarryOver(fromCatalogId: number, toCatalogId: number): Promise<Uint8Array | undefined>;
  /** The index map stored for sets of catalog `toCatalogId` on bases of catalog `fromCatalogId` (ResultSetBase), if any. */
  catalogIndexMap(fromCatalogId: number, toCatalogId: number): Promise<Int32Array | undefined>;
  /**
   * Result sets whose counts per classification and product were stored before the counting rule and are not yet
   * recounted (adapters/site/result-groups.ts), by catalog then id.
   */
  staleGroupSets(): Promise<{ readonly id: number; readonly catalog_id: number }[]>;
  /**
   * Result sets of catalogs other than `keepCatalogId` that nothing reads any more — no client's latest scan names one,
   * no set is stored on one — by id: what a client's earlier scan left once it was scanned again (a new catalog, a new
   * inventory).
   */
  unreadResultSets(keepCatalogId: number): Promise<number[]>;
  /**
   * Deletes those of `ids` that are still unread ({@link unreadResultSets}, checked again in the statement: a scan may
   * have named one meanwhile), with their rows, in a transaction of its own; returns how many went.
   */
  deleteUnreadResultSets(keepCatalogId: number, ids: readonly number[]): Promise<number>;
  /**
   * Replaces a marked set's counts per classification and product and unmarks it, in one transaction; false (nothing
   * written) when it is no longer marked — another process recounted it first.
   */
  replaceResultGroups(setId: number, groups: readonly ResultGroupRow[]): Promise<boolean>;
  /**
   * Records a client's latest scan. When its inventory is gone (a newer upload pruned it while the scan ran; that
   * upload's own scan is queued), nothing is recorded and it returns false.
   */
  recordScan(scan: ScanRecord): Promise<boolean>;
  /** A client's latest scan: when, on which catalog, by which program, of which inventory, and its result set. */
  lastScan(clientId: number): Promise<
    | {
        readonly scanned_at: string;
        readonly catalog_id: number;
        readonly program: string;
        readonly inventory_id: number;
        readonly set_id: number;
      }
    | undefined
  >;
  scansSince(at: string): Promise<number>;
  recordDaily(row: DailyRow): Promise<void>;
}

export interface ReportStore {
  fleetTotals(): Promise<FleetTotals>;
  computerScan(name: string): Promise<ComputerScanRow | undefined>;
  /** Computers whose name key starts with `prefix`; by name unless `order` says otherwise (then by name within it). */
  searchComputers(
    prefix: string,
    limit: number,
    offset: number,
    order?: ComputerOrder,
  ): Promise<{ total: number; items: ComputerListRow[] }>;
  /** Per result set that some client's latest scan is: its outcomes of these updates (NotApplicable ones are not stored). */
  updateOutcomes(updateIds: readonly string[]): Promise<SetUpdateOutcome[]>;
  unknownReasons(updateIds: readonly string[], limit: number): Promise<{ reason: string; machines: number }[]>;
  /** Machines with one of these updates, in one of `buckets` of the counting rule (all stored ones when undefined). */
  updateMachines(
    updateIds: readonly string[],
    buckets: readonly CountBucket[] | undefined,
    limit: number,
    offset: number,
    order?: UpdateMachineOrder,
  ): Promise<{ total: number; items: UpdateMachineRow[] }>;
  /**
   * Machines per update × state × supersedence code, over every client's latest scan: what the updates list counts
   * with the counting rule (engine/scanner/counting.ts). Rows grow with updates, not with clients.
   */
  updateOutcomeCounts(): Promise<{ update_id: string; state: string; superseded: number; n: number }[]>;
  /**
   * Machines with results in one classification or product, with that group's counts on each (ComputerListRow's
   * installed/required/unknown are the group's), most Required first, then by name — or in `order`, then by name.
   */
  groupMachines(
    kind: 'classification' | 'product',
    name: string,
    limit: number,
    offset: number,
    order?: ComputerOrder,
  ): Promise<{ total: number; items: ComputerListRow[] }>;
  /** The named clients (unknown names are left out), or every client, as list rows with their result set, by name. */
  computersNamed(names?: readonly string[]): Promise<ComputerSetRow[]>;
  /** The outcomes stored in these result sets (for counts over some machines: each set weighted by its machines). */
  setOutcomes(setIds: readonly number[]): Promise<{ set_id: number; update_id: string; state: string; superseded: number }[]>;
  membershipGroups(): Promise<MembershipGroupRow[]>;
  /** Clients that have not uploaded since `cutoff`: oldest first (never uploaded first), or in `order`, then by name. */
  staleClients(
    cutoff: string,
    limit: number,
    offset: number,
    order?: StaleOrder,
  ): Promise<{ total: number; items: { name: string; lastUpload: string | null; lastScan: string | null }[] }>;
  dailyRows(days: number): Promise<DailyRow[]>;
}

export interface ObjectStore {
  objectId(kind: 'package' | 'program' | 'collection' | 'advertisement', role: string): Promise<number | undefined>;
  addPackage(role: string, name: string): Promise<number>;
  addCollection(c: { role: string; name: string; architecture: string | null; limitTo: number | null }): Promise<number>;
  addProgram(p: {
    role: string;
    packageId: number;
    name: string;
    variant: string | null;
    expedited: boolean;
    commandLine: string;
  }): Promise<number>;
  addAdvertisement(a: { role: string; name: string; programId: number; collectionId: number; schedule: string }): Promise<number>;
  /** Adds a direct member (nothing when it already is one). */
  addMember(collectionId: number, computer: string): Promise<void>;
  isMember(collectionId: number, computer: string): Promise<boolean>;
  collections(): Promise<(CollectionRow & { readonly limited: string | null })[]>;
  collection(id: number): Promise<CollectionRow | undefined>;
  collectionByName(name: string): Promise<CollectionRow | undefined>;
  setCollectionLimit(collectionId: number, limitTo: number | null): Promise<void>;
  objectNames(kind: 'program' | 'collection' | 'advertisement'): Promise<string[]>;
  removeObjects(): Promise<void>;
  targeting(): Promise<TargetingData>;
  /** A cheap value that changes whenever targeting data changes (in any process). */
  targetingVersion(): Promise<string>;
}

/** A software update group (Configuration Manager's): named updates with an optional deadline. */
export interface UpdateGroupRow {
  readonly id: number;
  readonly name: string;
  /** How it was made, as given (JSON of update-groups.ts's GroupCriteria). */
  readonly criteria: string;
  /** ISO-8601 UTC, or null without a deadline. */
  readonly deadline: string | null;
  readonly created_at: string;
  /** How many updates it holds. */
  readonly updates: number;
}

export interface UpdateGroupUpdateRow {
  readonly update_id: string;
  /** '' when the update has no KB number. */
  readonly kb: string;
  readonly title: string;
}

/**
 * In one result set that some client's latest scan refers to: how many of a group's updates are counted in `bucket`
 * (engine/scanner/counting.ts). An update with several stored rows (revisions) is counted once, in the first bucket of
 * GROUP_BUCKET_ORDER among its rows; an update without a row is not counted.
 */
export interface SetBucketCountRow {
  readonly set_id: number;
  readonly bucket: CountBucket;
  readonly n: number;
}

/** Which bucket wins for an update with several rows: missing first, then what is not known, then the rest. */
export const GROUP_BUCKET_ORDER: readonly CountBucket[] = [
  'required',
  'unknown',
  'possiblySuperseded',
  'superseded',
  'installed',
  'notApplicable',
];

/** Every client with its latest scan's result set and catalog (null when never scanned). */
export interface ClientSetRow {
  readonly name: string;
  /** Its computer-name key (computer-name.ts). */
  readonly key: string;
  readonly architecture: string | null;
  readonly set_id: number | null;
  readonly catalog_id: number | null;
  readonly scanned_at: string | null;
}

/**
 * Clients counted per latest result set and architecture (set null: never scanned) — those that are nobody's direct
 * member, grouped (`name` null); direct members of a collection one by one (`name` set, `n` 1). What a group's
 * compliance per collection needs (membership depends only on architecture and direct memberships), in rows that
 * grow with profiles, not clients.
 */
export interface ClientSetGroupRow {
  readonly set_id: number | null;
  readonly catalog_id: number | null;
  readonly architecture: string | null;
  readonly name: string | null;
  readonly n: number;
}

export interface UpdateGroupStore {
  /** Makes a group with its updates; BAD_ARGUMENT (details.group 'exists') when the name is taken, in any case. */
  addUpdateGroup(g: { name: string; criteria: string; deadline: string | null; updates: readonly UpdateGroupUpdateRow[] }): Promise<number>;
  updateGroups(): Promise<UpdateGroupRow[]>;
  /** The group of that name (case-insensitive), or undefined. */
  updateGroup(name: string): Promise<UpdateGroupRow | undefined>;
  /** Its updates, by KB then title. */
  updateGroupUpdates(groupId: number): Promise<UpdateGroupUpdateRow[]>;
  /** Adds updates (those already in it are left as they are); returns how many were added. */
  addUpdateGroupUpdates(groupId: number, updates: readonly UpdateGroupUpdateRow[]): Promise<number>;
  /** Removes updates by UpdateId; returns how many were removed. */
  removeUpdateGroupUpdates(groupId: number, updateIds: readonly string[]): Promise<number>;
  setUpdateGroupDeadline(groupId: number, deadline: string | null): Promise<void>;
  /** Deletes the group and its update list (no scan data); false when there is none of that name. */
  removeUpdateGroup(name: string): Promise<boolean>;
  /** The group's updates counted per bucket in every result set a latest scan refers to (sets, not clients). */
  groupSetCounts(groupId: number): Promise<SetBucketCountRow[]>;
  /** Every client with its latest scan's set, by name. */
  clientSets(): Promise<ClientSetRow[]>;
  /** Clients per latest set and architecture, direct members one by one (see ClientSetGroupRow). */
  clientSetGroups(): Promise<ClientSetGroupRow[]>;
}

/** A named lock of the site held by this process; see {@link LockStore}. */
export type SiteLock =
  | { readonly acquired: true; release(): Promise<void>; readonly tookOverFrom?: string }
  | { readonly acquired: false; /** What the holder recorded when it took the lock. */ readonly holder: string };

export interface LockStore {
  /**
   * Takes the site-wide lock `name` (one sync at a time), or reports who holds it; never waits. A process that is
   * killed cannot leave it held: PostgreSQL holds it as a session advisory lock, gone with the connection, on any
   * machine; SQLite records the holder's host, pid and start time and takes over a lock whose process is gone.
   * `holder` is what the lock records for others to read (who, since when).
   */
  tryLock(name: string, holder: string): Promise<SiteLock>;
}

/** A console session as the store keeps it (the session id itself is never stored, only its SHA-256). */
export interface ConsoleSessionRow {
  /** The admin token hash the session was opened with: it is valid only while that is still the site's. */
  readonly admin_hash: string;
  /** ISO-8601 UTC. */
  readonly expires_at: string;
}

/**
 * Console sessions, in the store so that every `serve` of the site shares them and a restart keeps them
 * (adapters/server/console/sessions.ts).
 */
export interface SessionStore {
  /**
   * Records a session. In the same transaction, sessions expired at `now` are removed and, when `max` are kept
   * already, the oldest ones (a flood of sign-ins cannot grow the table without bound).
   */
  addSession(s: { idHash: string; adminHash: string; createdAt: string; expiresAt: string }, now: string, max: number): Promise<void>;
  session(idHash: string): Promise<ConsoleSessionRow | undefined>;
  removeSession(idHash: string): Promise<void>;
  /** Removes every session (`admin-token reset`); returns how many there were. */
  removeSessions(): Promise<number>;
}

export interface SyncStore {
  addSyncMessage(messageId: number, severity: 'Informational' | 'Error', text: string, catalogId?: number | null): Promise<SyncMessage>;
  syncMessages(limit: number): Promise<SyncMessage[]>;
}

export interface SiteStore
  extends
    SettingsStore,
    ClientStore,
    InventoryStore,
    CatalogStore,
    ScanStore,
    ReportStore,
    ObjectStore,
    SyncStore,
    LockStore,
    UpdateGroupStore,
    SessionStore {
  readonly backend: 'sqlite' | 'postgres';
  /** Where the data lives, for messages: a path, or a URL with its password masked. */
  readonly location: string;
  transaction<T>(fn: (store: SiteStore) => Promise<T>, options?: TransactionOptions): Promise<T>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
