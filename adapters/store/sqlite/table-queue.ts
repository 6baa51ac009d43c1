/**
 * The scan queue as a table of the SQLite site database (the embedded default; PostgreSQL sites use pg-boss).
 * A job row is waiting while `leased_until` is NULL or past; `take` leases rows by setting it and `leased_by` (the
 * queue's holder: host, pid and start time, and for serve's scan thread its name, queue.ts QueueHolder), so a worker
 * that dies gives its jobs back when the lease runs out — at once when it was a process of this host that is gone (a
 * SQLite site's processes share one host: a restarted `serve` does not wait), or when serve's scan thread died
 * (`releaseHolder`). A failed job waits `backoffMs × 2^retries` before it is taken again; past `retryLimit` it moves to
 * `scan_failures`, where `patchscan queue status` shows it.
 */
import type { FailedJob, NewScan, QueueStatus, ScanJob, ScanPriority, ScanQueue } from '../queue.js';
import { isGoneLocalProcess, thisProcess } from '../local-process.js';
import type { SqlDriver, SqlExecutor } from '../sql/driver.js';

export const PRIORITY_EXPEDITED = 0;
export const PRIORITY_NORMAL = 1;

const priorityCode = (p: ScanPriority): number => (p === 'expedited' ? PRIORITY_EXPEDITED : PRIORITY_NORMAL);
const priorityName = (n: number): ScanPriority => (n === PRIORITY_EXPEDITED ? 'expedited' : 'normal');
const iso = (ms: number): string => new Date(ms).toISOString();

export interface TableQueueOptions {
  readonly retryLimit?: number;
  readonly backoffMs?: number;
  /** Whose leases this queue's takes are (queue.ts QueueHolder); default this process. */
  readonly holder?: string;
}

interface Row {
  id: number;
  client_id: number;
  priority: number;
  reason: string;
  retries: number;
  leased_until: string | null;
}

export class TableQueue implements ScanQueue {
  private readonly retryLimit: number;
  private readonly backoffMs: number;
  private readonly holder: string;

  constructor(
    private readonly driver: SqlDriver,
    o: TableQueueOptions = {},
  ) {
    this.retryLimit = o.retryLimit ?? 3;
    this.backoffMs = o.backoffMs ?? 5_000;
    this.holder = o.holder ?? thisProcess();
  }

  async enqueue(tx: SqlExecutor, clientId: number, priority: ScanPriority, reason: string): Promise<void> {
    const p = priorityCode(priority);
    const now = iso(Date.now());
    // Only jobs still waiting count: a job a worker holds may be scanning an older inventory.
    const waiting = await tx.all<{ id: number; priority: number }>(
      'SELECT id, priority FROM scan_queue WHERE client_id = ? AND (leased_until IS NULL OR leased_until < ?)',
      [clientId, now],
    );
    if (waiting.some((x) => x.priority <= p)) return;
    for (const x of waiting) await tx.run('DELETE FROM scan_queue WHERE id = ?', [x.id]);
    await tx.run('INSERT INTO scan_queue (client_id, priority, enqueued_at, reason) VALUES (?, ?, ?, ?)', [clientId, p, now, reason]);
  }

  async enqueueMany(tx: SqlExecutor, jobs: readonly NewScan[]): Promise<void> {
    // SQLite runs in this process: a statement costs microseconds, not a round trip.
    for (const j of jobs) await this.enqueue(tx, j.clientId, j.priority, j.reason);
  }

  /** Holders of running leases that are processes of this host that are gone. */
  private async goneHolders(db: SqlExecutor, now: string): Promise<string[]> {
    const holders = await db.all<{ leased_by: string }>(
      'SELECT DISTINCT leased_by FROM scan_queue WHERE leased_until >= ? AND leased_by IS NOT NULL',
      [now],
    );
    return holders.map((h) => h.leased_by).filter(isGoneLocalProcess);
  }

  take(max: number, leaseSeconds = 300): Promise<ScanJob[]> {
    return this.driver.transaction(
      async (tx) => {
        const now = Date.now();
        const gone = await this.goneHolders(tx, iso(now));
        const rows = await tx.all<Row>(
          `SELECT id, client_id, priority, reason, retries, leased_until FROM scan_queue
         WHERE (leased_until IS NULL OR leased_until < ?${gone.length ? ` OR leased_by IN (${gone.map(() => '?').join(', ')})` : ''})
           AND (not_before IS NULL OR not_before <= ?)
         ORDER BY priority, id LIMIT ?`,
          [iso(now), ...gone, iso(now), max],
        );
        const jobs: ScanJob[] = [];
        for (const r of rows) {
          // A lease that ran out means its worker died: that counts as a try.
          const retries = r.leased_until === null ? r.retries : r.retries + 1;
          if (retries > this.retryLimit) {
            await this.moveToFailures(
              tx,
              r,
              `its worker stopped without finishing it ${retries} time(s) (lease of ${leaseSeconds} s ran out)`,
            );
            continue;
          }
          await tx.run('UPDATE scan_queue SET leased_until = ?, leased_by = ?, retries = ? WHERE id = ?', [
            iso(now + leaseSeconds * 1000),
            this.holder,
            retries,
            r.id,
          ]);
          jobs.push({ id: String(r.id), clientId: r.client_id, priority: priorityName(r.priority), reason: r.reason, retries });
        }
        return jobs;
      },
      { durability: 'relaxed' },
    );
  }

  async complete(tx: SqlExecutor, jobs: readonly ScanJob[]): Promise<void> {
    for (const j of jobs) await tx.run('DELETE FROM scan_queue WHERE id = ?', [Number(j.id)]);
  }

  fail(job: ScanJob, error: string): Promise<void> {
    return this.driver.transaction(async (tx) => {
      const r = await tx.get<Row>('SELECT id, client_id, priority, reason, retries, leased_until FROM scan_queue WHERE id = ?', [
        Number(job.id),
      ]);
      if (r) await this.failRow(tx, r, error);
    });
  }

  releaseHolder(holder: string, error: string): Promise<number> {
    return this.driver.transaction(async (tx) => {
      // Leased: a lease that ran out was already waiting, and the next take counts its try.
      const rows = await tx.all<Row>(
        'SELECT id, client_id, priority, reason, retries, leased_until FROM scan_queue WHERE leased_by = ? AND leased_until >= ?',
        [holder, iso(Date.now())],
      );
      for (const r of rows) await this.failRow(tx, r, error);
      return rows.length;
    });
  }

  /** A try counted: waiting again after its backoff, or failed for good past the retry limit. */
  private async failRow(tx: SqlExecutor, r: Row, error: string): Promise<void> {
    if (r.retries >= this.retryLimit) return this.moveToFailures(tx, r, error);
    await tx.run('UPDATE scan_queue SET leased_until = NULL, leased_by = NULL, retries = ?, not_before = ? WHERE id = ?', [
      r.retries + 1,
      iso(Date.now() + this.backoffMs * 2 ** r.retries),
      r.id,
    ]);
  }

  private async moveToFailures(tx: SqlExecutor, r: Row, error: string): Promise<void> {
    await tx.run('INSERT INTO scan_failures (client_id, priority, reason, error, failed_at) VALUES (?, ?, ?, ?, ?)', [
      r.client_id,
      r.priority,
      r.reason,
      error,
      iso(Date.now()),
    ]);
    await tx.run('DELETE FROM scan_queue WHERE id = ?', [r.id]);
  }

  async status(): Promise<QueueStatus> {
    const now = iso(Date.now());
    // A lease held by a process that is gone is work waiting to be taken again.
    const gone = await this.goneHolders(this.driver, now);
    const rows = await this.driver.all<{ priority: number; active: number; n: number }>(
      `SELECT priority, CASE WHEN leased_until IS NOT NULL AND leased_until >= ?${gone.length ? ` AND leased_by NOT IN (${gone.map(() => '?').join(', ')})` : ''} THEN 1 ELSE 0 END AS active, count(*) AS n
       FROM scan_queue GROUP BY priority, active`,
      [now, ...gone],
    );
    const failed = (await this.driver.get<{ n: number }>('SELECT count(*) AS n FROM scan_failures'))?.n ?? 0;
    const queued = (p: number): number => rows.filter((r) => r.priority === p && r.active === 0).reduce((a, r) => a + r.n, 0);
    return {
      queued: { expedited: queued(PRIORITY_EXPEDITED), normal: queued(PRIORITY_NORMAL) },
      active: rows.filter((r) => r.active === 1).reduce((a, r) => a + r.n, 0),
      failed,
    };
  }

  async failedJobs(limit: number): Promise<FailedJob[]> {
    const rows = await this.driver.all<{
      id: number;
      client_id: number;
      priority: number;
      reason: string;
      error: string;
      failed_at: string;
    }>('SELECT id, client_id, priority, reason, error, failed_at FROM scan_failures ORDER BY id DESC LIMIT ?', [limit]);
    return rows.map((r) => ({
      id: String(r.id),
      clientId: r.client_id,
      priority: priorityName(r.priority),
      reason: r.reason,
      error: r.error,
      failedAt: r.failed_at,
    }));
  }

  async close(): Promise<void> {
    // The table lives in the site database; the store closes the driver.
  }
}
