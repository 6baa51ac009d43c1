/**
 * Pruning racing a carry-over (found by a review): a client whose inventory changed since its last scan finds its old
 * result set by profile, a set no scan reads — one pruning may delete. Here another worker scans and prunes at the
 * moment the first reads that set. Its automatic pruning waits (a job is taken: the queue is not idle); a prune that
 * checked the queue just before, done by hand here, deletes the set — and the first worker then scans the client in
 * full (the read says NOT_FOUND) instead of carrying from an empty set. Either way the stored rows are a full scan's.
 * And a report reading a computer's scan just before its set is pruned reads the scan again.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { buildCatalog, catalogRecords, patchTuesday } from '../../bench/patch-tuesday.js';
import { catalogInService } from '../../bench/site-catalog.js';
import { CatalogVersions, computerCompliance } from '../../adapters/site/reports.js';
import { ScanService, type QueueRun } from '../../adapters/site/scan-service.js';
import type { Site } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile, writeCatalogFile } from '../../engine/catalog/file.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { outcomeIndex, outcomeState } from '../../engine/fleet/result-set.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { MACHINES, openSite, upload } from '../helpers/carry-over-site.js';
import { tempDir } from '../helpers/tmp.js';

const packr = new Packr({ useRecords: false });

async function newInventory(site: Site, name: string, inv: object): Promise<void> {
  const id = (await site.store.client(name))!.id;
  await site.store.addInventory(id, packr.pack({ ...inv, computer: { name } }), 'x64');
}

async function inService(site: Site, file: string): Promise<number> {
  return (await catalogInService(site, file, 'test')).id;
}

describe.each(['SQLite', 'PostgreSQL'])('pruning while a set is carried over (%s)', (backend) => {
  it('waits for an idle queue, and a set deleted under a carry-over is scanned in full, not carried from nothing', async () => {
    const root = tempDir();
    const dbs: TestDatabase[] = backend === 'PostgreSQL' ? [await createTestDatabase()] : [];
    const site = await openSite(join(root, 's'), dbs[0]?.url);
    try {
      const bundled = new Catalog(readCatalogFile((await site.store.currentCatalog())!.path));
      const model = new FleetModel(bundled);
      await upload(site, model);
      expect((await new ScanService(site).runQueue()).scanned).toBe(MACHINES);
      // Catalog A (the bundled one rebuilt, as the bench builds them) in service, every client scanned on it.
      const fileA = join(root, 'a.pscat');
      writeCatalogFile(fileA, buildCatalog(catalogRecords(bundled), fileA).data);
      await inService(site, fileA);
      await new ScanService(site).rescanAll('catalog A');
      expect((await new ScanService(site, { carryOver: false }).runQueue()).scanned).toBe(MACHINES);
      // PC-1 now has PC-2's profile on A, PC-2 PC-3's: PC-2's old set is found by profile, and read by no scan once
      // PC-2 is scanned again.
      await newInventory(site, 'PC-1', model.machine(11, 2));
      await newInventory(site, 'PC-2', model.machine(11, 3));
      const fileB = join(root, 'b.pscat');
      const a = new Catalog(readCatalogFile(fileA));
      writeCatalogFile(fileB, buildCatalog(patchTuesday(catalogRecords(a), 1, 1).records, fileB).data);
      const b = new Catalog(readCatalogFile(fileB));
      const bId = await inService(site, fileB);
      const pc1 = (await site.store.client('PC-1'))!.id;
      const pc2 = (await site.store.client('PC-2'))!.id;
      await site.store.enqueueScan(pc1, 'normal', 'catalog B');

      // When the first worker reads the old set it found, a second scans PC-2 and would prune.
      let second: QueueRun | undefined;
      let deleted = 0;
      const store = new Proxy(site.store, {
        get(target, p) {
          const v = Reflect.get(target, p, target) as unknown;
          if (p === 'resultSetOutcomes')
            return async (setId: number) => {
              if (!second) {
                await site.store.enqueueScan(pc2, 'normal', 'catalog B');
                second = await new ScanService(site).runQueue();
                deleted = await site.store.deleteUnreadResultSets(bId, await site.store.unreadResultSets(bId));
              }
              return target.resultSetOutcomes(setId);
            };
          return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
        },
      });
      const logged: string[] = [];
      const first = new ScanService(new Proxy(site, { get: (t, p) => (p === 'store' ? store : Reflect.get(t, p, t)) }), {
        log: (l) => logged.push(l),
      });
      const r = await first.runQueue();
      expect(second?.scanned).toBe(1);
      expect(second?.pruned).toBe(0); // PC-1's job was taken: the queue was not idle
      expect(deleted).toBeGreaterThan(0); // PC-2's old set among them
      expect(r.scanned).toBe(1);
      expect(r.carried).toBe(0);
      expect(logged).toEqual([
        expect.stringMatching(/carrying a result set over .* failed, scanning it in full: NOT_FOUND: result set \d+ is not stored/),
      ]);

      const scan = (await site.store.computerScan('PC-1'))!;
      const inventory = decodeInventory((await site.store.latestInventory(pc1))!.body, 'PC-1', 'msgpack');
      const want = scanOutcomes(new Scanner(b), inventory, { all: false, reasons: true });
      expect((await site.store.resultUpdates(scan.set_id)).map((u) => `${u.update_index} ${u.state} ${u.reason}`)).toEqual(
        [...want.outcomes].map((w, k) => `${outcomeIndex(w)} ${outcomeState(w)} ${want.reasons?.[k]}`),
      );
      expect(want.outcomes.length).toBeGreaterThan(10);
      // Idle now: the automatic pruning runs.
      await site.store.enqueueScan(pc2, 'normal', 'again');
      expect((await new ScanService(site).runQueue()).scanned).toBe(1);

      // A report reads PC-1's scan, and before it reads that set's rows PC-1 is scanned on catalog C and its set on B
      // pruned: the report reads the scan again and shows the new one, instead of failing.
      const fileC = join(root, 'c.pscat');
      writeCatalogFile(fileC, buildCatalog(patchTuesday(catalogRecords(b), 1, 2).records, fileC).data);
      await inService(site, fileC);
      let raced = 0;
      const reading = new Proxy(site.store, {
        get(target, p) {
          if (p === 'resultUpdates')
            return async (setId: number) => {
              if (raced === 0) {
                await site.store.enqueueScan(pc1, 'normal', 'catalog C');
                // Scanned in full: a carry-over would keep the old set as its base.
                raced = (await new ScanService(site, { carryOver: false }).runQueue()).pruned;
              }
              return target.resultUpdates(setId);
            };
          const v = Reflect.get(target, p, target) as unknown;
          return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
        },
      });
      const report = await computerCompliance(reading, new CatalogVersions(site.store), 'PC-1');
      expect(raced).toBeGreaterThan(0); // PC-1's set on B among them
      expect(report?.catalog.sha256).toBe(createHash('sha256').update(readFileSync(fileC)).digest('hex'));
      expect(report).toEqual(await computerCompliance(site.store, new CatalogVersions(site.store), 'PC-1'));
    } finally {
      await site.close();
      for (const db of dbs) await db.drop();
    }
  }, 300_000);
});
