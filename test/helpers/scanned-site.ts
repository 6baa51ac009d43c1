/**
 * A SQLite site with a synced catalog (the bundled corpus) and `clients` fleet machines enrolled, their inventories
 * stored and scanned — what report tests start from. The main collection is unlimited, so every machine is targeted.
 */
import { Packr } from 'msgpackr';
import { expect } from 'vitest';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { variantOf } from '../../adapters/site/objects.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { runSync } from '../../adapters/sync/sync.js';
import { setUpSite } from './site-setup.js';

export { BUNDLED } from './site-setup.js';

export async function scannedSite(
  dir: string,
  o: { clients: number; admin: string; unscanned?: readonly string[] },
): Promise<{ site: Site; catalog: Catalog; names: string[] }> {
  writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0' });
  const site = await Site.open(dir);
  const store = site.store;
  const sync = (await setUpSite(site, {
    testComputer: 'PC-0000',
    syncHost: 'SYNC-HOST',
    admin: o.admin,
    mainUnlimited: true,
    sync: true,
  }))!;
  if (sync.outcome !== 'updated') throw new Error(`sync: ${sync.message}`);
  const catalog = new Catalog(readCatalogFile((await store.currentCatalog())!.path));
  const model = new FleetModel(catalog);
  const names: string[] = [];
  const packr = new Packr({ useRecords: false }); // stored inventories are msgpack, as the upload route stores them
  for (let k = 0; k < o.clients; k++) {
    const name = `PC-${String(k).padStart(4, '0')}`;
    const inv = { ...model.machine(7, k), computer: { name } };
    await store.enroll(name);
    const c = (await store.client(name))!;
    await store.transaction(async (tx) => {
      await tx.addInventory(c.id, Buffer.from(packr.pack(inv)), variantOf(inv.processor?.architecture) ?? 'other');
      await tx.enqueueScan(c.id, 'normal', 'upload');
    });
    names.push(name);
  }
  for (const n of o.unscanned ?? []) await store.enroll(n);
  const scanner = new ScanService(site);
  const run = await scanner.runQueue();
  if (run.scanned !== o.clients) throw new Error(`scanned ${run.scanned} of ${o.clients} (skipped ${run.skipped})`);
  await scanner.close();
  return { site, catalog, names };
}

/**
 * {@link scannedSite} reopened with queue retries 0: a job that fails is failed for good, so a test sees at once
 * whether a failure counted a try. The caller closes the site.
 */
export async function scannedSiteWithoutRetries(
  dir: string,
  o: { clients: number; admin: string },
): Promise<{ site: Site; firstCatalogId: number; names: string[] }> {
  const first = await scannedSite(dir, o);
  await first.site.close();
  writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', queue: { ...DEFAULT_CONFIG.queue, retries: 0 } });
  const site = await Site.open(dir);
  return { site, firstCatalogId: (await site.store.currentCatalog())!.id, names: first.names };
}

/**
 * Makes the site's next `takeScans` first sync `source` into service (which queues every client again), then take
 * jobs: the moment a worker takes jobs just as a sync switches the catalog, forced. `synced()`: whether it happened.
 */
export function syncOnFirstTake(site: Site, source: string): { synced: () => boolean } {
  const store = site.store;
  const take = store.takeScans.bind(store);
  let synced = false;
  store.takeScans = async (max, lease) => {
    if (!synced) {
      synced = true;
      expect((await runSync(site, { source })).outcome).toBe('updated'); // queues every client again
    }
    return take(max, lease);
  };
  return { synced: () => synced };
}
