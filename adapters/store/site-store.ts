/**
 * The site database (SQLite through better-sqlite3): one file, WAL journal, `synchronous = FULL` so that a
 * committed upload survives a power cut before the server answers 202, foreign keys on, versioned migrations.
 * Queries a report or the server runs are backed by an index (see migrations.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { PatchscanError } from '../../engine/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export const now = (): string => new Date().toISOString();
export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export interface ClientRow {
  readonly id: number;
  readonly name: string;
  readonly token_hash: string | null;
  readonly architecture: string | null;
  readonly enrolled_at: string | null;
  readonly last_upload_at: string | null;
  readonly last_scan_at: string | null;
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

export interface QueueItem {
  readonly id: number;
  readonly client_id: number;
  readonly priority: number;
  readonly reason: string;
}

export interface SyncMessage {
  readonly id: number;
  readonly at: string;
  readonly message_id: number;
  readonly severity: string;
  readonly text: string;
  readonly catalog_id: number | null;
}

export const PRIORITY_EXPEDITED = 0;
export const PRIORITY_NORMAL = 1;

export class SiteStore {
  readonly db: Db;

  private constructor(db: Db) {
    this.db = db;
  }

  /** Opens (creating if needed) the database at `path` and brings its schema up to date. */
  static open(path: string): SiteStore {
    let db: Db;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (e) {
      throw new PatchscanError('IO', `cannot open the site database ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
    }
    const store = new SiteStore(db);
    store.migrate();
    return store;
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    const from = this.schemaVersion;
    if (from > MIGRATIONS.length) {
      throw new PatchscanError('BAD_ARGUMENT', `the site database has schema version ${from}, newer than this patchscan knows (${MIGRATIONS.length}): upgrade patchscan`);
    }
    for (let v = from; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, prepared once per SQL text (preparing is far costlier than running). */
  stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * A transaction for derived data (scan results and the queue items they finish): committed with
   * `synchronous = NORMAL` — durable across a crash of the process, and after a power cut either both the result
   * and its dequeue are there or neither (the scan is then simply run again). Uploads keep `FULL`.
   */
  derivedTx<T>(fn: () => T): T {
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.tx(fn);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  // ---- settings

  setting(key: string): string | undefined {
    return (this.stmt('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setSetting(key: string, value: string): void {
    this.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  deleteSetting(key: string): void {
    this.stmt('DELETE FROM settings WHERE key = ?').run(key);
  }

  // ---- clients

  client(name: string): ClientRow | undefined {
    return this.stmt('SELECT * FROM clients WHERE name = ?').get(name) as ClientRow | undefined;
  }

  clientById(id: number): ClientRow | undefined {
    return this.stmt('SELECT * FROM clients WHERE id = ?').get(id) as ClientRow | undefined;
  }

  clientByToken(token: string): ClientRow | undefined {
    return this.stmt('SELECT * FROM clients WHERE token_hash = ?').get(sha256Hex(token)) as ClientRow | undefined;
  }

  clients(): ClientRow[] {
    return this.stmt('SELECT * FROM clients ORDER BY name').all() as ClientRow[];
  }

  /** Issues a new token for `name` (creating the client); only its hash is kept. Returns the token. */
  enroll(name: string): string {
    if (!/^[^\s/\\][^/\\]{0,254}$/.test(name)) throw new PatchscanError('BAD_ARGUMENT', `client name ${JSON.stringify(name)} must be 1 to 255 characters without slashes`);
    const token = `pst_${randomBytes(32).toString('base64url')}`;
    this.stmt(`INSERT INTO clients (name, token_hash, enrolled_at) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, enrolled_at = excluded.enrolled_at`).run(name, sha256Hex(token), now());
    return token;
  }

  // ---- inventories

  /** Stores an inventory and updates the client; returns the inventory id. Call inside tx() with the enqueue. */
  addInventory(clientId: number, body: Uint8Array, architecture: string): number {
    const at = now();
    const r = this.stmt('INSERT INTO inventories (client_id, received_at, sha256, body) VALUES (?, ?, ?, ?)').run(clientId, at, sha256Hex(body), body);
    this.stmt('UPDATE clients SET architecture = ?, last_upload_at = ? WHERE id = ?').run(architecture, at, clientId);
    return Number(r.lastInsertRowid);
  }

  latestInventory(clientId: number): { id: number; body: Buffer; received_at: string } | undefined {
    return this.stmt('SELECT id, body, received_at FROM inventories WHERE client_id = ? ORDER BY id DESC LIMIT 1').get(clientId) as { id: number; body: Buffer; received_at: string } | undefined;
  }

  inventoryCount(clientId: number): number {
    return (this.stmt('SELECT count(*) AS n FROM inventories WHERE client_id = ?').get(clientId) as { n: number }).n;
  }

  // ---- catalogs

  addCatalog(c: Omit<CatalogRow, 'id' | 'imported_at'>): number {
    const r = this.stmt('INSERT INTO catalogs (sha256, source, path, revisions, signer, signed_at, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(c.sha256, c.source, c.path, c.revisions, c.signer, c.signed_at, now());
    return Number(r.lastInsertRowid);
  }

  catalog(id: number): CatalogRow | undefined {
    return this.stmt('SELECT * FROM catalogs WHERE id = ?').get(id) as CatalogRow | undefined;
  }

  catalogBySha(sha256: string): CatalogRow | undefined {
    return this.stmt('SELECT * FROM catalogs WHERE sha256 = ?').get(sha256) as CatalogRow | undefined;
  }

  currentCatalog(): CatalogRow | undefined {
    const id = this.setting('current_catalog');
    return id === undefined ? undefined : this.catalog(Number(id));
  }

  // ---- scan queue

  /**
   * Queues a scan of a client. A client waits in the queue once per priority; an expedited request replaces a
   * normal one (the expedited scan does that work).
   */
  enqueue(clientId: number, priority: number, reason: string): void {
    const q = this.stmt('SELECT id, priority FROM scan_queue WHERE client_id = ?').all(clientId) as { id: number; priority: number }[];
    if (q.some((x) => x.priority <= priority)) return;
    for (const x of q) this.stmt('DELETE FROM scan_queue WHERE id = ?').run(x.id);
    this.stmt('INSERT INTO scan_queue (client_id, priority, enqueued_at, reason) VALUES (?, ?, ?, ?)').run(clientId, priority, now(), reason);
  }

  /** The next scan to run: expedited first, then in arrival order. */
  nextQueued(): QueueItem | undefined {
    return this.stmt('SELECT id, client_id, priority, reason FROM scan_queue ORDER BY priority, id LIMIT 1').get() as QueueItem | undefined;
  }

  dequeue(id: number): void {
    this.stmt('DELETE FROM scan_queue WHERE id = ?').run(id);
  }

  queueLength(): { expedited: number; normal: number } {
    const rows = this.stmt('SELECT priority, count(*) AS n FROM scan_queue GROUP BY priority').all() as { priority: number; n: number }[];
    return { expedited: rows.find((r) => r.priority === PRIORITY_EXPEDITED)?.n ?? 0, normal: rows.find((r) => r.priority === PRIORITY_NORMAL)?.n ?? 0 };
  }

  // ---- sync messages

  addSyncMessage(messageId: number, severity: 'Informational' | 'Error', text: string, catalogId: number | null = null): SyncMessage {
    const at = now();
    const r = this.stmt('INSERT INTO sync_messages (at, message_id, severity, text, catalog_id) VALUES (?, ?, ?, ?, ?)').run(at, messageId, severity, text, catalogId);
    return { id: Number(r.lastInsertRowid), at, message_id: messageId, severity, text, catalog_id: catalogId };
  }

  syncMessages(limit = 50): SyncMessage[] {
    return this.stmt('SELECT * FROM sync_messages ORDER BY id DESC LIMIT ?').all(limit) as SyncMessage[];
  }
}
