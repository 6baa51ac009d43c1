/**
 * The scan queue port. An accepted upload, a rescan request or a new catalog queues a scan of a client; scan
 * workers (`patchscan worker`, or `serve` in the embedded default) take jobs in batches, scan, and complete them.
 *
 * Two implementations: with SQLite, a table in the site database (adapters/store/sqlite/table-queue.ts); with
 * PostgreSQL, pg-boss (adapters/store/postgres/pg-boss-queue.ts) — an existing, well-kept queue with priorities,
 * retries with backoff, expiry of jobs whose worker died, and failed jobs kept for inspection.
 *
 * The contract both keep:
 * - `enqueue` runs inside the caller's transaction (the one that commits the inventory): no accepted upload lacks
 *   its scan, and a rolled-back upload leaves no job.
 * - A client waits at most once per priority; an expedited request makes a waiting normal one unnecessary.
 * - `take` leases jobs: a job taken and neither completed nor failed within `leaseSeconds` (its worker died) is
 *   handed out again. Expedited jobs are taken before normal ones; within a priority, oldest first (jobs queued in
 *   one transaction are equally old: their order is not specified).
 * - `complete` runs inside the transaction that stores the job's result, so a result and its job's end are
 *   committed together (a crash between them scans again; it never loses a scan).
 */
import type { SqlExecutor } from './sql/driver.js';

export type ScanPriority = 'expedited' | 'normal';

export interface NewScan {
  readonly clientId: number;
  readonly priority: ScanPriority;
  readonly reason: string;
}

export interface ScanJob {
  /** Opaque to callers (a row id, a pg-boss UUID). */
  readonly id: string;
  readonly clientId: number;
  readonly priority: ScanPriority;
  readonly reason: string;
  /** How many times this job was handed out before (0 the first time). */
  readonly retries: number;
}

/**
 * Who takes jobs through a queue: its leases name it. Default, the process (local-process.ts `host/pid/start`); a
 * thread that takes jobs on its own (serve's scan thread) is `host/pid/start/<name>`, so that its jobs can be told
 * from the process's and given back when the thread dies. A holder is gone when its process is.
 */
export type QueueHolder = string;

export interface FailedJob {
  readonly id: string;
  readonly clientId: number;
  readonly priority: ScanPriority;
  readonly reason: string;
  readonly error: string;
  readonly failedAt: string;
}

export interface QueueStatus {
  /** Waiting to be taken. */
  readonly queued: { readonly expedited: number; readonly normal: number };
  /** Taken by a worker and not yet ended. */
  readonly active: number;
  /** Gave up on after their retries. */
  readonly failed: number;
}

export interface ScanQueue {
  /** Queues a scan of `clientId`; call inside the transaction that makes it necessary. */
  enqueue(tx: SqlExecutor, clientId: number, priority: ScanPriority, reason: string): Promise<void>;
  /** `enqueue` for many at once (the group commit of uploads): the same effect, in as few statements as it can. */
  enqueueMany(tx: SqlExecutor, jobs: readonly NewScan[]): Promise<void>;
  /** Leases up to `max` jobs (expedited first, then oldest). */
  take(max: number, leaseSeconds?: number): Promise<ScanJob[]>;
  /** Ends jobs that were done; call inside the transaction that stores their results. */
  complete(tx: SqlExecutor, jobs: readonly ScanJob[]): Promise<void>;
  /** A job that could not be done: retried later with backoff, until its retries run out (then it is failed). */
  fail(job: ScanJob, error: string): Promise<void>;
  /**
   * Every job `holder` (a queue opened with that {@link QueueHolder}) has leased and not ended, failed with `error` as
   * `fail` does: for a holder known to be gone while its process lives on (serve's scan thread), whose leases would
   * otherwise wait out their time. Returns how many.
   */
  releaseHolder(holder: QueueHolder, error: string): Promise<number>;
  status(): Promise<QueueStatus>;
  /** The most recent failed jobs, newest first. */
  failedJobs(limit: number): Promise<FailedJob[]>;
  close(): Promise<void>;
}
