/**
 * Sites for the carry-over differentials (test/site/catalog-carry-over.test.ts, carry-over-revisions.test.ts,
 * carry-over-chain.test.ts): one site carries stored result sets over to each new catalog, a second rescans in full,
 * and the two are compared.
 */
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { expect } from 'vitest';
import { catalogInService } from '../../bench/site-catalog.js';
import type { CatalogSource } from '../../adapters/site/catalog-files.js';
import { ScanService, type QueueRun } from '../../adapters/site/scan-service.js';
import { Site } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { setUpSite } from './site-setup.js';

/** Clients of each site: PC-0 … PC-29. */
export const MACHINES = 30;

/** A site with the bundled catalog synced, its objects made and the main collection unlimited. */
export async function openSite(dir: string, database: string | undefined): Promise<Site> {
  const site = await Site.open(dir, database ? { database } : {});
  const sync = await setUpSite(site, { testComputer: 'PC-0000000', syncHost: 'SYNC', mainUnlimited: true, sync: true });
  expect(sync?.outcome).toBe('updated');
  return site;
}

/** The {@link MACHINES} clients enrolled, their inventories stored and their scans queued. */
export async function upload(site: Site, model: FleetModel): Promise<void> {
  const packr = new Packr({ useRecords: false });
  await site.store.transaction(async (tx) => {
    for (let k = 0; k < MACHINES; k++) {
      // Every fifth machine repeats an earlier one's profile under another name.
      const inv = { ...model.machine(11, k % 5 === 4 ? k - 4 : k), computer: { name: `PC-${k}` } };
      await tx.enroll(inv.computer.name);
      const id = (await tx.client(inv.computer.name))!.id;
      await tx.addInventory(id, packr.pack(inv), 'x64');
      await tx.enqueueScan(id, 'normal', 'test');
    }
  });
}

/**
 * What the sync's swap does: record the compiled catalog, put it in service, queue every client; with `prepare`, also
 * what a sync then does for the carry-over (ScanService.prepareCarryOver: the diff stored once); returns its line.
 */
export async function putInService(site: Site, file: string, prepare = false): Promise<string | undefined> {
  const { previous } = await catalogInService(site, file, 'test');
  const line = prepare && previous ? await new ScanService(site).prepareCarryOver(previous.id) : undefined;
  expect(await new ScanService(site).rescanAll('new catalog')).toBe(MACHINES);
  return line;
}

/** Two sites with the same clients scanned on the bundled catalog: one carries over, one rescans in full. */
export interface SitePair {
  readonly carrying: Site;
  readonly full: Site;
  /** The carrying site's scans (carry-over on), and what they said on their log. */
  readonly incremental: ScanService;
  readonly logged: string[];
  /** The full-rescan site's scans (carry-over off). */
  readonly rescan: ScanService;
  /** The catalog both started on, and the model their clients come from. */
  readonly catalog: Catalog;
  readonly model: FleetModel;
  /** The first queue run of each site (every client scanned on the catalog they started on). */
  readonly first: { readonly carrying: QueueRun; readonly full: QueueRun };
  close(): Promise<void>;
}

/**
 * Opens the two sites under `root` (on the PostgreSQL databases given, else SQLite), uploads the {@link MACHINES}
 * clients to both and runs both queues once. `catalogs`: where the carrying site's scans read catalog files from.
 */
export async function openSitePair(
  root: string,
  databases: readonly (string | undefined)[] = [],
  catalogs?: (carrying: Site) => CatalogSource,
): Promise<SitePair> {
  const carrying = await openSite(join(root, 'carrying'), databases[0]);
  const full = await openSite(join(root, 'full'), databases[1]);
  const logged: string[] = [];
  const incremental = new ScanService(carrying, { log: (l) => logged.push(l), ...(catalogs ? { catalogs: catalogs(carrying) } : {}) });
  const rescan = new ScanService(full, { carryOver: false });
  const close = async (): Promise<void> => {
    await incremental.close();
    await rescan.close();
    await carrying.close();
    await full.close();
  };
  try {
    const catalog = new Catalog(readCatalogFile((await carrying.store.currentCatalog())!.path));
    const model = new FleetModel(catalog);
    await upload(carrying, model);
    await upload(full, model);
    const first = { carrying: await incremental.runQueue(), full: await rescan.runQueue() };
    return { carrying, full, incremental, logged, rescan, catalog, model, first, close };
  } catch (e) {
    await close();
    throw e;
  }
}
