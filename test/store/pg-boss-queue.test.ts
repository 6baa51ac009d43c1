/**
 * The pg-boss scan queue against a real PostgreSQL: the ScanQueue contract (queue-contract.ts), then what is
 * particular to pg-boss — its schema and job settings, per-take leases, expiry with no retries left, several
 * processes on one database, outages, and a clean exit after close(). Every case gets a database of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PatchscanError } from '../../engine/errors.js';
import { PostgresDriver, pgBossDb } from '../../adapters/store/postgres/driver.js';
import { PGBOSS_SCHEMA, PgBossQueue, type PgBossQueueOptions } from '../../adapters/store/postgres/pg-boss-queue.js';
import { thisProcess } from '../../adapters/store/local-process.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { queueContract, type QueueSettings, type QueueUnderTest } from './queue-contract.js';

beforeAll(async () => {
  await postgresAvailable();
});

interface PgQueueUnderTest extends QueueUnderTest {
  readonly queue: PgBossQueue;
  readonly driver: PostgresDriver;
  readonly db: TestDatabase;
  readonly errors: Error[];
}

/** A fresh database, a driver and a pg-boss queue tuned for fast tests (1 s backoff, 1 s maintenance). */
async function pgQueue(settings: QueueSettings, o: PgBossQueueOptions = {}): Promise<PgQueueUnderTest> {
  const db = await createTestDatabase();
  const driver = await PostgresDriver.connect(db.url, { max: 6 });
  const errors: Error[] = [];
  const queue = await PgBossQueue.start(driver, {
    retryLimit: settings.retryLimit,
    retryDelaySeconds: 1,
    maintenanceIntervalSeconds: 1,
    ...(settings.holder !== undefined ? { workerId: settings.holder } : {}),
    onError: (e) => errors.push(e),
    ...o,
  });
  let closed: Promise<void> | undefined;
  return {
    queue,
    driver,
    db,
    errors,
    transaction: driver.transaction.bind(driver),
    close: () =>
      (closed ??= (async () => {
        await queue.close();
        await driver.close();
        await db.drop();
        // pg-boss's maintenance ran every second: it must not have failed.
        expect(errors.map((e) => e.message)).toEqual([]);
      })()),
  };
}

queueContract('pg-boss', (s) => pgQueue(s));

describe('pg-boss queue', () => {
  const open: QueueUnderTest[] = [];
  const make = async (s: QueueSettings, o?: PgBossQueueOptions): Promise<PgQueueUnderTest> => {
    const t = await pgQueue(s, o);
    open.push(t);
    return t;
  };
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });

  it('keeps its jobs in its own schema, with the short policy and the configured retries and lease', async () => {
    const t = await make({ retryLimit: 2 }, { leaseSeconds: 120, retryDelaySeconds: 3 });
    await t.transaction((tx) => t.queue.enqueue(tx, 5, 'expedited', 'rescan requested'));
    const row = await t.driver.get<Record<string, unknown>>(
      `SELECT name, priority, data, state, policy, singleton_key, retry_limit, retry_delay, retry_backoff,
              EXTRACT(epoch FROM expire_in)::int AS expire_s
         FROM ${PGBOSS_SCHEMA}.job`,
    );
    expect(row).toEqual({
      name: 'scan',
      priority: 1,
      data: { clientId: 5, priority: 'expedited', reason: 'rescan requested' },
      state: 'created',
      policy: 'short',
      singleton_key: 'client:5:expedited',
      retry_limit: 2,
      retry_delay: 3,
      retry_backoff: true,
      expire_s: 120,
    });
  });

  it('take(max, leaseSeconds) sets the lease of the jobs it took, in the same transaction', async () => {
    const t = await make({ retryLimit: 1 });
    for (const c of [1, 2]) await t.transaction((tx) => t.queue.enqueue(tx, c, 'normal', 'upload'));
    const [a] = await t.queue.take(1, 7);
    const [b] = await t.queue.take(1);
    const lease = async (id: string): Promise<number> =>
      (await t.driver.get<{ s: number }>(`SELECT EXTRACT(epoch FROM expire_in)::int AS s FROM ${PGBOSS_SCHEMA}.job WHERE id = ?::uuid`, [
        id,
      ]))!.s;
    expect(await lease(a.id)).toBe(7);
    expect(await lease(b.id)).toBe(60 * 5); // the queue's default lease
  });

  it('a lease that runs out with no retries left fails the job, and says why', async () => {
    const t = await make({ retryLimit: 0 });
    await t.transaction((tx) => t.queue.enqueue(tx, 3, 'normal', 'upload'));
    expect(await t.queue.take(1, 1)).toHaveLength(1);
    const end = Date.now() + 9_000;
    while ((await t.queue.status()).failed === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(await t.queue.status()).toEqual({ queued: { expedited: 0, normal: 0 }, active: 0, failed: 1 });
    expect(await t.queue.failedJobs(5)).toMatchObject([{ clientId: 3, error: expect.stringMatching(/lease ran out/) }]);
  });

  it('a job past its lease counts as queued even before maintenance hands it back', async () => {
    const t = await make({ retryLimit: 1 }, { maintenanceIntervalSeconds: 3600 });
    await t.transaction((tx) => t.queue.enqueue(tx, 4, 'normal', 'upload'));
    await t.queue.take(1, 1);
    expect((await t.queue.status()).active).toBe(1);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await t.queue.status()).toEqual({ queued: { expedited: 0, normal: 1 }, active: 0, failed: 0 });
  });

  it('several processes on one database: they start together and never take the same job', async () => {
    const t = await make({ retryLimit: 1 });
    // A second process's queue and a third, started at once on the (already installed) schema.
    const drivers = await Promise.all([1, 2].map(() => PostgresDriver.connect(t.db.url, { max: 4 })));
    try {
      const others = await Promise.all(drivers.map((d) => PgBossQueue.start(d, { maintenanceIntervalSeconds: 1, retryDelaySeconds: 1 })));
      for (let c = 1; c <= 30; c++) await t.transaction((tx) => t.queue.enqueue(tx, c, c % 3 === 0 ? 'expedited' : 'normal', 'upload'));
      const taken = (await Promise.all([t.queue, ...others].flatMap((q) => [q.take(4), q.take(4), q.take(4)]))).flat();
      const rest = await others[0].take(100);
      const all = [...taken, ...rest];
      expect(all).toHaveLength(30);
      expect(new Set(all.map((j) => j.id)).size).toBe(30);
      for (const q of others) await q.close();
    } finally {
      for (const d of drivers) await d.close();
    }
  });

  describe("a dead worker's jobs come back without waiting out their lease (scan-workers.ts)", () => {
    /** Another worker process: its own driver and queue on the same database. */
    const another = async (t: PgQueueUnderTest, o: PgBossQueueOptions): Promise<{ queue: PgBossQueue; close(): Promise<void> }> => {
      const driver = await PostgresDriver.connect(t.db.url, { max: 4 });
      const queue = await PgBossQueue.start(driver, { maintenanceIntervalSeconds: 1, retryDelaySeconds: 1, ...o });
      return {
        queue,
        close: async () => {
          await queue.close();
          await driver.close();
        },
      };
    };
    it('a worker process of this host that is gone: its job is taken again at once, counted as a try', async () => {
      // A pid that is not running on this host: what a SIGKILLed worker leaves behind.
      const t = await make({ retryLimit: 2 }, { workerId: `${hostname()}/2147483646/1`, leaseSeconds: 3600 });
      const live = await another(t, { retryLimit: 2 });
      try {
        for (const c of [1, 2]) await t.transaction((tx) => t.queue.enqueue(tx, c, 'normal', 'upload'));
        const held = await t.queue.take(1, 3600);
        expect(held).toMatchObject([{ clientId: 1, retries: 0 }]);
        // The live worker's first take looks for dead workers first: the gone one's job is back, before its lease.
        const jobs = await live.queue.take(10, 3600);
        expect(jobs.map((j) => [j.clientId, j.retries]).sort()).toEqual([
          [1, 1],
          [2, 0],
        ]);
        expect(jobs.find((j) => j.clientId === 1)!.id).toBe(held[0].id);
        const holders = await t.driver.all<{ worker_id: string }>(
          `SELECT worker_id FROM ${PGBOSS_SCHEMA}.patchscan_job_holders ORDER BY job_id`,
        );
        expect(new Set(holders.map((h) => h.worker_id))).toEqual(new Set([thisProcess()]));
        expect(
          await t.driver.get(`SELECT 1 AS one FROM ${PGBOSS_SCHEMA}.patchscan_workers WHERE id = ?`, [`${hostname()}/2147483646/1`]),
        ).toBeUndefined();
        await t.transaction((tx) => live.queue.complete(tx, jobs));
        expect(await t.driver.all(`SELECT job_id FROM ${PGBOSS_SCHEMA}.patchscan_job_holders`)).toEqual([]);
      } finally {
        await live.close();
      }
    });

    it(
      'a worker on another host whose heartbeats stop: its job is taken again after 3 ' +
        'missed beats, and fails saying why when out of retries',
      async () => {
        const t = await make({ retryLimit: 0 }, { workerId: 'elsewhere.example/1234/5678', heartbeatSeconds: 2, leaseSeconds: 3600 });
        const live = await another(t, { retryLimit: 0, heartbeatSeconds: 2 });
        try {
          for (const c of [1, 2]) await t.transaction((tx) => t.queue.enqueue(tx, c, 'normal', 'upload'));
          expect(await t.queue.take(1, 3600)).toHaveLength(1);
          // Alive (its heartbeat is fresh): its job is not another's to take.
          expect((await live.queue.take(10, 3600)).map((j) => j.clientId)).toEqual([2]);
          await t.queue.close(); // its heartbeats stop; the job it holds stays active (pg-boss's lease is an hour)
          // The live worker's takes find it dead after 3 missed beats; with no retries left its job fails, saying why.
          const end = Date.now() + 12_000;
          while ((await live.queue.status()).failed === 0 && Date.now() < end) {
            await live.queue.take(10, 3600);
            await new Promise((r) => setTimeout(r, 200));
          }
          expect(await live.queue.failedJobs(5)).toMatchObject([
            { clientId: 1, error: expect.stringMatching(/elsewhere\.example\/1234\/5678 stopped sending heartbeats/) },
          ]);
        } finally {
          await live.close();
        }
      },
    );
  });

  it('installs its schema once when two processes start on a fresh database at the same time', async () => {
    const db = await createTestDatabase();
    const drivers = await Promise.all([1, 2, 3].map(() => PostgresDriver.connect(db.url, { max: 3 })));
    try {
      const queues = await Promise.all(drivers.map((d) => PgBossQueue.start(d, { maintenanceIntervalSeconds: 1 })));
      // Every pooled connection still works (none left inside a failed set-up transaction).
      for (const d of drivers) await Promise.all([1, 2, 3].map(() => d.get('SELECT 1')));
      await drivers[0].transaction((tx) => queues[0].enqueue(tx, 1, 'normal', 'upload'));
      expect(await queues[2].take(5)).toHaveLength(1);
      for (const q of queues) await q.close();
    } finally {
      for (const d of drivers) await d.close();
      await db.drop();
    }
  });

  it('an outage is STORE_UNAVAILABLE from take, never an empty queue', async () => {
    const t = await make({ retryLimit: 1 });
    await t.transaction((tx) => t.queue.enqueue(tx, 1, 'normal', 'upload'));
    await t.queue.close(); // stop maintenance before the database goes
    await t.db.drop();
    const e = await t.queue.take(5).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(PatchscanError.is(e, 'STORE_UNAVAILABLE'), String(e)).toBe(true);
    await expect(t.queue.status()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(t.transaction((tx) => t.queue.enqueue(tx, 2, 'normal', 'upload'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('pgBossDb needs a PostgreSQL executor', async () => {
    const t = await make({ retryLimit: 1 });
    const sqliteLike = {
      all: async () => [],
      get: async () => undefined,
      getByKey: async () => undefined,
      run: async () => ({ changes: 0 }),
    };
    await expect(t.queue.enqueue(sqliteLike, 1, 'normal', 'x')).rejects.toThrow(/PostgreSQL executor/);
    expect(typeof pgBossDb(t.driver).executeSql).toBe('function');
  });

  it('after close(), a process exits by itself: pg-boss leaves no timers running', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'patchscan-pgboss-'));
    try {
      const root = new URL('../../', import.meta.url).pathname;
      const script = join(dir, 'exit.mts');
      writeFileSync(
        script,
        `
        import { PostgresDriver } from ${JSON.stringify(join(root, 'adapters/store/postgres/driver.ts'))};
        import { PgBossQueue } from ${JSON.stringify(join(root, 'adapters/store/postgres/pg-boss-queue.ts'))};
        const driver = await PostgresDriver.connect(${JSON.stringify(db.url)});
        const queue = await PgBossQueue.start(driver, { maintenanceIntervalSeconds: 1 });
        await driver.transaction((tx) => queue.enqueue(tx, 1, 'normal', 'upload'));
        const jobs = await queue.take(1);
        await driver.transaction((tx) => queue.complete(tx, jobs));
        await new Promise((r) => setTimeout(r, 1500)); // let a maintenance run start
        await queue.close();
        await driver.close();
        console.log('closed');
      `,
      );
      const started = Date.now();
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(null);
        }, 12_000);
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect({ code, out: out.trim() }).toEqual({ code: 0, out: 'closed' });
      expect(Date.now() - started).toBeLessThan(12_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });
});
