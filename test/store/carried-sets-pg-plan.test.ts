/**
 * The by-update readers of carried-over result sets on PostgreSQL stay indexed (store.ts bothParts). A site analyzed before its
 * first carry-over (every result_updates row then has overrides = 0) and not since — autovacuum analyzes a table after
 * 10 % of its rows changed, and a carry-over adds a few % (own rows) to a large result_updates — estimates that no row
 * has overrides > 0. The by-update readers' NOT EXISTS (a base row kept unless the set has a row of its own for the
 * update) was then planned as a nested loop over a Materialize of every own row of the site (result_updates_overrides
 * read whole), compared with each candidate base row: rows × own rows (57 million rows removed by the join filter here
 * before the OFFSET 0 fence). Here 1,000 sets of 1,500 rows, 1,000 carried
 * sets of 40 own rows each, 8,000 scanned clients: updateOutcomes on two updates took seconds instead of milliseconds. result_sets is analyzed (small, autovacuum
 * catches up with it at once); result_updates is not.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const NU = 2000,
  NBASE = 1000,
  ROWS = 1500,
  NCARRIED = 1000,
  OWN = 40,
  CLIENTS = 8000;

describe('by-update readers on PostgreSQL after the first carry-over (stale statistics)', () => {
  let db: TestDatabase;
  let store: SiteStore;
  let c: pg.Client;
  const captured: { sql: string; params: unknown[] }[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openPostgresStore(db.url);
    await store.schemaVersion();
    c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const q = (sql: string) => c.query(sql);
    await q(`INSERT INTO catalogs (id, sha256, source, path, revisions, imported_at) VALUES (1,'a','t','/a',1,'x'),(2,'b','t','/b',1,'x')`);
    await q(`INSERT INTO update_keys (id, update_id) SELECT u, 'u-' || u FROM generate_series(1, ${NU}) u`);
    await q(`INSERT INTO result_sets (id, catalog_id, fingerprint, installed, required, not_applicable, unknown)
      SELECT b, 1, 'b' || b, 0, 0, 0, 0 FROM generate_series(1, ${NBASE}) b`);
    await q(`ALTER TABLE result_updates DISABLE TRIGGER USER`);
    await q(`INSERT INTO result_updates (set_id, update_index, update_id, update_key, revision_number, state, superseded, reason, overrides)
      SELECT s, k, 'u-' || (((k*7 + s) % ${NU}) + 1), ((k*7 + s) % ${NU}) + 1, 1,
        (ARRAY['Installed','Required','NotApplicable','Unknown'])[((k + s) % 4) + 1], 0, 'reason', 0
      FROM generate_series(1, ${NBASE}) s, generate_series(0, ${ROWS - 1}) k`);
    await q(`INSERT INTO clients (id, name, name_key) SELECT c, 'PC-' || c, 'pc-' || c FROM generate_series(1, ${CLIENTS}) c`);
    await q(
      `INSERT INTO inventories (id, client_id, received_at, sha256, body, bytes) SELECT c, c, 'x', 'x', '\\x00', 1 FROM generate_series(1, ${CLIENTS}) c`,
    );
    await q(`INSERT INTO scans (client_id, inventory_id, catalog_id, set_id, scanned_at, program)
      SELECT c, c, 1, (c % ${NBASE}) + 1, 'x', 'p' FROM generate_series(1, ${CLIENTS}) c`);
    await q('ANALYZE');
    // The first carry-over: sets stored on the old ones, their own rows, every client's scan moved onto them.
    await q(`INSERT INTO result_sets (id, catalog_id, fingerprint, installed, required, not_applicable, unknown, base_set_id)
      SELECT ${NBASE} + c, 2, 'c' || c, 0, 0, 0, 0, c FROM generate_series(1, ${NCARRIED}) c`);
    await q(`INSERT INTO result_updates (set_id, update_index, update_id, update_key, revision_number, state, superseded, reason, overrides)
      SELECT ${NBASE} + cc, k, 'u-' || (((k*7 + cc) % ${NU}) + 1), ((k*7 + cc) % ${NU}) + 1, 1, 'Required', 0, 'x', 1
      FROM generate_series(1, ${NCARRIED}) cc, generate_series(0, ${OWN - 1}) k`);
    await q(`ALTER TABLE result_updates ENABLE TRIGGER USER`);
    await q(`UPDATE scans SET catalog_id = 2, set_id = ${NBASE} + (client_id % ${NCARRIED}) + 1`);
    await q('ANALYZE result_sets');
    await q('ANALYZE scans');
    // What the store runs, to EXPLAIN it.
    const inner = (store as unknown as { db: { all: (s: string, p?: unknown[]) => Promise<unknown[]> } }).db;
    const all = inner.all.bind(inner);
    inner.all = (sql, params = []) => {
      captured.push({ sql, params });
      return all(sql, params);
    };
  }, 300_000);
  afterAll(async () => {
    await c?.end();
    await store?.close();
    await db?.drop();
  });

  it('updateOutcomes stays indexed: no comparison of each base row with every own row of the site', async () => {
    captured.length = 0;
    const t = performance.now();
    const rows = await store.updateOutcomes(['u-5', 'u-6']);
    const ms = performance.now() - t;
    expect(rows.length).toBeGreaterThan(0);
    let n = 0;
    const { sql, params } = captured.at(-1)!;
    const plan = (await c.query(`EXPLAIN (ANALYZE, TIMING OFF) ${sql.replace(/\?/g, () => `$${++n}`)}`, params)).rows.map(
      (r: Record<string, string>) => r['QUERY PLAN'],
    );
    const removed = Math.max(0, ...plan.map((l) => Number(/Rows Removed by Join Filter: (\d+)/.exec(l)?.[1] ?? 0)));
    console.log(`updateOutcomes: ${ms.toFixed(0)} ms; rows removed by a join filter: ${removed}\n${plan.join('\n')}`);
    // The whole own-row list compared per candidate base row: ~1,200 × 40,000 here.
    expect(removed).toBeLessThan(1_000_000);
  }, 120_000);

  it('every other reader probes the own rows per base row too: no anti-join over every own row of the site', async () => {
    captured.length = 0;
    await store.updateMachines(['u-5', 'u-6'], undefined, 50, 0);
    await store.setOutcomes([NBASE + 1, NBASE + 2]);
    await store.updateOutcomeCounts();
    expect(captured.length).toBeGreaterThanOrEqual(3);
    for (const { sql, params } of captured) {
      let n = 0;
      const plan = (await c.query(`EXPLAIN ${sql.replace(/\?/g, () => `$${++n}`)}`, params)).rows.map(
        (r: Record<string, string>) => r['QUERY PLAN'],
      );
      expect(plan.join('\n'), sql).not.toMatch(/Anti Join/);
    }
  }, 120_000);
});
