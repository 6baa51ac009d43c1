/**
 * Result rows are indexed by update on a site-wide number (update_keys), not on the update id's text. On both
 * backends: a site whose rows were stored before the numbering is migrated (every row numbered, the reports by update
 * find them, new sets stored after number the same updates the same way and new ones apart), and numbers learned in a
 * transaction that rolled back are not remembered (SQLite gives the next insert the same number).
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../adapters/store/postgres/migrations.js';
import { openPostgresStore, type PostgresStoreOptions } from '../../adapters/store/postgres/open.js';
import type { NewResultSet, ResultUpdateRow, SiteStore } from '../../adapters/store/port.js';
import { MIGRATIONS } from '../../adapters/store/sqlite/migrations.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { postgresMigratedTo, sqliteMigratedTo } from '../helpers/migrated-to.js';

const ID = (k: number): string => `${String(k).padStart(8, '0')}-aaaa-bbbb-cccc-dddddddddddd`;
const row = (i: number, state: string, reason = `r${i}`): ResultUpdateRow => ({
  update_index: i,
  update_id: ID(i),
  revision_number: 1,
  state,
  superseded: 0,
  reason,
});
/** Sets stored before the numbering: set 1 and 2 share updates 0-2, set 2 also names 3. */
const OLD: readonly (readonly ResultUpdateRow[])[] = [
  [row(0, 'Installed'), row(1, 'Required'), row(2, 'Unknown', 'why 2')],
  [row(0, 'Required'), row(1, 'Required'), row(2, 'Unknown', 'why 2'), row(3, 'Installed')],
];

async function seedOld(exec: (sql: string, params: unknown[]) => Promise<void>): Promise<void> {
  await exec(
    `INSERT INTO catalogs (id, sha256, source, path, revisions, imported_at) VALUES (1, '${'c'.repeat(64)}', 't', '/c', 1, 't')`,
    [],
  );
  for (let k = 0; k < OLD.length; k++) {
    await exec(
      'INSERT INTO result_sets (id, catalog_id, fingerprint, installed, required, not_applicable, unknown) VALUES ($1, 1, $2, 0, 0, 0, 0)',
      [k + 1, `fp${k}`],
    );
    for (const r of OLD[k]) {
      await exec(
        'INSERT INTO result_updates (set_id, update_index, update_id, revision_number, state, superseded, reason) VALUES ($1, $2, $3, 1, $4, 0, $5)',
        [k + 1, r.update_index, r.update_id, r.state, r.reason],
      );
    }
  }
}

const newSet = (fingerprint: string, rows: readonly ResultUpdateRow[]): NewResultSet => ({
  catalogId: 1,
  fingerprint,
  counts: { installed: 0, required: 0, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 0 },
  updates: rows,
  groups: [],
});

/** A client `name` whose latest scan is set `setId` (the reports count machines through scans). */
async function scanInto(store: SiteStore, name: string, setId: number): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.enroll(name);
    const clientId = (await tx.client(name))!.id;
    const inventoryId = await tx.addInventory(clientId, Buffer.from([0x80]), 'x64');
    expect(await tx.recordScan({ clientId, inventoryId, catalogId: 1, setId, scannedAt: 't', program: 'p' })).toBe(true);
  });
}

/** A set stored by this code, with a client scanned into it. */
async function storeSet(store: SiteStore, fingerprint: string, rows: readonly ResultUpdateRow[]): Promise<void> {
  const setId = await store.transaction((tx) => tx.addResultSet(newSet(fingerprint, rows)));
  await scanInto(store, `PC-${fingerprint}`, setId);
}

/** What the reports by update read, after the migration and after sets stored by this code. */
async function checkReports(store: SiteStore): Promise<void> {
  for (let k = 0; k < OLD.length; k++) await scanInto(store, `PC-${k}`, k + 1);
  const outcomes = await store.updateOutcomes([ID(0), ID(2), ID(3)]);
  expect(outcomes.map((o) => [o.setId, o.updateId, o.state])).toEqual([
    [1, ID(0), 'Installed'],
    [1, ID(2), 'Unknown'],
    [2, ID(0), 'Required'],
    [2, ID(2), 'Unknown'],
    [2, ID(3), 'Installed'],
  ]);
  expect(await store.unknownReasons([ID(2)], 10)).toEqual([{ reason: 'why 2', machines: 2 }]);
  expect((await store.updateMachines([ID(1)], undefined, 10, 0)).total).toBe(2);
  // A set stored now: the same updates keep their numbers, a new one (4) gets its own.
  await storeSet(store, 'fp-new', [row(1, 'Installed'), row(4, 'Required')]);
  const after = await store.updateOutcomes([ID(1), ID(4)]);
  expect(after.map((o) => [o.updateId, o.state])).toEqual([
    [ID(1), 'Required'],
    [ID(1), 'Required'],
    [ID(1), 'Installed'],
    [ID(4), 'Required'],
  ]);
  // A transaction that numbered update 5 and rolled back: the next set naming 5 and 6 must not reuse what it learned.
  await expect(
    store.transaction(async (tx) => {
      await tx.addResultSet(newSet('fp-gone', [row(5, 'Required')]));
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
  await storeSet(store, 'fp-later', [row(6, 'Installed'), row(5, 'Unknown')]);
  // Asked one by one: a row stored under a stale number would be found under the other update, or not at all.
  expect((await store.updateOutcomes([ID(5)])).map((o) => [o.updateId, o.state])).toEqual([[ID(5), 'Unknown']]);
  expect((await store.updateOutcomes([ID(6)])).map((o) => [o.updateId, o.state])).toEqual([[ID(6), 'Installed']]);
}

describe('update numbers (update_keys)', () => {
  const step = MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('CREATE TABLE update_keys'));
  const pgStep = PG_MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE update_keys'));

  it('sqlite: rows stored before are numbered by the migration; reports by update find old and new rows', async () => {
    expect(step).toBeGreaterThan(0);
    const file = join(tempDir(), 'old.db');
    const db = sqliteMigratedTo(file, step);
    await seedOld(async (sql, params) => void db.prepare(sql.replace(/\$\d/g, '?')).run(...params));
    db.close();
    const store = openSqliteStore(file);
    try {
      await checkReports(store);
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare('SELECT count(*) AS n FROM result_updates WHERE update_key = 0').get()).toEqual({ n: 0 });
      // Numbered in the order rows were written (catalog order), so a set's index inserts sweep it in order.
      const keys = after.prepare('SELECT id, update_id FROM update_keys ORDER BY id').all() as { update_id: string }[];
      expect(keys.map((k) => k.update_id).slice(0, 4)).toEqual([ID(0), ID(1), ID(2), ID(3)]);
    } finally {
      after.close();
    }
  });

  it('postgres: the same', async () => {
    expect(pgStep).toBeGreaterThan(0);
    const tdb = await createTestDatabase();
    const c = new pg.Client({ connectionString: tdb.url });
    await c.connect();
    try {
      await postgresMigratedTo(c, pgStep);
      await seedOld(async (sql, params) => void (await c.query(sql, params)));
      // Rows seeded with explicit ids: the identity goes on after them, as it would have after real inserts.
      await c.query("SELECT setval(pg_get_serial_sequence('result_sets', 'id'), (SELECT max(id) FROM result_sets))");
      const store = await openPostgresStore(tdb.url, { queue: { maintenanceIntervalSeconds: 1 } });
      try {
        await checkReports(store);
      } finally {
        await store.close();
      }
      expect((await c.query('SELECT count(*)::int AS n FROM result_updates WHERE update_key = 0')).rows).toEqual([{ n: 0 }]);
    } finally {
      await c.end();
      await tdb.drop();
    }
  });
});

describe('update numbers: found by a red-team pass on the first version (PostgreSQL unless named)', () => {
  const X = 'aaaaaaaa-0000-0000-0000-000000000001';
  const Y = 'bbbbbbbb-0000-0000-0000-000000000002';
  const one = (i: number, id: string, state: string): ResultUpdateRow => ({ ...row(i, state, ''), update_id: id });
  async function storeScanned(store: SiteStore, fp: string, rows: ResultUpdateRow[]): Promise<number> {
    const setId = await store.transaction((tx) => tx.addResultSet(newSet(fp, rows)));
    await scanInto(store, `PC-${fp}`, setId);
    return setId;
  }
  const CATALOG = `INSERT INTO catalogs (id, sha256, source, path, revisions, imported_at) VALUES (1, '${'c'.repeat(64)}', 't', '/c', 1, 't')`;

  /**
   * A PostgreSQL database of the test's own, migrated by a first store (opened with `first`), holding the catalog row;
   * a raw client on it, and `open` for more stores. Everything is closed and the database dropped afterwards.
   */
  async function withPostgres(
    first: PostgresStoreOptions,
    fn: (db: { client: pg.Client; store: SiteStore; open: () => Promise<SiteStore> }) => Promise<void>,
  ): Promise<void> {
    const tdb = await createTestDatabase();
    const client = new pg.Client({ connectionString: tdb.url });
    const stores: SiteStore[] = [];
    const open = async (o: PostgresStoreOptions = {}): Promise<SiteStore> => {
      const store = await openPostgresStore(tdb.url, { queue: { maintenanceIntervalSeconds: 60 }, ...o });
      stores.push(store);
      return store;
    };
    let connected = false;
    try {
      const store = await open(first);
      await client.connect();
      connected = true;
      await client.query(CATALOG);
      await fn({ client, store, open: () => open() });
    } finally {
      if (connected) await client.end();
      for (const store of stores) await store.close();
      await tdb.drop();
    }
  }

  it('as many concurrent transactions as the pool holds each store a set with new ids (numbering needs no second connection)', async () => {
    const MAX = 4;
    await withPostgres({ max: MAX, connectionTimeoutMillis: 3000 }, async ({ store }) => {
      let entered = 0;
      let release!: () => void;
      const all = new Promise<void>((r) => (release = r));
      const results = await Promise.allSettled(
        Array.from({ length: MAX }, (_, k) =>
          store.transaction(async (tx) => {
            if (++entered === MAX) release();
            await all; // every transaction holds its connection
            return tx.addResultSet(newSet(`fp${k}`, [one(0, ID(100 * k), 'Required'), one(1, ID(100 * k + 1), 'Installed')]));
          }),
        ),
      );
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(Array(MAX).fill('ok'));
    });
  }, 30_000);

  it('a process that ran through a restore of the tables stores rows under the right update (numbers are not remembered)', async () => {
    await withPostgres({}, async ({ client, store: a, open }) => {
      await storeScanned(a, 'fp1', [one(0, X, 'Installed')]);
      // A backup from before any scan put back: no result sets, no numbers, identities restarted.
      await client.query('TRUNCATE result_sets, update_keys, clients RESTART IDENTITY CASCADE');
      const b = await open();
      await storeScanned(b, 'fp2', [one(0, Y, 'Required')]); // Y takes the number X had
      await storeScanned(a, 'fp3', [one(0, X, 'Unknown')]);
      expect((await b.updateOutcomes([X])).map((o) => o.state)).toEqual(['Unknown']);
      expect((await b.updateOutcomes([Y])).map((o) => o.state)).toEqual(['Required']);
    });
  }, 30_000);

  it('rows written as the previous release wrote them (no number) are numbered as they are written: PostgreSQL', async () => {
    await withPostgres({}, async ({ client, store: a }) => {
      const setId = await storeScanned(a, 'fp1', [one(0, X, 'Installed')]);
      // The previous release's addResultSet statement, from a worker not upgraded yet.
      await client.query(
        `INSERT INTO result_updates (set_id, update_index, update_id, revision_number, state, superseded, reason) VALUES ($1, 1, $2, 1, 'Required', 0, ''), ($1, 2, $3, 1, 'Unknown', 0, '')`,
        [setId, Y, X],
      );
      expect((await a.updateOutcomes([Y])).map((o) => o.state)).toEqual(['Required']);
      expect((await a.updateOutcomes([X])).map((o) => o.state).sort()).toEqual(['Installed', 'Unknown']);
    });
  }, 30_000);

  it('rows written as the previous release wrote them (no number) are numbered as they are written: SQLite', async () => {
    const file = join(tempDir(), 'site.db');
    const store = openSqliteStore(file);
    try {
      const raw = new Database(file);
      raw.exec(CATALOG);
      const setId = await storeScanned(store, 'fp1', [one(0, X, 'Installed')]);
      raw
        .prepare(
          `INSERT INTO result_updates (set_id, update_index, update_id, revision_number, state, superseded, reason) VALUES (?, 1, ?, 1, 'Required', 0, ''), (?, 2, ?, 1, 'Unknown', 0, '')`,
        )
        .run(setId, Y, setId, X);
      raw.close();
      expect((await store.updateOutcomes([Y])).map((o) => o.state)).toEqual(['Required']);
      expect((await store.updateOutcomes([X])).map((o) => o.state).sort()).toEqual(['Installed', 'Unknown']);
    } finally {
      await store.close();
    }
  });
});
