/**
 * docs/configuration.md: a worker whose new catalog cannot be loaded (a `--catalog-from` copy that does not verify, a
 * server that is down) "scans nothing (its jobs stay queued, no try is counted)". Here the new catalog is put in
 * service exactly between the worker's catalog read and its take (as in catalog-switch.test.ts) and cannot be loaded:
 * the jobs taken must go back untouched, not fail.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeCatalogSource } from '../../adapters/site/catalog-files.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { PatchscanError } from '../../engine/errors.js';
import { scannedSiteWithoutRetries, syncOnFirstTake } from '../helpers/scanned-site.js';
import { tempDir } from '../helpers/tmp.js';

describe('a new catalog that cannot be loaded, in service between the catalog read and the take', () => {
  it('the jobs taken stay queued and count no try', async () => {
    const dir = tempDir();
    const siteDir = join(dir, 'site');
    const { site, firstCatalogId: firstId, names } = await scannedSiteWithoutRetries(siteDir, { clients: 3, admin: 'psa_unloadable' });
    try {
      const store = site.store;
      const local = storeCatalogSource(store, site.catalogsDir);
      const scanner = new ScanService(site, {
        log: () => undefined,
        catalogs: {
          file: (row) => {
            if (row.id === firstId) return local.file(row);
            return Promise.reject(new PatchscanError('COMPILED_BAD_FILE', 'the copy does not match (test)'));
          },
        },
      });
      expect((await scanner.runQueue()).scanned).toBe(0); // the first catalog is loaded
      const second = join(dir, 'second.cab');
      generateCatalog({ revisions: 400, seed: 5, out: second });
      const sync = syncOnFirstTake(site, second);
      await expect(scanner.runQueue()).rejects.toThrow(/does not match/);
      await scanner.close();
      expect(sync.synced()).toBe(true);
      const q = await store.queueStatus();
      expect(q.failed).toBe(0);
      expect(q.queued.normal + q.queued.expedited).toBe(names.length);
    } finally {
      await site.close();
    }
  }, 120_000);
});
