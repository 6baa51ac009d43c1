/**
 * A scan batch is scanned with, and its results name, the catalog in service when its jobs were taken. A sync that
 * puts a new catalog in service between the scanner's catalog read and its take queues its rescans after that
 * commit; the jobs taken are then those rescans, and scanning them with the catalog read before would leave every
 * client on the old catalog with nothing queued to fix it. Here the sync is made to land exactly there.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScanService } from '../../adapters/site/scan-service.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { scannedSite, syncOnFirstTake } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

describe('a new catalog in service between the catalog read and the take', () => {
  it('the batch taken is scanned with the new catalog, and its results name it', async () => {
    const dir = tempDir();
    const { site, names } = await scannedSite(join(dir, 'site'), { clients: 4, admin: 'psa_switch' });
    try {
      const store = site.store;
      const first = (await store.currentCatalog())!;
      const scanner = new ScanService(site);
      expect((await scanner.runQueue()).scanned).toBe(0); // nothing queued: the first catalog is loaded
      const second = join(dir, 'second.cab');
      generateCatalog({ revisions: 400, seed: 5, out: second });

      const sync = syncOnFirstTake(site, second);
      const r = await scanner.runQueue();
      await scanner.close();
      expect(sync.synced()).toBe(true);
      expect(r.scanned).toBe(names.length);
      const current = (await store.currentCatalog())!;
      expect(current.id).not.toBe(first.id);
      for (const name of names) expect((await store.computerScan(name))?.catalog_id, name).toBe(current.id);
      const q = await store.queueStatus();
      expect(q.queued.normal + q.active).toBe(0);
    } finally {
      await site.close();
    }
  }, 120_000);
});
