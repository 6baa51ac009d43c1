/**
 * A site's queue run reads the catalog in service in pieces at once (engine/catalog/file.ts readCatalogFileInPieces),
 * and verifies its checksum before anything is decoded. Here the new catalog's file is damaged after the sync: the
 * run must fail with the checksum's error, store nothing on that catalog, and leave every job queued with no try
 * counted; once the file is whole again, the next run scans them all.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScanService } from '../../adapters/site/scan-service.js';
import { runSync } from '../../adapters/sync/sync.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { scannedSiteWithoutRetries } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

describe('a catalog in service whose file does not verify', () => {
  it('stores nothing decided with it, keeps the jobs queued, and scans them once the file is whole', async () => {
    const dir = tempDir();
    const siteDir = join(dir, 'site');
    const { site, firstCatalogId: firstId, names } = await scannedSiteWithoutRetries(siteDir, { clients: 4, admin: 'psa_damaged' });
    try {
      const store = site.store;
      const second = join(dir, 'second.cab');
      generateCatalog({ revisions: 400, seed: 5, out: second });
      expect((await runSync(site, { source: second })).outcome).toBe('updated'); // queues every client again
      const row = (await store.currentCatalog())!;
      expect(row.id).not.toBe(firstId);
      const whole = readFileSync(row.path);
      // One byte damaged in the middle of the file.
      const damaged = Buffer.from(whole);
      damaged[whole.length >> 1] ^= 0xff;
      writeFileSync(row.path, damaged);

      const scanner = new ScanService(site, { log: () => undefined });
      await expect(scanner.runQueue()).rejects.toThrow(/checksum mismatch: the file is damaged/);
      // Read again, not kept: the next run fails the same way.
      await expect(scanner.runQueue()).rejects.toThrow(/checksum mismatch/);
      const q = await store.queueStatus();
      expect(q.failed).toBe(0);
      expect(q.active).toBe(0);
      expect(q.queued.normal + q.queued.expedited).toBe(names.length);
      for (const name of names) expect((await store.computerScan(name))!.catalog_id).toBe(firstId);

      writeFileSync(row.path, whole);
      const run = await scanner.runQueue();
      await scanner.close();
      expect(run.scanned).toBe(names.length);
      for (const name of names) expect((await store.computerScan(name))!.catalog_id).toBe(row.id);
    } finally {
      await site.close();
    }
  }, 120_000);
});
