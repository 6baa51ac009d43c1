/**
 * The store queries behind the console's lists, on both backends (SQLite file, real PostgreSQL), through the
 * SiteStore port only: a client's OS; computer lists sorted by any column (nulls last, then by name); the named
 * computers with their result set; a result set's outcomes; outcomes per update weighted by machines; and the
 * machines of one classification. Every expected value is written out from the rows stored here.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { ComputerOrder, NewResultSet, SiteStore, StaleOrder, UpdateMachineOrder } from '../../adapters/store/port.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const BACKENDS: { name: string; open(): Promise<{ store: SiteStore; done(): Promise<void> }> }[] = [
  { name: 'sqlite', open: async () => ({ store: openSqliteStore(join(tempDir(), 'site.db')), done: async () => undefined }) },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      return { store: await openPostgresStore(db.url), done: () => db.drop() };
    },
  },
];

const row = (k: number, id: string, state: string, superseded = 0) => ({
  update_index: k,
  update_id: id,
  revision_number: 1,
  state,
  superseded,
  reason: `r-${id}`,
});

for (const backend of BACKENDS) {
  describe(`console store queries: ${backend.name}`, () => {
    let store: SiteStore;
    let done: () => Promise<void>;
    let sets: { a: number; b: number };
    beforeEach(async () => {
      ({ store, done } = await backend.open());
      const catalogId = await store.addCatalog({
        sha256: 'a'.repeat(64),
        source: 'test',
        path: '/x.pscat',
        revisions: 3,
        signer: null,
        signed_at: null,
      });
      await store.setSetting('current_catalog', String(catalogId));
      type Rows = NewResultSet['updates'];
      const set = (fingerprint: string, updates: Rows, required: number, groups: NewResultSet['groups']): Promise<number> => {
        const counts = { installed: 0, required, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 0 };
        return store.addResultSet({ catalogId, fingerprint, counts, updates, groups });
      };
      // Set a: u1 Required, u2 Required but superseded, u3 Unknown. Set b: u1 Installed, u2 Required.
      sets = {
        a: await set('a', [row(0, 'u1', 'Required'), row(1, 'u2', 'Required', 1), row(2, 'u3', 'Unknown')], 2, [
          { kind: 'classification', name: 'Security Updates', installed: 0, required: 2, unknown: 1 },
        ]),
        b: await set('b', [row(0, 'u1', 'Installed'), row(1, 'u2', 'Required')], 1, [
          { kind: 'classification', name: 'Security Updates', installed: 1, required: 0, unknown: 0 },
          { kind: 'classification', name: 'Critical Updates', installed: 0, required: 1, unknown: 0 },
        ]),
      };
      // PC-A1, PC-A2 on set a; PC-B on set b; PC-NEW enrolled, never uploaded.
      const machines = [
        ['PC-A1', sets.a, 'Windows 10 22H2 (10.0.19045)'],
        ['PC-A2', sets.a, null],
        ['PC-B', sets.b, 'Windows Server 2019 (10.0.17763)'],
      ] as const;
      for (const [name, setId, os] of machines) {
        await store.enroll(name);
        const c = (await store.client(name))!;
        const inv = await store.addInventory(c.id, Buffer.from(name), name === 'PC-B' ? 'x86' : 'x64', undefined, os);
        await store.recordScan({ clientId: c.id, inventoryId: inv, catalogId, setId, program: 'p', scannedAt: '2026-11-29T10:00:00.000Z' });
      }
      await store.enroll('PC-NEW');
    });
    afterEach(async () => {
      await store.close();
      await done();
    });

    it('keeps the OS of the latest inventory on the client, and lists it', async () => {
      expect((await store.client('pc-a1'))!.os).toBe('Windows 10 22H2 (10.0.19045)');
      expect((await store.client('PC-A2'))!.os).toBeNull();
      expect((await store.client('PC-NEW'))!.os).toBeNull();
      const c = (await store.client('PC-A1'))!;
      await store.addInventory(c.id, Buffer.from('again'), 'x64', undefined, 'Windows 11 23H2 (10.0.22631)');
      expect((await store.searchComputers('pc-a1', 10, 0)).items.map((r) => r.os)).toEqual(['Windows 11 23H2 (10.0.22631)']);
    });

    it('keeps the OS sent with a group of uploads (the upload path), null when not known', async () => {
      const [a1, b] = [(await store.client('PC-A1'))!.id, (await store.client('PC-B'))!.id];
      const ids = await store.addUploads([
        {
          clientId: a1,
          body: Buffer.from('1'),
          architecture: 'x64',
          os: 'Windows 11 24H2 (10.0.26100.1)',
          priority: 'normal',
          reason: 'upload',
        },
        { clientId: b, body: Buffer.from('2'), architecture: 'x86', os: null, priority: 'normal', reason: 'upload' },
      ]);
      expect(ids.every((id) => typeof id === 'number')).toBe(true);
      expect([(await store.client('PC-A1'))!.os, (await store.client('PC-B'))!.os]).toEqual(['Windows 11 24H2 (10.0.26100.1)', null]);
      await store.addUploads([{ clientId: b, body: Buffer.from('3'), architecture: 'x86', priority: 'normal', reason: 'upload' }]);
      expect((await store.client('PC-B'))!.os).toBeNull();
    });

    it('sorts computer lists by any column, nulls last whatever the direction, then by name', async () => {
      const names = async (key: ComputerOrder['key'], dir: 'asc' | 'desc'): Promise<string[]> =>
        (await store.searchComputers('', 10, 0, { key, dir })).items.map((r) => r.name);
      expect(await names('name', 'asc')).toEqual(['PC-A1', 'PC-A2', 'PC-B', 'PC-NEW']);
      expect(await names('name', 'desc')).toEqual(['PC-NEW', 'PC-B', 'PC-A2', 'PC-A1']);
      expect(await names('required', 'desc')).toEqual(['PC-A1', 'PC-A2', 'PC-B', 'PC-NEW']);
      expect(await names('required', 'asc')).toEqual(['PC-B', 'PC-A1', 'PC-A2', 'PC-NEW']);
      expect(await names('architecture', 'desc')).toEqual(['PC-B', 'PC-A1', 'PC-A2', 'PC-NEW']);
      expect(await names('os', 'asc')).toEqual(['PC-A1', 'PC-B', 'PC-A2', 'PC-NEW']);
      const page = await store.searchComputers('', 2, 1, { key: 'required', dir: 'desc' });
      expect([page.total, page.items.map((r) => r.name)]).toEqual([4, ['PC-A2', 'PC-B']]);
    });

    it("lists named computers with their result set, and a set's outcomes", async () => {
      const rows = await store.computersNamed(['pc-b', 'PC-A1', 'PC-NEW', 'NOT-ENROLLED']);
      expect(rows.map((r) => [r.name, r.setId, r.required])).toEqual([
        ['PC-A1', sets.a, 2],
        ['PC-B', sets.b, 1],
        ['PC-NEW', null, null],
      ]);
      expect(await store.computersNamed([])).toEqual([]);
      expect((await store.computersNamed()).map((r) => r.name)).toEqual(['PC-A1', 'PC-A2', 'PC-B', 'PC-NEW']);
      const many = await store.computersNamed(Array.from({ length: 1200 }, (_, k) => (k === 1100 ? 'PC-B' : `NOBODY-${k}`)));
      expect(many.map((r) => r.name)).toEqual(['PC-B']);
      const out = await store.setOutcomes([sets.b]);
      expect(out.map((r) => [r.set_id, r.update_id, r.state, r.superseded]).sort()).toEqual([
        [sets.b, 'u1', 'Installed', 0],
        [sets.b, 'u2', 'Required', 0],
      ]);
    });

    it('adds outcomes per update over machines (a set counts once per machine on it)', async () => {
      const got = (await store.updateOutcomeCounts()).map((r) => [r.update_id, r.state, r.superseded, r.n]).sort();
      expect(got).toEqual(
        [
          ['u1', 'Installed', 0, 1],
          ['u1', 'Required', 0, 2],
          ['u2', 'Required', 0, 1],
          ['u2', 'Required', 1, 2],
          ['u3', 'Unknown', 0, 2],
        ].sort(),
      );
    });

    it('lists the machines of one classification with its counts, most Required first', async () => {
      const sec = await store.groupMachines('classification', 'Security Updates', 10, 0);
      expect([sec.total, sec.items.map((r) => [r.name, r.required, r.installed])]).toEqual([
        3,
        [
          ['PC-A1', 2, 0],
          ['PC-A2', 2, 0],
          ['PC-B', 0, 1],
        ],
      ]);
      const crit = await store.groupMachines('classification', 'Critical Updates', 10, 0);
      expect(crit.items.map((r) => r.name)).toEqual(['PC-B']);
      expect((await store.groupMachines('product', 'Security Updates', 10, 0)).total).toBe(0);
    });

    it('sorts the store-paged lists by each of their columns in SQL: a total order, nulls last (the stalest first)', async () => {
      // Drill-down machines: by any column, then by name.
      const drill = async (key: ComputerOrder['key'], dir: 'asc' | 'desc'): Promise<string[]> =>
        (await store.groupMachines('classification', 'Security Updates', 10, 0, { key, dir })).items.map((r) => r.name);
      expect(await drill('required', 'asc')).toEqual(['PC-B', 'PC-A1', 'PC-A2']);
      expect(await drill('installed', 'desc')).toEqual(['PC-B', 'PC-A1', 'PC-A2']);
      expect(await drill('name', 'desc')).toEqual(['PC-B', 'PC-A2', 'PC-A1']);
      expect(await drill('os', 'desc')).toEqual(['PC-B', 'PC-A1', 'PC-A2']);
      expect((await store.groupMachines('classification', 'Security Updates', 1, 1, { key: 'required', dir: 'asc' })).items[0].name).toBe(
        'PC-A1',
      );
      // An update's machines: state ranks Required, Unknown, possibly superseded, superseded, Installed.
      const machines = async (key: UpdateMachineOrder['key'], dir: 'asc' | 'desc'): Promise<string[]> =>
        (await store.updateMachines(['u1', 'u2', 'u3'], undefined, 20, 0, { key, dir })).items.map((r) => `${r.computer}/${r.updateId}`);
      expect(await machines('state', 'asc')).toEqual([
        'PC-A1/u1',
        'PC-A2/u1',
        'PC-B/u2',
        'PC-A1/u3',
        'PC-A2/u3',
        'PC-A1/u2',
        'PC-A2/u2',
        'PC-B/u1',
      ]);
      expect((await machines('updateId', 'desc')).slice(0, 3)).toEqual(['PC-A1/u3', 'PC-A2/u3', 'PC-A1/u2']);
      expect((await machines('computer', 'desc')).slice(0, 2)).toEqual(['PC-B/u1', 'PC-B/u2']);
      expect((await machines('reason', 'asc')).slice(0, 3)).toEqual(['PC-A1/u1', 'PC-A2/u1', 'PC-B/u1']);
      // Stale clients: never uploaded counts as the oldest; a column's nulls last in the other direction.
      const stale = async (key: StaleOrder['key'], dir: 'asc' | 'desc'): Promise<string[]> =>
        (await store.staleClients('9999-01-01T00:00:00.000Z', 10, 0, { key, dir })).items.map((r) => r.name);
      expect((await stale('lastUpload', 'asc'))[0]).toBe('PC-NEW');
      expect((await stale('lastUpload', 'desc')).at(-1)).toBe('PC-NEW');
      expect(await stale('name', 'desc')).toEqual(['PC-NEW', 'PC-B', 'PC-A2', 'PC-A1']);
      expect((await stale('lastScan', 'desc')).at(-1)).toBe('PC-NEW');
    });
  });
}
