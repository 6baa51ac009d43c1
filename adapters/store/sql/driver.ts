/**
 * The one seam between the site's SQL and a database: a driver runs portable SQL text (positional `?` parameters)
 * and transactions, and nothing else. Every query the site runs is written once, in `adapters/store/sql/`, in the
 * SQL that SQLite and PostgreSQL share (`ON CONFLICT … DO UPDATE`, `RETURNING`, `NULLS FIRST`); what differs — schema
 * DDL, placeholders, locking, durability knobs, value types — lives in the backend's own folder
 * (`adapters/store/sqlite/`, `adapters/store/postgres/`). In the spirit of Kysely's `Dialect`, without a query
 * builder: the SQL we need is portable as written, and the upload path pays no per-query compilation.
 *
 * Value conventions every driver keeps, so callers never see a backend's types:
 * - integers (ids, counts, sums) come back as JS numbers (PostgreSQL's int8/numeric are parsed to numbers);
 * - blobs go in and come back as Buffer; text as string; NULL as null;
 * - booleans are stored as integers 0/1 (one convention for both).
 */

export type SqlValue = string | number | bigint | null | Uint8Array;
export type SqlParams = readonly SqlValue[];

/** What can run statements: the driver itself (each statement on its own) or an open transaction. */
export interface SqlExecutor {
  /** Every row. */
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  /** The first row, or undefined. */
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /**
   * `get` for a read through a unique index (a token, a key) that takes microseconds. Where reads run on other threads
   * (SQLite's `readThreads`), this one stays on the calling thread: the round trip to a thread would cost more than
   * the read (each upload authenticates with one). Elsewhere, the same as `get`.
   */
  getByKey<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** A statement without rows; `changes` is the number of rows it touched. */
  run(sql: string, params?: SqlParams): Promise<{ readonly changes: number }>;
}

export interface TransactionOptions {
  /**
   * `full` (default): committed to stable storage before the promise resolves — an accepted upload survives a power
   * cut. `relaxed`: derived data that can be recomputed (scan results): durable across a crash of the process, and
   * after a power cut either all of it is there or none (SQLite `synchronous = NORMAL`, PostgreSQL
   * `synchronous_commit = off`).
   */
  readonly durability?: 'full' | 'relaxed';
  /**
   * `memory`: SQLite keeps the transaction's statement journals in memory (`temp_store = MEMORY` while it runs). A
   * statement that may change several rows and fail halfway on a constraint, inside a transaction, journals the first
   * copy of each page it changes, and past 64 KiB that journal is a temp file in /var/tmp: a multi-row INSERT of 100
   * result rows changes ~100 scattered pages of the index by update, and storing 300 carried result sets wrote ~34,000
   * pages to temp files (strace; ~10 % of the queue run). For transactions of such small statements only: a statement
   * that changes much at once (a prune's DELETE of whole sets, an upload's large bodies) would hold all of it in memory.
   * `file` (default): SQLite's default. PostgreSQL has no such journal and ignores it.
   */
  readonly statementJournals?: 'file' | 'memory';
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, for messages: a file path, or a URL with its password masked. */
  readonly location: string;
  /**
   * Runs `fn` in one transaction (a write transaction from its start: no upgrade deadlocks). It commits when `fn`
   * resolves and rolls back when it throws. Statements must go through `tx`; the driver serializes transactions on
   * one connection and retries a busy database off the event loop (never blocking it).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}
