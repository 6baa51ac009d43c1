/**
 * A new catalog in service carries stored result sets over instead of rescanning them in full, and stores exactly
 * what a full rescan stores. Two real SQLite sites get the same clients and the same catalogs: the bundled cabinet
 * (synced), then a chain of "Patch Tuesday" edits of it (bench/patch-tuesday.ts) put in service the way a sync does
 * (the catalog recorded, current_catalog pointed at it, every client queued). One site carries over, the other
 * rescans in full (carryOver: false); after each change every client's stored rows (states, supersedence, reasons,
 * revisions) and the fleet's counts per classification must be equal, and the first site must really have carried.
 * Every other edit is put in service as a sync does it, with the carry-over made then and stored (the scans must not
 * read the old catalog); the others leave it to the scans. A damaged stored carry-over is said and made again; one a
 * sync stored carries over after the old catalog's file is gone.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildCatalog, catalogRecords, patchTuesday, retitled, supersedingCopies, withoutCopies } from '../../bench/patch-tuesday.js';
import { groupSummary } from '../../adapters/site/reports.js';
import { CatalogCarryOver } from '../../adapters/site/catalog-carry-over.js';
import { storeCatalogSource } from '../../adapters/site/catalog-files.js';
import type { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, type Site } from '../../adapters/site/site.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile, writeCatalogFile } from '../../engine/catalog/file.js';
import { packOutcome } from '../../engine/fleet/result-set.js';
import type { UpdateState } from '../../engine/scanner/machine-scan.js';
import type { SupersedenceCode } from '../../engine/scanner/supersedence.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { MACHINES, openSitePair, putInService } from '../helpers/carry-over-site.js';
import { tempDir } from '../helpers/tmp.js';

/** Catalog edits in service one after another: [percent of revisions edited, seed, titles changed too]. */
const EDITS: readonly (readonly [number, number, boolean?])[] = [
  [1, 1],
  [3, 2],
  [1, 3],
  [10, 4],
  [1, 5],
  [2, 6],
  // Updates that supersede others, or are revised, get new titles: stored reasons that name them are stale.
  [3, 10, true],
  // So many changes that carried sets are stored whole again (carried-changes.ts OWN_SHARE), then on them.
  [50, 8],
  [1, 9],
];

/** What every reader of a site's result rows gives, by computer (set ids differ from site to site). */
async function stored(site: Site): Promise<{ rows: Map<string, string[]>; classes: unknown; byUpdate: unknown; onBase: number }> {
  const rows = new Map<string, string[]>();
  const current = (await site.store.currentCatalog())!.id;
  const sets = new Map<number, string[]>();
  let onBase = 0;
  for (let k = 0; k < MACHINES; k++) {
    const scan = (await site.store.computerScan(`PC-${k}`))!;
    expect(scan.catalog_id).toBe(current);
    const layers = await site.store.resultSetLayers(scan.set_id);
    if (layers.base) onBase++;
    // The packed outcomes stored with the set (what the next carry-over reads) are its rows'.
    const packed = await site.store.resultSetOutcomes(scan.set_id);
    expect(packed && [...packed.words]).toEqual(
      layers.rows.map((u) => packOutcome(u.update_index, u.state as UpdateState, u.superseded as SupersedenceCode)).sort((x, y) => x - y),
    );
    expect(await site.store.resultUpdates(scan.set_id)).toEqual(layers.rows);
    rows.set(
      `PC-${k}`,
      layers.rows.map((u) => `${u.update_index} ${u.update_id} ${u.revision_number} ${u.state} ${u.superseded} ${u.reason}`),
    );
    sets.set(scan.set_id, [...(sets.get(scan.set_id) ?? []), `PC-${k}`]);
  }
  // The readers by update and by set, through the rows a set keeps of its base.
  const ids = [...new Set([...rows.values()].flat().map((r) => r.split(' ')[1]))].sort();
  const some = ids.filter((_, k) => k % 7 === 0);
  const machines = await site.store.updateMachines(some, undefined, 100_000, 0);
  const required = await site.store.updateMachines(some, ['required', 'unknown'], 100_000, 0);
  const outcomes = (await site.store.updateOutcomes(some)).map(
    (o) => `${sets.get(o.setId)!.join(',')} ${o.updateId} ${o.state} ${o.superseded} ${o.machines}`,
  );
  const bySet = (await site.store.setOutcomes([...sets.keys()])).map(
    (o) => `${sets.get(o.set_id)!.join(',')} ${o.update_id} ${o.state} ${o.superseded}`,
  );
  const group = await site.store.addUpdateGroup({
    name: `g-${current}`,
    criteria: '{}',
    deadline: null,
    updates: some.map((update_id) => ({ update_id, kb: '', title: '' })),
  });
  const groupCounts = (await site.store.groupSetCounts(group)).map((g) => `${sets.get(g.set_id)!.join(',')} ${g.bucket} ${g.n}`);
  const byUpdate = {
    machines: machines.total,
    items: machines.items.map((m) => ({ ...m, scannedAt: undefined })),
    required: required.items.map((m) => `${m.computer} ${m.updateId} ${m.state} ${m.superseded}`),
    outcomes: outcomes.sort(),
    bySet: bySet.sort(),
    counts: (await site.store.updateOutcomeCounts()).map((c) => `${c.update_id} ${c.state} ${c.superseded} ${c.n}`).sort(),
    unknown: await site.store.unknownReasons(some, 1000),
    group: groupCounts.sort(),
  };
  expect(machines.total).toBeGreaterThan(0);
  return { rows, classes: await groupSummary(site.store, 'classification'), byUpdate, onBase };
}

/** Catalog files the carrying site's scan service read (through its catalog source), by catalog id. */
const read: number[] = [];

async function step(
  carrying: Site,
  full: Site,
  file: string,
  incremental: ScanService,
  rescan: ScanService,
  what: string,
  prepare = false,
  beforeScans?: () => Promise<void>,
): Promise<{ carried: number; onBase: number; prepared: string | undefined; read: number[]; pruned: [number, number] }> {
  const prepared = await putInService(carrying, file, prepare);
  await putInService(full, file);
  await beforeScans?.();
  read.length = 0;
  const c = await incremental.runQueue();
  const f = await rescan.runQueue();
  expect(c.scanned).toBe(MACHINES);
  expect(f.carried).toBe(0);
  const got = await stored(carrying);
  const want = await stored(full);
  for (const [name, rows] of want.rows) expect(got.rows.get(name), `${name} ${what}`).toEqual(rows);
  expect(got.classes).toEqual(want.classes);
  expect(got.byUpdate, what).toEqual(want.byUpdate);
  // A full rescan stores every set whole.
  expect(want.onBase).toBe(0);
  // Not vacuous: most machines have outcomes.
  expect([...want.rows.values()].filter((r) => r.length > 0).length).toBeGreaterThan(MACHINES / 2);
  return { carried: c.carried, onBase: got.onBase, prepared, read: [...read], pruned: [c.pruned, f.pruned] };
}

/** What an earlier release stored: result sets without their packed outcomes. */
async function forgetPackedOutcomes(sqliteFile: string, postgres: string | undefined): Promise<void> {
  const sql = 'UPDATE result_sets SET outcomes = NULL';
  if (postgres) {
    const c = new pg.Client({ connectionString: postgres });
    await c.connect();
    await c.query(sql);
    await c.end();
  } else {
    const db = new Database(sqliteFile);
    db.prepare(sql).run();
    db.close();
  }
}

/** Result sets of catalogs not in service that no client's latest scan and no other set reads (what pruning deletes). */
async function leftBehind(sqliteFile: string, postgres: string | undefined): Promise<{ unread: number; old: number }> {
  const sql = `SELECT
    (SELECT count(*) FROM result_sets rs WHERE rs.catalog_id <> (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'current_catalog')
      AND NOT EXISTS (SELECT 1 FROM scans s WHERE s.set_id = rs.id)
      AND NOT EXISTS (SELECT 1 FROM result_sets c WHERE c.base_set_id = rs.id) AND rs.id < (SELECT max(id) FROM result_sets)) AS unread,
    (SELECT count(*) FROM result_sets rs WHERE rs.catalog_id <> (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'current_catalog')) AS old`;
  if (postgres) {
    const c = new pg.Client({ connectionString: postgres });
    await c.connect();
    const r = (await c.query(sql)).rows[0] as { unread: string; old: string };
    await c.end();
    return { unread: Number(r.unread), old: Number(r.old) };
  }
  const db = new Database(sqliteFile, { readonly: true });
  const r = db.prepare(sql).get() as { unread: number; old: number };
  db.close();
  return r;
}

/** Flips one byte in the middle of the stored carry-over of a pair of catalogs. */
async function corruptCarryOver(sqliteFile: string, postgres: string | undefined, from: number, to: number): Promise<void> {
  if (postgres) {
    const c = new pg.Client({ connectionString: postgres });
    await c.connect();
    await c.query(
      `UPDATE catalog_carry_overs SET plan = overlay(plan placing decode(lpad(to_hex(255 - get_byte(plan, length(plan) / 2)), 2, '0'), 'hex') from length(plan) / 2 + 1 for 1)
       WHERE from_catalog_id = $1 AND to_catalog_id = $2`,
      [from, to],
    );
    await c.end();
  } else {
    const db = new Database(sqliteFile);
    const row = db.prepare('SELECT plan FROM catalog_carry_overs WHERE from_catalog_id = ? AND to_catalog_id = ?').get(from, to) as {
      plan: Buffer;
    };
    row.plan[row.plan.length >> 1] ^= 0xff;
    db.prepare('UPDATE catalog_carry_overs SET plan = ? WHERE from_catalog_id = ? AND to_catalog_id = ?').run(row.plan, from, to);
    db.close();
  }
}

describe.each(['SQLite', 'PostgreSQL'])('a new catalog in service (%s)', (backend) => {
  it('carries stored result sets over, storing exactly what a full rescan stores, or falls back to it', async () => {
    const root = tempDir();
    const dbs: TestDatabase[] = backend === 'PostgreSQL' ? [await createTestDatabase(), await createTestDatabase()] : [];
    const sites = await openSitePair(
      root,
      dbs.map((d) => d.url),
      (carrying) => {
        const source = storeCatalogSource(carrying.store, carrying.catalogsDir);
        return { file: (row) => (read.push(row.id), source.file(row)) };
      },
    );
    const { carrying, full, incremental, rescan, logged } = sites;
    try {
      const a = sites.catalog;
      expect(sites.first.carrying.scanned).toBe(MACHINES);
      expect(sites.first.full.scanned).toBe(MACHINES);
      // The first carry-over reads the old sets' rows, as for sets an earlier release stored (without packed outcomes);
      // the later ones read the packed outcomes this one stores.
      await forgetPackedOutcomes(join(root, 'carrying', DEFAULT_CONFIG.database), dbs[0]?.url);
      let records = catalogRecords(a);
      let carriedTotal = 0;
      const onBases: number[] = [];
      for (const [k, [percent, seed, renames]] of EDITS.entries()) {
        records = patchTuesday(records, percent, seed, { renames }).records;
        const file = join(root, `edit-${k}.pscat`);
        writeCatalogFile(file, buildCatalog(records, file).data);
        // Every other edit as a sync puts it in service (the carry-over made and stored then), the others as a catalog
        // another process put in service without it (the scan service makes it, from the old catalog).
        const prepare = k % 2 === 1;
        const before = (await carrying.store.currentCatalog())!.id;
        const r = await step(carrying, full, file, incremental, rescan, `after edit ${k}`, prepare);
        const now = (await carrying.store.currentCatalog())!.id;
        if (prepare) {
          expect(r.prepared).toMatch(/^prepared the carry-over of result sets from the previous catalog: \d+ update/);
          // Read from the store: the old catalog was never loaded by the scans (the new one only, once).
          expect(r.read).toEqual([now]);
        } else expect(r.read).toEqual([now, before]);
        // Either way, stored for the pair (a second process reads it).
        expect(await carrying.store.catalogCarryOver(before, now)).toBeDefined();
        // The sets of the catalog before that nothing reads any more are pruned when the queue runs dry (on the full
        // site, all of them). The next edit's comparisons read what is left, so nothing still needed went.
        expect(r.pruned[1]).toBeGreaterThan(0);
        const left = await leftBehind(join(root, 'carrying', DEFAULT_CONFIG.database), dbs[0]?.url);
        const leftFull = await leftBehind(join(root, 'full', DEFAULT_CONFIG.database), dbs[1]?.url);
        expect(left.unread).toBe(0);
        expect(leftFull).toEqual({ unread: 0, old: 0 }); // every client was scanned again: no older set is read
        // The carrying site keeps the older sets its sets are stored on (and only those).
        expect(left.old > 0).toBe(r.onBase > 0);
        carriedTotal += r.carried;
        onBases.push(r.onBase);
      }
      expect(logged).toEqual([]);
      // Both ways of storing a carried set were taken: on a base (most clients after some edits, through chains of
      // them), and whole (after the 50 % edit at least: too many changes).
      expect(Math.max(...onBases)).toBeGreaterThan(MACHINES / 2);
      // The first, from the old sets' rows, too.
      expect(onBases[0]).toBeGreaterThan(0);
      expect(Math.min(...onBases)).toBeLessThan(MACHINES / 2);
      // Every distinct profile of every change carried over (none was refused on these edits).
      expect(carriedTotal).toBe(EDITS.length * (MACHINES - MACHINES / 5));

      // A title changed on an update nothing else moved: the stored reasons that name it are worded again, the rest kept.
      const renamed = records.findIndex((r) => r.localized.length > 0 && r.kb !== undefined);
      records = records.map((r, i) => (i === renamed ? retitled(r, '(renamed)') : r));
      const file = join(root, 'renamed.pscat');
      writeCatalogFile(file, buildCatalog(records, file).data);
      expect((await step(carrying, full, file, incremental, rescan, 'after a rename')).carried).toBe(MACHINES - MACHINES / 5);
      expect(logged).toEqual([]);

      // Newer copies of updates only bundled, each superseding the one it copies: a bundle's reason quotes its child's,
      // whose supersedence changes where the copy applies, and no stored row holds the child's outcome.
      expect(records.filter((r) => r.deploymentAction === 'Bundle').length).toBeGreaterThan(10);
      records = supersedingCopies(records);
      const copies = join(root, 'copies.pscat');
      writeCatalogFile(copies, buildCatalog(records, copies).data);
      expect((await step(carrying, full, copies, incremental, rescan, 'after copies of bundled updates')).carried).toBe(
        MACHINES - MACHINES / 5,
      );
      // The copies expire: the updates they superseded are not superseded any more.
      records = withoutCopies(records);
      const expired = join(root, 'expired.pscat');
      writeCatalogFile(expired, buildCatalog(records, expired).data);
      expect((await step(carrying, full, expired, incremental, rescan, 'after the copies expired')).carried).toBe(MACHINES - MACHINES / 5);
      expect(logged).toEqual([]);

      // A damaged stored carry-over is said and not used: the scans diff the catalogs again, and store the same.
      records = patchTuesday(records, 1, 10).records;
      const damaged = join(root, 'damaged.pscat');
      writeCatalogFile(damaged, buildCatalog(records, damaged).data);
      const renamedId = (await carrying.store.currentCatalog())!.id;
      let damagedId = 0;
      const d = await step(carrying, full, damaged, incremental, rescan, 'after a damaged stored carry-over', true, async () => {
        damagedId = (await carrying.store.currentCatalog())!.id;
        await corruptCarryOver(join(root, 'carrying', DEFAULT_CONFIG.database), dbs[0]?.url, renamedId, damagedId);
      });
      expect(d.carried).toBe(MACHINES - MACHINES / 5);
      expect(d.read).toEqual([damagedId, renamedId]);
      // Replaced by the one made again: it reads back for the catalog in service.
      const fixed = (await carrying.store.catalogCarryOver(renamedId, damagedId))!;
      expect(CatalogCarryOver.decode(renamedId, fixed, new Catalog(readCatalogFile(damaged))).affectedCount).toBeGreaterThan(0);
      expect(logged).toEqual([expect.stringMatching(/the stored carry-over from catalog \d+ is not used \(made again here\): /)]);

      // The previous catalog's file goes after a sync prepared the carry-over: carried over without it.
      records = patchTuesday(records, 1, 11).records;
      const prepared = join(root, 'prepared.pscat');
      writeCatalogFile(prepared, buildCatalog(records, prepared).data);
      const p = await step(carrying, full, prepared, incremental, rescan, 'old file gone, carry-over prepared', true, async () =>
        rmSync(damaged),
      );
      expect(p.carried).toBe(MACHINES - MACHINES / 5);
      expect(logged).toHaveLength(1);

      // Gone before any carry-over was made: the error is said and every client is scanned in full.
      rmSync(prepared);
      records = patchTuesday(records, 1, 7).records;
      const next = join(root, 'after-loss.pscat');
      writeCatalogFile(next, buildCatalog(records, next).data);
      expect((await step(carrying, full, next, incremental, rescan, 'after the old file went')).carried).toBe(0);
      expect(logged.slice(1)).toEqual([expect.stringMatching(/failed, scanning it in full: NOT_FOUND: the compiled catalog/)]);
    } finally {
      await sites.close();
      for (const db of dbs) await db.drop();
    }
  }, 600_000);
});
