/**
 * The site store over any SQL driver: every query the site runs, written once in the SQL that SQLite and PostgreSQL
 * share. Backend differences stay in the drivers (placeholders, types, locking, durability) and in each backend's
 * migrations (DDL). Booleans are 0/1 integers, times ISO-8601 UTC text (they sort as text on both backends).
 */
import { createHash, randomBytes } from 'node:crypto';
import { PatchscanError } from '../../../engine/errors.js';
import { outcomesIn } from '../../../engine/scanner/counting.js';
import { GROUP_BUCKET_ORDER } from '../port.js';
import { computerKey } from '../computer-name.js';
import { isGoneLocalProcess, thisProcess } from '../local-process.js';
import type {
  AdvertisementRow,
  CatalogRow,
  ClientRow,
  ClientSummaryRow,
  CollectionRow,
  ComputerListRow,
  ConsoleSessionRow,
  ComputerOrder,
  StaleOrder,
  UpdateMachineOrder,
  ComputerSetRow,
  ComputerScanRow,
  DailyRow,
  FleetTotals,
  InventoryRetention,
  MemberRow,
  MembershipGroupRow,
  NewResultSet,
  RemovedClient,
  ResultGroupRow,
  ResultSetBase,
  ResultSetLayers,
  ResultUpdateRow,
  ScanRecord,
  SetUpdateOutcome,
  SiteLock,
  SiteStore,
  StoredInventory,
  SyncMessage,
  TargetingData,
  UpdateMachineRow,
  ClientSetGroupRow,
  ClientSetRow,
  SetBucketCountRow,
  UpdateGroupRow,
  UpdateGroupUpdateRow,
} from '../port.js';
import type { NewUpload } from '../port.js';
import type { CountBucket } from '../../../engine/scanner/counting.js';
import { bucketFilter, compliantSql } from './counting-sql.js';
import type { FailedJob, NewScan, QueueStatus, ScanJob, ScanPriority, ScanQueue } from '../queue.js';
import type { SqlDriver, SqlExecutor, TransactionOptions } from './driver.js';
import { storeInventories, storeUploads } from './upload-batch.js';
import { UpdateKeys } from './update-keys.js';
import { decodeIndexMap, decodeWords, encodeIndexMap, encodeWords, sameIndexMap } from './index-map.js';

export const now = (): string => new Date().toISOString();
export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/**
 * A client name: 1 to 255 characters, no slash, backslash or control character (a newline in a name broke every
 * listing), and no blank at either end ("PC-1 " looked like PC-1 in a list while being another client).
 */
const NAME_RULE = /^(?=[^\s/\\])[^/\\\u0000-\u001f\u007f]{0,254}[^\s/\\\u0000-\u001f\u007f]$/u;

/** Why `name` cannot be a client's computer name, or undefined when it can. */
export function clientNameProblem(name: string): string | undefined {
  return NAME_RULE.test(name)
    ? undefined
    : `client name ${JSON.stringify(name)} must be 1 to 255 characters without slashes or control characters, not starting or ending with a blank`;
}

const CLIENT_COLUMNS = 'id, name, token_hash, architecture, os, enrolled_at, last_upload_at, last_scan_at, revoked_at';
/**
 * The counting rule (engine/scanner/counting.ts) as SQL over result_updates r: each outcome's rank in GROUP_BUCKET_ORDER.
 * A state the rule does not know counts as not known (Unknown), never as a definite state.
 */
const GROUP_RANK_WHEN = GROUP_BUCKET_ORDER.flatMap((bucket, rank) =>
  outcomesIn(bucket).map((o) => `WHEN r.state = '${o.state}' AND r.superseded = ${o.supersedence} THEN ${rank}`),
);
const GROUP_RANK_SQL = `CASE ${GROUP_RANK_WHEN.join(' ')} ELSE ${GROUP_BUCKET_ORDER.indexOf('unknown')} END`;

/** Update group names compare case-insensitively, the same on both backends. */
const groupKey = (name: string): string => name.normalize('NFKC').toLowerCase();
const newClientToken = (): string => `pst_${randomBytes(32).toString('base64url')}`;

type ObjectKind = 'package' | 'program' | 'collection' | 'advertisement';
/** Values bound in one IN (…) list (well below SQLite's and PostgreSQL's limits on parameters). */
const IN_CHUNK = 500;

/** ORDER BY of a computer list: the column asked (from a fixed map, never from input), then the name. */
const COMPUTER_ORDER_SQL: Record<ComputerOrder['key'], string> = {
  name: 'c.name_key',
  architecture: 'c.architecture',
  os: 'c.os',
  lastUpload: 'c.last_upload_at',
  scannedAt: 's.scanned_at',
  installed: 'r.installed',
  required: 'r.required',
  unknown: 'r.unknown',
};
function computerOrderSql(order: ComputerOrder | undefined): string {
  if (!order || order.key === 'name') return `c.name_key ${order?.dir === 'desc' ? 'DESC' : 'ASC'}`;
  const col = COMPUTER_ORDER_SQL[order.key];
  if (!col) throw new RangeError(`no computer order ${String(order.key)}`);
  return `${col} ${order.dir === 'desc' ? 'DESC' : 'ASC'} NULLS LAST, c.name_key`;
}

/**
 * ORDER BY from a fixed map of a list's columns (never from input): the column, NULLs last in either direction unless
 * `nullsFirstAsc` (then first when ascending: a client that never uploaded is the stalest), then `tie` — columns
 * that make the order total, so pages never repeat or skip a row.
 */
function orderSql<K extends string>(
  map: Record<K, string>,
  order: { readonly key: K; readonly dir: 'asc' | 'desc' },
  tie: string,
  nullsFirstAsc: readonly K[] = [],
): string {
  const col = map[order.key];
  if (!col) throw new RangeError(`no list order ${String(order.key)}`);
  const dir = order.dir === 'desc' ? 'DESC' : 'ASC';
  const nulls = nullsFirstAsc.includes(order.key) && order.dir === 'asc' ? 'NULLS FIRST' : 'NULLS LAST';
  return `${col} ${dir} ${nulls}, ${tie}`;
}

const STALE_ORDER_SQL: Record<StaleOrder['key'], string> = { name: 'name_key', lastUpload: 'last_upload_at', lastScan: 'last_scan_at' };

/**
 * A result set `rs` of another catalog than the parameter's that no client's latest scan and no set on a base reads —
 * and not the newest set: SQLite numbers a new row past the largest id there is, so an id once deleted is never given
 * to another set while a reader may still hold it.
 */
const UNREAD_SET_SQL = `rs.catalog_id <> ? AND NOT EXISTS (SELECT 1 FROM scans s WHERE s.set_id = rs.id)
  AND NOT EXISTS (SELECT 1 FROM result_sets c WHERE c.base_set_id = rs.id) AND rs.id < (SELECT max(id) FROM result_sets)`;

/** The console's state rank (cells.ts stateRank) over result rows `r`. */
const stateRankSql = (r: string): string => `CASE WHEN ${r}.state = 'Required' AND ${r}.superseded = 0 THEN 0
  WHEN ${r}.state = 'Unknown' THEN 1 WHEN ${r}.state = 'Required' AND ${r}.superseded = 2 THEN 2
  WHEN ${r}.state = 'Required' THEN 3 WHEN ${r}.state = 'Installed' THEN 4 ELSE 5 END`;
/** updateMachines' orders: over its join (`r`: result rows r, clients cl, scans s), or over its rows merged (`u`). */
const UPDATE_MACHINE_ORDER_SQL = (over: 'r' | 'u'): Record<UpdateMachineOrder['key'], string> =>
  over === 'r'
    ? { computer: 'cl.name_key', updateId: 'r.update_id', state: stateRankSql('r'), reason: 'r.reason', scannedAt: 's.scanned_at' }
    : { computer: 'u.name_key', updateId: 'u."updateId"', state: stateRankSql('u'), reason: 'u.reason', scannedAt: 'u."scannedAt"' };

const GROUP_MACHINE_ORDER_SQL: Record<ComputerOrder['key'], string> = {
  ...COMPUTER_ORDER_SQL,
  installed: 'g.installed',
  required: 'g.required',
  unknown: 'g.unknown',
};

const TABLE: Record<ObjectKind, string> = {
  package: 'packages',
  program: 'programs',
  collection: 'collections',
  advertisement: 'advertisements',
};

const readHolder = (raw: string | undefined): string => {
  try {
    return String((JSON.parse(raw ?? '{}') as { holder?: unknown }).holder ?? 'an unknown process');
  } catch {
    return 'an unknown process';
  }
};
const readProcess = (raw: string): string | undefined => {
  try {
    const p = (JSON.parse(raw) as { process?: unknown }).process;
    return typeof p === 'string' ? p : undefined;
  } catch {
    return undefined; // unreadable: taken over
  }
};

/**
 * One of the two parts of a read of result rows r, joined by UNION ALL (see {@link SqlSiteStore.bothParts}): a set's
 * own rows (`own`; `set` is r.set_id), or the rows a set rs stored as its changes on a base keeps of that base (`set`
 * is rs.id; the migration that added base_set_id). `join` goes right after `result_updates r` in a FROM (it brings
 * rs in); `where` is the part's own condition.
 */
interface RowsPart {
  readonly own: boolean;
  readonly join: string;
  readonly set: string;
  /**
   * `set` for joining the sets' scans in a read driven by update (from update_keys k): on the kept part `+rs.id`, which
   * no index can serve, so that SQLite's planner (no statistics) starts from k as in the own part, not from every
   * scanned set and every row of its base (an update's machine counts 5 → 83 ms on 100,000 clients, most sets on a base).
   */
  readonly scanned: string;
  readonly where: string;
}
const twice = <T>(params: readonly T[]): T[] => [...params, ...params];
const updateIdIn = (n: number): string => `k.update_id IN (${Array.from({ length: n }, () => '?').join(', ')})`;

/** Clients per result set that is some client's latest scan: reports count sets once and multiply (scans_by_set). */
const SET_MACHINES = '(SELECT set_id, count(*) AS n FROM scans GROUP BY set_id)';

export class SqlSiteStore implements SiteStore {
  /**
   * @param driver the database
   * @param queue the scan queue (a table of this database, or pg-boss)
   * @param options what differs per backend outside SQL
   * @param db what statements run on: the driver, or an open transaction of it
   */
  constructor(
    private readonly driver: SqlDriver,
    private readonly queue: ScanQueue,
    private readonly options: { readonly schemaVersion: () => Promise<number> },
    private readonly db: SqlExecutor = driver,
    /** This transaction's update numbers (update-keys.ts); a new one per transaction. */
    private readonly updateKeys: UpdateKeys = new UpdateKeys(),
  ) {}

  get backend(): 'sqlite' | 'postgres' {
    return this.driver.dialect;
  }

  get location(): string {
    return this.driver.location;
  }

  private get inTransaction(): boolean {
    return this.db !== this.driver;
  }

  /**
   * A read of result rows as the sets hold them, in two parts joined by UNION ALL, each a complete query with its own
   * joins and grouping: the sets' own rows, and the rows sets stored on a base keep of it (a base row is kept when the
   * set has no row, nor a marker of the update gone, of its own for that update). A union read as one
   * derived table was materialized and joined through an automatic index on SQLite: 1.3–1.6 × the console's pages on
   * 100,000 clients. The caller binds its parameters once per part.
   */
  private bothParts(part: (p: RowsPart) => string): string {
    // Each base row probes the partial index on own rows: named on SQLite, whose planner otherwise walked every own row
    // of the set per base row; behind OFFSET 0 on PostgreSQL, whose planner otherwise made the NOT EXISTS an anti-join
    // reading every own row of the site (with statistics from before the first carry-over: a nested loop comparing
    // each base row with all of them).
    const sqlite = this.driver.dialect === 'sqlite';
    const marks = sqlite ? 'result_updates d INDEXED BY result_updates_overrides' : 'result_updates d';
    const fence = sqlite ? '' : ' OFFSET 0';
    return `${part({ own: true, join: '', set: 'r.set_id', scanned: 'r.set_id', where: 'r.overrides < 2' })}
      UNION ALL
      ${part({
        own: false,
        join: 'JOIN result_sets rs ON rs.base_set_id = r.set_id',
        set: 'rs.id',
        scanned: '+rs.id',
        // The first condition holds for the whole query or for none of it: on a site with no set stored on a base the
        // part reads nothing (both planners test a condition on no table once, before any row).
        where:
          'EXISTS (SELECT 1 FROM result_sets WHERE base_set_id IS NOT NULL) AND ' +
          `NOT EXISTS (SELECT 1 FROM ${marks} WHERE d.set_id = rs.id AND d.update_key = r.update_key AND d.overrides > 0${fence})`,
      })}`;
  }

  transaction<T>(fn: (store: SiteStore) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.tx(fn, options);
  }

  /** Writes run in a transaction: the caller's, or one of their own. */
  private tx<T>(fn: (store: SqlSiteStore) => Promise<T>, options?: TransactionOptions): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.driver.transaction((tx) => fn(new SqlSiteStore(this.driver, this.queue, this.options, tx)), options);
  }

  schemaVersion(): Promise<number> {
    return this.options.schemaVersion();
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.driver.close();
  }

  private async count(sql: string, params: readonly (string | number | null)[] = []): Promise<number> {
    return (await this.db.get<{ n: number }>(sql, params))?.n ?? 0;
  }

  private insertId(sql: string, params: readonly (string | number | null | Uint8Array)[]): Promise<number> {
    return this.tx(async (s) => (await s.db.get<{ id: number }>(`${sql} RETURNING id`, params))!.id);
  }

  private async write(sql: string, params: readonly (string | number | null | Uint8Array)[] = []): Promise<number> {
    return this.tx(async (s) => (await s.db.run(sql, params)).changes);
  }

  // ---- settings

  async setting(key: string): Promise<string | undefined> {
    return (await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))?.value;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.write('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      key,
      value,
    ]);
  }

  async deleteSetting(key: string): Promise<void> {
    await this.write('DELETE FROM settings WHERE key = ?', [key]);
  }

  // ---- clients

  client(name: string): Promise<ClientRow | undefined> {
    return this.db.get<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE name_key = ?`, [computerKey(name)]);
  }

  clientById(id: number): Promise<ClientRow | undefined> {
    return this.db.get<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE id = ?`, [id]);
  }

  clientByToken(token: string): Promise<ClientRow | undefined> {
    return this.db.getByKey<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE token_hash = ?`, [sha256Hex(token)]);
  }

  clients(): Promise<ClientRow[]> {
    return this.db.all<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY name_key`);
  }

  clientCount(): Promise<number> {
    return this.count('SELECT count(*) AS n FROM clients');
  }

  clientSummaries(name?: string): Promise<ClientSummaryRow[]> {
    return this.db.all<ClientSummaryRow>(
      `SELECT ${CLIENT_COLUMNS.split(', ')
        .map((c) => `c.${c}`)
        .join(', ')},
        count(i.id) AS inventories, coalesce(sum(i.bytes), 0) AS stored_bytes
      FROM clients c LEFT JOIN inventories i ON i.client_id = c.id ${name === undefined ? '' : 'WHERE c.name_key = ?'}
      GROUP BY c.id ORDER BY c.name_key`,
      name === undefined ? [] : [computerKey(name)],
    );
  }

  async enroll(name: string): Promise<string> {
    const problem = clientNameProblem(name);
    if (problem) throw new PatchscanError('BAD_ARGUMENT', problem);
    const token = newClientToken();
    await this.write(
      `INSERT INTO clients (name, name_key, token_hash, enrolled_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (name_key) DO UPDATE SET token_hash = excluded.token_hash, enrolled_at = excluded.enrolled_at, revoked_at = NULL`,
      [name, computerKey(name), sha256Hex(token), now()],
    );
    return token;
  }

  async rotateToken(name: string): Promise<string> {
    return this.tx(async (s) => {
      const c = await s.client(name);
      if (!c)
        throw new PatchscanError('NOT_FOUND', `no client named ${JSON.stringify(name)} (patchscan client enroll issues a first token)`);
      if (c.revoked_at !== null)
        throw new PatchscanError(
          'BAD_ARGUMENT',
          `${c.name} was revoked on ${c.revoked_at}: enroll it again (patchscan client enroll) to give it a token`,
        );
      if (c.token_hash === null)
        throw new PatchscanError('BAD_ARGUMENT', `${c.name} was never enrolled: patchscan client enroll issues its first token`);
      const token = newClientToken();
      await s.db.run('UPDATE clients SET token_hash = ? WHERE id = ?', [sha256Hex(token), c.id]);
      return token;
    });
  }

  async revoke(name: string): Promise<boolean> {
    return this.tx(async (s) => {
      const c = await s.client(name);
      if (!c) throw new PatchscanError('NOT_FOUND', `no client named ${JSON.stringify(name)}`);
      return (
        (await s.db.run('UPDATE clients SET token_hash = NULL, revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now(), c.id]))
          .changes > 0
      );
    });
  }

  async removeClient(name: string): Promise<RemovedClient | undefined> {
    return this.tx(async (s) => {
      const c = await s.client(name);
      if (!c) return undefined;
      // Children first (scans refer to inventories); the SQLite table queue's rows go with the client (ON DELETE
      // CASCADE); a pg-boss job left for it finds no client and is skipped.
      const scans = (await s.db.run('DELETE FROM scans WHERE client_id = ?', [c.id])).changes;
      const inventories = (await s.db.run('DELETE FROM inventories WHERE client_id = ?', [c.id])).changes;
      await s.db.run('DELETE FROM clients WHERE id = ?', [c.id]);
      return { name: c.name, inventories, scans };
    });
  }

  // ---- inventories

  async addInventory(
    clientId: number,
    body: Uint8Array,
    architecture: string,
    retention?: InventoryRetention,
    os?: string | null,
  ): Promise<number> {
    if (!this.inTransaction) return this.tx((s) => s.addInventory(clientId, body, architecture, retention, os));
    // The group commit's path with a group of one, without its scan job (the caller queues that).
    const [id] = await storeInventories(this.db, [{ clientId, body, architecture, os: os ?? null }], retention);
    if (id === undefined) throw new PatchscanError('NOT_FOUND', `client ${clientId} was revoked or removed`, { client: 'revoked' });
    return id;
  }

  async addUploads(uploads: readonly NewUpload[], retention?: InventoryRetention): Promise<(number | undefined)[]> {
    if (!this.inTransaction) return this.tx((s) => s.addUploads(uploads, retention));
    return storeUploads(this.db, this.queue, uploads, retention);
  }

  latestInventory(clientId: number): Promise<StoredInventory | undefined> {
    return this.db.get<StoredInventory>('SELECT id, body, received_at FROM inventories WHERE client_id = ? ORDER BY id DESC LIMIT 1', [
      clientId,
    ]);
  }

  inventoryCount(clientId: number): Promise<number> {
    return this.count('SELECT count(*) AS n FROM inventories WHERE client_id = ?', [clientId]);
  }

  async inventoryIds(clientId: number): Promise<number[]> {
    return (await this.db.all<{ id: number }>('SELECT id FROM inventories WHERE client_id = ? ORDER BY id', [clientId])).map((r) => r.id);
  }

  async clientsWithInventory(): Promise<number[]> {
    return (await this.db.all<{ client_id: number }>('SELECT DISTINCT client_id FROM inventories ORDER BY client_id')).map(
      (r) => r.client_id,
    );
  }

  // ---- catalogs

  addCatalog(c: Omit<CatalogRow, 'id' | 'imported_at'>): Promise<number> {
    return this.insertId(
      'INSERT INTO catalogs (sha256, source, path, revisions, signer, signed_at, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [c.sha256, c.source, c.path, c.revisions, c.signer, c.signed_at, now()],
    );
  }

  catalog(id: number): Promise<CatalogRow | undefined> {
    return this.db.get<CatalogRow>(
      'SELECT id, sha256, source, path, revisions, signer, signed_at, imported_at FROM catalogs WHERE id = ?',
      [id],
    );
  }

  catalogBySha(sha256: string): Promise<CatalogRow | undefined> {
    return this.db.get<CatalogRow>(
      'SELECT id, sha256, source, path, revisions, signer, signed_at, imported_at FROM catalogs WHERE sha256 = ?',
      [sha256],
    );
  }

  catalogAtPath(path: string, exceptSha256: string): Promise<CatalogRow | undefined> {
    return this.db.get<CatalogRow>(
      'SELECT id, sha256, source, path, revisions, signer, signed_at, imported_at FROM catalogs WHERE path = ? AND sha256 <> ?',
      [path, exceptSha256],
    );
  }

  async setCatalogPath(id: number, path: string): Promise<void> {
    await this.write('UPDATE catalogs SET path = ? WHERE id = ?', [path, id]);
  }

  async putCatalogFile(catalogId: number, digest: string, chunks: Iterable<Uint8Array>): Promise<void> {
    if (!this.inTransaction) return this.tx((s) => s.putCatalogFile(catalogId, digest, chunks));
    await this.db.run('DELETE FROM catalog_file_chunks WHERE catalog_id = ?', [catalogId]);
    let n = 0;
    for (const c of chunks)
      await this.db.run('INSERT INTO catalog_file_chunks (catalog_id, chunk, bytes) VALUES (?, ?, ?)', [catalogId, n++, c]);
    await this.db.run('UPDATE catalogs SET file_sha256 = ? WHERE id = ?', [digest, catalogId]);
  }

  async catalogFileDigest(catalogId: number): Promise<string | undefined> {
    return (
      (await this.db.get<{ file_sha256: string | null }>('SELECT file_sha256 FROM catalogs WHERE id = ?', [catalogId]))?.file_sha256 ??
      undefined
    );
  }

  async catalogFileChunks(catalogId: number): Promise<Buffer[]> {
    return (
      await this.db.all<{ bytes: Buffer }>('SELECT bytes FROM catalog_file_chunks WHERE catalog_id = ? ORDER BY chunk', [catalogId])
    ).map((r) => r.bytes);
  }

  async currentCatalog(): Promise<CatalogRow | undefined> {
    const id = await this.setting('current_catalog');
    return id === undefined ? undefined : this.catalog(Number(id));
  }

  // ---- scan queue

  enqueueScan(clientId: number, priority: ScanPriority, reason: string): Promise<void> {
    if (this.inTransaction) return this.queue.enqueue(this.db, clientId, priority, reason);
    return this.driver.transaction((tx) => this.queue.enqueue(tx, clientId, priority, reason));
  }

  enqueueScans(jobs: readonly NewScan[]): Promise<void> {
    if (this.inTransaction) return this.queue.enqueueMany(this.db, jobs);
    return this.driver.transaction((tx) => this.queue.enqueueMany(tx, jobs));
  }

  takeScans(max: number, leaseSeconds?: number): Promise<ScanJob[]> {
    return this.queue.take(max, leaseSeconds);
  }

  completeScans(jobs: readonly ScanJob[]): Promise<void> {
    if (this.inTransaction) return this.queue.complete(this.db, jobs);
    return this.driver.transaction((tx) => this.queue.complete(tx, jobs));
  }

  failScan(job: ScanJob, error: string): Promise<void> {
    return this.queue.fail(job, error);
  }

  releaseScans(holder: string, error: string): Promise<number> {
    return this.queue.releaseHolder(holder, error);
  }

  queueStatus(): Promise<QueueStatus> {
    return this.queue.status();
  }

  failedScans(limit: number): Promise<FailedJob[]> {
    return this.queue.failedJobs(limit);
  }

  // ---- results

  async resultSetId(catalogId: number, fingerprint: string): Promise<number | undefined> {
    return (
      await this.db.get<{ id: number }>('SELECT id FROM result_sets WHERE catalog_id = ? AND fingerprint = ?', [catalogId, fingerprint])
    )?.id;
  }

  async addResultSet(s: NewResultSet): Promise<number> {
    if (!this.inTransaction) return this.tx((t) => t.addResultSet(s));
    const base = s.base;
    if (base) await this.checkBase(s.catalogId, base);
    // Two workers may finish the same new profile at once: the second one takes the first one's set.
    const c = s.counts;
    const r = await this.db.get<{ id: number }>(
      `INSERT INTO result_sets (catalog_id, fingerprint, installed, required, superseded, possibly_superseded, not_applicable, unknown,
        base_set_id, outcomes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (catalog_id, fingerprint) DO NOTHING RETURNING id`,
      [
        s.catalogId,
        s.fingerprint,
        c.installed,
        c.required,
        c.superseded,
        c.possiblySuperseded,
        c.notApplicable,
        c.unknown,
        base?.setId ?? null,
        s.outcomes ? encodeWords(s.outcomes) : null,
      ],
    );
    if (!r) return (await this.resultSetId(s.catalogId, s.fingerprint))!;
    // A row of a set stored on a base replaces the base's rows of its update id (overrides 1); a base update id the
    // set has no row for gets a row that says so (overrides 2; its index only has to be unique in the set).
    const removed = base?.removed ?? [];
    const rows: (string | number)[][] = [];
    const keys = await this.updateKeys.keysOf(this.db, [...s.updates.map((u) => u.update_id), ...removed]);
    s.updates.forEach((u, k) =>
      rows.push([r.id, u.update_index, u.update_id, keys[k]!, u.revision_number, u.state, u.superseded, u.reason, base ? 1 : 0]),
    );
    removed.forEach((id, k) => rows.push([r.id, -1 - k, id, keys[s.updates.length + k]!, 0, '', 0, '', 2]));
    // Many rows per set: multi-row INSERTs (far fewer round trips on PostgreSQL; fewer statement steps on SQLite).
    const ROWS = 100;
    for (let k = 0; k < rows.length; k += ROWS) {
      const chunk = rows.slice(k, k + ROWS);
      await this.write(
        `INSERT INTO result_updates (set_id, update_index, update_id, update_key, revision_number, ` +
          `state, superseded, reason, overrides) VALUES ` +
          `${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flat(),
      );
    }
    await this.insertGroups(r.id, s.groups);
    return r.id;
  }

  /**
   * A set is stored on a base stored whole, of another catalog, and placed by the index map stored for the pair of
   * catalogs ({@link addCatalogIndexMap}, committed before: here it is only read, so that storing a batch takes no lock
   * but its result_sets rows', in the order the batch stores them).
   */
  private async checkBase(catalogId: number, base: ResultSetBase): Promise<void> {
    const b = await this.db.get<{ catalog_id: number; base_set_id: number | null }>(
      'SELECT catalog_id, base_set_id FROM result_sets WHERE id = ?',
      [base.setId],
    );
    if (!b || Number(b.catalog_id) !== base.catalogId || b.base_set_id !== null || base.catalogId === catalogId)
      throw new PatchscanError(
        'INTERNAL',
        `result set ${base.setId} cannot be the base of a set of catalog ${catalogId}: ` +
          (!b ? 'it is not stored' : b.base_set_id !== null ? 'it is stored on a base itself' : `it is of catalog ${b.catalog_id}`),
      );
    const pair = `${base.catalogId}/${catalogId}`;
    if (this.indexMapsChecked.get(pair) === base.indexMap) return;
    const stored = await this.catalogIndexMap(base.catalogId, catalogId);
    if (!stored)
      throw new PatchscanError('INTERNAL', `no index map is stored for catalogs ${base.catalogId} and ${catalogId}: store it first`);
    // One map per pair of catalogs: a set whose kept rows were placed by another map would read them elsewhere.
    if (!sameIndexMap(stored, base.indexMap))
      throw new PatchscanError(
        'INTERNAL',
        `catalogs ${base.catalogId} and ${catalogId} have another index map stored than this result set's`,
      );
    this.indexMapsChecked.set(pair, base.indexMap);
  }

  async addCatalogIndexMap(fromCatalogId: number, toCatalogId: number, map: Int32Array): Promise<Int32Array> {
    await this.write(
      'INSERT INTO catalog_index_maps (from_catalog_id, to_catalog_id, map) VALUES (?, ?, ?) ON CONFLICT (from_catalog_id, to_catalog_id) DO NOTHING',
      [fromCatalogId, toCatalogId, encodeIndexMap(map)],
    );
    return (await this.catalogIndexMap(fromCatalogId, toCatalogId))!;
  }

  /** Index maps this transaction found stored as given (by "from/to" catalog ids). */
  private readonly indexMapsChecked = new Map<string, Int32Array>();

  async numberUpdates(updateIds: readonly string[]): Promise<void> {
    if (!this.inTransaction) return this.tx((t) => t.numberUpdates(updateIds));
    await this.updateKeys.number(this.db, updateIds);
  }

  private async insertGroups(setId: number, groups: readonly ResultGroupRow[]): Promise<void> {
    // One multi-row INSERT per 100 groups (a set has a handful to dozens), not a statement each.
    for (let k = 0; k < groups.length; k += 100) {
      const chunk = groups.slice(k, k + 100);
      await this.write(
        `INSERT INTO result_set_groups (set_id, kind, name, installed, required, unknown) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((g) => [setId, g.kind, g.name, g.installed, g.required, g.unknown]),
      );
    }
  }

  async unreadResultSets(keepCatalogId: number): Promise<number[]> {
    const rows = await this.db.all<{ id: number }>(`SELECT rs.id FROM result_sets rs WHERE ${UNREAD_SET_SQL} ORDER BY rs.id`, [
      keepCatalogId,
    ]);
    return rows.map((r) => Number(r.id));
  }

  async deleteUnreadResultSets(keepCatalogId: number, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    if (!this.inTransaction) return this.tx((t) => t.deleteUnreadResultSets(keepCatalogId, ids));
    // Their rows and group counts go with them (ON DELETE CASCADE).
    return this.write(
      `DELETE FROM result_sets WHERE id IN (SELECT rs.id FROM result_sets rs WHERE rs.id IN (${ids.map(() => '?').join(', ')})
        AND ${UNREAD_SET_SQL})`,
      [...ids, keepCatalogId],
    );
  }

  staleGroupSets(): Promise<{ id: number; catalog_id: number }[]> {
    return this.db.all('SELECT id, catalog_id FROM result_sets WHERE groups_stale = 1 ORDER BY catalog_id, id');
  }

  async replaceResultGroups(setId: number, groups: readonly ResultGroupRow[]): Promise<boolean> {
    return this.tx(async (s) => {
      // The unmarking goes first: on PostgreSQL a second process's UPDATE waits for this commit and then changes nothing.
      if ((await s.db.run('UPDATE result_sets SET groups_stale = 0 WHERE id = ? AND groups_stale = 1', [setId])).changes === 0)
        return false;
      await s.db.run('DELETE FROM result_set_groups WHERE set_id = ?', [setId]);
      await s.insertGroups(setId, groups);
      return true;
    });
  }

  async resultUpdates(setId: number): Promise<ResultUpdateRow[]> {
    return [...(await this.resultSetLayers(setId)).rows];
  }

  async resultRowsAt(setId: number, indexes: readonly number[]): Promise<ResultUpdateRow[]> {
    const out: ResultUpdateRow[] = [];
    for (let k = 0; k < indexes.length; k += 500) {
      const chunk = indexes.slice(k, k + 500);
      out.push(
        ...(await this.db.all<ResultUpdateRow>(
          `SELECT update_index, update_id, revision_number, state, superseded, reason FROM result_updates
          WHERE set_id = ? AND update_index IN (${chunk.map(() => '?').join(', ')})`,
          [setId, ...chunk],
        )),
      );
    }
    return out;
  }

  async addCatalogCarryOver(fromCatalogId: number, toCatalogId: number, plan: Uint8Array): Promise<void> {
    await this.write(
      'INSERT INTO catalog_carry_overs (from_catalog_id, to_catalog_id, plan) VALUES (?, ?, ?) ON CONFLICT (from_catalog_id, to_catalog_id) DO NOTHING',
      [fromCatalogId, toCatalogId, plan],
    );
  }

  async replaceCatalogCarryOver(fromCatalogId: number, toCatalogId: number, plan: Uint8Array): Promise<void> {
    await this.write('UPDATE catalog_carry_overs SET plan = ? WHERE from_catalog_id = ? AND to_catalog_id = ?', [
      plan,
      fromCatalogId,
      toCatalogId,
    ]);
  }

  async catalogCarryOver(fromCatalogId: number, toCatalogId: number): Promise<Uint8Array | undefined> {
    const r = await this.db.get<{ plan: Buffer }>('SELECT plan FROM catalog_carry_overs WHERE from_catalog_id = ? AND to_catalog_id = ?', [
      fromCatalogId,
      toCatalogId,
    ]);
    return r?.plan;
  }

  async catalogIndexMap(fromCatalogId: number, toCatalogId: number): Promise<Int32Array | undefined> {
    const m = await this.db.get<{ map: Buffer }>('SELECT map FROM catalog_index_maps WHERE from_catalog_id = ? AND to_catalog_id = ?', [
      fromCatalogId,
      toCatalogId,
    ]);
    return m && decodeIndexMap(m.map);
  }

  /**
   * A stored set's packed outcomes (when asked: the blob is read only then) and, for a set stored on a base, that base
   * and the index map its kept rows are placed by; NOT_FOUND when no such set is stored.
   */
  private async storedOn(
    setId: number,
    outcomes: boolean,
  ): Promise<{ outcomes: Buffer | null; base?: { setId: number; catalogId: number; indexMap: Int32Array } }> {
    const set = await this.db.get<{
      outcomes: Buffer | null;
      base_set_id: number | null;
      catalog_id: number;
      base_catalog_id: number | null;
    }>(
      `SELECT ${outcomes ? 's.outcomes' : 'NULL AS outcomes'}, s.base_set_id, s.catalog_id, b.catalog_id AS base_catalog_id
      FROM result_sets s LEFT JOIN result_sets b ON b.id = s.base_set_id WHERE s.id = ?`,
      [setId],
    );
    // Not stored (pruned, say, since its id was read): never read as a set without rows.
    if (!set) throw new PatchscanError('NOT_FOUND', `result set ${setId} is not stored`);
    if (set.base_set_id === null) return { outcomes: set.outcomes };
    const base = { setId: Number(set.base_set_id), catalogId: Number(set.base_catalog_id) };
    const indexMap = await this.catalogIndexMap(base.catalogId, Number(set.catalog_id));
    if (!indexMap)
      throw new PatchscanError('INTERNAL', `result set ${setId} is stored on set ${base.setId}, but no index map of their catalogs is`);
    return { outcomes: set.outcomes, base: { ...base, indexMap } };
  }

  async resultSetOutcomes(setId: number): Promise<{ readonly words: Uint32Array; readonly base?: ResultSetLayers['base'] } | undefined> {
    const set = await this.storedOn(setId, true);
    if (!set.outcomes) return undefined;
    const words = decodeWords(set.outcomes);
    if (!set.base) return { words };
    const own = await this.db.all<{ update_id: string }>('SELECT update_id FROM result_updates WHERE set_id = ?', [setId]);
    return { words, base: { ...set.base, overridden: new Set(own.map((r) => r.update_id)) } };
  }

  async resultSetLayers(setId: number, options: { readonly reasons?: boolean } = {}): Promise<ResultSetLayers> {
    const ROW = `SELECT update_index, update_id, revision_number, state, superseded, ${options.reasons === false ? "'' AS reason" : 'reason'}`;
    const base = (await this.storedOn(setId, false)).base;
    if (!base)
      return { rows: await this.db.all<ResultUpdateRow>(`${ROW} FROM result_updates WHERE set_id = ? ORDER BY update_index`, [setId]) };
    const own = await this.db.all<ResultUpdateRow & { overrides: number }>(`${ROW}, overrides FROM result_updates WHERE set_id = ?`, [
      setId,
    ]);
    const inherited = await this.db.all<ResultUpdateRow>(`${ROW} FROM result_updates WHERE set_id = ?`, [base.setId]);
    const overridden = new Set<string>();
    const rows: ResultUpdateRow[] = [];
    for (const { overrides, ...r } of own) {
      overridden.add(r.update_id);
      if (overrides === 1) rows.push(r);
    }
    for (const r of inherited) {
      if (overridden.has(r.update_id)) continue;
      const i = base.indexMap[r.update_index] ?? -1;
      if (i < 0)
        throw new PatchscanError(
          'INTERNAL',
          `result set ${setId} keeps update ${r.update_id} of set ${base.setId}, which its catalog does not hold`,
        );
      rows.push({ ...r, update_index: i });
    }
    rows.sort((a, b) => a.update_index - b.update_index);
    return { rows, base: { ...base, overridden } };
  }

  async recordScan(s: ScanRecord): Promise<boolean> {
    if (!this.inTransaction) return this.tx((t) => t.recordScan(s));
    // The client's row first (see upload-batch.ts): an upload that pruned this inventory has committed before the check
    // below, or waits until this transaction commits and then keeps the inventory the scan refers to.
    await this.write('UPDATE clients SET last_scan_at = last_scan_at WHERE id = ?', [s.clientId]);
    if (!(await this.db.get('SELECT 1 AS one FROM inventories WHERE id = ? AND client_id = ?', [s.inventoryId, s.clientId]))) return false;
    await this.write(
      `INSERT INTO scans (client_id, inventory_id, catalog_id, set_id, scanned_at, program) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (client_id) DO UPDATE SET inventory_id = excluded.inventory_id, catalog_id = excluded.catalog_id,
      set_id = excluded.set_id,
        scanned_at = excluded.scanned_at, program = excluded.program`,
      [s.clientId, s.inventoryId, s.catalogId, s.setId, s.scannedAt, s.program],
    );
    await this.write('UPDATE clients SET last_scan_at = ? WHERE id = ?', [s.scannedAt, s.clientId]);
    return true;
  }

  lastScan(
    clientId: number,
  ): Promise<{ scanned_at: string; catalog_id: number; program: string; inventory_id: number; set_id: number } | undefined> {
    return this.db.get('SELECT scanned_at, catalog_id, program, inventory_id, set_id FROM scans WHERE client_id = ?', [clientId]);
  }

  scansSince(at: string): Promise<number> {
    return this.count('SELECT count(*) AS n FROM scans WHERE scanned_at >= ?', [at]);
  }

  async recordDaily(r: DailyRow): Promise<void> {
    await this.write(
      `INSERT INTO compliance_daily (day, clients, scanned, compliant, installed, required, superseded, possibly_superseded, unknown)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (day) DO UPDATE SET clients = excluded.clients, scanned = excluded.scanned, compliant = excluded.compliant,
        installed = excluded.installed, required = excluded.required, superseded = excluded.superseded,
        possibly_superseded = excluded.possibly_superseded, unknown = excluded.unknown`,
      [r.day, r.clients, r.scanned, r.compliant, r.installed, r.required, r.superseded, r.possiblySuperseded, r.unknown],
    );
  }

  // ---- reports: machines are counted per result set first (the scans_by_set index), then multiplied out, so the
  // work grows with profiles, not clients.

  async fleetTotals(): Promise<FleetTotals> {
    const r = await this.db.get<FleetTotals>(`SELECT coalesce(sum(s.n), 0) AS scanned, coalesce(sum(r.installed * s.n), 0) AS installed,
        coalesce(sum(r.required * s.n), 0) AS required, coalesce(sum(r.superseded * s.n), 0) AS superseded,
        coalesce(sum(r.possibly_superseded * s.n), 0) AS "possiblySuperseded", coalesce(sum(r.unknown * s.n), 0) AS unknown,
        coalesce(sum(${compliantSql('r')} * s.n), 0) AS compliant
      FROM ${SET_MACHINES} s JOIN result_sets r ON r.id = s.set_id`);
    return r!;
  }

  computerScan(name: string): Promise<ComputerScanRow | undefined> {
    return this.db.get<ComputerScanRow>(
      `SELECT c.name, c.architecture, c.last_upload_at, s.scanned_at, s.program, s.catalog_id, s.set_id,
        r.installed, r.required, r.superseded, r.possibly_superseded, r.not_applicable, r.unknown
      FROM clients c JOIN scans s ON s.client_id = c.id JOIN result_sets r ON r.id = s.set_id WHERE c.name_key = ?`,
      [computerKey(name)],
    );
  }

  async searchComputers(
    prefix: string,
    limit: number,
    offset: number,
    order?: ComputerOrder,
  ): Promise<{ total: number; items: ComputerListRow[] }> {
    const like = `${computerKey(prefix).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const total = await this.count("SELECT count(*) AS n FROM clients WHERE name_key LIKE ? ESCAPE '\\'", [like]);
    const items = await this.db.all<ComputerListRow>(
      `SELECT c.name, c.architecture, c.os, c.last_upload_at AS "lastUpload", s.scanned_at AS "scannedAt",
        r.installed, r.required,
        r.superseded, r.possibly_superseded AS "possiblySuperseded", r.unknown
      FROM clients c LEFT JOIN scans s ON s.client_id = c.id LEFT JOIN result_sets r ON r.id = s.set_id
      WHERE c.name_key LIKE ? ESCAPE '\\' ORDER BY ${computerOrderSql(order)} LIMIT ? OFFSET ?`,
      [like, limit, offset],
    );
    return { total, items };
  }

  async updateOutcomes(updateIds: readonly string[]): Promise<SetUpdateOutcome[]> {
    if (updateIds.length === 0) return [];
    return this.db.all<SetUpdateOutcome>(
      `SELECT * FROM (${this.bothParts(
        (p) => `SELECT ${p.set} AS "setId", s.n AS machines, r.update_id AS "updateId", r.state, r.superseded
        FROM update_keys k JOIN result_updates r ON r.update_key = k.id ${p.join} JOIN ${SET_MACHINES} s ON s.set_id = ${p.scanned}
        WHERE ${updateIdIn(updateIds.length)} AND ${p.where}`,
      )}) x ORDER BY "setId", "updateId"`,
      twice(updateIds),
    );
  }

  unknownReasons(updateIds: readonly string[], limit: number): Promise<{ reason: string; machines: number }[]> {
    if (updateIds.length === 0) return Promise.resolve([]);
    return this.db.all(
      `SELECT reason, sum(machines) AS machines FROM (${this.bothParts(
        (p) => `SELECT r.reason, count(*) AS machines
        FROM update_keys k JOIN result_updates r ON r.update_key = k.id ${p.join} JOIN scans s ON s.set_id = ${p.scanned}
        WHERE ${updateIdIn(updateIds.length)} AND r.state = 'Unknown' AND ${p.where} GROUP BY r.reason`,
      )}) x GROUP BY reason ORDER BY machines DESC, reason LIMIT ?`,
      [...twice(updateIds), limit],
    );
  }

  async updateMachines(
    updateIds: readonly string[],
    buckets: readonly CountBucket[] | undefined,
    limit: number,
    offset: number,
    order: UpdateMachineOrder = { key: 'computer', dir: 'asc' },
  ): Promise<{ total: number; items: UpdateMachineRow[] }> {
    if (updateIds.length === 0) return { total: 0, items: [] };
    const f = buckets ? bucketFilter(buckets, 'r.state', 'r.superseded') : { sql: '', params: [] };
    const where = (p: RowsPart): string => `${updateIdIn(updateIds.length)}${buckets ? ` AND ${f.sql}` : ''} AND ${p.where}`;
    const from = (p: RowsPart): string =>
      `FROM update_keys k JOIN result_updates r ON r.update_key = k.id ${p.join} JOIN scans s ON s.set_id = ${p.scanned}`;
    const args = twice([...updateIds, ...f.params]);
    const total = await this.count(
      `SELECT coalesce(sum(n), 0) AS n FROM (${this.bothParts((p) => `SELECT count(*) AS n ${from(p)} WHERE ${where(p)}`)}) x`,
      args,
    );
    // Each part sorted and cut to the page's end on its own join (a bounded sort), then the two merged: sorting the
    // union as a whole passed every row of the update through it (2.3 × this query's time on 100,000 clients).
    const items = await this.db.all<UpdateMachineRow>(
      `SELECT u.computer, u."updateId", u.state, u.superseded, u.reason, u."scannedAt" FROM (${this.bothParts(
        (p) => `SELECT * FROM (SELECT cl.name AS computer, cl.name_key, r.update_id AS "updateId", r.state, r.superseded,
          r.reason, s.scanned_at AS "scannedAt" ${from(p)} JOIN clients cl ON cl.id = s.client_id WHERE ${where(p)}
          ORDER BY ${orderSql(UPDATE_MACHINE_ORDER_SQL('r'), order, 'cl.name_key, r.update_id')} LIMIT ?) p`,
      )}) u ORDER BY ${orderSql(UPDATE_MACHINE_ORDER_SQL('u'), order, 'u.name_key, u."updateId"')} LIMIT ? OFFSET ?`,
      [...updateIds, ...f.params, limit + offset, ...updateIds, ...f.params, limit + offset, limit, offset],
    );
    return { total, items };
  }

  updateOutcomeCounts(): Promise<{ update_id: string; state: string; superseded: number; n: number }[]> {
    return this.db.all(`WITH sm AS ${SET_MACHINES}
      SELECT update_id, state, superseded, sum(n) AS n FROM (${this.bothParts(
        (p) => `SELECT r.update_id, r.state, r.superseded, sum(s.n) AS n
        FROM sm s ${p.own ? '' : 'JOIN result_sets rs ON rs.id = s.set_id'} JOIN result_updates r ON r.set_id = ${p.own ? 's.set_id' : 'rs.base_set_id'}
        WHERE ${p.where} GROUP BY r.update_id, r.state, r.superseded`,
      )}) x GROUP BY update_id, state, superseded`);
  }

  async groupMachines(
    kind: 'classification' | 'product',
    name: string,
    limit: number,
    offset: number,
    order?: ComputerOrder,
  ): Promise<{ total: number; items: ComputerListRow[] }> {
    const from =
      // A set still counted by the old rule (groups_stale, see result-groups.ts) is left out until it is recounted.
      `FROM result_set_groups g JOIN result_sets rs ON rs.id = g.set_id AND rs.groups_stale = 0 JOIN scans s ON s.set_id = g.set_id
      JOIN clients c ON c.id = s.client_id WHERE g.kind = ? AND g.name = ?`;
    const total = await this.count(`SELECT count(*) AS n ${from}`, [kind, name]);
    const items = await this.db.all<ComputerListRow>(
      `SELECT c.name, c.architecture, c.os, c.last_upload_at AS "lastUpload", s.scanned_at AS "scannedAt", g.installed, g.required,
        NULL AS superseded, NULL AS "possiblySuperseded", g.unknown
      ${from} ORDER BY ${order ? orderSql(GROUP_MACHINE_ORDER_SQL, order, 'c.name_key') : 'g.required DESC, c.name_key'} LIMIT ? OFFSET ?`,
      [kind, name, limit, offset],
    );
    return { total, items };
  }

  async computersNamed(names?: readonly string[]): Promise<ComputerSetRow[]> {
    const select = `SELECT c.name, c.architecture, c.os, c.last_upload_at AS "lastUpload", s.scanned_at AS "scannedAt",
        r.installed, r.required,
        r.superseded, r.possibly_superseded AS "possiblySuperseded", r.unknown, s.set_id AS "setId"
      FROM clients c LEFT JOIN scans s ON s.client_id = c.id LEFT JOIN result_sets r ON r.id = s.set_id`;
    if (names === undefined) return this.db.all<ComputerSetRow>(`${select} ORDER BY c.name_key`);
    const out: ComputerSetRow[] = [];
    for (let k = 0; k < names.length; k += IN_CHUNK) {
      const keys = names.slice(k, k + IN_CHUNK).map(computerKey);
      out.push(...(await this.db.all<ComputerSetRow>(`${select} WHERE c.name_key IN (${keys.map(() => '?').join(', ')})`, keys)));
    }
    return out.sort((a, b) => (computerKey(a.name) < computerKey(b.name) ? -1 : 1));
  }

  async setOutcomes(setIds: readonly number[]): Promise<{ set_id: number; update_id: string; state: string; superseded: number }[]> {
    const out: { set_id: number; update_id: string; state: string; superseded: number }[] = [];
    for (let k = 0; k < setIds.length; k += IN_CHUNK) {
      const ids = setIds.slice(k, k + IN_CHUNK);
      out.push(
        ...(await this.db.all<{ set_id: number; update_id: string; state: string; superseded: number }>(
          this.bothParts(
            (p) => `SELECT ${p.set} AS set_id, r.update_id, r.state, r.superseded
            FROM ${p.own ? 'result_updates r' : 'result_sets rs JOIN result_updates r ON r.set_id = rs.base_set_id'}
            WHERE ${p.set} IN (${ids.map(() => '?').join(', ')}) AND ${p.where}`,
          ),
          twice(ids),
        )),
      );
    }
    return out;
  }

  async membershipGroups(): Promise<MembershipGroupRow[]> {
    const sums = `count(*) AS n, count(s.client_id) AS scanned, coalesce(sum(CASE WHEN s.client_id IS NULL THEN 0
      ELSE ${compliantSql('r')} END), 0) AS compliant,
      coalesce(sum(r.required), 0) AS required, coalesce(sum(r.superseded), 0) AS superseded,
      coalesce(sum(r.possibly_superseded), 0) AS "possiblySuperseded", coalesce(sum(r.unknown), 0) AS unknown`;
    const from = 'FROM clients cl LEFT JOIN scans s ON s.client_id = cl.id LEFT JOIN result_sets r ON r.id = s.set_id';
    const grouped = await this.db.all<MembershipGroupRow>(`SELECT cl.architecture, ${sums} ${from}
      WHERE cl.name_key NOT IN (SELECT computer_key FROM collection_members) GROUP BY cl.architecture`);
    const direct = await this.db.all<MembershipGroupRow>(`SELECT cl.name, cl.architecture, ${sums} ${from}
      WHERE cl.name_key IN (SELECT computer_key FROM collection_members) GROUP BY cl.id, cl.name, cl.architecture`);
    return [...grouped, ...direct];
  }

  async staleClients(
    cutoff: string,
    limit: number,
    offset: number,
    order: StaleOrder = { key: 'lastUpload', dir: 'asc' },
  ): Promise<{ total: number; items: { name: string; lastUpload: string | null; lastScan: string | null }[] }> {
    const total = await this.count('SELECT count(*) AS n FROM clients WHERE last_upload_at IS NULL OR last_upload_at < ?', [cutoff]);
    const items = await this.db.all<{ name: string; lastUpload: string | null; lastScan: string | null }>(
      `SELECT name, last_upload_at AS "lastUpload", last_scan_at AS "lastScan"
      FROM clients WHERE last_upload_at IS NULL OR last_upload_at < ?
      ORDER BY ${orderSql(STALE_ORDER_SQL, order, 'name_key', ['lastUpload', 'lastScan'])} LIMIT ? OFFSET ?`,
      [cutoff, limit, offset],
    );
    return { total, items };
  }

  async dailyRows(days: number): Promise<DailyRow[]> {
    return (
      await this.db.all<DailyRow>(
        `SELECT day, clients, scanned, compliant, installed, required, superseded, possibly_superseded AS "possiblySuperseded", unknown
      FROM compliance_daily ORDER BY day DESC LIMIT ?`,
        [days],
      )
    ).reverse();
  }

  // ---- ITMU's objects

  async objectId(kind: ObjectKind, role: string): Promise<number | undefined> {
    return (await this.db.get<{ id: number }>(`SELECT id FROM ${TABLE[kind]} WHERE role = ?`, [role]))?.id;
  }

  addPackage(role: string, name: string): Promise<number> {
    return this.insertId('INSERT INTO packages (role, name) VALUES (?, ?)', [role, name]);
  }

  async addCollection(c: { role: string; name: string; architecture: string | null; limitTo: number | null }): Promise<number> {
    if (!this.inTransaction) return this.tx((s) => s.addCollection(c));
    const id = await this.insertId('INSERT INTO collections (role, name, architecture, limit_to) VALUES (?, ?, ?, ?)', [
      c.role,
      c.name,
      c.architecture,
      c.limitTo,
    ]);
    await this.targetingChanged();
    return id;
  }

  addProgram(p: {
    role: string;
    packageId: number;
    name: string;
    variant: string | null;
    expedited: boolean;
    commandLine: string;
  }): Promise<number> {
    return this.insertId('INSERT INTO programs (role, package_id, name, variant, expedited, command_line) VALUES (?, ?, ?, ?, ?, ?)', [
      p.role,
      p.packageId,
      p.name,
      p.variant,
      p.expedited ? 1 : 0,
      p.commandLine,
    ]);
  }

  async addAdvertisement(a: { role: string; name: string; programId: number; collectionId: number; schedule: string }): Promise<number> {
    if (!this.inTransaction) return this.tx((s) => s.addAdvertisement(a));
    const id = await this.insertId('INSERT INTO advertisements (role, name, program_id, collection_id, schedule) VALUES (?, ?, ?, ?, ?)', [
      a.role,
      a.name,
      a.programId,
      a.collectionId,
      a.schedule,
    ]);
    await this.targetingChanged();
    return id;
  }

  async addMember(collectionId: number, computer: string): Promise<void> {
    if (!this.inTransaction) return this.tx((s) => s.addMember(collectionId, computer));
    const changes = await this.write(
      'INSERT INTO collection_members (collection_id, computer, computer_key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      [collectionId, computer, computerKey(computer)],
    );
    if (changes > 0) await this.targetingChanged();
  }

  async isMember(collectionId: number, computer: string): Promise<boolean> {
    return (
      (await this.db.get('SELECT 1 AS one FROM collection_members WHERE collection_id = ? AND computer_key = ?', [
        collectionId,
        computerKey(computer),
      ])) !== undefined
    );
  }

  collections(): Promise<(CollectionRow & { limited: string | null })[]> {
    return this.db.all(`SELECT c.id, c.role, c.name, c.architecture, c.limit_to, l.name AS limited
      FROM collections c LEFT JOIN collections l ON l.id = c.limit_to ORDER BY c.id`);
  }

  collection(id: number): Promise<CollectionRow | undefined> {
    return this.db.get<CollectionRow>('SELECT id, role, name, architecture, limit_to FROM collections WHERE id = ?', [id]);
  }

  collectionByName(name: string): Promise<CollectionRow | undefined> {
    // Collection names are ASCII in practice; compared case-insensitively the same way on both backends.
    return this.db.get<CollectionRow>('SELECT id, role, name, architecture, limit_to FROM collections WHERE lower(name) = lower(?)', [
      name,
    ]);
  }

  async setCollectionLimit(collectionId: number, limitTo: number | null): Promise<void> {
    if (!this.inTransaction) return this.tx((s) => s.setCollectionLimit(collectionId, limitTo));
    await this.write('UPDATE collections SET limit_to = ? WHERE id = ?', [limitTo, collectionId]);
    await this.targetingChanged();
  }

  async objectNames(kind: 'program' | 'collection' | 'advertisement'): Promise<string[]> {
    return (await this.db.all<{ name: string }>(`SELECT name FROM ${TABLE[kind]} ORDER BY id`)).map((r) => r.name);
  }

  async removeObjects(): Promise<void> {
    await this.tx(async (s) => {
      for (const table of ['advertisements', 'collection_members', 'collections', 'programs', 'packages'])
        await s.db.run(`DELETE FROM ${table}`);
      await s.targetingChanged();
    });
  }

  async targeting(): Promise<TargetingData> {
    // The version is read first: should the data change while it is read, the copy carries an older version than
    // the data and the next comparison simply reads it again.
    const version = await this.targetingVersion();
    return {
      version,
      collections: await this.db.all<CollectionRow>('SELECT id, role, name, architecture, limit_to FROM collections ORDER BY id'),
      members: await this.db.all<MemberRow>('SELECT collection_id, computer FROM collection_members'),
      advertisements: await this.db
        .all<AdvertisementRow>(`SELECT a.id, a.role, a.name, p.name AS program, p.variant, p.expedited, a.collection_id, a.schedule
        FROM advertisements a JOIN programs p ON p.id = a.program_id ORDER BY a.id`),
    };
  }

  async targetingVersion(): Promise<string> {
    return (await this.setting('targeting_version')) ?? '0';
  }

  /** Bumps the version every process compares before trusting its copy of the targeting data. */
  private async targetingChanged(): Promise<void> {
    if (!this.inTransaction) return this.tx((s) => s.targetingChanged());
    const v = Number((await this.setting('targeting_version')) ?? 0);
    await this.setSetting('targeting_version', String(v + 1));
  }

  // ---- software update groups

  async addUpdateGroup(g: {
    name: string;
    criteria: string;
    deadline: string | null;
    updates: readonly UpdateGroupUpdateRow[];
  }): Promise<number> {
    return this.tx(async (s) => {
      const row = await s.db.get<{ id: number }>(
        `INSERT INTO update_groups (name, name_key, criteria, deadline, created_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (name_key) DO NOTHING RETURNING id`,
        [g.name, groupKey(g.name), g.criteria, g.deadline, now()],
      );
      if (!row) {
        throw new PatchscanError(
          'BAD_ARGUMENT',
          `an update group named "${g.name}" exists already (patchscan group list); choose another name or delete it first`,
          { group: 'exists' },
        );
      }
      await s.addUpdateGroupUpdates(row.id, g.updates);
      return row.id;
    });
  }

  updateGroups(): Promise<UpdateGroupRow[]> {
    return this.db.all<UpdateGroupRow>(`SELECT g.id, g.name, g.criteria, g.deadline, g.created_at,
        (SELECT count(*) FROM update_group_updates u WHERE u.group_id = g.id) AS updates
      FROM update_groups g ORDER BY g.name_key`);
  }

  updateGroup(name: string): Promise<UpdateGroupRow | undefined> {
    return this.db.get<UpdateGroupRow>(
      `SELECT g.id, g.name, g.criteria, g.deadline, g.created_at,
        (SELECT count(*) FROM update_group_updates u WHERE u.group_id = g.id) AS updates
      FROM update_groups g WHERE g.name_key = ?`,
      [groupKey(name)],
    );
  }

  updateGroupUpdates(groupId: number): Promise<UpdateGroupUpdateRow[]> {
    return this.db.all<UpdateGroupUpdateRow>(
      'SELECT update_id, kb, title FROM update_group_updates WHERE group_id = ? ORDER BY kb, title, update_id',
      [groupId],
    );
  }

  async addUpdateGroupUpdates(groupId: number, updates: readonly UpdateGroupUpdateRow[]): Promise<number> {
    return this.tx(async (s) => {
      let added = 0;
      const ROWS = 100;
      for (let k = 0; k < updates.length; k += ROWS) {
        const chunk = updates.slice(k, k + ROWS);
        const params: (string | number)[] = [];
        for (const u of chunk) params.push(groupId, u.update_id.toLowerCase(), u.kb, u.title);
        const values = chunk.map(() => '(?, ?, ?, ?)').join(', ');
        added += (
          await s.db.run(
            `INSERT INTO update_group_updates (group_id, update_id, kb, title) VALUES ${values}
          ON CONFLICT (group_id, update_id) DO NOTHING`,
            params,
          )
        ).changes;
      }
      return added;
    });
  }

  async removeUpdateGroupUpdates(groupId: number, updateIds: readonly string[]): Promise<number> {
    if (updateIds.length === 0) return 0;
    return this.write(`DELETE FROM update_group_updates WHERE group_id = ? AND update_id IN (${updateIds.map(() => '?').join(', ')})`, [
      groupId,
      ...updateIds.map((u) => u.toLowerCase()),
    ]);
  }

  async setUpdateGroupDeadline(groupId: number, deadline: string | null): Promise<void> {
    await this.write('UPDATE update_groups SET deadline = ? WHERE id = ?', [deadline, groupId]);
  }

  async removeUpdateGroup(name: string): Promise<boolean> {
    return (await this.write('DELETE FROM update_groups WHERE name_key = ?', [groupKey(name)])) > 0;
  }

  async groupSetCounts(groupId: number): Promise<SetBucketCountRow[]> {
    // Per result set, not per client (machines sharing a profile share the set), counted in SQL: a few rows per set
    // come back, not one per set and update.
    const rows = await this.db.all<{ set_id: number; rank: number; n: number }>(
      `SELECT set_id, rank, count(*) AS n FROM (${this.bothParts(
        (p) => `SELECT ${p.set} AS set_id, r.update_id, min(${GROUP_RANK_SQL}) AS rank FROM update_group_updates g
        JOIN update_keys k ON k.update_id = g.update_id JOIN result_updates r ON r.update_key = k.id ${p.join}
        WHERE g.group_id = ? AND ${p.where} AND EXISTS (SELECT 1 FROM scans s WHERE s.set_id = ${p.set}) GROUP BY ${p.set}, r.update_id`,
      )}) x GROUP BY set_id, rank`,
      [groupId, groupId],
    );
    return rows.map((r) => ({ set_id: r.set_id, bucket: GROUP_BUCKET_ORDER[r.rank]!, n: r.n }));
  }

  clientSetGroups(): Promise<ClientSetGroupRow[]> {
    const from = 'FROM clients c LEFT JOIN scans s ON s.client_id = c.id';
    return this.db.all<ClientSetGroupRow>(`SELECT s.set_id, s.catalog_id, c.architecture, NULL AS name, count(*) AS n ${from}
      WHERE c.name_key NOT IN (SELECT computer_key FROM collection_members) GROUP BY s.set_id, s.catalog_id, c.architecture
      UNION ALL
      SELECT s.set_id, s.catalog_id, c.architecture, c.name, 1 AS n ${from}
      WHERE c.name_key IN (SELECT computer_key FROM collection_members)`);
  }

  clientSets(): Promise<ClientSetRow[]> {
    return this.db.all<ClientSetRow>(`SELECT c.name, c.name_key AS key, c.architecture, s.set_id, s.catalog_id, s.scanned_at
      FROM clients c LEFT JOIN scans s ON s.client_id = c.id ORDER BY c.name_key`);
  }

  // ---- site locks

  async tryLock(name: string, holder: string): Promise<SiteLock> {
    const key = `lock:${name}`;
    const record = JSON.stringify({ process: thisProcess(), holder });
    const advisory = (this.driver as Partial<{ tryAdvisoryLock(key: string): Promise<{ release(): Promise<void> } | undefined> }>)
      .tryAdvisoryLock;
    if (advisory) {
      // PostgreSQL: the lock is the session's; the settings row only tells others who holds it.
      const lock = await advisory.call(this.driver, `patchscan:${name}`);
      if (!lock) return { acquired: false, holder: readHolder(await this.setting(key)) };
      await this.setSetting(key, record);
      return {
        acquired: true,
        release: async () => {
          await this.tx(async (s) => {
            if ((await s.setting(key)) === record) await s.deleteSetting(key);
          }).catch(() => undefined); // the database went away: the session lock went with it
          await lock.release();
        },
      };
    }
    // SQLite: check-and-take in one write transaction, so two takers never both find a dead holder's lock theirs.
    return this.tx(async (s): Promise<SiteLock> => {
      const held = await s.setting(key);
      const holderProcess = held === undefined ? undefined : readProcess(held);
      if (held !== undefined && holderProcess !== undefined && !isGoneLocalProcess(holderProcess))
        return { acquired: false, holder: readHolder(held) };
      await s.setSetting(key, record);
      return {
        acquired: true,
        ...(held !== undefined ? { tookOverFrom: readHolder(held) } : {}),
        release: () =>
          this.tx(async (t) => {
            if ((await t.setting(key)) === record) await t.deleteSetting(key);
          }),
      };
    });
  }

  // ---- console sessions

  async addSession(x: { idHash: string; adminHash: string; createdAt: string; expiresAt: string }, at: string, max: number): Promise<void> {
    await this.tx(async (s) => {
      await s.db.run('DELETE FROM console_sessions WHERE expires_at <= ?', [at]);
      const over = (await s.count('SELECT count(*) AS n FROM console_sessions')) - max + 1;
      if (over > 0) {
        await s.db.run(
          'DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions ORDER BY created_at, id_hash LIMIT ?)',
          [over],
        );
      }
      await s.db.run('INSERT INTO console_sessions (id_hash, admin_hash, created_at, expires_at) VALUES (?, ?, ?, ?)', [
        x.idHash,
        x.adminHash,
        x.createdAt,
        x.expiresAt,
      ]);
    });
  }

  session(idHash: string): Promise<ConsoleSessionRow | undefined> {
    return this.db.get<ConsoleSessionRow>('SELECT admin_hash, expires_at FROM console_sessions WHERE id_hash = ?', [idHash]);
  }

  async removeSession(idHash: string): Promise<void> {
    await this.write('DELETE FROM console_sessions WHERE id_hash = ?', [idHash]);
  }

  removeSessions(): Promise<number> {
    return this.write('DELETE FROM console_sessions');
  }

  // ---- sync messages

  async addSyncMessage(
    messageId: number,
    severity: 'Informational' | 'Error',
    text: string,
    catalogId: number | null = null,
  ): Promise<SyncMessage> {
    const at = now();
    const id = await this.insertId('INSERT INTO sync_messages (at, message_id, severity, text, catalog_id) VALUES (?, ?, ?, ?, ?)', [
      at,
      messageId,
      severity,
      text,
      catalogId,
    ]);
    return { id, at, message_id: messageId, severity, text, catalog_id: catalogId };
  }

  syncMessages(limit: number): Promise<SyncMessage[]> {
    return this.db.all<SyncMessage>('SELECT id, at, message_id, severity, text, catalog_id FROM sync_messages ORDER BY id DESC LIMIT ?', [
      limit,
    ]);
  }
}
