/**
 * Which scan workers of a PostgreSQL site are alive, so that a dead worker's jobs come back in seconds rather than
 * after pg-boss's expiry (the lease, 300 s by default).
 *
 * - Every process that takes scan jobs (`worker`, `serve` scanning in-process, `rescan`) is a row of `<schema>.patchscan_workers`
 *   keyed by host/pid/start time (local-process.ts), with `heartbeat_at` set by the database's clock: in the
 *   transaction of each `take` that got jobs, and every `heartbeatSeconds` while the process holds any.
 * - `take` records the jobs it took in `<schema>.patchscan_job_holders` (job → worker), in the same transaction; complete and fail
 *   remove them.
 * - A worker is dead when its pid is gone on this host (a SIGKILLed or crashed process: seen at once by any live
 *   process on the same host), or when its heartbeat is older than 3 × `heartbeatSeconds` (any host: a machine that
 *   lost power or its network). Every taker looks for dead workers before taking, at most every `heartbeatSeconds`
 *   (and at once when it starts): their `active` jobs are failed through pg-boss's own fail (so they count against
 *   their retries, and a job out of retries is failed, saying why) and made takeable now instead of after a
 *   backoff; the dead worker's rows go in the same transaction. Deleting its workers row is what claims it:
 *   two reclaimers never both retry the same dead worker's jobs.
 * - A worker wrongly thought dead (its heartbeats did not reach the database for 3 intervals: an outage) keeps
 *   scanning; its jobs were handed out again, so a client may be scanned twice — never lost (the queue's contract is
 *   at least once). Its next `take` or heartbeat registers it again.
 * - pg-boss's expiry stays the backstop: a job whose holder row is missing for any reason still comes back after
 *   its lease.
 */
import { isGoneLocalProcess, thisProcess } from '../local-process.js';
import type { PgBossDb } from './driver.js';

export interface ScanWorkersOptions {
  /** The queue's schema (pg-boss's, where these tables live beside its job table; a validated name). */
  readonly schema: string;
  readonly queue: string;
  /** This process's name among the workers (default host/pid/start time; tests give others). */
  readonly workerId?: string;
  /** How often a worker holding jobs says it is alive; dead after 3 missed beats (default 10 s). */
  readonly heartbeatSeconds?: number;
  /** Background heartbeat errors (a database outage): default, ignored — the next beat tries again. */
  readonly onError?: (e: Error) => void;
}

/** pg-boss's fail of `ids` with `message`, in the transaction `db`. */
export type FailJobs = (db: PgBossDb, ids: string[], message: string) => Promise<void>;

export class ScanWorkers {
  readonly id: string;
  private readonly heartbeatSeconds: number;
  private lastReclaim = 0;
  private timer: NodeJS.Timeout | undefined;

  private readonly table: string;
  private readonly holders: string;

  /** @param db the driver's pool, for heartbeats and the look for dead workers */
  constructor(
    private readonly db: PgBossDb,
    private readonly o: ScanWorkersOptions,
  ) {
    this.id = o.workerId ?? thisProcess();
    this.table = `${o.schema}.patchscan_workers`;
    this.holders = `${o.schema}.patchscan_job_holders`;
    this.heartbeatSeconds = o.heartbeatSeconds ?? 10;
  }

  /**
   * Creates the two tables when missing, once however many processes start together (a transaction-scoped advisory
   * lock): they belong to the queue, beside pg-boss's tables, not to the site's migrations.
   */
  static async install(transaction: <T>(fn: (tx: PgBossDb) => Promise<T>) => Promise<T>, schema: string): Promise<void> {
    await transaction(async (tx) => {
      await tx.executeSql("SELECT pg_advisory_xact_lock(hashtext('patchscan:scan-workers'))");
      await tx.executeSql(
        `CREATE TABLE IF NOT EXISTS ${schema}.patchscan_workers (id text PRIMARY KEY, heartbeat_at timestamptz NOT NULL)`,
      );
      await tx.executeSql(`CREATE TABLE IF NOT EXISTS ${schema}.patchscan_job_holders (job_id uuid PRIMARY KEY, worker_id text NOT NULL)`);
      await tx.executeSql(`CREATE INDEX IF NOT EXISTS patchscan_job_holders_by_worker ON ${schema}.patchscan_job_holders (worker_id)`);
    });
  }

  /** Seconds without a heartbeat after which a worker on another host counts as dead. */
  get deadAfterSeconds(): number {
    return 3 * this.heartbeatSeconds;
  }

  /** In take's transaction, after pg-boss's fetch: this worker is alive and holds `ids`; heartbeats start. */
  async took(tx: PgBossDb, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.executeSql(
      `WITH alive AS (
        INSERT INTO ${this.table} (id, heartbeat_at) VALUES ($1, now()) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
      )
      INSERT INTO ${this.holders} (job_id, worker_id) SELECT unnest($2::uuid[]), $1
      ON CONFLICT (job_id) DO UPDATE SET worker_id = excluded.worker_id`,
      [this.id, ids],
    );
    this.timer ??= setInterval(() => void this.beat(), this.heartbeatSeconds * 1000).unref();
  }

  /** In the transaction that completes or fails `ids`: they are nobody's any more. */
  async ended(tx: PgBossDb, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await tx.executeSql(`DELETE FROM ${this.holders} WHERE job_id = ANY($1::uuid[])`, [ids]);
  }

  private async beat(): Promise<void> {
    try {
      await this.db.executeSql(
        `INSERT INTO ${this.table} (id, heartbeat_at) VALUES ($1, now()) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
        [this.id],
      );
    } catch (e) {
      this.o.onError?.(e as Error); // the next beat tries again
    }
  }

  /**
   * Before a take, at most every heartbeat interval: retries now the active jobs of workers that are dead (see the
   * header). `transaction` runs its function in one transaction; `fail` is pg-boss's fail in it.
   * Returns how many jobs were handed back.
   */
  async reclaim(transaction: <T>(fn: (tx: PgBossDb) => Promise<T>) => Promise<T>, fail: FailJobs, force = false): Promise<number> {
    const at = Date.now();
    if (!force && at - this.lastReclaim < this.heartbeatSeconds * 1000) return 0;
    this.lastReclaim = at;
    const rows = (
      await this.db.executeSql(
        `SELECT id, heartbeat_at < now() - $2 * interval '1 second' AS stale, heartbeat_at FROM ${this.table} WHERE id <> $1`,
        [this.id, this.deadAfterSeconds],
      )
    ).rows as { id: string; stale: boolean; heartbeat_at: Date }[];
    const dead = rows.filter((r) => r.stale || isGoneLocalProcess(r.id));
    if (dead.length === 0) return 0;
    return transaction(async (tx) => {
      // Deleting the row claims the dead worker: a second reclaimer waits on the row lock, then deletes nothing.
      const claimed = (await tx.executeSql(`DELETE FROM ${this.table} WHERE id = ANY($1::text[]) RETURNING id`, [dead.map((d) => d.id)]))
        .rows as { id: string }[];
      let n = 0;
      for (const { id } of claimed) {
        const d = dead.find((x) => x.id === id)!;
        const why =
          d.stale && !isGoneLocalProcess(id)
            ? `its worker ${id} stopped sending heartbeats (last ${d.heartbeat_at.toISOString()})`
            : `its worker ${id} is gone (the process ended without finishing it)`;
        n += await this.handBack(tx, fail, id, why);
      }
      return n;
    });
  }

  /**
   * A worker of this process known to be gone while the process lives on (serve's scan thread, its own worker id):
   * its active jobs failed with `why` as a fail does (a try counted, then the retry backoff: what killed the thread
   * may have been the job), its rows deleted, in one transaction. Returns how many.
   */
  release(
    transaction: <T>(fn: (tx: PgBossDb) => Promise<T>) => Promise<T>,
    fail: FailJobs,
    workerId: string,
    why: string,
  ): Promise<number> {
    return transaction(async (tx) => {
      // The workers row first, as a reclaim does: a reclaimer of another process waits on it, then finds nothing.
      await tx.executeSql(`DELETE FROM ${this.table} WHERE id = $1`, [workerId]);
      return this.handBack(tx, fail, workerId, why, false);
    });
  }

  /**
   * A gone worker's active jobs failed with `why` (a try counted) — takeable `now`, else after pg-boss's retry
   * backoff — and its holder rows deleted.
   */
  private async handBack(tx: PgBossDb, fail: FailJobs, workerId: string, why: string, now = true): Promise<number> {
    const jobs = (
      await tx.executeSql(
        `SELECT j.id FROM ${this.o.schema}.job j JOIN ${this.holders} h ON h.job_id = j.id
        WHERE h.worker_id = $1 AND j.name = $2 AND j.state = 'active'`,
        [workerId, this.o.queue],
      )
    ).rows as { id: string }[];
    const ids = jobs.map((j) => j.id);
    if (ids.length > 0) {
      await fail(tx, ids, why);
      // pg-boss's fail sets a backoff; the worker died, the job did not fail: take it again now.
      if (now)
        await tx.executeSql(
          `UPDATE ${this.o.schema}.job SET start_after = now() WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'retry'`,
          [this.o.queue, ids],
        );
    }
    await tx.executeSql(`DELETE FROM ${this.holders} WHERE worker_id = $1`, [workerId]);
    return ids.length;
  }

  /**
   * This worker's own jobs that it will not finish, handed back now (after an outage, see PgBossQueue): of the
   * active jobs it holds, each that `why` names is failed with that reason and made takeable at once. The holder
   * rows of those and of `forget` (jobs whose end is settled however it went) are deleted. Returns how many.
   */
  async giveBack(
    transaction: <T>(fn: (tx: PgBossDb) => Promise<T>) => Promise<T>,
    fail: FailJobs,
    why: (id: string) => string | undefined,
    forget: readonly string[],
  ): Promise<number> {
    return transaction(async (tx) => {
      const mine = (
        await tx.executeSql(
          `SELECT j.id FROM ${this.o.schema}.job j JOIN ${this.holders} h ON h.job_id = j.id
          WHERE h.worker_id = $1 AND j.name = $2 AND j.state = 'active'`,
          [this.id, this.o.queue],
        )
      ).rows as { id: string }[];
      const byReason = new Map<string, string[]>();
      for (const { id } of mine) {
        const reason = why(id);
        if (reason !== undefined) byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
      }
      const handed: string[] = [];
      for (const [reason, ids] of byReason) {
        await fail(tx, ids, reason);
        await tx.executeSql(
          `UPDATE ${this.o.schema}.job SET start_after = now() WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'retry'`,
          [this.o.queue, ids],
        );
        handed.push(...ids);
      }
      const done = [...handed, ...forget];
      if (done.length > 0)
        await tx.executeSql(`DELETE FROM ${this.holders} WHERE worker_id = $1 AND job_id = ANY($2::uuid[])`, [this.id, done]);
      return handed.length;
    });
  }

  /** Stops the heartbeat; a worker that ends in good order leaves no row (its jobs ended with their results). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.db
      .executeSql(`DELETE FROM ${this.table} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ${this.holders} WHERE worker_id = $1)`, [this.id])
      .catch(() => undefined);
  }
}
