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
 *
 * With `readThreads` (what `serve` opens its site with), reads outside a transaction run on worker threads, each with
 * its own connection (read-thread.ts): a report or console query that takes a second on a big site no longer holds
 * the HTTP event loop for that second. Without it (the CLI's short commands, `patchscan worker`) reads stay on the
 * calling thread, where a small read costs no message round trip.
 *
 * The WAL is checkpointed into the database file by a thread of the driver's after each commit (checkpointer.ts), not
 * by the committing connection inside its COMMIT (SQLite's way, still had with `checkpoints: 'inline'`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { PatchscanError } from '../../../engine/errors.js';
import type { SqlDriver, SqlExecutor, SqlParams, SqlValue, TransactionOptions } from '../sql/driver.js';
import type { ReadReply, ReadRequest, ReadThreadData } from './read-protocol.js';
import { readThreadMain } from './read-thread.js';
import { evalWorkerSource } from './eval-worker.js';
import { WalCheckpointer, type CheckpointStats } from './checkpointer.js';

type Db = Database.Database;

export interface SqliteDriverOptions {
  /** How long a write waits, off the event loop, for another process's write lock. */
  readonly busyTimeoutMs?: number;
  /**
   * Worker threads that run reads outside a transaction, each on its own connection (0, the default: reads run on
   * the calling thread). Started on first use; a slow read keeps one busy while the others take the next reads.
   */
  readonly readThreads?: number;
  /**
   * Who copies the WAL into the database file: `thread` (the default), a thread of the driver's own after each commit
   * (checkpointer.ts: a site's queue runs took 0.77–0.84 × their time); `inline`, the committing connection, in its
   * COMMIT, as SQLite does.
   */
  readonly checkpoints?: 'thread' | 'inline';
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

  getByKey<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.get<T>(sql, params);
  }

  async run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    const st = this.stmt(sql);
    // A statement with RETURNING is a reader in better-sqlite3's terms; run() refuses readers.
    if (st.reader) return { changes: st.all(...bind(params)).length };
    return { changes: st.run(...bind(params)).changes };
  }
}

/** The thread's source: readThreadMain's, run as an eval worker. */
const READ_THREAD_SOURCE = evalWorkerSource(readThreadMain);
const SQLITE_MODULE = createRequire(import.meta.url).resolve('better-sqlite3');

/** A blob comes back from a thread as a Uint8Array; the driver's convention is Buffer. */
function withBuffers(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return row;
  const r = row as Record<string, unknown>;
  for (const k in r) {
    const v = r[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) r[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return r;
}

interface Pending {
  resolve(rows: unknown): void;
  reject(e: unknown): void;
}

/** One read thread: its requests in flight, answered in order. */
class ReadThread {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;
  readonly exited: Promise<void>;

  constructor(data: ReadThreadData, onGone: (t: ReadThread) => void) {
    this.worker = new Worker(READ_THREAD_SOURCE, { workerData: data, eval: true });
    // Idle, the thread does not keep the process alive; a read in flight does (see send()).
    this.worker.unref();
    this.worker.on('message', (m: ReadReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error)
        p.reject(Object.assign(new Error(m.error.message), { name: m.error.name, ...(m.error.code ? { code: m.error.code } : {}) }));
      else p.resolve(m.rows);
    });
    this.exited = new Promise<void>((resolve) => {
      const gone = (e?: Error): void => {
        onGone(this);
        const why = e ? e.message : 'the thread exited';
        for (const p of this.pending.values())
          p.reject(
            new PatchscanError(
              'STORE_UNAVAILABLE',
              `the site database ${data.path} could not be read (${why}); nothing was changed — try again`,
              {
                file: data.path,
              },
            ),
          );
        this.pending.clear();
        resolve();
      };
      this.worker.once('error', gone);
      this.worker.once('exit', () => gone());
    });
  }

  send(id: number, kind: 'all' | 'get', sql: string, params: SqlParams | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const m: ReadRequest = { kind, id, sql, params: params ?? [] };
      this.worker.postMessage(m);
    });
  }
}

/** A read waiting for a thread. */
interface QueuedRead {
  readonly kind: 'all' | 'get';
  readonly sql: string;
  readonly params: SqlParams | undefined;
  resolve(rows: unknown): void;
  reject(e: unknown): void;
}

/**
 * Reads on up to `size` threads, one read per thread at a time, from one queue in arrival order: a thread that
 * finishes takes the next read. (Sending a read to "the least busy" thread could put a short read behind a slow
 * report on a thread while another thread was about to be free.)
 */
class ReadThreads {
  private readonly threads: ReadThread[] = [];
  private readonly queue: QueuedRead[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly data: ReadThreadData,
    private readonly size: number,
  ) {}

  read(kind: 'all' | 'get', sql: string, params: SqlParams | undefined): Promise<unknown> {
    if (this.closed)
      return Promise.reject(new PatchscanError('INTERNAL', `the site database ${this.data.path} was read after it was closed`));
    const p = new Promise<unknown>((resolve, reject) => this.queue.push({ kind, sql, params, resolve, reject }));
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
    this.pump();
    return p;
  }

  /** Hands queued reads to idle threads, starting threads up to `size`. */
  private pump(): void {
    while (this.queue.length > 0) {
      let t = this.threads.find((x) => x.pending.size === 0);
      if (!t && this.threads.length < this.size) {
        t = new ReadThread(this.data, (gone) => {
          const k = this.threads.indexOf(gone);
          if (k >= 0) this.threads.splice(k, 1);
        });
        this.threads.push(t);
      }
      if (!t) return; // every thread busy: the next one to finish pumps again
      const r = this.queue.shift()!;
      void t
        .send(this.nextId++, r.kind, r.sql, r.params)
        .then(r.resolve, r.reject)
        .finally(() => this.pump());
    }
  }

  /** Lets reads in flight finish, then ends every thread (and its connection). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    await Promise.all(
      this.threads.map((t) => {
        const m: ReadRequest = { kind: 'close' };
        t.worker.ref();
        t.worker.postMessage(m);
        return t.exited;
      }),
    );
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
  /** Set once close() has seen the last transaction queued: later ones are refused, not run on a closed connection. */
  private closed = false;
  private readonly busyTimeoutMs: number;
  private readonly threads: ReadThreads | undefined;
  private readonly checkpointer: WalCheckpointer | undefined;

  private constructor(
    readonly location: string,
    writer: Db,
    reader: Db,
    o: SqliteDriverOptions,
  ) {
    this.writer = new Connection(writer);
    this.reader = writer === reader ? this.writer : new Connection(reader);
    this.busyTimeoutMs = o.busyTimeoutMs ?? 5_000;
    // ':memory:' is one connection: another thread would open a different, empty database.
    const n = writer === reader ? 0 : Math.max(0, Math.floor(o.readThreads ?? 0));
    this.threads = n > 0 ? new ReadThreads({ path: location, busyMs: 250, sqliteModule: SQLITE_MODULE }, n) : undefined;
    this.checkpointer =
      writer !== reader && o.checkpoints !== 'inline'
        ? // Absolute: the thread opens its connection later, maybe after the process changed directory.
          new WalCheckpointer({ path: resolvePath(location), sqliteModule: SQLITE_MODULE }, writer)
        : undefined;
  }

  /**
   * Resolves once every commit so far has been checkpointed by the checkpoint thread, with what it last reported
   * (undefined: this driver's commits checkpoint inline).
   */
  async checkpointsSettled(): Promise<CheckpointStats | undefined> {
    if (!this.checkpointer) return undefined;
    await this.checkpointer.settled();
    return this.checkpointer.last;
  }

  /** What the checkpoint thread has reported so far, now (undefined: checkpoints are inline). */
  checkpointStats(): CheckpointStats | undefined {
    return this.checkpointer?.last;
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

  async all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    if (!this.threads) return this.reader.all<T>(sql, params);
    const rows = (await this.threads.read('all', sql, params)) as unknown[];
    for (const r of rows) withBuffers(r);
    return rows as T[];
  }

  async get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    if (!this.threads) return this.reader.get<T>(sql, params);
    return withBuffers(await this.threads.read('get', sql, params)) as T | undefined;
  }

  /** On this thread's read connection even with read threads (see SqlExecutor.getByKey). */
  getByKey<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
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
    if (this.closed)
      // Refused as the database being unavailable (an upload racing a shutdown answers 503, try again), not as a bug.
      return Promise.reject(
        new PatchscanError('STORE_UNAVAILABLE', `the site database ${this.location} was written after it was closed; nothing was written`),
      );
    const result = this.chain.then(() => this.runTransaction(fn, o));
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async runTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>, o: TransactionOptions): Promise<T> {
    const db = this.writer.db;
    // The safety level can change only outside a transaction; where statement journals go is decided when the write
    // transaction begins (BEGIN IMMEDIATE).
    const relaxed = o.durability === 'relaxed';
    const memoryJournals = o.statementJournals === 'memory';
    const restore = (): void => {
      if (relaxed) db.pragma('synchronous = FULL');
      if (memoryJournals) db.pragma('temp_store = DEFAULT');
    };
    if (relaxed) db.pragma('synchronous = NORMAL');
    if (memoryJournals) db.pragma('temp_store = MEMORY');
    try {
      await this.begin();
    } catch (e) {
      restore();
      throw e;
    }
    let committed = false;
    try {
      const value = await insideTransaction.run(this.location, () => fn(this.writer));
      db.exec('COMMIT');
      committed = true;
      return value;
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw storeError(e, this.location);
    } finally {
      restore();
      // Outside the try, and never thrown: a committed transaction is not reported failed for a checkpoint.
      if (committed)
        try {
          this.checkpointer?.committed();
        } catch {
          // the writer's own checkpoint past its limit still copies the WAL
        }
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

  /**
   * Closes once every transaction queued before the connections close has run, including any queued meanwhile: the
   * caller stops what produces transactions first (serve and worker do), or this waits for as long as they come.
   */
  async close(): Promise<void> {
    for (let seen: Promise<unknown> | undefined; seen !== this.chain;) await (seen = this.chain);
    this.closed = true;
    await this.checkpointer?.close();
    await this.threads?.close();
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
