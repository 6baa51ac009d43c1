/**
 * Two scan workers storing carried sets at once on PostgreSQL. ScanService stores a batch's sets in fingerprint order
 * so that two workers take result_sets rows in one order (scan-service.ts: "In job order they deadlocked on
 * PostgreSQL"). The catalogs' index map a set on a base is placed by is a row every worker carrying onto that pair of
 * catalogs needs: inserted inside the batch (at its first set on a base), it was a lock taken in another order than the
 * result_sets rows'. Worker A: 'a' (on a base: inserted the map), then 'c'; worker B: 'c', then 'd' (on a base: waited
 * for A's map row) — A waited for B's 'c', B for A's map: a deadlock, and a lost batch. The map is now stored before
 * the batch (SiteStore.addCatalogIndexMap, in a transaction of its own) and a batch only reads it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { NewResultSet, ResultUpdateRow, SiteStore } from '../../adapters/store/port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const row = (update_index: number, update_id: string, state: string): ResultUpdateRow => ({
  update_index,
  update_id,
  revision_number: 1,
  state,
  superseded: 0,
  reason: '',
});
const OLD = [row(0, 'u0', 'Installed'), row(1, 'u1', 'Required'), row(2, 'u2', 'Unknown')];
const NEW = [row(0, 'u0', 'Installed'), row(1, 'u1', 'Installed'), row(2, 'u2', 'Unknown')];
const MAP = Int32Array.from([0, 1, 2]);
const COUNTS = { installed: 2, required: 0, superseded: 0, possiblySuperseded: 0, notApplicable: 0, unknown: 1 };

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('two workers storing carried sets at once (PostgreSQL)', () => {
  let db: TestDatabase;
  const stores: SiteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await db.drop();
  });

  it('stores both batches (no deadlock on the index map row)', async () => {
    db = await createTestDatabase();
    const a = await openPostgresStore(db.url);
    const b = await openPostgresStore(db.url);
    stores.push(a, b);
    const catalog = (n: number): Promise<number> =>
      a.addCatalog({ sha256: String(n).repeat(64), source: 'test', path: `/${n}.pscat`, revisions: 3, signer: null, signed_at: null });
    const c1 = await catalog(1);
    const c2 = await catalog(2);
    const base = await a.addResultSet({ catalogId: c1, fingerprint: 'x', counts: COUNTS, updates: OLD, groups: [] });
    await a.numberUpdates(['u0', 'u1', 'u2']);
    // As ScanService does before the batch (both workers: the second finds the first's).
    expect([...(await a.addCatalogIndexMap(c1, c2, MAP))]).toEqual([...MAP]);
    expect([...(await b.addCatalogIndexMap(c1, c2, MAP))]).toEqual([...MAP]);
    const onBase = (fingerprint: string): NewResultSet => ({
      catalogId: c2,
      fingerprint,
      counts: COUNTS,
      updates: [NEW[1]],
      groups: [],
      base: { setId: base, catalogId: c1, indexMap: MAP, removed: [] },
    });
    const whole = (fingerprint: string): NewResultSet => ({ catalogId: c2, fingerprint, counts: COUNTS, updates: NEW, groups: [] });

    const aFirst = deferred();
    const bFirst = deferred();
    // Each batch in fingerprint order, as ScanService stores it: A has 'a' < 'c', B has 'c' < 'd'.
    const workerA = a.transaction(async (tx) => {
      await tx.addResultSet(onBase('a'));
      aFirst.resolve();
      await bFirst.promise;
      await tx.addResultSet(whole('c'));
    });
    const workerB = b.transaction(async (tx) => {
      await aFirst.promise;
      await tx.addResultSet(whole('c'));
      bFirst.resolve();
      await tx.addResultSet(onBase('d'));
    });
    const settled = await Promise.allSettled([workerA, workerB]);
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error).message)] : []));
    expect(errors).toEqual([]);
    expect((await a.resultSetLayers((await a.resultSetId(c2, 'd'))!)).rows).toEqual(NEW);
  }, 60_000);
});
