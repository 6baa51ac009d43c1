/**
 * The store port's update-group methods, run unchanged against both backends (SQLite file, real PostgreSQL):
 * groups are made, listed, found by name in any case, changed and deleted the same way, and a group's outcomes are
 * read per result set that a latest scan refers to.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

interface Backend {
  readonly name: string;
  open(): Promise<{ store: SiteStore; done(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  { name: 'sqlite', open: async () => ({ store: openSqliteStore(join(tempDir(), 'site.db')), done: async () => undefined }) },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      return { store: await openPostgresStore(db.url, { queue: { maintenanceIntervalSeconds: 1 } }), done: () => db.drop() };
    },
  },
];

const u = (id: string, kb: string, title = `Update ${kb}`) => ({ update_id: id, kb, title });

for (const backend of BACKENDS) {
  describe(`update groups in the store: ${backend.name}`, () => {
    let store: SiteStore;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ store, done } = await backend.open());
    });
    afterEach(async () => {
      await store.close();
      await done();
    });

    it('make, list, find in any case, add (once), remove, deadline, delete', async () => {
      const id = await store.addUpdateGroup({
        name: 'Patch Tuesday 2026-12',
        criteria: '{"kbs":["1"]}',
        deadline: null,
        updates: [u('b-id', '2'), u('a-id', '1')],
      });
      expect(id).toBeGreaterThan(0);
      await expect(
        store.addUpdateGroup({ name: 'PATCH tuesday 2026-12', criteria: '{}', deadline: null, updates: [] }),
      ).rejects.toMatchObject({ code: 'BAD_ARGUMENT', details: { group: 'exists' } });
      await store.addUpdateGroup({ name: 'Baseline', criteria: '{}', deadline: '2026-12-24T00:00:00.000Z', updates: [] });
      expect((await store.updateGroups()).map((g) => [g.name, g.updates, g.deadline])).toEqual([
        ['Baseline', 0, '2026-12-24T00:00:00.000Z'],
        ['Patch Tuesday 2026-12', 2, null],
      ]);
      const g = (await store.updateGroup('patch TUESDAY 2026-12'))!;
      expect(g).toMatchObject({ id, name: 'Patch Tuesday 2026-12', criteria: '{"kbs":["1"]}', updates: 2 });
      expect(g.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(await store.updateGroupUpdates(id)).toEqual([u('a-id', '1'), u('b-id', '2')]); // by KB
      // Adding what it holds already changes nothing; UpdateIds compare in lower case.
      expect(await store.addUpdateGroupUpdates(id, [u('A-ID', '1'), u('c-id', '3')])).toBe(1);
      expect((await store.updateGroupUpdates(id)).map((x) => x.update_id)).toEqual(['a-id', 'b-id', 'c-id']);
      expect(await store.removeUpdateGroupUpdates(id, ['B-ID', 'nope'])).toBe(1);
      expect(await store.removeUpdateGroupUpdates(id, [])).toBe(0);
      expect((await store.updateGroup('Patch Tuesday 2026-12'))!.updates).toBe(2);
      await store.setUpdateGroupDeadline(id, '2026-12-10T18:00:00.000Z');
      expect((await store.updateGroup('Patch Tuesday 2026-12'))!.deadline).toBe('2026-12-10T18:00:00.000Z');
      await store.setUpdateGroupDeadline(id, null);
      expect((await store.updateGroup('Patch Tuesday 2026-12'))!.deadline).toBeNull();
      expect(await store.removeUpdateGroup('patch tuesday 2026-12')).toBe(true);
      expect(await store.removeUpdateGroup('patch tuesday 2026-12')).toBe(false);
      expect(await store.updateGroup('Patch Tuesday 2026-12')).toBeUndefined();
      expect(await store.updateGroupUpdates(id)).toEqual([]); // its update list went with it
    });

    it("a group's outcomes are read per result set in use; clients list with their latest set", async () => {
      const catalogId = await store.addCatalog({
        sha256: 'b'.repeat(64),
        source: 'test',
        path: '/b.pscat',
        revisions: 3,
        signer: null,
        signed_at: null,
      });
      const row = (i: number, id: string, state: string, superseded = 0) => ({
        update_index: i,
        update_id: id,
        revision_number: 1,
        state,
        superseded,
        reason: '',
      });
      const counts = { installed: 0, required: 0, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 0 };
      // c-id has two rows (two revisions): counted once, as not known (Unknown wins over Installed); x-id is not in the group.
      const used = await store.addResultSet({
        catalogId,
        fingerprint: 'used',
        counts,
        groups: [],
        updates: [
          row(0, 'a-id', 'Required'),
          row(1, 'b-id', 'Required', 1),
          row(2, 'x-id', 'Installed'),
          row(3, 'c-id', 'Installed'),
          row(4, 'c-id', 'Unknown'),
          row(5, 'd-id', 'Required', 2),
          row(6, 'e-id', 'Installed', 1),
          row(7, 'f-id', 'Weird'),
        ],
      });
      await store.addResultSet({ catalogId, fingerprint: 'unused', counts, groups: [], updates: [row(0, 'a-id', 'Installed')] });
      for (const n of ['PC-2', 'PC-1']) {
        await store.enroll(n);
        const c = (await store.client(n))!;
        const inv = await store.addInventory(c.id, Buffer.from(n), 'x64');
        await store.recordScan({
          clientId: c.id,
          inventoryId: inv,
          catalogId,
          setId: used,
          program: 'p',
          scannedAt: '2026-11-29T10:00:00.000Z',
        });
      }
      await store.enroll('PC-3'); // never scanned
      const id = await store.addUpdateGroup({
        name: 'G',
        criteria: '{}',
        deadline: null,
        updates: [u('a-id', '1'), u('b-id', '2'), u('c-id', '3'), u('d-id', '4'), u('e-id', '5'), u('f-id', '6'), u('g-id', '7')],
      });
      // Per set, not per client; by the counting rule; a state it does not know counts as not known; g-id has no row.
      const counts2 = (await store.groupSetCounts(id)).map((r) => [r.set_id, r.bucket, r.n]).sort();
      expect(counts2).toEqual([
        [used, 'installed', 1],
        [used, 'possiblySuperseded', 1],
        [used, 'required', 1],
        [used, 'superseded', 1],
        [used, 'unknown', 2],
      ]);
      expect((await store.clientSets()).map((c) => [c.name, c.set_id, c.catalog_id, c.scanned_at])).toEqual([
        ['PC-1', used, catalogId, '2026-11-29T10:00:00.000Z'],
        ['PC-2', used, catalogId, '2026-11-29T10:00:00.000Z'],
        ['PC-3', null, null, null],
      ]);
    });
  });
}
