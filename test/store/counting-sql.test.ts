/**
 * The store counts what the counting rule (engine/scanner/counting.ts) counts. Result sets holding every state ×
 * supersedence, shared by different numbers of machines, are stored on both backends; the store's filters (built
 * from the rule's table), its compliance expression and its totals must give what the function gives over the same
 * rows. And the migration that introduced the rule recounts sets stored before it exactly as the function does.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COUNT_BUCKETS, countedAs, emptyCounts, isCompliant, type OutcomeCounts } from '../../engine/scanner/counting.js';
import { PG_MIGRATIONS } from '../../adapters/store/postgres/migrations.js';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { ResultUpdateRow, SiteStore } from '../../adapters/store/port.js';
import { MIGRATIONS } from '../../adapters/store/sqlite/migrations.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { postgresMigratedTo, sqliteMigratedTo } from '../helpers/migrated-to.js';

const STATES = ['Installed', 'Required', 'NotApplicable', 'Unknown'] as const;
const EVERY = STATES.flatMap((state) => [0, 1, 2].map((superseded) => ({ state, superseded })));

/** Result sets: rows (update id → state, supersedence code) and how many machines share each. */
const SETS: { machines: number; rows: { state: string; superseded: number }[] }[] = [
  { machines: 3, rows: EVERY }, // every outcome once
  {
    machines: 2,
    rows: [
      { state: 'Installed', superseded: 0 },
      { state: 'Required', superseded: 1 },
      { state: 'Unknown', superseded: 2 },
    ],
  }, // compliant
  {
    machines: 1,
    rows: [
      { state: 'Required', superseded: 2 },
      { state: 'Installed', superseded: 1 },
    ],
  }, // possibly: not compliant
  {
    machines: 4,
    rows: [
      { state: 'Required', superseded: 0 },
      { state: 'Required', superseded: 0 },
    ],
  }, // two missing
  { machines: 5, rows: [{ state: 'Unknown', superseded: 0 }] }, // compliant (Unknown alone)
];

const rowsOf = (k: number): ResultUpdateRow[] =>
  SETS[k].rows.map((r, i) => ({
    update_index: i,
    update_id: `u-${i}-${r.state}-${r.superseded}`,
    revision_number: 1,
    state: r.state,
    superseded: r.superseded,
    reason: `r${i}`,
  }));

function countsOf(rows: readonly ResultUpdateRow[]): OutcomeCounts {
  const c = emptyCounts();
  for (const r of rows) c[countedAs(r.state, r.superseded)]++;
  return c;
}

async function seed(store: SiteStore): Promise<void> {
  const catalogId = await store.addCatalog({
    sha256: 'c'.repeat(64),
    source: 'test',
    path: '/c.pscat',
    revisions: 1,
    signer: null,
    signed_at: null,
  });
  let pc = 0;
  for (let k = 0; k < SETS.length; k++) {
    const updates = rowsOf(k);
    const setId = await store.addResultSet({ catalogId, fingerprint: `fp${k}`, counts: countsOf(updates), updates, groups: [] });
    for (let m = 0; m < SETS[k].machines; m++) {
      const name = `PC-${pc++}`;
      await store.enroll(name);
      const c = (await store.client(name))!;
      const inv = await store.addInventory(c.id, Buffer.from(name), 'x64');
      await store.recordScan({ clientId: c.id, inventoryId: inv, catalogId, setId, program: 'p', scannedAt: '2026-11-29T10:00:00.000Z' });
    }
  }
}

/** What the function says, machine by machine. */
function expected(): { perBucket: OutcomeCounts; compliant: number; scanned: number } {
  const perBucket = emptyCounts();
  let compliant = 0,
    scanned = 0;
  SETS.forEach((s, k) => {
    const c = countsOf(rowsOf(k));
    for (const b of COUNT_BUCKETS) perBucket[b] += c[b] * s.machines;
    if (isCompliant(c)) compliant += s.machines;
    scanned += s.machines;
  });
  return { perBucket, compliant, scanned };
}

const BACKENDS = [
  { name: 'sqlite', open: async () => ({ store: openSqliteStore(join(tempDir(), 'site.db')), done: async () => undefined }) },
  {
    name: 'postgres',
    open: async () => {
      const db = await createTestDatabase();
      return { store: await openPostgresStore(db.url, { queue: { maintenanceIntervalSeconds: 1 } }), done: () => db.drop() };
    },
  },
];

for (const backend of BACKENDS) {
  describe(`the store counts by the counting rule: ${backend.name}`, () => {
    let store: SiteStore;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ store, done } = await backend.open());
      await seed(store);
    });
    afterEach(async () => {
      await store.close();
      await done();
    });

    it('filters each bucket of the rule (update rows × machines) as the function does', async () => {
      const want = expected();
      const ids = [...new Set(SETS.flatMap((_, k) => rowsOf(k).map((r) => r.update_id)))];
      for (const b of COUNT_BUCKETS) expect((await store.updateMachines(ids, [b], 1, 0)).total, b).toBe(want.perBucket[b]);
      expect((await store.updateMachines(ids, ['required', 'superseded'], 1, 0)).total).toBe(
        want.perBucket.required + want.perBucket.superseded,
      );
      expect((await store.updateMachines(ids, [], 1, 0)).total).toBe(0);
      expect((await store.updateMachines(ids, undefined, 1, 0)).total).toBe(COUNT_BUCKETS.reduce((a, b) => a + want.perBucket[b], 0));
      // The per-update outcomes, counted by the function, add up to the same.
      const viaRows = emptyCounts();
      for (const r of await store.updateOutcomeCounts()) viaRows[countedAs(r.state, r.superseded)] += r.n;
      expect(viaRows).toEqual(want.perBucket);
    });

    it('totals and compliance agree with the function', async () => {
      const want = expected();
      expect(await store.fleetTotals()).toEqual({
        scanned: want.scanned,
        compliant: want.compliant,
        installed: want.perBucket.installed,
        required: want.perBucket.required,
        superseded: want.perBucket.superseded,
        possiblySuperseded: want.perBucket.possiblySuperseded,
        unknown: want.perBucket.unknown,
      });
      const groups = await store.membershipGroups();
      expect(groups.reduce((a, g) => a + g.compliant, 0)).toBe(want.compliant);
      expect(groups.reduce((a, g) => a + g.required, 0)).toBe(want.perBucket.required);
      expect(groups.reduce((a, g) => a + g.possiblySuperseded, 0)).toBe(want.perBucket.possiblySuperseded);
      const list = (await store.searchComputers('PC-', 100, 0)).items;
      expect(list.reduce((a, c) => a + (c.required ?? 0), 0)).toBe(want.perBucket.required);
    });
  });
}

describe('the counting-rule migration recounts result sets stored before it', () => {
  // Before the rule, a set's `required` counted every Required row, superseded or not (codes 0 and 1 only).
  const old = SETS.map((s, k) => ({ ...s, rows: rowsOf(k).filter((r) => r.superseded !== 2) }));
  const oldRequired = (k: number): number => old[k].rows.filter((r) => r.state === 'Required').length;
  const seedOld = async (exec: (sql: string, params: unknown[]) => Promise<void>): Promise<void> => {
    await exec(
      `INSERT INTO catalogs (id, sha256, source, path, revisions, imported_at) VALUES (1, '${'c'.repeat(64)}', 't', '/c', 1, 't')`,
      [],
    );
    for (let k = 0; k < old.length; k++) {
      await exec(
        'INSERT INTO result_sets (id, catalog_id, fingerprint, installed, required, ' +
          'not_applicable, unknown) VALUES ($1, 1, $2, 0, $3, 0, 0)',
        [k + 1, `fp${k}`, oldRequired(k)],
      );
      for (const r of old[k].rows) {
        await exec(
          'INSERT INTO result_updates (set_id, update_index, update_id, revision_number, ' +
            'state, superseded, reason) VALUES ($1, $2, $3, 1, $4, $5, $6)',
          [k + 1, r.update_index, r.update_id, r.state, r.superseded, r.reason],
        );
      }
    }
  };
  const check = async (
    read: (sql: string) => Promise<{ id: number; required: number; superseded: number; possibly_superseded: number }[]>,
  ): Promise<void> => {
    const rows = await read('SELECT id, required, superseded, possibly_superseded FROM result_sets ORDER BY id');
    expect(rows.map((r) => [Number(r.required), Number(r.superseded), Number(r.possibly_superseded)])).toEqual(
      old.map((s) => {
        const c = countsOf(s.rows);
        return [c.required, c.superseded, c.possiblySuperseded];
      }),
    );
    expect(rows.some((r, k) => Number(r.required) !== oldRequired(k))).toBe(true); // the recount changed something
  };
  const rule = MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('possibly_superseded'));
  const pgRule = PG_MIGRATIONS.findIndex((m) => m.includes('possibly_superseded'));

  it('sqlite', async () => {
    expect(rule).toBeGreaterThan(0);
    const file = join(tempDir(), 'old.db');
    const db = sqliteMigratedTo(file, rule);
    await seedOld(async (sql, params) => void db.prepare(sql.replace(/\$\d/g, '?')).run(...params));
    db.close();
    const store = openSqliteStore(file);
    await store.close();
    const after = new Database(file, { readonly: true });
    try {
      await check(async (sql) => after.prepare(sql).all() as never);
    } finally {
      after.close();
    }
  });

  it('postgres', async () => {
    expect(pgRule).toBeGreaterThan(0);
    const tdb = await createTestDatabase();
    const c = new pg.Client({ connectionString: tdb.url });
    await c.connect();
    try {
      await postgresMigratedTo(c, pgRule);
      await seedOld(async (sql, params) => void (await c.query(sql, params)));
      const store = await openPostgresStore(tdb.url, { queue: { maintenanceIntervalSeconds: 1 } });
      await store.close();
      await check(async (sql) => (await c.query(sql)).rows);
    } finally {
      await c.end();
      await tdb.drop();
    }
  });
});
