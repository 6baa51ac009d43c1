/**
 * Catalog distribution on a PostgreSQL site: a process on "another machine" (its own site directory, no access to
 * the syncing machine's files) fetches the compiled catalog in service from the database, verifies it, caches it,
 * and scans with it; a damaged copy is refused, never used.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCatalogFile } from '../../adapters/site/catalog-files.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

describe('catalog distribution (PostgreSQL site, two machines)', () => {
  const root = tempDir();
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("a worker without the syncing machine's files fetches the catalog by id, checks it, caches it and scans with it", async () => {
    const a = join(root, 'machine-a');
    const b = join(root, 'machine-b');
    for (const d of [a, b]) writeConfig(d, { ...DEFAULT_CONFIG, database: db.url });
    const siteA = await Site.open(a);
    expect((await setUpSite(siteA, { testComputer: 'PC-1', syncHost: 'SYNC', mainUnlimited: true, sync: true }))?.outcome).toBe('updated');
    const row = (await siteA.store.currentCatalog())!;
    const expected = new Catalog(readCatalogFile(row.path));
    const inv = new FleetModel(expected).machine(4, 2);
    await siteA.store.enroll(inv.computer.name);
    const client = (await siteA.store.client(inv.computer.name))!;
    await siteA.store.transaction(async (tx) => {
      await tx.addInventory(client.id, new Packr({ useRecords: false }).pack(inv), 'x64');
      await tx.enqueueScan(client.id, 'normal', 'upload');
    });
    await siteA.close();
    rmSync(join(a, 'catalogs'), { recursive: true, force: true }); // machine B cannot see machine A's disk

    const siteB = await Site.open(b);
    try {
      expect(existsSync(row.path)).toBe(false);
      const r = await new ScanService(siteB).runQueue();
      expect(r.scanned).toBe(1);
      const digest = (await siteB.store.catalogFileDigest(row.id))!;
      expect(existsSync(join(b, 'catalogs', `${digest}.pscat`))).toBe(true);
      // The stored result is the engine's answer with the syncing machine's catalog.
      const direct = new Scanner(expected).scan(inv);
      const stored = await siteB.store.resultUpdates((await siteB.store.computerScan(inv.computer.name))!.set_id);
      expect(stored.map((u) => `${u.update_id} ${u.state}`)).toEqual(
        direct.filter((d) => d.state !== 'NotApplicable').map((d) => `${d.updateId} ${d.state}`),
      );

      // A damaged copy in the database is refused, never loaded.
      rmSync(join(b, 'catalogs'), { recursive: true, force: true });
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      await c.query("UPDATE catalog_file_chunks SET bytes = overlay(bytes placing '\\x00ff'::bytea from 100) WHERE chunk = 0");
      await c.end();
      await expect(localCatalogFile(siteB.store, row, join(b, 'catalogs'))).rejects.toMatchObject({ code: 'COMPILED_BAD_FILE' });
    } finally {
      await siteB.close();
    }
  }, 90_000);
});
