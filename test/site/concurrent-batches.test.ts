/**
 * Two scan workers on one PostgreSQL site storing batches whose profiles overlap, in opposite job orders: each batch
 * inserts its new result sets in its transaction, and in job order two such transactions waited on each other's rows
 * (PostgreSQL: "deadlock detected", the batch failed and went back to the queue with backoff — seen in one run in three
 * of `bench/site-scan.bench.ts --postgres` with two workers). Stored in fingerprint order, both take the rows in one
 * order: every job is scanned on the first try, none failed.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ScanService } from '../../adapters/site/scan-service.js';
import { Site } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';
import { join } from 'node:path';

const PROFILES = 24;

describe('two workers, overlapping profiles in opposite orders (PostgreSQL)', () => {
  it('every job is stored on its first try: no batch lost to a deadlock', async () => {
    const db = await createTestDatabase();
    const root = tempDir();
    const a = await Site.open(join(root, 'a'), { database: db.url });
    const b = await Site.open(join(root, 'b'), { database: db.url });
    try {
      expect((await setUpSite(a, { testComputer: 'PC-T', syncHost: 'SYNC', mainUnlimited: true, sync: true }))?.outcome).toBe('updated');
      const current = (await a.store.currentCatalog())!;
      const model = new FleetModel(new Catalog(readCatalogFile(current.path)));
      const packr = new Packr({ useRecords: false });
      // Per round, new profiles: jobs 0-23 have profiles 0-23, jobs 24-47 the same profiles backwards — two batches
      // of 24, one per worker, taken and stored at the same time. Several rounds: whether two transactions meet is timing.
      const ROUNDS = 4;
      for (let round = 0; round < ROUNDS; round++) {
        await a.store.transaction(async (tx) => {
          for (let k = 0; k < 2 * PROFILES; k++) {
            const profile = k < PROFILES ? k : 2 * PROFILES - 1 - k;
            const inv = { ...model.machine(10 + round, profile, true), computer: { name: `R${round}-PC-${k}` } };
            await tx.enroll(inv.computer.name);
            const id = (await tx.client(inv.computer.name))!.id;
            await tx.addInventory(id, packr.pack(inv), 'x64');
            await tx.enqueueScan(id, 'normal', 'test');
          }
        });
        // A deadlock fails one of the two batches: its runQueue rejects.
        const results = await Promise.allSettled(
          [a, b].map((site) => new ScanService(site, { log: () => {} }).runQueue(PROFILES, PROFILES)),
        );
        expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
        const q = (await a.store.queueStatus()).queued;
        expect(q.expedited + q.normal).toBe(0);
      }
      expect((await a.store.queueStatus()).failed).toBe(0);
      for (let round = 0; round < ROUNDS; round++)
        for (let k = 0; k < 2 * PROFILES; k++) expect(await a.store.computerScan(`R${round}-PC-${k}`), `R${round}-PC-${k}`).toBeDefined();
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
