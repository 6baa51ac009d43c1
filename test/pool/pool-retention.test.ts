/**
 * A pool keeps nothing of a batch once its results are read: what memory it holds is what its budget counts (kept
 * sets, batches in flight), whatever the number of machines scanned. Every task used to be raced against one promise
 * that never settles (the pool's "a worker died" signal): each race left a reaction on it that held the task's
 * results — outcomes, computer names, reasons — until the pool closed, ~110 MiB per 1,000 distinct machines with
 * reasons. Checked with weak references and a forced collection, on real worker threads.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { createScannerPool } from '../../engine/pool/scanner-pool.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { collectGarbage } from '../helpers/gc.js';

describe('scanner pool memory', () => {
  let catalog: Catalog;
  let fleet: Inventory[];

  beforeAll(() => {
    catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const model = new FleetModel(catalog);
    // Every machine its own profile, so that every batch brings result sets of its own.
    fleet = Array.from({ length: 400 }, (_, i) => model.machine(9, i, true));
  });

  for (const threads of [0, 2])
    it(`holds no batch's results once they are read (${threads} worker threads)`, async () => {
      const pool = await createScannerPool({ catalog, threads, batchSize: 16, cache: false, reasons: true });
      try {
        // Weak references to what each machine's result is made of; the loop keeps none of it.
        const outcomes: WeakRef<Uint32Array>[] = [];
        let n = 0;
        for await (const r of pool.scanMany(fleet)) {
          expect(r.ok).toBe(true);
          if (r.ok) outcomes.push(new WeakRef(r.resultSet.outcomes));
          n++;
        }
        expect(n).toBe(fleet.length);
        // The pool is still open: nothing it holds for the next scan may keep these alive.
        await collectGarbage();
        // At most the last machine's (the finished iteration may still hold its last value); the leak kept all 400.
        const alive = outcomes.filter((w) => w.deref() !== undefined).length;
        expect(alive).toBeLessThanOrEqual(1);
      } finally {
        await pool.close();
      }
    });
});
