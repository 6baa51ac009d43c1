/**
 * The site's scan service gives the same stored results whether the engine runs on the calling thread or in the
 * worker pool (threads > 0, as `serve` and `worker` run it): states, superseded flags, reasons, counts per
 * classification, for a fleet with repeated and distinct profiles.
 */
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { groupSummary } from '../../adapters/site/reports.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { Site } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const MACHINES = 40;

async function scannedSite(dir: string, threads: number): Promise<{ rows: Map<string, string[]>; classes: unknown }> {
  const site = await Site.open(dir);
  try {
    await setUpSite(site, { testComputer: 'PC-0000000', syncHost: 'SYNC', mainUnlimited: true, sync: true });
    const model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
    const packr = new Packr({ useRecords: false });
    await site.store.transaction(async (tx) => {
      for (let k = 0; k < MACHINES; k++) {
        // Every fourth machine repeats an earlier one's profile under another name.
        const inv = { ...model.machine(9, k % 4 === 3 ? k - 3 : k), computer: { name: `PC-${k}` } };
        await tx.enroll(inv.computer.name);
        const id = (await tx.client(inv.computer.name))!.id;
        await tx.addInventory(id, packr.pack(inv), 'x64');
        await tx.enqueueScan(id, 'normal', 'test');
      }
    });
    const scanner = new ScanService(site, { threads });
    try {
      const r = await scanner.runQueue();
      expect(r.scanned).toBe(MACHINES);
      expect(r.shared).toBeGreaterThanOrEqual(MACHINES / 4);
    } finally {
      await scanner.close();
    }
    const rows = new Map<string, string[]>();
    for (let k = 0; k < MACHINES; k++) {
      const scan = (await site.store.computerScan(`PC-${k}`))!;
      rows.set(
        `PC-${k}`,
        (await site.store.resultUpdates(scan.set_id)).map((u) => `${u.update_id} ${u.state} ${u.superseded} ${u.reason}`),
      );
    }
    return { rows, classes: await groupSummary(site.store, 'classification') };
  } finally {
    await site.close();
  }
}

describe('site scans in the worker pool', () => {
  it('store exactly what scanning on the calling thread stores', async () => {
    const root = tempDir();
    const inline = await scannedSite(join(root, 'inline'), 0);
    const pooled = await scannedSite(join(root, 'pooled'), 2);
    expect(pooled.rows.size).toBe(MACHINES);
    for (const [name, rows] of inline.rows) expect(pooled.rows.get(name), name).toEqual(rows);
    // Not vacuous: most machines need or have something (a machine may also be NotApplicable to everything).
    expect([...inline.rows.values()].filter((r) => r.length > 0).length).toBeGreaterThan(MACHINES / 2);
    expect(pooled.classes).toEqual(inline.classes);
  }, 120_000);
});
