/**
 * Carried-over result sets stored on a base (adapters/site/carried-changes.ts): the differential of
 * test/site/catalog-carry-over.test.ts — a site that carries over against one that rescans in full, compared through
 * every reader — on catalog edits that bench/patch-tuesday.ts never makes: updates removed and later added back
 * (the same revision, then another), an update id held in two revisions at once (then one again), and revision
 * numbers going back. Each edit follows the previous one, so carried sets are chained on bases.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCatalog, catalogRecords, patchTuesday } from '../../bench/patch-tuesday.js';
import { groupSummary } from '../../adapters/site/reports.js';
import type { Site } from '../../adapters/site/site.js';
import { writeCatalogFile } from '../../engine/catalog/file.js';
import type { UpdateRecord } from '../../engine/model.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { MACHINES, openSitePair, putInService } from '../helpers/carry-over-site.js';
import { tempDir } from '../helpers/tmp.js';

async function stored(site: Site, ids: readonly string[]) {
  const rows = new Map<string, string[]>();
  const sets = new Map<number, string[]>();
  let onBase = 0;
  for (let k = 0; k < MACHINES; k++) {
    const scan = (await site.store.computerScan(`PC-${k}`))!;
    const layers = await site.store.resultSetLayers(scan.set_id);
    if (layers.base) onBase++;
    rows.set(
      `PC-${k}`,
      layers.rows.map((u) => `${u.update_index} ${u.update_id} ${u.revision_number} ${u.state} ${u.superseded} ${u.reason}`),
    );
    sets.set(scan.set_id, [...(sets.get(scan.set_id) ?? []), `PC-${k}`]);
  }
  const machines = await site.store.updateMachines(ids, undefined, 100_000, 0);
  const outcomes = (await site.store.updateOutcomes(ids)).map(
    (o) => `${sets.get(o.setId)?.join(',') ?? 'old'} ${o.updateId} ${o.state} ${o.superseded} ${o.machines}`,
  );
  const bySet = (await site.store.setOutcomes([...sets.keys()])).map(
    (o) => `${sets.get(o.set_id)!.join(',')} ${o.update_id} ${o.state} ${o.superseded}`,
  );
  const counts = (await site.store.updateOutcomeCounts())
    .filter((c) => ids.includes(c.update_id))
    .map((c) => `${c.update_id} ${c.state} ${c.superseded} ${c.n}`);
  return {
    rows,
    onBase,
    byUpdate: {
      total: machines.total,
      items: machines.items.map((m) => ({ ...m, scannedAt: undefined })),
      outcomes: outcomes.sort(),
      bySet: bySet.sort(),
      counts: counts.sort(),
      unknown: await site.store.unknownReasons(ids, 1000),
    },
    classes: await groupSummary(site.store, 'classification'),
  };
}

describe.each(['SQLite', 'PostgreSQL'])('carry-over on re-added and multi-revision updates (%s)', (backend) => {
  it('stores what a full rescan stores', async () => {
    const root = tempDir();
    const dbs: TestDatabase[] = backend === 'PostgreSQL' ? [await createTestDatabase(), await createTestDatabase()] : [];
    const sites = await openSitePair(
      root,
      dbs.map((d) => d.url),
    );
    const { carrying, full, incremental, rescan, logged } = sites;
    try {
      const a = sites.catalog;
      // Updates with outcomes on the machines: the ones the edits below touch.
      const withRows = new Set<string>();
      for (let k = 0; k < MACHINES; k++) {
        const s = (await full.store.computerScan(`PC-${k}`))!;
        for (const r of await full.store.resultUpdates(s.set_id)) if (r.state !== 'NotApplicable') withRows.add(r.update_id);
      }
      const base = catalogRecords(a);
      const touched = base.map((r, i) => [r, i] as const).filter(([r]) => withRows.has(r.updateId) && r.updateType === 'Software');
      expect(touched.length).toBeGreaterThan(10);
      // RevisionIds are one per update revision (the import refuses two updates under one): the catalog's highest is
      // never removed, so that the 1 % edit below numbers its new revisions above every one re-added later, and the
      // revisions made here are numbered above those.
      const highest = Math.max(...base.map((r) => r.revisionId));
      const gone = new Set(touched.filter(([r], k) => k % 25 === 0 && r.revisionId !== highest).map(([r]) => r.revisionId));
      const twoRevs = new Set(touched.filter((_, k) => k % 25 === 1).map(([r]) => r.revisionId));
      let next = 0;
      const revise = (r: UpdateRecord, n: number): UpdateRecord => ({ ...r, revisionNumber: n, revisionId: next++ });

      const edits: [string, UpdateRecord[]][] = [];
      // 1: some updates removed (and a 1 % edit, so the carry-over has the usual work as well)
      const e1 = patchTuesday(
        base.filter((r) => !gone.has(r.revisionId)),
        1,
        21,
      ).records;
      next = Math.max(highest, ...e1.map((r) => r.revisionId)) + 1;
      edits.push(['removed', e1]);
      // 2: the removed ones back, as they were; others held in a second revision beside the first
      const e2 = [...e1, ...base.filter((r) => gone.has(r.revisionId))];
      const second = e2.filter((r) => twoRevs.has(r.revisionId)).map((r) => revise(r, r.revisionNumber + 1));
      edits.push(['re-added, two revisions', [...e2, ...second]]);
      // 3: the first revisions dropped again (one revision each), the re-added ones revised
      const e3 = [
        ...e2.filter((r) => !twoRevs.has(r.revisionId)).map((r) => (gone.has(r.revisionId) ? revise(r, r.revisionNumber + 5) : r)),
        ...second,
      ];
      edits.push(['one revision again', e3]);
      // 4: the revision numbers back to what they were (an older revision in service again)
      const e4 = e3.map((r) =>
        r.revisionNumber >= 5 && gone.has(base.find((b) => b.updateId === r.updateId)?.revisionId ?? -1)
          ? { ...r, revisionNumber: r.revisionNumber - 5 }
          : r,
      );
      edits.push(['revision numbers back', e4]);
      // 5: a small edit on top of the chain
      edits.push(['1 % edit', patchTuesday(e4, 1, 22).records]);

      const ids = [...new Set(touched.map(([r]) => r.updateId))];
      let carried = 0;
      let onBaseMax = 0;
      for (const [k, [what, records]] of edits.entries()) {
        const file = join(root, `edit-${k}.pscat`);
        writeCatalogFile(file, buildCatalog(records, file).data);
        await putInService(carrying, file);
        await putInService(full, file);
        const c = await incremental.runQueue();
        await rescan.runQueue();
        carried += c.carried;
        const got = await stored(carrying, ids);
        const want = await stored(full, ids);
        onBaseMax = Math.max(onBaseMax, got.onBase);
        for (const [name, r] of want.rows) expect(got.rows.get(name), `${name} after ${what}`).toEqual(r);
        expect(got.byUpdate, what).toEqual(want.byUpdate);
        expect(got.classes, what).toEqual(want.classes);
        console.log(`${backend} after ${what}: carried ${c.carried}, on a base ${got.onBase}`);
      }
      expect(logged.filter((l) => !/changed its title or KB/.test(l))).toEqual([]);
      expect(carried).toBeGreaterThan(0);
      expect(onBaseMax).toBeGreaterThan(MACHINES / 2);
    } finally {
      await sites.close();
      for (const db of dbs) await db.drop();
    }
  }, 600_000);
});
