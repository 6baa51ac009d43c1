/**
 * SiteStore.addUploads (the group commit's bulk path) against a small reference: random groups of uploads — the
 * same client several times in one group, a revoked client among them, random retention — must leave exactly the
 * inventories that storing the uploads one by one keeps (newest `keep`, then oldest first while over `maxBytes`,
 * never the new one), answer undefined for the revoked client's uploads, and queue a scan for every client with an
 * accepted upload. Runs on both backends (real SQLite file, real PostgreSQL).
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../adapters/store/postgres/open.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { openSqliteStore } from '../../adapters/store/sqlite/open.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

interface Upload {
  readonly client: number;
  readonly bytes: number;
  readonly expedited: boolean;
}

/** One upload at a time, as the retention rules say (port.ts, InventoryRetention); upload indices kept per client. */
function reference(groups: readonly (readonly Upload[])[], keep: number, maxBytes: number, revoked: number): Map<number, number[]> {
  const kept = new Map<number, { k: number; bytes: number }[]>();
  let k = 0;
  for (const group of groups) {
    for (const u of group) {
      const index = k++;
      if (u.client === revoked) continue;
      const list = [...(kept.get(u.client) ?? []), { k: index, bytes: u.bytes }].slice(-Math.max(1, keep));
      let total = list.reduce((a, x) => a + x.bytes, 0);
      const out = list.filter((x) => {
        if (total <= maxBytes || x.k === index) return true;
        total -= x.bytes;
        return false;
      });
      kept.set(u.client, out);
    }
  }
  return new Map([...kept].map(([c, l]) => [c, l.map((x) => x.k)]));
}

const CLIENTS = 4;
const upload = fc.record({
  client: fc.integer({ min: 0, max: CLIENTS - 1 }),
  bytes: fc.integer({ min: 1, max: 60 }),
  expedited: fc.boolean(),
});
const scenario = fc.record({
  groups: fc.array(fc.array(upload, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
  keep: fc.integer({ min: 1, max: 4 }),
  maxBytes: fc.integer({ min: 60, max: 150 }),
  revoked: fc.integer({ min: -1, max: CLIENTS - 1 }),
});

const backends: { name: string; open(): Promise<{ store: SiteStore; done(): Promise<void> }> }[] = [
  { name: 'sqlite', open: async () => ({ store: openSqliteStore(join(tempDir(), 'site.db')), done: async () => undefined }) },
  {
    name: 'postgres',
    open: async () => {
      const db: TestDatabase = await createTestDatabase();
      return { store: await openPostgresStore(db.url), done: () => db.drop() };
    },
  },
];

for (const backend of backends) {
  describe(`addUploads (${backend.name})`, () => {
    let store: SiteStore;
    let done: () => Promise<void>;
    beforeAll(async () => {
      ({ store, done } = await backend.open());
    });
    afterAll(async () => {
      await store.close();
      await done();
    });

    let run = 0;
    it("keeps what one-by-one storing keeps, refuses a revoked client's uploads, queues every accepted client", async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ groups, keep, maxBytes, revoked }) => {
          // Fresh clients per run: runs share the store.
          const ids: number[] = [];
          for (let c = 0; c < CLIENTS; c++) {
            const name = `PC-${run}-${c}`;
            await store.enroll(name);
            ids.push((await store.client(name))!.id);
            if (c === revoked) await store.revoke(name);
          }
          run++;
          const byId = new Map<number, number>(); // inventory id → upload index
          let k = 0;
          for (const group of groups) {
            const got = await store.addUploads(
              group.map((u) => ({
                clientId: ids[u.client],
                body: Buffer.alloc(u.bytes, k % 251),
                architecture: 'x64',
                priority: u.expedited ? ('expedited' as const) : ('normal' as const),
                reason: 'upload',
              })),
              { keep, maxBytes },
            );
            group.forEach((u, j) => {
              if (u.client === revoked) expect(got[j]).toBeUndefined();
              else byId.set(got[j]!, k + j);
            });
            k += group.length;
          }
          const want = reference(groups, keep, maxBytes, revoked);
          for (let c = 0; c < CLIENTS; c++) {
            const stored = (await store.inventoryIds(ids[c])).map((id) => byId.get(id));
            expect(stored).toEqual(want.get(c) ?? []);
          }
          // Every client with an accepted upload has a scan waiting (once or once per priority); no other client.
          const jobs = await store.takeScans(1000);
          expect(new Set(jobs.map((j) => j.clientId))).toEqual(new Set([...want.keys()].map((c) => ids[c])));
          await store.completeScans(jobs);
        }),
        { numRuns: 30 },
      );
    }, 120_000);
  });
}
