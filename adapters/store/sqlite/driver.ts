/**
 * SQLite through better-sqlite3: the embedded default. One file, WAL journal, `synchronous = FULL` (a committed
 * upload survives a power cut), foreign keys on.
 *
 * better-sqlite3 is synchronous, so two rules keep the event loop free:
 * - Writes never wait inside SQLite for a lock another process holds: the write connection has a tiny busy timeout,
 *   and `BEGIN IMMEDIATE` that finds the database busy is retried with timers (the loop keeps serving) until
 *   `busyTimeoutMs`, then fails with STORE_UNAVAILABLE (the server answers 503).
 * - Reads outside a transaction use a second connection: in WAL mode readers never wait for writers, and they
 *   never see a transaction this process has open on the write connection.
 * Transactions on the write connection are serialized by a promise chain: statements of one transaction can never
 * interleave with another's, even though the transaction's function is async.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { PatchscanError } from '../../../engine/errors.js';
import type { SqlDriver, SqlExecutor, SqlParams, SqlValue, TransactionOptions } from '../sql/driver.js';

type Db = Database.Database;

export interface SqliteDriverOptions {
  /** How long a write waits, off the event loop, for another process's write lock. */
  readonly busyTimeoutMs?: number;
}

const BUSY = /^SQLITE_(BUSY|LOCKED)/;

/** Set while a transaction's function runs: a second transaction opened from inside it would wait for itself. */
const insideTransaction = new AsyncLocalStorage<string>();

const bind = (params: SqlParams | undefined): unknown[] =>
  params
    ? params.map((p: SqlValue) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p))
    : [];

/** Statements on one connection, each prepared once (preparing costs far more than running). */
class Connection implements SqlExecutor {
  private readonly statements = new Map<string, Database.Statement>();
  constructor(readonly db: Db) {}

  stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  allSync<T>(sql: string, params?: SqlParams): T[] {
    return this.stmt(sql).all(...bind(params)) as T[];
  }

  async all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.allSync<T>(sql, params);
  }

  async get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.stmt(sql).get(...bind(params)) as T | undefined;
  }

  async run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    const st = this.stmt(sql);
    // A statement with RETURNING is a reader in better-sqlite3's terms; run() refuses readers.
    if (st.reader) return { changes: st.all(...bind(params)).length };
    return { changes: st.run(...bind(params)).changes };
  }
}

function open(path: string, busyMs: number): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${busyMs}`);
  return db;
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly writer: Connection;
  private readonly reader: Connection;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly busyTimeoutMs: number;

  private constructor(
    readonly location: string,
    writer: Db,
    reader: Db,
    o: SqliteDriverOptions,
  ) {
    this.writer = new Connection(writer);
    this.reader = writer === reader ? this.writer : new Connection(reader);
    this.busyTimeoutMs = o.busyTimeoutMs ?? 5_000;
  }

  /** Opens (creating if needed) the database file at `path` (or ':memory:'). */
  static open(path: string, o: SqliteDriverOptions = {}): SqliteDriver {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      // The writer waits at most a moment inside SQLite (a checkpoint); longer waits are retried off the loop.
      const writer = open(path, 20);
      const reader = path === ':memory:' ? writer : open(path, 250);
      return new SqliteDriver(path, writer, reader, o);
    } catch (e) {
      throw new PatchscanError('IO', `cannot open the site database ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
    }
  }

  /** The write connection, for migrations (run before anything else uses the driver). */
  get database(): Db {
    return this.writer.db;
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.reader.get<T>(sql, params);
  }

  /** A single write outside a transaction is a transaction of its own. */
  run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, o: TransactionOptions = {}): Promise<T> {
    if (insideTransaction.getStore() === this.location) {
      return Promise.reject(
        new PatchscanError(
          'INTERNAL',
          `a transaction on ${this.location} was opened inside another one (it would wait ` +
            `for itself forever): pass the open transaction's store instead`,
        ),
      );
    }
    const result = this.chain.then(() => this.runTransaction(fn, o));
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async runTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>, o: TransactionOptions): Promise<T> {
    const db = this.writer.db;
    // The safety level can change only outside a transaction.
    const relaxed = o.durability === 'relaxed';
    if (relaxed) db.pragma('synchronous = NORMAL');
    try {
      await this.begin();
    } catch (e) {
      if (relaxed) db.pragma('synchronous = FULL');
      throw e;
    }
    try {
      const value = await insideTransaction.run(this.location, () => fn(this.writer));
      db.exec('COMMIT');
      return value;
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw storeError(e, this.location);
    } finally {
      if (relaxed) db.pragma('synchronous = FULL');
    }
  }

  /** BEGIN IMMEDIATE, retried with timers while another process holds the write lock. */
  private async begin(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
      try {
        this.writer.db.exec('BEGIN IMMEDIATE');
        return;
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code !== 'string' || !BUSY.test(code)) throw storeError(e, this.location);
        if (Date.now() >= deadline) {
          throw new PatchscanError(
            'STORE_UNAVAILABLE',
            `the site database ${this.location} is locked by another process (waited ` +
              `${this.busyTimeoutMs} ms); nothing was written — try again`,
            { file: this.location },
            { cause: e },
          );
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.reader !== this.writer) this.reader.db.close();
    this.writer.db.close();
  }
}

/** SQLite's "cannot write now" errors become STORE_UNAVAILABLE (503 for the server); others pass unchanged. */
export function storeError(e: unknown, location: string): unknown {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED)/.test(code)) {
    return new PatchscanError(
      'STORE_UNAVAILABLE',
      `the site database ${location} cannot be written now (${code}: disk full, read-only or busy); nothing was stored — try again later`,
      { file: location, sqlite: code },
      { cause: e },
    );
  }
  return e;
}
