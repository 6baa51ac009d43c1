/**
 * PostgreSQL through node-postgres (`pg`): a site that outgrows one SQLite file, or runs several servers and
 * workers against one database. One `pg.Pool` per driver; every statement outside a transaction takes any pooled
 * connection, a transaction holds one connection from BEGIN to COMMIT.
 *
 * What this file adapts to the driver contract (adapters/store/sql/driver.ts):
 * - placeholders: the site's SQL uses `?`; PostgreSQL wants `$1…$n` (rewritten once per SQL text, then cached);
 * - values: int8 (counts, sums, bigserial ids) and numeric come back as JS numbers, not strings — set on this pool
 *   only (pg's `types` option), never with the process-global `pg.types.setTypeParser`, so other pg users in the
 *   process (pg-boss's own pool, tests) keep pg's defaults; bytea stays Buffer (pg's default);
 * - durability: a `relaxed` transaction sets `synchronous_commit = off` for itself only (`SET LOCAL`);
 * - outages: a refused connection, a server shutting down, a lost connection, a read-only standby or a full disk
 *   become STORE_UNAVAILABLE (the server answers 503, workers retry later); other SQL errors pass through as pg's
 *   DatabaseError with its SQLSTATE `code`, so callers can tell a constraint violation from an outage.
 * Messages name host, port and database, never the password.
 */
import pg from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import { PatchscanError } from '../../../engine/errors.js';
import { maskDatabaseUrl } from '../database-url.js';
import type { SqlDriver, SqlExecutor, SqlParams, TransactionOptions } from '../sql/driver.js';

// Where it was first: the tests and earlier importers take it from here.
export { maskDatabaseUrl };

export interface PostgresDriverOptions {
  /** Most connections this process opens (default 10). A transaction holds one; so does a held advisory lock. */
  readonly max?: number;
  /** How long to wait for a connection, from the server or the pool, before STORE_UNAVAILABLE (default 10 s). */
  readonly connectionTimeoutMillis?: number;
  /** Idle connections are closed after this long (default 30 s). */
  readonly idleTimeoutMillis?: number;
  /** Shown in pg_stat_activity (default `patchscan`). */
  readonly applicationName?: string;
}

/** The shape pg-boss 10 accepts as its `db` (constructor option, and `send`/`complete`/`fetch`… `{ db }` option). */
export interface PgBossDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** Where a driver's connections go, for messages and error details. */
interface Target {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Scrubbed from every message, in case a cause ever quotes it. */
  readonly password: string | undefined;
  /** The URL with its password masked. */
  readonly location: string;
}

// ---------------------------------------------------------------------------------------------------------------
// URLs

function targetOf(url: string): Target {
  // pg's own reading of the URL (with PGHOST, PGPORT… defaults and `?host=/socket/dir`), without connecting.
  const c = new pg.Client({ connectionString: url });
  const password = typeof c.password === 'string' && c.password !== '' ? c.password : undefined;
  return {
    host: c.host || 'localhost',
    port: c.port || 5432,
    database: c.database ?? c.user ?? '',
    user: c.user ?? '',
    password,
    location: maskDatabaseUrl(url),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Placeholders

const MAX_CACHED_SQL = 2_000;

/**
 * `?` → `$1…$n`, outside single-quoted literals (where `''` is an escaped quote: two toggles), double-quoted
 * identifiers, dollar-quoted bodies and comments. Not understood, because the site's SQL never uses them:
 * backslash escapes in E'…' literals, and PostgreSQL's `?`-operators (jsonb `?`, `?|`, `?&`), which would be
 * rewritten too.
 */
export function toPositional(sql: string): string {
  let out = '';
  let n = 0;
  let from = 0;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      i = end < 0 ? sql.length : end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? sql.length : end;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (ch === '$') {
      // A dollar-quoted body ($$ … $$, $fn$ … $fn$), as in a migration's function; not a $1 parameter.
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (tag !== undefined && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end < 0 ? sql.length : end + tag.length - 1;
      }
    } else if (ch === '?') {
      out += sql.slice(from, i) + '$' + ++n;
      from = i + 1;
    }
  }
  return n === 0 ? sql : out + sql.slice(from);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** SQLSTATEs that mean "the database is not there for us now", not "your statement is wrong". */
const UNAVAILABLE_SQLSTATE = [
  /^08/, // connection exception
  /^57P0[1-4]$/, // admin/crash shutdown, cannot connect now, database dropped
  /^53/, // insufficient resources: disk full, out of memory, too many connections
  /^25006$/, // read-only transaction: a standby, or default_transaction_read_only
  /^3D000$/, // the database does not exist
  /^28/, // authentication / authorization
];
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT',
  'EACCES',
]);
// node-postgres raises these as plain Errors, without a code.
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed/i;

function isUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && (UNAVAILABLE_ERRNO.has(code) || UNAVAILABLE_SQLSTATE.some((re) => re.test(code)))) return true;
  if (e instanceof AggregateError) return e.errors.some(isUnavailable); // ECONNREFUSED on both ::1 and 127.0.0.1
  return e instanceof Error && UNAVAILABLE_MESSAGE.test(e.message);
}

function why(e: unknown, t: Target): string {
  const err = e as { code?: unknown; message?: unknown; errors?: unknown[] };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running, and listening on that host and port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${t.host} not found`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the server did not answer (network or firewall?)';
    case 'ENOENT':
      return `no server socket in ${t.host} (is PostgreSQL running?)`;
    case '3D000':
      return `database "${t.database}" does not exist (create it, or fix the database in the URL)`;
    case '28P01':
    case '28000':
      return `the server refused user "${t.user}" (${String(err.message)}): check the user and password in the URL and pg_hba.conf`;
    case '57P01':
    case '57P02':
      return 'the server is shutting down';
    case '57P03':
      return 'the server is starting up or in recovery';
    case '25006':
      return 'the server is read-only (a standby?)';
    case '53100':
      return "the database server's disk is full";
    case '53300':
      return 'the server has too many connections';
    default:
      break; // not one we can say more about: the driver's own message below
  }
  if (e instanceof AggregateError && e.errors.length > 0) return why(e.errors[0], t);
  return typeof err?.message === 'string' && err.message !== '' ? err.message : String(e);
}

function unavailable(e: unknown, t: Target, action: string): PatchscanError {
  let message = `cannot ${action} the site database "${t.database}" on ${t.host}:${t.port}: ${why(e, t)}`;
  if (t.password) message = message.split(t.password).join('***');
  const code = (e as { code?: unknown })?.code;
  return new PatchscanError(
    'STORE_UNAVAILABLE',
    message,
    { host: t.host, port: t.port, database: t.database, user: t.user, cause: typeof code === 'string' ? code : undefined },
    { cause: e },
  );
}

/** Outages become STORE_UNAVAILABLE; everything else (a constraint, a syntax error) passes through unchanged. */
function mapError(e: unknown, t: Target, action = 'use'): unknown {
  if (PatchscanError.is(e)) return e;
  return isUnavailable(e) ? unavailable(e, t, action) : e;
}

// ---------------------------------------------------------------------------------------------------------------
// Executors

type Queryable = Pick<pg.Pool, 'query'> | PoolClient;

/** The raw `$n` query function of a Postgres executor, for pg-boss; module-private. */
const RAW = Symbol('postgres raw query');

/** A text that opens its own transaction (pg-boss's `locked()` scripts). */
const OPENS_TRANSACTION = /^\s*BEGIN\b/i;

interface PostgresExecutor extends SqlExecutor {
  readonly [RAW]: (text: string, values?: unknown[]) => Promise<QueryResult>;
}

class Executor implements PostgresExecutor {
  /** Set when the transaction that owns this executor ended: a statement on a released connection would run on
   * whatever session the pool hands it to next. */
  ended = false;

  constructor(
    private readonly on: Queryable,
    private readonly target: Target,
    private readonly positional: (sql: string) => string,
  ) {}

  async [RAW](text: string, values?: unknown[]): Promise<QueryResult> {
    if (this.ended) throw new PatchscanError('INTERNAL', 'a statement ran on a PostgreSQL transaction that had already ended');
    try {
      return await this.on.query(text, values as unknown[]);
    } catch (e) {
      throw mapError(e, this.target);
    }
  }

  async all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return (await this[RAW](this.positional(sql), params as unknown[] | undefined)).rows as T[];
  }

  async get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this[RAW](this.positional(sql), params as unknown[] | undefined)).rows[0] as T | undefined;
  }

  getByKey<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.get<T>(sql, params);
  }

  async run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    return { changes: (await this[RAW](this.positional(sql), params as unknown[] | undefined)).rowCount ?? 0 };
  }
}

/**
 * pg-boss's `db` for a Postgres executor: pass `pgBossDb(tx)` as `send(…, { db })` and the job is inserted in that
 * transaction (it commits or rolls back with the caller's writes). Given the driver itself, statements run on its
 * pool (pg-boss's constructor `db` option: one pool per site, not two).
 */
export function pgBossDb(executor: SqlExecutor): PgBossDb {
  const raw = (executor as Partial<PostgresExecutor>)[RAW];
  if (typeof raw !== 'function') {
    throw new PatchscanError(
      'INTERNAL',
      "pg-boss needs a PostgreSQL executor (a PostgresDriver or one of its transactions); got another backend's",
    );
  }
  return { executeSql: (text, values) => raw.call(executor, text, values) };
}

// ---------------------------------------------------------------------------------------------------------------
// The driver

/** Parsers for this pool only: int8 and numeric as JS numbers, the rest pg's defaults (bytea → Buffer). */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (v: string) => (v === null ? null : Number(v));
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface AdvisoryLock {
  /** Unlocks and gives the connection back. Idempotent; never throws (a lost connection has released it already). */
  release(): Promise<void>;
  /** True once the holding connection died: the lock is gone, another process may hold it now. */
  readonly lost: boolean;
}

export class PostgresDriver implements SqlDriver, PostgresExecutor {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  private readonly target: Target;
  private readonly pool: pg.Pool;
  private readonly poolExecutor: Executor;
  private readonly sqlCache = new Map<string, string>();
  private readonly locks = new Set<AdvisoryLock>();
  private closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool, target: Target) {
    this.pool = pool;
    this.target = target;
    this.location = target.location;
    this.poolExecutor = new Executor(pool, target, this.positional);
  }

  /**
   * Opens a pool to `url` (`postgres://user:password@host:port/database`) and checks, with `SELECT 1`, that the
   * server answers and lets us in: a wrong URL fails here, with STORE_UNAVAILABLE naming host, port and database.
   */
  static async connect(url: string, o: PostgresDriverOptions = {}): Promise<PostgresDriver> {
    let target: Target;
    try {
      // pg reads other strings too, but guesses (a keyword string becomes host "base"): only URLs are accepted.
      if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error('not a postgres:// URL');
      target = targetOf(url);
    } catch (e) {
      throw new PatchscanError(
        'BAD_ARGUMENT',
        `not a PostgreSQL URL: ${maskDatabaseUrl(url)} (expected postgres://user:password@host:port/database)`,
        { url: maskDatabaseUrl(url) },
        { cause: e },
      );
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: o.max ?? 10,
      connectionTimeoutMillis: o.connectionTimeoutMillis ?? 10_000,
      idleTimeoutMillis: o.idleTimeoutMillis ?? 30_000,
      application_name: o.applicationName ?? 'patchscan',
      keepAlive: true,
      types: typeParsers,
    });
    // An idle pooled connection whose server goes away emits 'error' on the pool; unheard, it would crash the
    // process. The pool drops that connection; the next statement gets a fresh one or a clear STORE_UNAVAILABLE.
    pool.on('error', () => undefined);
    const driver = new PostgresDriver(pool, target);
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw isUnavailable(e) ? unavailable(e, target, 'connect to') : mapError(e, target, 'connect to');
    }
    return driver;
  }

  private readonly positional = (sql: string): string => {
    let text = this.sqlCache.get(sql);
    if (text === undefined) {
      text = toPositional(sql);
      // The site's SQL is a fixed set of strings; the bound only matters if someone builds SQL dynamically.
      if (this.sqlCache.size >= MAX_CACHED_SQL) this.sqlCache.clear();
      this.sqlCache.set(sql, text);
    }
    return text;
  };

  [RAW](text: string, values?: unknown[]): Promise<QueryResult> {
    return OPENS_TRANSACTION.test(text) ? this.scriptWithTransaction(text, values) : this.poolExecutor[RAW](text, values);
  }

  /**
   * pg-boss runs its schema set-up and maintenance as one multi-statement text, `BEGIN; …; COMMIT;`. When a
   * statement in it fails, the session stays inside an aborted transaction; on a pooled connection every later
   * statement of whoever gets it would fail. Such a text gets a connection of its own, rolled back on failure.
   */
  private async scriptWithTransaction(text: string, values?: unknown[]): Promise<QueryResult> {
    const { client, broken, done } = await this.checkout();
    let destroy = false;
    try {
      return await client.query(text, values as unknown[]);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        destroy = true;
      });
      if (isUnavailable(e)) destroy = true;
      throw mapError(e, this.target);
    } finally {
      done();
      client.release(destroy || broken() ? new Error('connection discarded after a connection error') : undefined);
    }
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.poolExecutor.all<T>(sql, params);
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.poolExecutor.get<T>(sql, params);
  }

  getByKey<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.poolExecutor.get<T>(sql, params);
  }

  /** A single statement outside a transaction commits on its own (autocommit). */
  run(sql: string, params?: SqlParams): Promise<{ changes: number }> {
    return this.poolExecutor.run(sql, params);
  }

  /** A connection of its own, with an 'error' listener for while it is checked out (see connect()). */
  private async checkout(): Promise<{ client: PoolClient; broken: () => boolean; done: () => void }> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw mapError(e, this.target, 'connect to');
    }
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    return { client, broken: () => broken, done: () => client.off('error', onError) };
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, o: TransactionOptions = {}): Promise<T> {
    const { client, broken, done } = await this.checkout();
    const tx = new Executor(client, this.target, this.positional);
    let destroy = false;
    try {
      await tx[RAW]('BEGIN');
      // Only this transaction's commit skips the WAL flush; the session's setting is untouched after it.
      if (o.durability === 'relaxed') await tx[RAW]('SET LOCAL synchronous_commit = off');
      const value = await fn(tx);
      await tx[RAW]('COMMIT');
      return value;
    } catch (e) {
      // After a failed COMMIT the server has already ended the transaction; ROLLBACK then only warns.
      await client.query('ROLLBACK').catch(() => {
        destroy = true;
      });
      if (isUnavailable(e)) destroy = true;
      throw mapError(e, this.target);
    } finally {
      tx.ended = true;
      done();
      // A connection that errored, or whose ROLLBACK failed, may be mid-transaction: destroy it, never reuse it.
      client.release(destroy || broken() ? new Error('connection discarded after a connection error') : undefined);
    }
  }

  /**
   * Takes a session-level advisory lock on `key` if no one holds it (`pg_try_advisory_lock(hashtext(key))`), on a
   * connection kept for the lock until `release()`. Session locks die with their connection, so a process that is
   * killed cannot leave the lock held — unlike a lock row in a table. Returns undefined when another session holds it.
   */
  async tryAdvisoryLock(key: string): Promise<AdvisoryLock | undefined> {
    const { client, broken, done } = await this.checkout();
    let row: { locked: boolean } | undefined;
    try {
      row = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key])).rows[0];
    } catch (e) {
      done();
      client.release(e instanceof Error ? e : new Error(String(e)));
      throw mapError(e, this.target);
    }
    if (!row?.locked) {
      done();
      client.release();
      return undefined;
    }
    let released: Promise<void> | undefined;
    const lock: AdvisoryLock = {
      get lost() {
        return broken();
      },
      release: () => {
        released ??= (async () => {
          let ok = false;
          if (!broken()) {
            ok = await client.query<{ ok: boolean }>('SELECT pg_advisory_unlock(hashtext($1)) AS ok', [key]).then(
              (r) => r.rows[0]?.ok === true,
              () => false,
            );
          }
          done();
          this.locks.delete(lock);
          // A connection whose unlock did not happen may still hold the lock: end it, which releases it for sure.
          client.release(ok ? undefined : new Error('advisory lock connection discarded'));
        })();
        return released;
      },
    };
    this.locks.add(lock);
    return lock;
  }

  /** Ends the pool: waits for running statements, then closes every connection (held advisory locks included). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Checked-out lock connections would keep pool.end() waiting forever. Unlocking (rather than only dropping
      // the connection) means the lock is free when close() resolves, not when the server gets round to it.
      await Promise.all([...this.locks].map((l) => l.release()));
      await this.pool.end();
    })();
    return this.closing;
  }
}
