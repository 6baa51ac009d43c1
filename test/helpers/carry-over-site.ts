/**
 * Sites for the carry-over differentials (test/site/catalog-carry-over.test.ts, carry-over-revisions.test.ts): one
 * site carries stored result sets over to each new catalog, a second rescans in full, and the two are compared.
 */
import { Packr } from 'msgpackr';
import { expect } from 'vitest';
import { catalogInService } from '../../bench/site-catalog.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { Site } from '../../adapters/site/site.js';
import type { FleetModel } from '../../corpus/generate-fleet.js';
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
