/**
 * The ScanQueue contract (adapters/store/queue.ts) as cases every implementation runs: the SQLite table queue and
 * pg-boss. A file calls `queueContract('pg-boss', factory)`; the factory gives each case a queue on a fresh,
 * empty database.
 *
 * What the factory must set up, so that the timing cases stay fast and deterministic (they wait on conditions with
 * deadlines, never fixed sleeps):
 * - `retryLimit` as given (retries after the first try);
 * - a first retry backoff between 0.5 s and 3 s (a failed job is not takeable at once, but soon);
 * - a ran-out lease noticed within ~3 s (pg-boss: a maintenance interval of 1 s).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScanJob, ScanPriority, ScanQueue } from '../../adapters/store/queue.js';
import type { SqlDriver } from '../../adapters/store/sql/driver.js';

export interface QueueUnderTest {
  readonly queue: ScanQueue;
  readonly transaction: SqlDriver['transaction'];
  /** Closes the queue and its database (and drops it, for a server database). */
  close(): Promise<void>;
}

export interface QueueSettings {
  readonly retryLimit: number;
  /** Whose leases the queue's takes are (adapters/store/queue.ts QueueHolder); default the process. */
  readonly holder?: string;
}

/** The holder every case's queue takes as: a thread of a process of another host (never judged gone from here). */
const HOLDER = 'contract-host/4242/99/scan-thread-1';

/** How long a condition may take to come true (lease + maintenance + backoff fit well inside). */
const DEADLINE_MS = 9_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = DEADLINE_MS): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function queueContract(name: string, makeQueue: (settings: QueueSettings) => Promise<QueueUnderTest>): void {
  describe(`ScanQueue contract: ${name}`, () => {
    let t: QueueUnderTest;
    let q: ScanQueue;

    beforeEach(async () => {
      t = await makeQueue({ retryLimit: 1, holder: HOLDER });
      q = t.queue;
    });
    afterEach(async () => {
      await t?.close();
    });

    /** Each enqueue in a transaction of its own (committed), as uploads do. */
    const enqueue = (clientId: number, priority: ScanPriority, reason = `upload ${clientId}`): Promise<void> =>
      t.transaction((tx) => q.enqueue(tx, clientId, priority, reason));
    const takeOne = async (): Promise<ScanJob | undefined> => (await q.take(1))[0];

    it('a job enqueued in a transaction that rolls back does not exist', async () => {
      await expect(
        t.transaction(async (tx) => {
          await q.enqueue(tx, 1, 'normal', 'upload');
          throw new Error('upload refused');
        }),
      ).rejects.toThrow('upload refused');
      expect(await q.take(10)).toEqual([]);
      expect(await q.status()).toEqual({ queued: { expedited: 0, normal: 0 }, active: 0, failed: 0 });
    });

    it('a committed job can be taken, with what it was enqueued with', async () => {
      await enqueue(7, 'normal', 'inventory uploaded');
      expect(await q.status()).toMatchObject({ queued: { expedited: 0, normal: 1 }, active: 0 });
      const jobs = await q.take(10);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ clientId: 7, priority: 'normal', reason: 'inventory uploaded', retries: 0 });
      expect(typeof jobs[0].id).toBe('string');
    });

    it('enqueueMany is enqueue for each: in its transaction, a client waiting once per priority', async () => {
      await expect(
        t.transaction(async (tx) => {
          await q.enqueueMany(tx, [{ clientId: 9, priority: 'normal', reason: 'rolled back' }]);
          throw new Error('group refused');
        }),
      ).rejects.toThrow('group refused');
      expect(await q.take(10)).toEqual([]);
      await t.transaction((tx) =>
        q.enqueueMany(tx, [
          { clientId: 1, priority: 'normal', reason: 'upload 1' },
          { clientId: 2, priority: 'normal', reason: 'upload 2' },
          { clientId: 1, priority: 'normal', reason: 'upload 1 again' }, // waits once
          { clientId: 3, priority: 'expedited', reason: 'expedited upload 3' },
        ]),
      );
      await t.transaction((tx) => q.enqueueMany(tx, [{ clientId: 2, priority: 'normal', reason: 'upload 2 again' }])); // still waiting
      await t.transaction((tx) => q.enqueueMany(tx, []));
      const jobs = await q.take(10);
      // Expedited first; jobs queued in one transaction were queued at the same instant (pg-boss's created_on is the
      // transaction's now()), so between them the order is not specified.
      expect(jobs[0]).toMatchObject({ clientId: 3, priority: 'expedited', reason: 'expedited upload 3' });
      expect(
        jobs
          .slice(1)
          .map((j) => [j.clientId, j.priority, j.reason])
          .sort(),
      ).toEqual([
        [1, 'normal', 'upload 1'],
        [2, 'normal', 'upload 2'],
      ]);
    });

    it('expedited jobs are taken before normal ones; within a priority, oldest first', async () => {
      await enqueue(1, 'normal');
      await enqueue(2, 'normal');
      await enqueue(3, 'expedited');
      await enqueue(4, 'expedited');
      await enqueue(5, 'normal');
      expect((await q.take(10)).map((j) => [j.clientId, j.priority])).toEqual([
        [3, 'expedited'],
        [4, 'expedited'],
        [1, 'normal'],
        [2, 'normal'],
        [5, 'normal'],
      ]);
    });

    // A client waits at most once per priority. An expedited request beside a waiting normal one may keep the
    // normal one or replace it (hence a range for normal); it never adds a second job of one priority.
    it.each([
      { case: 'normal twice', steps: ['normal', 'normal'], expedited: 0, normal: [1, 1] },
      { case: 'expedited twice', steps: ['expedited', 'expedited'], expedited: 1, normal: [0, 0] },
      { case: 'normal, then expedited', steps: ['normal', 'expedited'], expedited: 1, normal: [0, 1] },
      { case: 'expedited, then normal', steps: ['expedited', 'normal'], expedited: 1, normal: [0, 1] },
      {
        case: 'normal ×3, expedited ×3',
        steps: ['normal', 'normal', 'normal', 'expedited', 'expedited', 'expedited'],
        expedited: 1,
        normal: [0, 1],
      },
    ] as const)('dedupes per client and priority: $case', async ({ steps, expedited, normal: [min, max] }) => {
      for (const p of steps) await enqueue(42, p);
      await enqueue(43, 'normal'); // another client is another job
      const s = await q.status();
      expect(s.queued.expedited).toBe(expedited);
      expect(s.queued.normal - 1).toBeGreaterThanOrEqual(min);
      expect(s.queued.normal - 1).toBeLessThanOrEqual(max);
      const jobs = await q.take(10);
      expect(jobs.filter((j) => j.clientId === 42 && j.priority === 'expedited')).toHaveLength(expedited);
      expect(jobs.filter((j) => j.clientId === 42 && j.priority === 'normal').length).toBe(s.queued.normal - 1);
      expect(jobs.filter((j) => j.clientId === 43)).toHaveLength(1);
    });

    it('a job already taken does not absorb a new request (its worker may be scanning an older inventory)', async () => {
      await enqueue(9, 'normal', 'first upload');
      const first = await takeOne();
      expect(first?.clientId).toBe(9);
      await enqueue(9, 'normal', 'second upload');
      await enqueue(9, 'normal', 'third upload');
      expect(await q.status()).toMatchObject({ queued: { expedited: 0, normal: 1 }, active: 1 });
      expect(await q.take(10)).toMatchObject([{ clientId: 9, reason: 'second upload' }]);
    });

    it('take leases: a leased job is not handed out again while its lease runs', async () => {
      for (const c of [1, 2, 3]) await enqueue(c, 'normal');
      const a = await q.take(2);
      expect(a).toHaveLength(2);
      const b = await q.take(10);
      expect(b).toHaveLength(1);
      expect(new Set([...a, ...b].map((j) => j.id)).size).toBe(3);
      expect(await q.take(10)).toEqual([]);
      expect(await q.status()).toEqual({ queued: { expedited: 0, normal: 0 }, active: 3, failed: 0 });
    });

    it('a job not ended within its lease (its worker died) is handed out again', async () => {
      await enqueue(11, 'expedited', 'rescan');
      const job = await q.take(1, 1);
      expect(job).toMatchObject([{ clientId: 11, retries: 0 }]);
      expect(await q.take(10)).toEqual([]);
      const again = await until('the job to come back after its 1 s lease', takeOne);
      expect(again).toMatchObject({ id: job[0].id, clientId: 11, priority: 'expedited', reason: 'rescan', retries: 1 });
    });

    it("complete ends jobs, inside the caller's transaction", async () => {
      await enqueue(1, 'expedited');
      await enqueue(2, 'normal');
      expect(await q.status()).toEqual({ queued: { expedited: 1, normal: 1 }, active: 0, failed: 0 });
      const jobs = await q.take(10);
      expect(await q.status()).toEqual({ queued: { expedited: 0, normal: 0 }, active: 2, failed: 0 });
      // Rolled back with the results it went with: still the worker's.
      await expect(
        t.transaction(async (tx) => {
          await q.complete(tx, jobs);
          throw new Error('results not stored');
        }),
      ).rejects.toThrow('results not stored');
      expect((await q.status()).active).toBe(2);
      await t.transaction((tx) => q.complete(tx, jobs), { durability: 'relaxed' });
      expect(await q.status()).toEqual({ queued: { expedited: 0, normal: 0 }, active: 0, failed: 0 });
      expect(await q.take(10)).toEqual([]);
      await t.transaction((tx) => q.complete(tx, [])); // nothing to end is fine
    });

    it('fail retries after a backoff, then gives up after retryLimit; failed jobs are listed newest first', async () => {
      await enqueue(21, 'normal', 'upload 21');
      await enqueue(22, 'expedited', 'upload 22');
      const first = await q.take(10);
      expect(first.map((j) => j.clientId)).toEqual([22, 21]);
      for (const j of first) await q.fail(j, `try 1 of ${j.clientId} failed`);
      expect(await q.take(10)).toEqual([]); // backing off
      const s1 = await q.status();
      expect(s1.active).toBe(0);
      expect(s1.failed).toBe(0);
      const second: ScanJob[] = [];
      await until('both jobs to be retried after their backoff', async () => {
        second.push(...(await q.take(10)));
        return second.length >= 2 ? true : undefined;
      });
      expect(second.map((j) => j.retries)).toEqual([1, 1]);
      const by = (c: number): ScanJob => second.find((j) => j.clientId === c)!;
      await q.fail(by(21), 'try 2 of 21 failed');
      await new Promise((r) => setTimeout(r, 20)); // distinct failure times
      await q.fail(by(22), 'try 2 of 22 failed');
      expect(await q.status()).toEqual({ queued: { expedited: 0, normal: 0 }, active: 0, failed: 2 });
      expect(await q.take(10)).toEqual([]);
      const failed = await q.failedJobs(10);
      expect(failed).toMatchObject([
        { clientId: 22, priority: 'expedited', reason: 'upload 22', error: 'try 2 of 22 failed' },
        { clientId: 21, priority: 'normal', reason: 'upload 21', error: 'try 2 of 21 failed' },
      ]);
      expect(Number.isNaN(Date.parse(failed[0].failedAt))).toBe(false);
      expect(await q.failedJobs(1)).toHaveLength(1);
      // A client whose scan failed can be queued again.
      await enqueue(21, 'normal', 'new upload');
      expect(await q.take(10)).toMatchObject([{ clientId: 21, reason: 'new upload', retries: 0 }]);
    });

    it("releaseHolder gives back every job its holder leased, a try counted, and nobody else's", async () => {
      for (const c of [31, 32, 33]) await enqueue(c, 'normal');
      const taken = await q.take(2);
      expect(taken).toHaveLength(2);
      expect(await q.releaseHolder('contract-host/4242/99/scan-thread-2', 'not its jobs')).toBe(0);
      expect((await q.status()).active).toBe(2);

      expect(await q.releaseHolder(HOLDER, 'the thread died')).toBe(2);
      expect((await q.status()).active).toBe(0);
      expect(await q.releaseHolder(HOLDER, 'again')).toBe(0); // nothing leased any more
      // As a fail: the two wait out the retry backoff (what stopped the holder may have been the job); the third
      // never taken is takeable at once.
      const third = await q.take(10);
      expect(third.map((j) => [j.clientId, j.retries])).toEqual([[33, 0]]);
      const back: ScanJob[] = [];
      await until('the two given-back jobs to be taken again after their backoff', async () => {
        back.push(...(await q.take(10)));
        return back.length >= 2 ? true : undefined;
      });
      const pairs = (js: readonly ScanJob[], retries?: number): string[] => js.map((j) => `${j.clientId}:${retries ?? j.retries}`).sort();
      expect(pairs(back)).toEqual(pairs(taken, 1));

      // Past its retries (1), a job released again is failed for good, saying why; the third waits again.
      expect(await q.releaseHolder(HOLDER, 'the thread died again')).toBe(3);
      const failed = await q.failedJobs(10);
      expect(failed.map((f) => `${f.clientId}:${f.error}`).sort()).toEqual(
        pairs(taken).map((p) => `${p.split(':')[0]}:the thread died again`),
      );
      expect((await q.status()).failed).toBe(2);
    });
  });
}
