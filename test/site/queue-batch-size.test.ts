/**
 * runQueue's batch size: fast batches (every profile already has its result set, as after a carry-over or on a fleet
 * of shared images) double the next take up to MAX_CHUNK_GROWTH × `chunk`, fewer commits per client; a slow batch
 * brings it back to `chunk`. Every client is scanned once whatever the sizes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_GROWTH, ScanService } from '../../adapters/site/scan-service.js';
import type { Site } from '../../adapters/site/site.js';
import { scannedSite } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A batch is fast within this long here: far above what recording 16 shared scans takes on a loaded CI machine (tens
 * of milliseconds), so only the batch made slow on purpose is slow.
 */
const FAST_MS = 3_000;

/** Records the size each takeScans asked for and got; `slowAt`: takes (0-based) that wait past FAST_MS first. */
function watchTakes(site: Site, slowAt: ReadonlySet<number> = new Set()): { asked: number[]; got: number[] } {
  const store = site.store;
  const take = store.takeScans.bind(store);
  const seen = { asked: [] as number[], got: [] as number[] };
  store.takeScans = async (max, lease) => {
    if (slowAt.has(seen.asked.length)) await new Promise((r) => setTimeout(r, FAST_MS + 100));
    seen.asked.push(max);
    const jobs = await take(max, lease);
    seen.got.push(jobs.length);
    return jobs;
  };
  return seen;
}

describe('the queue run grows its batches while they are fast', () => {
  it('doubles up to the cap, goes back to the chunk after a slow batch, and scans every client once', async () => {
    const dir = tempDir();
    const CLIENTS = 40;
    const { site, names } = await scannedSite(join(dir, 'site'), { clients: CLIENTS, admin: 'psa_batch-size' });
    try {
      const scanner = new ScanService(site, { fastBatchMs: FAST_MS });
      // Every profile has its set on the catalog in service: each batch only records scans (fast).
      expect(await scanner.rescanAll('again')).toBe(CLIENTS);
      const fast = watchTakes(site);
      const r = await scanner.runQueue(Number.POSITIVE_INFINITY, 2);
      expect(r.scanned).toBe(CLIENTS);
      expect(r.shared).toBe(CLIENTS);
      expect(MAX_CHUNK_GROWTH).toBe(8);
      // 2, 4, 8, 16 (the cap: 8 × 2), then what is left, then an empty take: the queue is dry.
      expect(fast.asked).toEqual([2, 4, 8, 16, 16, 16]);
      expect(fast.got).toEqual([2, 4, 8, 16, 10, 0]);

      // The third batch is slow (its take waits): the fourth is back to the chunk, and grows again.
      expect(await scanner.rescanAll('once more')).toBe(CLIENTS);
      const slow = watchTakes(site, new Set([2]));
      expect((await scanner.runQueue(Number.POSITIVE_INFINITY, 2)).scanned).toBe(CLIENTS);
      expect(slow.asked.slice(0, 6)).toEqual([2, 4, 8, 2, 4, 8]);
      expect(slow.got.reduce((a, b) => a + b, 0)).toBe(CLIENTS);

      // `max` still bounds the run, however large the batches have grown.
      expect(await scanner.rescanAll('bounded')).toBe(CLIENTS);
      const bounded = watchTakes(site);
      expect((await scanner.runQueue(25, 2)).scanned).toBe(25);
      expect(bounded.asked).toEqual([2, 4, 8, 11]);
      for (const name of names) expect(await site.store.computerScan(name), name).toBeDefined();
      await scanner.close();
    } finally {
      await site.close();
    }
  }, 120_000);
});
