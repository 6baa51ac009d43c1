/**
 * The scan queue of a PostgreSQL site: pg-boss 10 (pg-boss 11+ needs Node 22), in its own schema
 * (`patchscan_boss`) of the site database, on the site driver's pool (no second pool).
 *
 * How the ScanQueue contract (adapters/store/queue.ts) maps onto pg-boss 10:
 * - enqueue → `send(…, { db })` with the caller's transaction as `db`: the job row commits or rolls back with the
 *   upload that needs it.
 * - "a client waits at most once per priority" → the queue's `short` policy plus `singletonKey` = client + priority:
 *   pg-boss keeps a unique index on (queue, singleton key) over jobs in state `created`, and `send` inserts with
 *   ON CONFLICT DO NOTHING (it returns null). A job already taken (`active`) does not count — its worker may be
 *   scanning an older inventory, so a new upload queues a new scan. An expedited request beside a waiting normal
 *   one keeps both (the normal one then rescans a client just scanned: harmless, and cheaper than reaching into
 *   pg-boss's table to delete it). A job waiting out a retry backoff (state `retry`) is not in that index either,
 *   so a new upload for that client queues one more.
 * - priorities → pg-boss `priority` (fetch takes the highest first, then oldest): expedited 1, normal 0.
 * - take → `fetch(…, { batchSize, includeMetadata })`; the lease is pg-boss's expiry: a job `active` longer than
 *   its `expire_in` is failed by pg-boss's maintenance ("job failed by timeout in active state") and so retried
 *   like any failure — after its backoff, and counting against its retry limit. The expiry is noticed on the next
 *   maintenance run (`maintenanceIntervalSeconds`, run by one process per site at a time). `take(max,
 *   leaseSeconds)` sets `expire_in` of the jobs it took in the same transaction as the fetch. That expiry is only
 *   the backstop: takers record which jobs they hold and beat a heartbeat (scan-workers.ts), and a worker whose
 *   process is gone from this host, or whose heartbeats stopped on any host, has its jobs retried at the next take
 *   of a live worker — seconds, not the lease.
 * - complete → `complete(…, { db })` inside the caller's transaction (pg-boss 10 takes `db` on complete): the
 *   result and the job's end commit together. pg-boss completes only `active` jobs: a job whose lease ran out and
 *   that was handed out again is completed by whichever worker ends first; the other's complete is a no-op, and the
 *   other's scan was redundant, never lost (at least once).
 * - fail → `fail(…)`: pg-boss moves it to `retry` with `start_after` = now + retryDelay × 2^retries × (1…2)
 *   (retryBackoff), or to `failed` after `retryLimit` retries (1 + retryLimit tries in all).
 * - status / failedJobs → reads of pg-boss's job table (`<schema>.job`, partitioned by queue) and of its archive
 *   (`<schema>.archive`, where maintenance moves ended jobs), the tables pg-boss's own getJobById reads.
 */
import PgBoss from 'pg-boss';
import { PatchscanError } from '../../../engine/errors.js';
import type { FailedJob, NewScan, QueueStatus, ScanJob, ScanPriority, ScanQueue } from '../queue.js';
import type { SqlExecutor } from '../sql/driver.js';
import { pgBossDb, type PgBossDb, type PostgresDriver } from './driver.js';
import { ScanWorkers } from './scan-workers.js';

export const PGBOSS_SCHEMA = 'patchscan_boss';
const QUEUE = 'scan';

const PRIORITY: Record<ScanPriority, number> = { expedited: 1, normal: 0 };
const EXPIRED = 'job failed by timeout in active state';

export interface PgBossQueueOptions {
  /** pg-boss's own schema in the site database (default `patchscan_boss`). */
  readonly schema?: string;
  /** Lease of a job whose `take` gives none (default 300 s). */
  readonly leaseSeconds?: number;
  /** Retries after the first try (default 3). */
  readonly retryLimit?: number;
  /** First retry waits 1–2 × this, then doubling (default 5 s). */
  readonly retryDelaySeconds?: number;
  /**
   * How often pg-boss's maintenance runs (default 60 s): it notices ran-out leases, and archives ended jobs.
   * One process per site runs it per interval, whatever the number of servers and workers.
   */
  readonly maintenanceIntervalSeconds?: number;
  /** Completed jobs leave the job table for the archive after this long (default 1 h). */
  readonly archiveCompletedAfterSeconds?: number;
  /** Failed jobs stay in the job table this long (default 14 days); the archive keeps them 7 more days. */
  readonly archiveFailedAfterSeconds?: number;
  /**
   * How often a process holding scan jobs says it is alive (default 10 s); after 3 missed beats its jobs are handed
   * out again (scan-workers.ts). A process of this host that is gone is seen at once.
   */
  readonly heartbeatSeconds?: number;
  /** This process's name among the site's workers (default host/pid/start time; tests name others). */
  readonly workerId?: string;
  /** Errors of pg-boss's background maintenance (a database outage): default, a line on stderr. */
  readonly onError?: (error: Error) => void;
}

interface ScanData {
  readonly clientId: number;
  readonly priority: ScanPriority;
  readonly reason: string;
}

const singletonKey = (clientId: number, priority: ScanPriority): string => `client:${clientId}:${priority}`;

/**
 * pg-boss's `fetch` swallows every error (it expects only unique violations there) and returns no jobs: a database
 * outage would look like an empty queue. This `db` remembers the error so `take` can throw it.
 */
function recording(db: PgBossDb): PgBossDb & { readonly error: unknown } {
  const r = {
    error: undefined as unknown,
    executeSql: async (text: string, values?: unknown[]) => {
      try {
        return await db.executeSql(text, values);
      } catch (e) {
        r.error ??= e;
        throw e;
      }
    },
  };
  return r;
}

/**
 * pg-boss 10's create_queue() deadlocks when two processes create the same queue at once (a server and a worker
 * starting together on a new site): one inserts the queue row while the other attaches its partition. PostgreSQL
 * picks a victim and rolls its statement back; run again, it finds the queue there and does nothing.
 */
async function onDeadlockRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: unknown }).code !== '40P01' || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, attempt * (20 + Math.random() * 80)));
    }
  }
}

const errorText = (output: unknown): string => {
  const o = output as { message?: unknown; value?: { message?: unknown } } | null;
  const m = typeof o?.message === 'string' ? o.message : typeof o?.value?.message === 'string' ? o.value.message : undefined;
  if (m === EXPIRED) return 'its lease ran out: the worker stopped, or took longer than the lease';
  return m ?? (output === null || output === undefined ? 'unknown error' : JSON.stringify(output));
};

export class PgBossQueue implements ScanQueue {
  private readonly job: string;
  private readonly archive: string;
  private readonly workers: ScanWorkers;
  /** Jobs this queue handed out and that have not ended yet (taken, not completed or failed). */
  private readonly holding = new Set<string>();
  /** Jobs whose fail could not reach the database (an outage), with why: failed at the next take. */
  private readonly unfinished = new Map<string, string>();
  /** A take's transaction was cut short by an outage: it may have taken jobs we never saw. */
  private takeInDoubt = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly boss: PgBoss,
    private readonly driver: PostgresDriver,
    schema: string,
    private readonly o: Required<Pick<PgBossQueueOptions, 'leaseSeconds' | 'retryLimit' | 'retryDelaySeconds'>>,
    /** Shared with the 'error' listener: once closing, maintenance errors are expected. */
    private readonly life: { closing: boolean },
    liveness: Pick<PgBossQueueOptions, 'heartbeatSeconds' | 'workerId'>,
  ) {
    this.job = `${schema}.job`;
    this.archive = `${schema}.archive`;
    this.workers = new ScanWorkers(pgBossDb(driver), { schema, queue: QUEUE, ...liveness });
  }

  /**
   * Installs or migrates pg-boss's schema (under its own advisory lock: several processes may start at once),
   * creates the scan queue, and starts maintenance. Call `close()` to stop its timers.
   */
  static async start(driver: PostgresDriver, options: PgBossQueueOptions = {}): Promise<PgBossQueue> {
    const schema = options.schema ?? PGBOSS_SCHEMA;
    // Spliced into SQL below: the same rule pg-boss applies to schema names.
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,49}$/.test(schema)) {
      throw new PatchscanError(
        'BAD_ARGUMENT',
        `not a usable schema name for the scan queue: ${JSON.stringify(schema)} (letters, digits and _, at most 50)`,
      );
    }
    const o = {
      leaseSeconds: options.leaseSeconds ?? 300,
      retryLimit: options.retryLimit ?? 3,
      retryDelaySeconds: options.retryDelaySeconds ?? 5,
    };
    const life = { closing: false };
    const onError = options.onError ?? ((e: Error) => process.stderr.write(`patchscan: scan queue (pg-boss) maintenance: ${e.message}\n`));
    const boss = new PgBoss({
      db: pgBossDb(driver),
      schema,
      migrate: true,
      // Maintenance expires leases and archives ended jobs; cron scheduling and state monitoring are unused (no
      // timers for them).
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
      archiveCompletedAfterSeconds: options.archiveCompletedAfterSeconds ?? 3600,
      archiveFailedAfterSeconds: options.archiveFailedAfterSeconds ?? 14 * 24 * 3600,
      deleteAfterDays: 7,
    });
    // pg-boss emits 'error' for failures of its background work; an EventEmitter 'error' nobody hears crashes the
    // process. After close() starts, a maintenance run cut short by the pool ending is expected, not news.
    boss.on('error', (e: Error) => {
      if (!life.closing) onError(e);
    });
    try {
      await boss.start();
      const policy = {
        name: QUEUE,
        policy: 'short' as const,
        retryLimit: o.retryLimit,
        retryDelay: o.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: o.leaseSeconds,
      };
      await onDeadlockRetry(() => boss.createQueue(QUEUE, policy)); // does nothing when it exists
      await boss.updateQueue(QUEUE, policy); // so changed settings apply to an existing site
      await ScanWorkers.install((fn) => driver.transaction((tx) => fn(pgBossDb(tx))), schema);
    } catch (e) {
      life.closing = true;
      await boss.stop({ graceful: false, close: false, wait: true }).catch(() => undefined);
      throw PatchscanError.is(e)
        ? e
        : new PatchscanError(
            'STORE_UNAVAILABLE',
            `cannot set up the scan queue (pg-boss, schema ${schema}) in ${driver.location}: ${(e as Error).message}`,
            { schema },
            { cause: e },
          );
    }
    return new PgBossQueue(boss, driver, schema, o, life, { heartbeatSeconds: options.heartbeatSeconds, workerId: options.workerId });
  }

  async enqueue(tx: SqlExecutor, clientId: number, priority: ScanPriority, reason: string): Promise<void> {
    const data: ScanData = { clientId, priority, reason };
    // null when this client already waits at this priority (see the header).
    await this.boss.send(QUEUE, data, {
      db: pgBossDb(tx),
      priority: PRIORITY[priority],
      singletonKey: singletonKey(clientId, priority),
      retryLimit: this.o.retryLimit,
      retryDelay: this.o.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.o.leaseSeconds,
    });
  }

  /**
   * One multi-row insert (pg-boss 10's `insert(jobs, { db })`, a json_to_recordset INSERT … ON CONFLICT DO NOTHING)
   * for the whole group commit, instead of one `send` per upload. Same singleton keys, so the same "waits at most
   * once per priority"; duplicates within the group are dropped here first.
   */
  async enqueueMany(tx: SqlExecutor, jobs: readonly NewScan[]): Promise<void> {
    const unique = new Map<string, NewScan>();
    for (const j of jobs) if (!unique.has(singletonKey(j.clientId, j.priority))) unique.set(singletonKey(j.clientId, j.priority), j);
    if (unique.size === 0) return;
    await this.boss.insert(
      [...unique].map(([key, j]) => ({
        name: QUEUE,
        data: { clientId: j.clientId, priority: j.priority, reason: j.reason } satisfies ScanData,
        priority: PRIORITY[j.priority],
        singletonKey: key,
        retryLimit: this.o.retryLimit,
        retryDelay: this.o.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: this.o.leaseSeconds,
      })),
      { db: pgBossDb(tx) },
    );
  }

  /** pg-boss's fail of `ids` in `db` (its 4-argument form: name, ids, data, options; see complete()). */
  private failIn(db: PgBossDb, ids: string[], message: string): Promise<unknown> {
    const fail = this.boss.fail as unknown as (name: string, ids: string[], data: object, options: { db: PgBossDb }) => Promise<unknown>;
    return fail.call(this.boss, QUEUE, ids, { message }, { db });
  }

  /**
   * Hands dead workers' active jobs out again now (scan-workers.ts); `take` does it by itself, at most once per
   * heartbeat interval. Returns how many.
   */
  reclaimDeadWorkers(force = true): Promise<number> {
    return this.workers.reclaim(
      (fn) => this.driver.transaction((tx) => fn(pgBossDb(tx))),
      (db, ids, message) => this.failIn(db, ids, message).then(() => undefined),
      force,
    );
  }

  releaseHolder(holder: string, error: string): Promise<number> {
    return this.workers.release(
      (fn) => this.driver.transaction((tx) => fn(pgBossDb(tx))),
      (db, ids, message) => this.failIn(db, ids, message).then(() => undefined),
      holder,
      error,
    );
  }

  /**
   * After an outage: jobs this worker failed while the database was away (their fail is remembered, not lost), and
   * — when a take's transaction was cut short — jobs it may have taken without learning it, are handed back now.
   */
  private async giveBackUnfinished(): Promise<void> {
    if (this.unfinished.size === 0 && !this.takeInDoubt) return;
    const doubt = this.takeInDoubt;
    const unfinished = new Map(this.unfinished);
    await this.workers.giveBack(
      (fn) => this.driver.transaction((tx) => fn(pgBossDb(tx))),
      (db, ids, message) => this.failIn(db, ids, message).then(() => undefined),
      (id) =>
        unfinished.get(id) ??
        (doubt && !this.holding.has(id) ? 'the connection to the database was lost while the job was taken' : undefined),
      [...unfinished.keys()],
    );
    for (const id of unfinished.keys()) this.unfinished.delete(id);
    if (doubt) this.takeInDoubt = false;
  }

  async take(max: number, leaseSeconds?: number): Promise<ScanJob[]> {
    if (!Number.isInteger(max) || max < 1) return [];
    await this.giveBackUnfinished();
    await this.reclaimDeadWorkers(false);
    let jobs: ScanJob[];
    try {
      jobs = await this.fetch(max, leaseSeconds);
    } catch (e) {
      // The COMMIT may have reached the server and its answer not us: jobs taken in our name that we never saw.
      if (PatchscanError.is(e, 'STORE_UNAVAILABLE')) this.takeInDoubt = true;
      throw e;
    }
    for (const j of jobs) this.holding.add(j.id);
    return jobs;
  }

  private fetch(max: number, leaseSeconds?: number): Promise<ScanJob[]> {
    return this.driver.transaction(
      async (tx) => {
        const db = recording(pgBossDb(tx));
        const jobs = await this.boss.fetch<ScanData>(QUEUE, { batchSize: max, includeMetadata: true, db });
        if (db.error !== undefined) throw db.error as Error; // what pg rejected with: an Error
        if (jobs.length > 0 && leaseSeconds !== undefined) {
          // pg-boss fixes expire_in when a job is sent; this lease is the taker's, so set it with the fetch.
          await db.executeSql(`UPDATE ${this.job} SET expire_in = $3 * interval '1 second' WHERE name = $1 AND id = ANY($2::uuid[])`, [
            QUEUE,
            jobs.map((j) => j.id),
            Math.max(1, Math.ceil(leaseSeconds)),
          ]);
        }
        await this.workers.took(
          db,
          jobs.map((j) => j.id),
        );
        // pg-boss picks the batch in order (priority desc, created_on, id) but returns it from UPDATE … RETURNING,
        // in no particular order: put it back in the order it was chosen.
        jobs.sort(
          (a, b) => b.priority - a.priority || a.createdOn.getTime() - b.createdOn.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
        );
        return jobs.map((j) => ({
          id: j.id,
          clientId: j.data.clientId,
          priority: j.data.priority,
          reason: j.data.reason,
          retries: j.retryCount,
        }));
      },
      { durability: 'relaxed' },
    ); // a lost lease (power cut) only means the job is handed out again
  }

  async complete(tx: SqlExecutor, jobs: readonly ScanJob[]): Promise<void> {
    if (jobs.length === 0) return;
    // pg-boss 10 reads complete(name, ids, data, options): with no data, `null` must hold its place, or the options
    // object would be taken for the job's output and `db` ignored (its types.d.ts shows the 3-argument form).
    const complete = this.boss.complete as unknown as (
      name: string,
      ids: string[],
      data: null,
      options: { db: PgBossDb },
    ) => Promise<unknown>;
    await complete.call(
      this.boss,
      QUEUE,
      jobs.map((j) => j.id),
      null,
      { db: pgBossDb(tx) },
    );
    await this.workers.ended(
      pgBossDb(tx),
      jobs.map((j) => j.id),
    );
    // Should the caller's transaction roll back, it fails these jobs next (ScanService.runQueue).
    for (const j of jobs) this.holding.delete(j.id);
  }

  /**
   * With the database away, the fail is remembered and done at this worker's next take once it is back (so a
   * batch cut short by an outage never leaves its jobs to wait out their lease), and this returns normally.
   */
  async fail(job: ScanJob, error: string): Promise<void> {
    this.holding.delete(job.id);
    try {
      await this.driver.transaction(async (tx) => {
        await this.failIn(pgBossDb(tx), [job.id], error);
        await this.workers.ended(pgBossDb(tx), [job.id]);
      });
    } catch (e) {
      if (!PatchscanError.is(e, 'STORE_UNAVAILABLE')) throw e;
      this.unfinished.set(job.id, error);
    }
  }

  async status(): Promise<QueueStatus> {
    // A job still `active` past its lease counts as queued, as it is about to be (at the next maintenance run).
    const rows = (
      await pgBossDb(this.driver).executeSql(
        `SELECT CASE WHEN state = 'active' AND started_on + expire_in >= now() THEN 'active'
                   WHEN state = 'failed' THEN 'failed'
                   ELSE 'queued' END AS s,
              priority, count(*)::int AS n
         FROM ${this.job}
        WHERE name = $1 AND state IN ('created', 'retry', 'active', 'failed')
        GROUP BY 1, 2
       UNION ALL
       SELECT 'failed', 0, count(*)::int FROM ${this.archive} WHERE name = $1 AND state = 'failed'`,
        [QUEUE],
      )
    ).rows as { s: string; priority: number; n: number }[];
    const sum = (f: (r: { s: string; priority: number }) => boolean): number => rows.filter(f).reduce((a, r) => a + r.n, 0);
    return {
      queued: {
        expedited: sum((r) => r.s === 'queued' && r.priority >= PRIORITY.expedited),
        normal: sum((r) => r.s === 'queued' && r.priority < PRIORITY.expedited),
      },
      active: sum((r) => r.s === 'active'),
      failed: sum((r) => r.s === 'failed'),
    };
  }

  async failedJobs(limit: number): Promise<FailedJob[]> {
    const rows = (
      await pgBossDb(this.driver).executeSql(
        `SELECT id, data, output, completed_on FROM (
         SELECT id, data, output, completed_on FROM ${this.job} WHERE name = $1 AND state = 'failed'
         UNION ALL
         SELECT id, data, output, completed_on FROM ${this.archive} WHERE name = $1 AND state = 'failed'
       ) f ORDER BY completed_on DESC NULLS LAST, id LIMIT $2`,
        [QUEUE, Math.max(0, Math.floor(limit))],
      )
    ).rows as { id: string; data: ScanData; output: unknown; completed_on: Date | null }[];
    return rows.map((r) => ({
      id: r.id,
      clientId: r.data.clientId,
      priority: r.data.priority,
      reason: r.data.reason,
      error: errorText(r.output),
      failedAt: (r.completed_on ?? new Date(0)).toISOString(),
    }));
  }

  /**
   * Stops pg-boss's maintenance timer (so the process can exit). pg-boss runs on the driver's pool: the store closes
   * the driver, after this.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.life.closing = true;
      await this.workers.close();
      // graceful: no pg-boss workers of ours are running (we fetch, we never `work`), so it returns at once;
      // close: false — the pool is the driver's.
      await this.boss.stop({ graceful: true, close: false, wait: true, timeout: 1_000 });
    })();
    return this.closing;
  }
}
