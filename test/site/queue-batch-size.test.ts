/**
 * runQueue's batch size: fast batches (every profile already has its result set, as after a carry-over or on a fleet
 * of shared images) double the next take up to MAX_CHUNK_GROWTH × `chunk`, fewer commits per client; a slow batch
 * (judged by its time a job, not its whole time) brings it back to `chunk`, and so does a new catalog in service; the
 * size carries over from call to call (one batch a call, as `patchscan worker` takes them). Every client is scanned
 * once whatever the sizes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_GROWTH, MAX_FAST_STORE_MS, ScanService } from '../../adapters/site/scan-service.js';
import type { Site } from '../../adapters/site/site.js';
import { runSync } from '../../adapters/sync/sync.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A batch is fast within this long a job here: far above what recording a shared scan takes on a loaded CI machine
 * (a few milliseconds), so only the batch made slow on purpose is slow.
 */
const FAST_JOB_MS = 500;

/**
 * Records the size each takeScans asked for and got; `waitAt`: takes (0-based) that first wait `ms(asked)`
 * milliseconds.
 */
function watchTakes(
  site: Site,
  waitAt: ReadonlySet<number> = new Set(),
  ms: (asked: number) => number = () => 0,
): { asked: number[]; got: number[] } {
  const store = site.store;
  const take = store.takeScans.bind(store);
  const seen = { asked: [] as number[], got: [] as number[] };
  store.takeScans = async (max, lease) => {
    if (waitAt.has(seen.asked.length)) await new Promise((r) => setTimeout(r, ms(max)));
    seen.asked.push(max);
    const jobs = await take(max, lease);
    seen.got.push(jobs.length);
    return jobs;
  };
  return seen;
}

describe('the queue run grows its batches while they are fast', () => {
  it('doubles up to the cap, goes back to the chunk after a slow batch, a long commit or a new catalog, and scans every client once', async () => {
    const dir = tempDir();
    const CLIENTS = 40;
    const { site, names } = await scannedSite(join(dir, 'site'), { clients: CLIENTS, admin: 'psa_batch-size' });
    // A fresh service per phase: each starts at the chunk.
    const services: ScanService[] = [];
    const service = (): ScanService => {
      const s = new ScanService(site, { fastJobMs: FAST_JOB_MS });
      services.push(s);
      return s;
    };
    try {
      // Every profile has its set on the catalog in service: each batch only records scans (fast).
      const fastRun = service();
      expect(await fastRun.rescanAll('again')).toBe(CLIENTS);
      const fast = watchTakes(site);
      const r = await fastRun.runQueue(Number.POSITIVE_INFINITY, 2);
      expect(r.scanned).toBe(CLIENTS);
      expect(r.shared).toBe(CLIENTS);
      expect(MAX_CHUNK_GROWTH).toBe(8);
      // 2, 4, 8, 16 (the cap: 8 × 2), then what is left, then an empty take: the queue is dry.
      expect(fast.asked).toEqual([2, 4, 8, 16, 16, 16]);
      expect(fast.got).toEqual([2, 4, 8, 16, 10, 0]);

      // The third batch is slow (its take waits past FAST_JOB_MS for each of its 8 jobs): the fourth is back to the
      // chunk, and grows again.
      const slowRun = service();
      expect(await slowRun.rescanAll('once more')).toBe(CLIENTS);
      const slow = watchTakes(site, new Set([2]), (asked) => asked * FAST_JOB_MS + 200);
      expect((await slowRun.runQueue(Number.POSITIVE_INFINITY, 2)).scanned).toBe(CLIENTS);
      expect(slow.asked.slice(0, 6)).toEqual([2, 4, 8, 2, 4, 8]);
      expect(slow.got.reduce((a, b) => a + b, 0)).toBe(CLIENTS);

      // A large batch is judged by its time a job: the third (8 jobs) takes longer than two jobs at FAST_JOB_MS each
      // — what a chunk-sized batch may take — yet under it a job, so the batches still grow.
      const longRun = service();
      expect(await longRun.rescanAll('long but fast')).toBe(CLIENTS);
      const long = watchTakes(site, new Set([2]), () => 2 * FAST_JOB_MS + 300);
      expect((await longRun.runQueue(Number.POSITIVE_INFINITY, 2)).scanned).toBe(CLIENTS);
      expect(long.asked).toEqual([2, 4, 8, 16, 16, 16]);

      // A batch whose commit holds the write lock past MAX_FAST_STORE_MS is slow, however fast its jobs: uploads wait
      // for that lock. The third batch's transaction is held open that long: the fourth is back to the chunk.
      const lockRun = service();
      expect(await lockRun.rescanAll('long commit')).toBe(CLIENTS);
      const lock = watchTakes(site);
      const transaction = site.store.transaction.bind(site.store);
      let held = 0;
      site.store.transaction = (fn, o) =>
        transaction(async (tx) => {
          const r = await fn(tx);
          if (o?.durability === 'relaxed' && lock.asked.length === 3 && held++ === 0)
            await new Promise((res) => setTimeout(res, MAX_FAST_STORE_MS + 100));
          return r;
        }, o);
      try {
        expect((await lockRun.runQueue(Number.POSITIVE_INFINITY, 2)).scanned).toBe(CLIENTS);
      } finally {
        site.store.transaction = transaction;
      }
      expect(held).toBeGreaterThan(0);
      // 8 jobs in ~1.1 s is ~140 ms a job, far under FAST_JOB_MS: only the commit's length made the batch slow.
      expect(lock.asked.slice(0, 6)).toEqual([2, 4, 8, 2, 4, 8]);

      // `max` still bounds the run, however large the batches have grown.
      const boundedRun = service();
      expect(await boundedRun.rescanAll('bounded')).toBe(CLIENTS);
      const bounded = watchTakes(site);
      expect((await boundedRun.runQueue(25, 2)).scanned).toBe(25);
      expect(bounded.asked).toEqual([2, 4, 8, 11]);
      expect((await boundedRun.runQueue(Number.POSITIVE_INFINITY, 2)).scanned).toBe(CLIENTS - 25); // the rest

      // One batch a call, as `patchscan worker` takes them: the size learned carries over from call to call.
      const workerRun = service();
      expect(await workerRun.rescanAll('worker')).toBe(CLIENTS);
      const worker = watchTakes(site);
      for (let calls = 0; calls < 10; calls++) if ((await workerRun.runQueue(workerRun.batchSize(2), 2)).scanned === 0) break;
      expect(worker.got.filter((n) => n > 0)).toEqual([2, 4, 8, 16, 10]);
      expect(workerRun.batchSize(2)).toBe(16);
      expect(workerRun.batchSize(5)).toBe(5); // learned for another chunk

      // A step of serve's scan loop (runQueueStep): batches of 5 growing, at least 25 jobs a step.
      const serveRun = service();
      expect(await serveRun.rescanAll('serve')).toBe(CLIENTS);
      const steps = watchTakes(site);
      expect((await serveRun.runQueueStep()).scanned).toBe(25);
      expect(steps.asked).toEqual([5, 10, 10]);
      let stepped = 25;
      for (let calls = 0; calls < 10 && stepped < CLIENTS; calls++) stepped += (await serveRun.runQueueStep()).scanned;
      expect(stepped).toBe(CLIENTS);
      expect(steps.asked[3]).toBe(20); // the next step starts at the size the last one grew to

      // A new catalog in service: its first batch is the chunk again (its scans may all be full ones).
      const second = join(dir, 'second.cab');
      generateCatalog({ revisions: 400, seed: 5, out: second });
      expect((await runSync(site, { source: second })).outcome).toBe('updated'); // queues every client again
      const switched = watchTakes(site);
      expect((await workerRun.runQueue(Number.POSITIVE_INFINITY, 2)).scanned).toBe(CLIENTS);
      expect(switched.asked[0]).toBe(2);
      const current = (await site.store.currentCatalog())!.id;
      for (const name of names) expect((await site.store.computerScan(name))?.catalog_id, name).toBe(current);
    } finally {
      for (const s of services) await s.close();
      await site.close();
    }
  }, 180_000);
});
