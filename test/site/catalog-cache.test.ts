/**
 * A scan worker's catalog cache keeps the copy in service and the ones used just before it (`worker
 * --keep-catalogs N`, 2 by default), and deletes older copies after a switch: on a PostgreSQL site, a machine
 * without the syncing machine's files scans through four catalog versions. Never deleted: the copy in use, a file
 * the sync named after a cabinet, anything not named like a copy.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCatalogSource } from '../../adapters/site/catalog-files.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { runSync } from '../../adapters/sync/sync.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

describe("a worker's catalog cache (PostgreSQL site, workers on machines without the sync's files)", () => {
  const root = tempDir();
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('keeps the copy in service and the N-1 before it, deletes older ones after each switch, never the one in use', async () => {
    const a = join(root, 'machine-a');
    const b = join(root, 'machine-b');
    for (const d of [a, b]) writeConfig(d, { ...DEFAULT_CONFIG, database: db.url });
    const siteA = await Site.open(a);
    const siteB = await Site.open(b);
    try {
      await setUpSite(siteA, { testComputer: 'PC-1', syncHost: 'SYNC', mainUnlimited: true }); // synced below, from a generated catalog
      const cabs = [1, 2, 3, 4].map((seed) => {
        const out = join(root, `v${seed}.cab`);
        generateCatalog({ revisions: 400, seed, out });
        return out;
      });
      expect((await runSync(siteA, { source: cabs[0] })).outcome).toBe('updated');
      const inv = new FleetModel(new Catalog(readCatalogFile((await siteA.store.currentCatalog())!.path))).machine(4, 2);
      await siteA.store.enroll(inv.computer.name);
      const client = (await siteA.store.client(inv.computer.name))!;
      await siteA.store.transaction(async (tx) => {
        await tx.addInventory(client.id, new Packr({ useRecords: false }).pack(inv), 'x64');
        await tx.enqueueScan(client.id, 'normal', 'upload');
      });

      // Two workers on machine B, each with a cache of its own: one keeps 2 (the default), one keeps 1.
      const caches = { two: join(b, 'cache-2'), one: join(b, 'cache-1') };
      const logs: string[] = [];
      const log = (line: string): void => void logs.push(line);
      const workers = {
        two: new ScanService(siteB, { catalogs: storeCatalogSource(siteB.store, caches.two, { keep: 2, log }), log }),
        one: new ScanService(siteB, { catalogs: storeCatalogSource(siteB.store, caches.one, { keep: 1, log }), log }),
      };
      // Files no pruning may touch: the sync's own naming (a cabinet's SHA-256), and anything else.
      const first = (await siteA.store.currentCatalog())!;
      mkdirSync(caches.two, { recursive: true });
      const syncNamed = join(caches.two, `${first.sha256}.pscat`);
      const other = join(caches.two, 'notes.txt');
      writeFileSync(syncNamed, 'the sync names a catalog file after its cabinet when the 16-digit name is taken');
      writeFileSync(other, 'not a catalog');
      utimesSync(syncNamed, new Date(0), new Date(0));

      const copies = (dir: string): string[] =>
        readdirSync(dir)
          .filter((f) => /^[0-9a-f]{64}\.pscat$/.test(f) && f !== `${first.sha256}.pscat`)
          .sort();
      const digests: string[] = [];
      // Machine B cannot see machine A's disk: A's catalogs folder is away while B works.
      const hidden = join(root, 'machine-a-catalogs');
      renameSync(siteA.catalogsDir, hidden);
      for (const [k, cab] of cabs.entries()) {
        if (k > 0) {
          renameSync(hidden, siteA.catalogsDir);
          expect((await runSync(siteA, { source: cab })).outcome).toBe('updated'); // queues a rescan
          renameSync(siteA.catalogsDir, hidden);
        }
        const row = (await siteA.store.currentCatalog())!;
        expect(existsSync(row.path)).toBe(false);
        digests.push((await siteA.store.catalogFileDigest(row.id))!);
        // Each worker takes (or finds nothing to take after the other); either way it loads the version in service.
        for (const w of [workers.two, workers.one]) await w.runQueue();
        expect((await siteB.store.computerScan(inv.computer.name))?.catalog_id).toBe(row.id);
        const name = (d: string): string => `${d}.pscat`;
        expect(copies(caches.two), `after version ${k + 1}`).toEqual(digests.slice(-2).map(name).sort());
        expect(copies(caches.one), `after version ${k + 1}`).toEqual([name(digests.at(-1)!)]);
      }
      expect(existsSync(syncNamed)).toBe(true);
      expect(existsSync(other)).toBe(true);
      expect(logs.filter((l) => l.startsWith('removed 1 old cached catalog(s)'))).toHaveLength(2 + 3);

      // A worker that starts keeps the copy in use, not a newer one.
      writeFileSync(join(caches.one, `${'e'.repeat(64)}.pscat`), 'newer, not in use');
      const again = new ScanService(siteB, { catalogs: storeCatalogSource(siteB.store, caches.one, { keep: 1, log }), log });
      expect((await again.runQueue()).scanned).toBe(0); // loads the version in service, then prunes
      expect(copies(caches.one)).toEqual([`${digests.at(-1)!}.pscat`]);
      for (const w of [workers.two, workers.one, again]) await w.close();
    } finally {
      await siteB.close();
      await siteA.close();
    }
  }, 180_000);
});
