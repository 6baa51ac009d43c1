/**
 * A result set stored as its changes on a base (NewResultSet.base: what a carry-over to a new catalog stores) reads,
 * through every reader of the store and through the client_update_states view, exactly as the same rows stored
 * whole. Both backends, each reader compared between a client on the carried set and a client on the whole one.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { NewResultSet, ResultUpdateRow, SiteStore } from '../../adapters/store/port.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

interface Opened {
  readonly store: SiteStore;
  /** Rows of a query on the site database, outside the store (what a user's own SQL sees). */
  query<T>(sql: string, params: unknown[]): Promise<T[]>;
  done(): Promise<void>;
}

const BACKENDS: { name: string; open(): Promise<Opened> }[] = [
  {
    name: 'SQLite',
    async open() {
      const file = join(tempDir(), 'site.db');
      const store = openSqliteStore(file);
      await store.schemaVersion();
      return {
        store,
        query: async <T>(sql: string, params: unknown[]) => {
          const db = new Database(file, { readonly: true });
          try {
            return db.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as T[];
          } finally {
            db.close();
          }
        },
        done: async () => undefined,
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const db = await createTestDatabase();
      const store = await openPostgresStore(db.url);
      return {
        store,
        query: async <T>(sql: string, params: unknown[]) => {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          try {
            return (await c.query(sql, params)).rows as T[];
          } finally {
            await c.end();
          }
        },
        done: () => db.drop(),
      };
    },
  },
];

const row = (
  update_index: number,
  update_id: string,
  state: string,
  reason: string,
  revision_number = 1,
  superseded = 0,
): ResultUpdateRow => ({
  update_index,
  update_id,
  revision_number,
  state,
  superseded,
  reason,
});

/** On the old catalog: seven rows, u4 with two revisions. */
const OLD: ResultUpdateRow[] = [
  row(0, 'u0', 'Installed', 'r0'),
  row(1, 'u1', 'Required', 'r1'),
  row(2, 'u2', 'Unknown', 'r2 not collected'),
  row(3, 'u3', 'Required', 'r3', 1, 1),
  row(4, 'u4', 'Installed', 'r4a', 1),
  row(5, 'u4', 'Required', 'r4b', 2, 2),
  row(6, 'u5', 'Unknown', 'r5 not collected'),
];
/** The new catalog puts n0 first (every index moves by one) and drops u2. */
const MAP = Int32Array.from([1, 2, -1, 3, 4, 5, 6]);
/** The set on the new catalog: n0 new, u1 now Installed, u2 gone, u5 with another reason; u0, u3, u4 as they were. */
const NEW: ResultUpdateRow[] = [
  row(0, 'n0', 'Unknown', 'n0 not collected'),
  row(1, 'u0', 'Installed', 'r0'),
  row(2, 'u1', 'Installed', 'r1 now'),
  row(3, 'u3', 'Required', 'r3', 1, 1),
  row(4, 'u4', 'Installed', 'r4a', 1),
  row(5, 'u4', 'Required', 'r4b', 2, 2),
  row(6, 'u5', 'Unknown', 'r5 another'),
];
const COUNTS = { installed: 3, required: 1, superseded: 1, possiblySuperseded: 1, notApplicable: 0, unknown: 2 };

for (const backend of BACKENDS) {
  describe(`a result set stored on a base (${backend.name})`, () => {
    let o: Opened;
    let store: SiteStore;
    beforeEach(async () => {
      o = await backend.open();
      store = o.store;
    });
    afterEach(async () => {
      await store.close();
      await o.done();
    });

    const catalog = (n: number): Promise<number> =>
      store.addCatalog({ sha256: String(n).repeat(64), source: 'test', path: `/${n}.pscat`, revisions: 7, signer: null, signed_at: null });
    const set = (catalogId: number, fingerprint: string, updates: ResultUpdateRow[], base?: NewResultSet['base']): NewResultSet => ({
      catalogId,
      fingerprint,
      counts: COUNTS,
      updates,
      groups: [],
      ...(base && { base }),
    });
    const scanned = async (name: string, catalogId: number, setId: number): Promise<void> => {
      await store.enroll(name);
      const c = (await store.client(name))!;
      const inventoryId = await store.addInventory(c.id, Buffer.from(name), 'x64');
      await store.recordScan({ clientId: c.id, inventoryId, catalogId, setId, program: 'p', scannedAt: '2026-12-01T00:00:00.000Z' });
    };

    it('reads as the same rows stored whole, in every reader and in the view', async () => {
      const c1 = await catalog(1);
      const c2 = await catalog(2);
      const base = await store.addResultSet(set(c1, 'fp', OLD));
      expect([...(await store.addCatalogIndexMap(c1, c2, MAP))]).toEqual([...MAP]);
      const own = [NEW[0], NEW[2], NEW[6]];
      const carried = await store.addResultSet(set(c2, 'fp', own, { setId: base, catalogId: c1, indexMap: MAP, removed: ['u2'] }));
      const whole = await store.addResultSet(set(c2, 'whole', NEW));
      await scanned('CARRIED', c2, carried);
      await scanned('WHOLE', c2, whole);
      await scanned('OLD', c1, base);

      expect(await store.resultUpdates(carried)).toEqual(NEW);
      const layers = await store.resultSetLayers(carried);
      expect(layers.rows).toEqual(NEW);
      expect(layers.base).toMatchObject({ setId: base, catalogId: c1 });
      expect([...layers.base!.indexMap]).toEqual([...MAP]);
      expect([...layers.base!.overridden].sort()).toEqual(['n0', 'u1', 'u2', 'u5']);
      expect((await store.resultSetLayers(whole)).base).toBeUndefined();
      expect(await store.resultUpdates(base)).toEqual(OLD); // the base is unchanged
      // A base's rows by index (what a carry-over compares an unsure outcome with); an index with no row is left out.
      const at = await store.resultRowsAt(base, [OLD[3].update_index, 99, OLD[0].update_index]);
      expect(at.sort((a, b) => a.update_index - b.update_index)).toEqual([OLD[0], OLD[3]]);
      expect(await store.resultRowsAt(base, [])).toEqual([]);

      const ids = ['n0', 'u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
      const name = new Map([
        [carried, 'S'],
        [whole, 'S'],
        [base, 'OLD'],
      ]);
      // Each reader's answer with set ids and computer names folded: the carried and the whole set read the same.
      const outcomes = (await store.updateOutcomes(ids)).map(
        (r) => `${name.get(r.setId)} ${r.updateId} ${r.state} ${r.superseded} ${r.machines}`,
      );
      expect(outcomes.filter((r) => r.startsWith('S ')).sort()).toEqual(
        NEW.flatMap((r) => [`S ${r.update_id} ${r.state} ${r.superseded} 1`, `S ${r.update_id} ${r.state} ${r.superseded} 1`]).sort(),
      );
      expect(outcomes.filter((r) => r.startsWith('OLD ')).length).toBe(OLD.length);

      const machines = await store.updateMachines(ids, undefined, 100, 0);
      const fold = (computer: string): string => (computer === 'OLD' ? 'OLD' : 'S');
      const items = machines.items.map((m) => `${fold(m.computer)} ${m.updateId} ${m.state} ${m.superseded} ${m.reason}`);
      const onNew = NEW.map((r) => `S ${r.update_id} ${r.state} ${r.superseded} ${r.reason}`);
      expect(items.filter((i) => i.startsWith('S ')).sort()).toEqual([...onNew, ...onNew].sort());
      expect(machines.total).toBe(2 * NEW.length + OLD.length);
      const carriedOnly = (await store.updateMachines(['u2', 'u1'], ['required'], 100, 0)).items.map((m) => m.computer);
      expect(carriedOnly).toEqual(['OLD']); // u1 is Installed on the new sets, u2 is not in them

      expect(await store.unknownReasons(['u2', 'u5', 'n0'], 10)).toEqual([
        { reason: 'n0 not collected', machines: 2 },
        { reason: 'r5 another', machines: 2 },
        { reason: 'r2 not collected', machines: 1 },
        { reason: 'r5 not collected', machines: 1 },
      ]);

      const bySet = (await store.setOutcomes([carried, whole])).map(
        (r) => `${r.set_id === carried ? 'C' : 'W'} ${r.update_id} ${r.state} ${r.superseded}`,
      );
      expect(
        bySet
          .filter((r) => r.startsWith('C '))
          .map((r) => r.slice(2))
          .sort(),
      ).toEqual(
        bySet
          .filter((r) => r.startsWith('W '))
          .map((r) => r.slice(2))
          .sort(),
      );
      expect(bySet.length).toBe(2 * NEW.length);

      const counts = await store.updateOutcomeCounts();
      const want = new Map<string, number>();
      for (const r of [...NEW, ...NEW, ...OLD])
        want.set(`${r.update_id} ${r.state} ${r.superseded}`, (want.get(`${r.update_id} ${r.state} ${r.superseded}`) ?? 0) + 1);
      expect(new Map(counts.map((c) => [`${c.update_id} ${c.state} ${c.superseded}`, Number(c.n)]))).toEqual(want);

      const group = await store.addUpdateGroup({
        name: 'g',
        criteria: '{}',
        deadline: null,
        updates: ids.map((update_id) => ({ update_id, kb: '', title: '' })),
      });
      const sets = await store.groupSetCounts(group);
      const of = (id: number): string[] =>
        sets
          .filter((s) => s.set_id === id)
          .map((s) => `${s.bucket} ${s.n}`)
          .sort();
      expect(of(carried)).toEqual(of(whole));
      expect(of(carried).length).toBeGreaterThan(0);

      const view = await o.query<{
        computer: string;
        update_id: string;
        revision_number: number;
        state: string;
        superseded: number;
        reason: string;
      }>('SELECT computer, update_id, revision_number, state, superseded, reason FROM client_update_states WHERE computer IN ($1, $2)', [
        'CARRIED',
        'WHOLE',
      ]);
      const seen = (computer: string): string[] =>
        view
          .filter((v) => v.computer === computer)
          .map((v) => `${v.update_id} ${v.revision_number} ${v.state} ${v.superseded} ${v.reason}`)
          .sort();
      expect(seen('CARRIED')).toEqual(seen('WHOLE'));
      expect(seen('WHOLE').length).toBe(NEW.length);
    });

    it('lists as unread, and deletes, only older sets no latest scan and no set on a base reads, checked again on delete', async () => {
      const c1 = await catalog(1);
      const c2 = await catalog(2);
      const read = await store.addResultSet(set(c1, 'read', OLD)); // a client's latest scan names it
      const unread = await store.addResultSet(set(c1, 'unread', OLD));
      const base = await store.addResultSet(set(c1, 'base', OLD)); // a set of catalog 2 is stored on it
      await store.addCatalogIndexMap(c1, c2, MAP);
      const onBase = await store.addResultSet(
        set(c2, 'on-base', [NEW[0], NEW[2], NEW[6]], { setId: base, catalogId: c1, indexMap: MAP, removed: ['u2'] }),
      );
      const current = await store.addResultSet(set(c2, 'current', NEW)); // of the kept catalog: never listed
      // The newest set is never listed either: SQLite would give its id to the next set, and a reader may hold it.
      const newest = await store.addResultSet(set(c2, 'newest', NEW));
      await scanned('READ', c1, read);
      await scanned('ON-BASE', c2, onBase);
      expect(await store.unreadResultSets(c2)).toEqual([unread]);
      expect(await store.unreadResultSets(c1)).toEqual([current]);
      expect(newest).toBeGreaterThan(current);
      // A scan names it between the listing and the delete: it stays.
      await scanned('LATE', c1, unread);
      expect(await store.deleteUnreadResultSets(c2, [unread, read, base])).toBe(0);
      expect(await store.resultUpdates(unread)).toEqual(OLD);
      // That client is scanned again onto another set: now it goes, with its rows.
      const late = (await store.client('LATE'))!;
      const inventoryId = await store.addInventory(late.id, Buffer.from('again'), 'x64');
      await store.recordScan({
        clientId: late.id,
        inventoryId,
        catalogId: c2,
        setId: current,
        program: 'p',
        scannedAt: '2026-12-02T00:00:00.000Z',
      });
      expect(await store.deleteUnreadResultSets(c2, [unread, read, base])).toBe(1);
      expect(await store.resultSetId(c1, 'unread')).toBeUndefined();
      // Read by an id taken before it went: NOT_FOUND, never a set without rows.
      for (const read of [() => store.resultUpdates(unread), () => store.resultSetOutcomes(unread), () => store.resultSetLayers(unread)])
        await expect(read()).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await o.query('SELECT set_id FROM result_updates WHERE set_id = $1', [unread])).toEqual([]);
      expect(await store.resultUpdates(onBase)).toEqual(NEW); // its base kept: still read whole
      expect(await store.resultSetId(c1, 'base')).toBe(base);
      expect(await store.unreadResultSets(c2)).toEqual([]);
    });

    it('keeps the first carry-over stored for a pair of catalogs, and none for another pair', async () => {
      const c1 = await catalog(1);
      const c2 = await catalog(2);
      expect(await store.catalogCarryOver(c1, c2)).toBeUndefined();
      await store.addCatalogCarryOver(c1, c2, Buffer.from('first plan'));
      await store.addCatalogCarryOver(c1, c2, Buffer.from('second plan')); // another process, later: not replaced
      expect(Buffer.from((await store.catalogCarryOver(c1, c2))!).toString()).toBe('first plan');
      expect(await store.catalogCarryOver(c2, c1)).toBeUndefined();
    });

    it('refuses a base that is stored on a base itself, a set placed by no stored map or by another one', async () => {
      const c1 = await catalog(1);
      const c2 = await catalog(2);
      const c3 = await catalog(3);
      const base = await store.addResultSet(set(c1, 'fp', OLD));
      const onBase = (fp: string, indexMap: Int32Array): NewResultSet =>
        set(c2, fp, [NEW[0]], { setId: base, catalogId: c1, indexMap, removed: [] });
      await expect(store.addResultSet(onBase('fp', MAP))).rejects.toMatchObject({
        code: 'INTERNAL',
        message: expect.stringMatching(/no index map is stored for catalogs/),
      });
      await store.addCatalogIndexMap(c1, c2, MAP);
      const carried = await store.addResultSet(onBase('fp', MAP));
      await store.addCatalogIndexMap(c2, c3, MAP);
      await expect(
        store.addResultSet(set(c3, 'fp', [], { setId: carried, catalogId: c2, indexMap: MAP, removed: [] })),
      ).rejects.toMatchObject({
        code: 'INTERNAL',
        message: expect.stringMatching(/stored on a base itself/),
      });
      // One map per pair of catalogs: the first stays, and a set placed by another is refused.
      const other = Int32Array.from([0, 1, 2, 3, 4, 5, 6]);
      expect([...(await store.addCatalogIndexMap(c1, c2, other))]).toEqual([...MAP]);
      await expect(store.addResultSet(onBase('fp2', other))).rejects.toMatchObject({
        code: 'INTERNAL',
        message: expect.stringMatching(/another index map/),
      });
      // Nothing of the refused sets was stored.
      expect(await store.resultSetId(c3, 'fp')).toBeUndefined();
      expect(await store.resultSetId(c2, 'fp2')).toBeUndefined();
    });
  });
}
