/**
 * The store port's contract, run unchanged against both backends (SQLite file, real PostgreSQL): every case goes
 * through the SiteStore interface only, so a backend passes by behaving the same, not by sharing code.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computerKey } from '../../adapters/store/computer-name.js';
import { PG_MIGRATIONS } from '../../adapters/store/postgres/migrations.js';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { MIGRATIONS } from '../../adapters/store/sqlite/migrations.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { sha256Hex } from '../../adapters/store/sql/store.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { postgresMigratedTo, sqliteMigratedTo } from '../helpers/migrated-to.js';

interface Backend {
  readonly name: string;
  readonly variant?: string;
  open(): Promise<{ store: SiteStore; reopen(): Promise<SiteStore>; done(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const file = join(tempDir(), 'site.db');
      return { store: openSqliteStore(file), reopen: async () => openSqliteStore(file), done: async () => undefined };
    },
  },
  {
    // serve's mode: reads outside a transaction on worker threads with connections of their own.
    name: 'sqlite',
    variant: 'read threads',
    async open() {
      const file = join(tempDir(), 'site.db');
      const o = { readThreads: 2 };
      return { store: openSqliteStore(file, o), reopen: async () => openSqliteStore(file, o), done: async () => undefined };
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      const fast = { queue: { maintenanceIntervalSeconds: 1 } };
      return { store: await openPostgresStore(db.url, fast), reopen: () => openPostgresStore(db.url, fast), done: () => db.drop() };
    },
  },
];

for (const backend of BACKENDS) {
  describe(`SiteStore contract: ${backend.name}${backend.variant ? ` (${backend.variant})` : ''}`, () => {
    let store: SiteStore;
    let reopen: () => Promise<SiteStore>;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ store, reopen, done } = await backend.open());
    });
    afterEach(async () => {
      await store.close();
      await done();
    });

    it('is at its latest schema and reports where it lives', async () => {
      expect(await store.schemaVersion()).toBeGreaterThan(0);
      expect(store.backend).toBe(backend.name);
      expect(store.location).not.toMatch(/password/);
    });

    it('settings: set, replace, read, delete', async () => {
      expect(await store.setting('x')).toBeUndefined();
      await store.setSetting('x', '1');
      await store.setSetting('x', '2');
      expect(await store.setting('x')).toBe('2');
      await store.deleteSetting('x');
      expect(await store.setting('x')).toBeUndefined();
    });

    it.each([
      ['PC-É', 'pc-é'],
      ['STRASSE-PC', 'straße-pc'],
      ['ＰＣ-１', 'pc-1'],
      ['PC-DIYARBAKIR', 'pc-dıyarbakır'],
    ])('computer names compare by one key: %s and %s are one client', async (a, b) => {
      const first = await store.enroll(a);
      const second = await store.enroll(b); // re-enrolling the same computer replaces its token
      expect(await store.clientCount()).toBe(1);
      const c = (await store.client(a))!;
      expect(c.name).toBe(a);
      expect((await store.client(b))!.id).toBe(c.id);
      expect(c.token_hash).toBe(sha256Hex(second));
      expect(await store.clientByToken(first)).toBeUndefined();
      expect((await store.clientByToken(second))!.id).toBe(c.id);
      expect(computerKey(a)).toBe(computerKey(b));
    });

    it('distinct names stay distinct clients, listed by name', async () => {
      for (const n of ['PC-B', 'PC-A', 'PC-É', 'PC-E']) await store.enroll(n);
      expect((await store.clients()).map((c) => c.name)).toEqual(['PC-A', 'PC-B', 'PC-E', 'PC-É']);
      await expect(store.enroll('a/b')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    });

    it('inventories: stored bytes come back exactly; the latest one wins; counts per client', async () => {
      await store.enroll('PC-1');
      const id = (await store.client('PC-1'))!.id;
      const a = Buffer.from([0, 1, 2, 255, 254]);
      const b = Buffer.from('second');
      await store.addInventory(id, a, 'x64');
      const second = await store.addInventory(id, b, 'arm64');
      const latest = (await store.latestInventory(id))!;
      expect(latest.id).toBe(second);
      expect(Buffer.compare(latest.body, b)).toBe(0);
      expect(await store.inventoryCount(id)).toBe(2);
      expect(await store.clientsWithInventory()).toEqual([id]);
      expect((await store.client('PC-1'))!.architecture).toBe('arm64');
    });

    it('a transaction commits all or nothing: an upload and its scan job', async () => {
      await store.enroll('PC-1');
      const id = (await store.client('PC-1'))!.id;
      await expect(
        store.transaction(async (tx) => {
          await tx.addInventory(id, Buffer.from('x'), 'x64');
          await tx.enqueueScan(id, 'normal', 'upload');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.inventoryCount(id)).toBe(0);
      expect((await store.queueStatus()).queued).toEqual({ expedited: 0, normal: 0 });
      await store.transaction(async (tx) => {
        await tx.addInventory(id, Buffer.from('x'), 'x64');
        await tx.enqueueScan(id, 'normal', 'upload');
      });
      expect(await store.inventoryCount(id)).toBe(1);
      expect((await store.queueStatus()).queued).toEqual({ expedited: 0, normal: 1 });
    });

    it('scan jobs: expedited first, leased once, completed with the result', async () => {
      const ids: number[] = [];
      for (const n of ['A', 'B', 'C']) {
        await store.enroll(n);
        ids.push((await store.client(n))!.id);
      }
      await store.enqueueScan(ids[0], 'normal', 'upload');
      await store.enqueueScan(ids[1], 'normal', 'upload');
      await store.enqueueScan(ids[1], 'normal', 'upload again'); // a client waits once per priority
      await store.enqueueScan(ids[2], 'expedited', 'expedited upload');
      expect((await store.queueStatus()).queued).toEqual({ expedited: 1, normal: 2 });
      const jobs = await store.takeScans(10);
      expect(jobs.map((j) => [j.clientId, j.priority])).toEqual([
        [ids[2], 'expedited'],
        [ids[0], 'normal'],
        [ids[1], 'normal'],
      ]);
      expect(await store.takeScans(10)).toEqual([]);
      expect((await store.queueStatus()).active).toBe(3);
      await store.transaction((tx) => tx.completeScans(jobs));
      expect(await store.queueStatus()).toEqual({ queued: { expedited: 0, normal: 0 }, active: 0, failed: 0 });
    });

    it('catalogs and result sets: one set per profile and catalog, shared by machines; reports add them up', async () => {
      const catalogId = await store.addCatalog({
        sha256: 'a'.repeat(64),
        source: 'test',
        path: '/x.pscat',
        revisions: 3,
        signer: null,
        signed_at: null,
      });
      await store.setSetting('current_catalog', String(catalogId));
      expect((await store.currentCatalog())!).toMatchObject({ id: catalogId, revisions: 3 });
      expect((await store.catalogBySha('a'.repeat(64)))!.id).toBe(catalogId);
      const updates = [
        { update_index: 0, update_id: 'u0', revision_number: 1, state: 'Installed', superseded: 0, reason: 'r0' },
        { update_index: 1, update_id: 'u1', revision_number: 1, state: 'Required', superseded: 0, reason: 'r1' },
        {
          update_index: 2,
          update_id: 'u2',
          revision_number: 1,
          state: 'Unknown',
          superseded: 1,
          reason: 'FileVersion of C:\\x not collected',
        },
      ];
      const set = {
        catalogId,
        fingerprint: 'fp',
        counts: { installed: 1, required: 1, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 1 },
        updates,
        groups: [{ kind: 'classification' as const, name: 'Security Updates', installed: 1, required: 1, unknown: 1 }],
      };
      const setId = await store.addResultSet(set);
      expect(await store.addResultSet(set)).toBe(setId); // a second worker with the same profile takes the same set
      expect(await store.resultSetId(catalogId, 'fp')).toBe(setId);
      expect(await store.resultUpdates(setId)).toEqual(updates);
      for (const n of ['PC-1', 'PC-2']) {
        await store.enroll(n);
        const c = (await store.client(n))!;
        const inv = await store.addInventory(c.id, Buffer.from(n), 'x64');
        await store.recordScan({
          clientId: c.id,
          inventoryId: inv,
          catalogId,
          setId,
          program: 'Microsoft Updates Tool x64',
          scannedAt: '2026-11-29T10:00:00.000Z',
        });
      }
      expect(await store.fleetTotals()).toEqual({
        scanned: 2,
        installed: 2,
        required: 2,
        superseded: 0,
        possiblySuperseded: 0,
        unknown: 2,
        compliant: 0,
      });
      expect((await store.computerScan('pc-2'))!).toMatchObject({
        name: 'PC-2',
        set_id: setId,
        required: 1,
        superseded: 0,
        possibly_superseded: 0,
        program: 'Microsoft Updates Tool x64',
      });
      expect(await store.updateOutcomes(['u2', 'u1'])).toEqual([
        { setId, machines: 2, updateId: 'u1', state: 'Required', superseded: 0 },
        { setId, machines: 2, updateId: 'u2', state: 'Unknown', superseded: 1 },
      ]);
      expect(await store.unknownReasons(['u2'], 5)).toEqual([{ reason: 'FileVersion of C:\\x not collected', machines: 2 }]);
      const page = await store.updateMachines(['u1'], ['required'], 1, 1);
      expect(page.total).toBe(2);
      expect(page.items.map((i) => [i.computer, i.updateId])).toEqual([['PC-2', 'u1']]);
      expect((await store.updateMachines(['u1', 'u2'], undefined, 10, 0)).total).toBe(4);
      expect((await store.updateMachines(['u1'], ['installed'], 10, 0)).total).toBe(0);
      expect((await store.searchComputers('pc-', 10, 0)).total).toBe(2);
      expect((await store.searchComputers('PC_', 10, 0)).total).toBe(0); // LIKE wildcards in a prefix are literal
      expect(await store.scansSince('2026-11-29T00:00:00.000Z')).toBe(2);
      expect((await store.lastScan((await store.client('PC-1'))!.id))!.scanned_at).toBe('2026-11-29T10:00:00.000Z');
      const day = {
        day: '2026-11-29',
        clients: 2,
        scanned: 2,
        compliant: 0,
        installed: 2,
        required: 2,
        superseded: 1,
        possiblySuperseded: 1,
        unknown: 2,
      };
      await store.recordDaily(day);
      await store.recordDaily({ ...day, clients: 3 });
      expect(await store.dailyRows(10)).toEqual([{ ...day, clients: 3 }]);
      const stale = await store.staleClients('9999-01-01T00:00:00.000Z', 10, 0);
      expect(stale.total).toBe(2);
    });

    it('objects and targeting: every change bumps the version other processes compare', async () => {
      const pkg = await store.addPackage('package', 'Microsoft Updates Tool');
      const v0 = await store.targetingVersion();
      const pilot = await store.addCollection({ role: 'pilot', name: 'Pilot', architecture: null, limitTo: null });
      const main = await store.addCollection({ role: 'main', name: 'Main', architecture: '*', limitTo: pilot });
      const prog = await store.addProgram({
        role: 'scan-x64',
        packageId: pkg,
        name: 'Tool x64',
        variant: 'x64',
        expedited: false,
        commandLine: 'x',
      });
      await store.addAdvertisement({ role: 'scan-x64', name: 'Tool x64 → Main', programId: prog, collectionId: main, schedule: 'daily' });
      await store.addMember(pilot, 'PC-É');
      await store.addMember(pilot, 'pc-é'); // the same computer
      expect(await store.isMember(pilot, 'PC-é')).toBe(true);
      const v1 = await store.targetingVersion();
      expect(v1).not.toBe(v0);
      const t = await store.targeting();
      expect(t.version).toBe(v1);
      expect(t.members).toEqual([{ collection_id: pilot, computer: 'PC-É' }]);
      expect(t.advertisements).toEqual([
        expect.objectContaining({ program: 'Tool x64', variant: 'x64', expedited: 0, collection_id: main }),
      ]);
      expect((await store.collectionByName('main'))!.id).toBe(main);
      await store.setCollectionLimit(main, null);
      const other = await reopen(); // another process sees the change by its version
      try {
        expect(await other.targetingVersion()).not.toBe(v1);
        expect((await other.collection(main))!.limit_to).toBeNull();
      } finally {
        await other.close();
      }
      expect((await store.collections()).map((c) => [c.name, c.limited])).toEqual([
        ['Pilot', null],
        ['Main', null],
      ]);
      expect(await store.objectNames('program')).toEqual(['Tool x64']);
      await store.removeObjects();
      expect(await store.collections()).toEqual([]);
      expect(await store.objectId('package', 'package')).toBeUndefined();
    });

    it('site locks: one holder at a time, who holds it is readable, released for the next', async () => {
      const first = await store.tryLock('sync', 'the first sync');
      expect(first.acquired).toBe(true);
      const other = await reopen(); // another process of the site
      try {
        expect(await other.tryLock('sync', 'the second sync')).toEqual({ acquired: false, holder: 'the first sync' });
        expect((await store.tryLock('sync', 'again, same process')).acquired).toBe(false);
        expect((await other.tryLock('another-lock', 'x')).acquired).toBe(true);
        if (first.acquired) await first.release();
        const second = await other.tryLock('sync', 'the second sync');
        expect(second.acquired).toBe(true);
        if (second.acquired) await second.release();
      } finally {
        await other.close();
      }
    });

    /** Ids of a client's stored inventories, oldest first. */
    const storedIds = (clientId: number): Promise<number[]> => store.inventoryIds(clientId);
    /** Records a scan of `inventoryId` (a catalog and a result set made once). */
    let scanSet: { catalogId: number; setId: number } | undefined;
    const scanOf = async (clientId: number, inventoryId: number): Promise<boolean> => {
      if (!scanSet) {
        const catalogId = await store.addCatalog({
          sha256: 'c'.repeat(64),
          source: 'test',
          path: '/c.pscat',
          revisions: 1,
          signer: null,
          signed_at: null,
        });
        const setId = await store.addResultSet({
          catalogId,
          fingerprint: 'fp',
          counts: { installed: 0, required: 0, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 0 },
          updates: [],
          groups: [],
        });
        scanSet = { catalogId, setId };
      }
      return store.recordScan({
        clientId,
        inventoryId,
        ...scanSet,
        program: 'Microsoft Updates Tool x64',
        scannedAt: new Date().toISOString(),
      });
    };
    beforeEach(() => {
      scanSet = undefined;
    });
    const enrolled = async (name: string): Promise<number> => {
      await store.enroll(name);
      return (await store.client(name))!.id;
    };

    it('retention: the newest N inventories are kept, pruned in the transaction that stores a new one', async () => {
      const id = await enrolled('PC-1');
      const other = await enrolled('PC-2');
      const keep = { keep: 3, maxBytes: 1_000_000 };
      const added: number[] = [];
      for (let k = 0; k < 6; k++) added.push(await store.addInventory(id, Buffer.from(`inventory ${k}`), 'x64', keep));
      const untouched = await store.addInventory(other, Buffer.from('other'), 'x64'); // another client's history is its own
      expect(await storedIds(id)).toEqual(added.slice(-3));
      expect(await store.inventoryCount(id)).toBe(3);
      expect((await store.latestInventory(id))!.id).toBe(added[5]);
      expect(await storedIds(other)).toEqual([untouched]);
      // Rolled back with its transaction: the pruning too.
      await expect(
        store.transaction(async (tx) => {
          await tx.addInventory(id, Buffer.from('rolled back'), 'x64', { keep: 1, maxBytes: 1_000_000 });
          expect(await tx.inventoryCount(id)).toBe(1);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await storedIds(id)).toEqual(added.slice(-3));
      // Without retention nothing is pruned (library callers, imports).
      await store.addInventory(id, Buffer.from('kept'), 'x64');
      expect(await store.inventoryCount(id)).toBe(4);
    });

    it('retention: the inventory the latest scan read is never deleted while that scan refers to it', async () => {
      const id = await enrolled('PC-1');
      const keep = { keep: 3, maxBytes: 1_000_000 };
      const first = await store.addInventory(id, Buffer.from('first'), 'x64', keep);
      expect(await scanOf(id, first)).toBe(true);
      const added: number[] = [];
      for (let k = 0; k < 5; k++) added.push(await store.addInventory(id, Buffer.from(`later ${k}`), 'x64', keep));
      expect(await storedIds(id)).toEqual([first, ...added.slice(-3)]);
      // Once a newer one is scanned, the next upload lets the old one go.
      expect(await scanOf(id, added[4])).toBe(true);
      const next = await store.addInventory(id, Buffer.from('next'), 'x64', keep);
      expect(await storedIds(id)).toEqual([added[3], added[4], next]);
      // A scan of an inventory pruned meanwhile records nothing: the newer upload's scan will.
      expect(await scanOf(id, first)).toBe(false);
      expect(await store.computerScan('PC-1')).toBeDefined();
      expect(await storedIds(id)).toEqual([added[3], added[4], next]);
    });

    it('retention: over the stored-bytes cap older inventories go first; one larger than the cap is refused', async () => {
      const id = await enrolled('PC-1');
      const cap = { keep: 10, maxBytes: 100 };
      const a = await store.addInventory(id, Buffer.alloc(40, 1), 'x64', cap);
      const b = await store.addInventory(id, Buffer.alloc(40, 2), 'x64', cap);
      const c = await store.addInventory(id, Buffer.alloc(40, 3), 'x64', cap); // 120 > 100: the oldest goes
      expect(await storedIds(id)).toEqual([b, c]);
      expect((await store.clientSummaries('pc-1'))[0]).toMatchObject({ inventories: 2, stored_bytes: 80 });
      const d = await store.addInventory(id, Buffer.alloc(100, 4), 'x64', cap); // exactly the cap: alone
      expect(await storedIds(id)).toEqual([d]);
      const before = (await store.client('PC-1'))!;
      await expect(store.addInventory(id, Buffer.alloc(101, 5), 'arm64', cap)).rejects.toMatchObject({
        code: 'BAD_ARGUMENT',
        details: { limit: 'limits.storedBytesPerClient', bytes: 101, max: 100 },
      });
      expect(await storedIds(id)).toEqual([d]); // nothing stored, nothing pruned, the client unchanged
      expect((await store.client('PC-1'))!).toEqual(before);
      // The scanned inventory stays even when it and the new one exceed the cap together.
      expect(await scanOf(id, d)).toBe(true);
      const e = await store.addInventory(id, Buffer.alloc(60, 6), 'x64', cap);
      expect(await storedIds(id)).toEqual([d, e]);
      expect((await store.clientSummaries('PC-1'))[0].stored_bytes).toBe(160);
      expect(a).toBeLessThan(b);
    });

    it('enrollment lifecycle: rotate, revoke (data stays), enroll again, remove (data goes)', async () => {
      await expect(store.rotateToken('PC-NONE')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.revoke('PC-NONE')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await store.removeClient('PC-NONE')).toBeUndefined();
      const first = await store.enroll('PC-1');
      const id = (await store.client('PC-1'))!.id;
      const rotated = await store.rotateToken('pc-1');
      expect(rotated).toMatch(/^pst_/);
      expect(await store.clientByToken(first)).toBeUndefined();
      expect((await store.clientByToken(rotated))!.id).toBe(id);
      const inv = await store.addInventory(id, Buffer.from('inventory'), 'x64', { keep: 10, maxBytes: 1000 });
      await store.enqueueScan(id, 'normal', 'upload');
      expect(await scanOf(id, inv)).toBe(true);

      expect(await store.revoke('PC-1')).toBe(true);
      expect(await store.revoke('PC-1')).toBe(false);
      expect(await store.clientByToken(rotated)).toBeUndefined();
      const revoked = (await store.client('PC-1'))!;
      expect(revoked).toMatchObject({ id, token_hash: null, revoked_at: expect.stringMatching(/^\d{4}-/) });
      expect(await store.inventoryCount(id)).toBe(1); // its data stays
      expect(await store.computerScan('PC-1')).toBeDefined();
      await expect(store.rotateToken('PC-1')).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      // An upload authenticated just before the revocation is refused at its commit.
      await expect(store.addInventory(id, Buffer.from('late'), 'x64')).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { client: 'revoked' },
      });
      expect(await store.inventoryCount(id)).toBe(1);

      const again = await store.enroll('PC-1');
      expect((await store.client('PC-1'))!).toMatchObject({ id, revoked_at: null, token_hash: sha256Hex(again) });
      expect((await store.clientSummaries()).map((c) => [c.name, c.inventories, c.stored_bytes])).toEqual([['PC-1', 1, 9]]);

      await store.enroll('PC-2');
      const removed = await store.removeClient('pc-1');
      expect(removed).toEqual({ name: 'PC-1', inventories: 1, scans: 1 });
      expect(await store.client('PC-1')).toBeUndefined();
      expect(await store.clientByToken(again)).toBeUndefined();
      expect(await store.inventoryCount(id)).toBe(0);
      expect(await store.computerScan('PC-1')).toBeUndefined();
      expect(await store.fleetTotals()).toMatchObject({ scanned: 0 });
      expect((await store.clients()).map((c) => c.name)).toEqual(['PC-2']);
      // Its scan job finds no client (SQLite: the job went with it; pg-boss: it is handed out and skipped).
      const jobs = await store.takeScans(10);
      for (const j of jobs) expect(await store.clientById(j.clientId)).toBeUndefined();
      // The name can be enrolled again: a new client.
      await store.enroll('PC-1');
      expect((await store.client('PC-1'))!.id).not.toBe(id);
    });

    it('sync messages: newest first, with their catalog', async () => {
      await store.addSyncMessage(6709, 'Informational', 'started');
      const done = await store.addSyncMessage(6711, 'Error', 'failed: CAB_TRUNCATED');
      expect(done).toMatchObject({ message_id: 6711, severity: 'Error', catalog_id: null });
      expect((await store.syncMessages(10)).map((m) => m.message_id)).toEqual([6711, 6709]);
    });
  });
}

/**
 * Upgrading a site from the schema before retention and revocation: every stored inventory gets its size, a scan's
 * inventory becomes a reference the schema enforces, and the data is untouched.
 */
describe('upgrade to the retention schema', () => {
  const seed = async (run: (sql: string, params: unknown[]) => Promise<void>): Promise<void> => {
    await run(
      "INSERT INTO clients (id, name, name_key, token_hash, enrolled_at) VALUES (1, 'PC-1', 'pc-1', 'h1', '2026-01-01T00:00:00.000Z')",
      [],
    );
    await run(
      "INSERT INTO clients (id, name, name_key, token_hash, enrolled_at) VALUES (2, 'PC-2', 'pc-2', 'h2', '2026-01-01T00:00:00.000Z')",
      [],
    );
    for (const [id, client, body] of [
      [1, 1, 'one'],
      [2, 1, 'two two'],
      [3, 2, 'three'],
    ] as const) {
      await run('INSERT INTO inventories (id, client_id, received_at, sha256, body) VALUES ($1, $2, $3, $4, $5)', [
        id,
        client,
        '2026-01-01T00:00:00.000Z',
        'x',
        Buffer.from(body),
      ]);
    }
    await run("INSERT INTO catalogs (id, sha256, source, path, revisions, imported_at) VALUES (1, 'a', 's', '/p', 1, 't')", []);
    await run(
      "INSERT INTO result_sets (id, catalog_id, fingerprint, installed, required, not_applicable, unknown) VALUES (1, 1, 'fp', 1, 0, 0, 0)",
      [],
    );
    await run("INSERT INTO scans (client_id, inventory_id, catalog_id, set_id, scanned_at, program) VALUES (1, 1, 1, 1, 't', 'p')", []);
    await run(
      'INSERT INTO scans (client_id, inventory_id, catalog_id, set_id, scanned_at, ' + "program) VALUES (2, 99, 1, 1, 't', 'p')",
      [],
    ); // dangling
  };
  const check = async (store: SiteStore): Promise<void> => {
    expect((await store.clientSummaries()).map((c) => [c.name, c.inventories, c.stored_bytes, c.revoked_at])).toEqual([
      ['PC-1', 2, 10, null],
      ['PC-2', 1, 5, null],
    ]);
    expect((await store.computerScan('PC-1'))!.installed).toBe(1);
    expect((await store.computerScan('PC-2'))!.installed).toBe(1); // its scan now refers to its latest inventory
    // The scanned inventory survives retention down to one.
    const id = await store.addInventory(1, Buffer.from('new'), 'x64', { keep: 1, maxBytes: 1000 });
    expect(await store.inventoryIds(1)).toEqual([1, id]);
  };

  it('sqlite', async () => {
    const file = join(tempDir(), 'old.db');
    const db = sqliteMigratedTo(file, 4);
    await seed(async (sql, params) => void db.prepare(sql.replace(/\$\d/g, '?')).run(...params));
    db.close();
    const store = openSqliteStore(file);
    try {
      expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
      await check(store);
    } finally {
      await store.close();
    }
  });

  it('postgres', async () => {
    const tdb = await createTestDatabase();
    const c = new pg.Client({ connectionString: tdb.url });
    await c.connect();
    try {
      await postgresMigratedTo(c, 2);
      await seed(async (sql, params) => void (await c.query(sql, params)));
      // Rows inserted with their ids: the identities continue after them.
      for (const t of ['clients', 'inventories', 'catalogs', 'result_sets'])
        await c.query(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), 100)`);
    } finally {
      await c.end();
    }
    const store = await openPostgresStore(tdb.url, { queue: { maintenanceIntervalSeconds: 1 } });
    try {
      expect(await store.schemaVersion()).toBe(PG_MIGRATIONS.length);
      await check(store);
    } finally {
      await store.close();
      await tdb.drop();
    }
  });
});
