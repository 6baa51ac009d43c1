/**
 * Inventory retention on a running site (issue 11, item 4): one client uploading over HTTP keeps its newest
 * `limits.inventoriesPerClient` inventories (10 by default) plus the one its latest scan read, pruned in the
 * transaction that stores each upload — on SQLite and on PostgreSQL. Then the group commit's own guarantees: an
 * inventory over `limits.storedBytesPerClient` is refused with 413 without costing the uploads that share its
 * transaction theirs, and a client revoked between its authentication and the commit gets 401. And the two
 * configuration keys: defaults, and refusal of values that would delete what they should not.
 */
import { writeFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../adapters/server/http.js';
import { GroupCommit } from '../../adapters/server/routes/group-commit.js';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { upload } from '../../adapters/server/upload-client.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { configPath, DEFAULT_CONFIG, readConfig, Site, writeConfig } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const ADMIN = 'psa_test-admin-token';

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`retention over HTTP (${backend})`, () => {
    const dir = tempDir();
    let pgdb: TestDatabase | undefined;
    let site: Site;
    let server: RunningServer;
    let model: FleetModel;
    let token: string;
    let clientId: number;
    /** The pilot computer's inventory, a little different each time (k). */
    const inventory = (k: number): Buffer =>
      Buffer.from(
        JSON.stringify({ ...model.machine(3, k), computer: { name: 'PILOT-PC' }, processor: { architecture: 9 } } satisfies Inventory),
      );
    let uploads = 0;
    const send = async (): Promise<number> => {
      const r = await upload(server.url, token, inventory(uploads++));
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      return r.body.inventory as number;
    };
    /** Scans what is queued (the server does not scan by itself here: the test decides when a scan happens). */
    const scanNow = async (): Promise<number> => {
      await new ScanService(site).runQueue();
      return (await site.store.lastScan(clientId))!.inventory_id;
    };
    const compliance = async (): Promise<number> =>
      (await fetch(`${server.url}/v1/computers/PILOT-PC/compliance`, { headers: { authorization: `Bearer ${token}` } })).status;

    beforeAll(async () => {
      if (backend === 'postgres') pgdb = await createTestDatabase();
      // The configuration holds the defaults (what `patchscan init` writes): 10 inventories, 64 MiB per client.
      writeConfig(dir, { ...DEFAULT_CONFIG, ...(pgdb ? { database: pgdb.url } : {}), listen: '127.0.0.1:0' });
      site = await Site.open(dir);
      const sync = await setUpSite(site, { testComputer: 'PILOT-PC', syncHost: 'SYNC-HOST', admin: ADMIN, sync: true });
      expect(sync?.outcome).toBe('updated');
      model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
      token = await site.store.enroll('PILOT-PC');
      clientId = (await site.store.client('PILOT-PC'))!.id;
      server = await serve(site, { scheduledSync: false, scanQueue: false });
    }, 120_000);
    afterAll(async () => {
      await server?.close();
      await site?.close();
      await pgdb?.drop();
    });

    it('15 uploads of one client: the newest 10 are kept, the latest scanned one among them', async () => {
      expect(site.config.limits).toMatchObject({ inventoriesPerClient: 10, storedBytesPerClient: 64 * 1024 * 1024 });
      const ids: number[] = [];
      for (let k = 0; k < 8; k++) ids.push(await send());
      expect(await scanNow()).toBe(ids[7]); // the 8th upload is scanned
      for (let k = 8; k < 15; k++) ids.push(await send());
      expect(ids).toHaveLength(15);
      expect(await site.store.inventoryIds(clientId)).toEqual(ids.slice(5));
      expect((await site.store.lastScan(clientId))!.inventory_id).toBe(ids[7]);
      expect(await compliance()).toBe(200);
      expect((await site.store.clientSummaries('PILOT-PC'))[0].inventories).toBe(10);
    });

    it('a scanned inventory older than the newest 10 stays while its scan refers to it, and goes once a newer one is scanned', async () => {
      const scanned = await scanNow(); // the latest upload so far
      const later: number[] = [];
      for (let k = 0; k < 10; k++) later.push(await send());
      expect(await site.store.inventoryIds(clientId)).toEqual([scanned, ...later]);
      expect(await compliance()).toBe(200); // its compliance is still the scanned inventory's
      expect(await scanNow()).toBe(later[9]);
      const next = await send();
      expect(await site.store.inventoryIds(clientId)).toEqual([...later.slice(1), next]);
      expect(await compliance()).toBe(200);
    });
  });
}

describe('group commit: retention limits per upload', () => {
  const dir = tempDir();
  let site: Site;
  const packr = new Packr({ useRecords: false });
  beforeAll(async () => {
    site = await Site.open(dir);
  });
  afterAll(async () => {
    await site.close();
  });

  it('an inventory over limits.storedBytesPerClient is refused with 413; the uploads committed with it are not', async () => {
    await site.store.enroll('PC-A');
    await site.store.enroll('PC-B');
    const a = (await site.store.client('PC-A'))!.id;
    const b = (await site.store.client('PC-B'))!.id;
    const commits = new GroupCommit(site.store, { inventoriesPerClient: 2, storedBytesPerClient: 1000 });
    const body = (n: number): Buffer => Buffer.from(packr.pack({ pad: 'x'.repeat(n) }));
    // Arriving together: one transaction for all of them.
    const results = await Promise.allSettled([
      commits.add({ clientId: a, body: body(100), arch: 'x64', expedited: false }),
      commits.add({ clientId: a, body: body(2000), arch: 'x64', expedited: false }),
      commits.add({ clientId: a, body: body(100), arch: 'x64', expedited: false }),
      commits.add({ clientId: b, body: body(100), arch: 'x64', expedited: true }),
      commits.add({ clientId: a, body: body(100), arch: 'x64', expedited: false }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    const refused = (results[1] as PromiseRejectedResult).reason as HttpError;
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 413, code: 'TOO_LARGE', message: expect.stringContaining('limits.storedBytesPerClient') });
    const kept = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    expect(await site.store.inventoryIds(a)).toEqual([kept[1], kept[3]]); // newest 2 of A's 3
    expect(await site.store.inventoryIds(b)).toEqual([kept[2]]);
    // Under the count, over the bytes: the oldest goes first.
    const roomy = new GroupCommit(site.store, { inventoriesPerClient: 10, storedBytesPerClient: 1000 });
    const big = [
      await roomy.add({ clientId: b, body: body(450), arch: 'x64', expedited: false }),
      await roomy.add({ clientId: b, body: body(450), arch: 'x64', expedited: false }),
    ];
    expect(await site.store.inventoryIds(b)).toEqual(big);
    expect((await site.store.clientSummaries('PC-B'))[0].stored_bytes).toBeLessThanOrEqual(1000);
  });

  it('a client revoked between its authentication and the commit gets 401; the others in its transaction are stored', async () => {
    await site.store.enroll('PC-C');
    await site.store.enroll('PC-D');
    const c = (await site.store.client('PC-C'))!.id;
    const d = (await site.store.client('PC-D'))!.id;
    await site.store.revoke('PC-C'); // authenticated before this, committed after
    const commits = new GroupCommit(site.store);
    const [rc, rd] = await Promise.allSettled([
      commits.add({ clientId: c, body: Buffer.from('c'), arch: 'x64', expedited: false }),
      commits.add({ clientId: d, body: Buffer.from('d'), arch: 'x64', expedited: false }),
    ]);
    expect(rc).toMatchObject({ status: 'rejected', reason: { status: 401, code: 'UNAUTHENTICATED' } });
    expect(rd.status).toBe('fulfilled');
    expect(await site.store.inventoryCount(c)).toBe(0);
    expect(await site.store.inventoryIds(d)).toEqual([(rd as PromiseFulfilledResult<number>).value]);
  });
});

describe('configuration: limits.inventoriesPerClient and limits.storedBytesPerClient', () => {
  const dir = tempDir();

  it('default to 10 and 64 MiB, and take what patchscan.json says', () => {
    expect(DEFAULT_CONFIG.limits).toMatchObject({ inventoriesPerClient: 10, storedBytesPerClient: 64 * 1024 * 1024 });
    writeFileSync(configPath(dir), JSON.stringify({ limits: { uploadsPerMinute: 5 } }));
    expect(readConfig(dir).limits).toMatchObject({ uploadsPerMinute: 5, inventoriesPerClient: 10, storedBytesPerClient: 64 * 1024 * 1024 });
    writeFileSync(configPath(dir), JSON.stringify({ limits: { inventoriesPerClient: 3, storedBytesPerClient: 1048576 } }));
    expect(readConfig(dir).limits).toMatchObject({ inventoriesPerClient: 3, storedBytesPerClient: 1048576 });
  });

  it.each([
    ['inventoriesPerClient', 0],
    ['inventoriesPerClient', 2.5],
    ['inventoriesPerClient', '10'],
    ['inventoriesPerClient', null],
    ['storedBytesPerClient', -1],
    ['storedBytesPerClient', '64MiB'],
  ])('refuses limits.%s = %j, naming the key', (key, value) => {
    writeFileSync(configPath(dir), JSON.stringify({ limits: { [key]: value } }));
    expect(() => readConfig(dir)).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG', message: expect.stringContaining(`limits.${key} must be a whole number`) }),
    );
  });
});
