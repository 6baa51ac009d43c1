/**
 * Result sets stored before the counting rule kept counts per classification and product (result_set_groups) whose
 * `required` included superseded Required updates. On both backends, a store is built at the schema version before
 * the rule, holding real scans of the bundled catalog with those old counts (and a set whose catalog file is gone);
 * opening it migrates and marks the sets, the drill-down leaves them out, and `serve`'s start recounts them from their
 * stored outcomes exactly as a scan counts today — a second run finds nothing to do, the unreadable catalog's set
 * stays marked and left out.
 */
import { join } from 'node:path';
import pg from 'pg';
import { expect, it } from 'vitest';
import { serve } from '../../adapters/server/server.js';
import { recountStaleGroups } from '../../adapters/site/result-groups.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { PG_MIGRATIONS } from '../../adapters/store/postgres/migrations.js';
import type { SiteStore } from '../../adapters/store/port.js';
import { MIGRATIONS } from '../../adapters/store/sqlite/migrations.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { countedAs } from '../../engine/scanner/counting.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { outcomeIndex, outcomeState, outcomeSupersedence } from '../../engine/fleet/result-set.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { postgresMigratedTo, sqliteMigratedTo } from '../helpers/migrated-to.js';

interface Row {
  readonly index: number;
  readonly updateId: string;
  readonly state: string;
  readonly superseded: number;
}
type Counts = Record<string, { installed: number; required: number; unknown: number }>;

/** Counts per "kind\0name" of some rows; `old`: every Required row counted as required (the rule before). */
function groupCounts(c: Catalog, rows: readonly Row[], old: boolean): Counts {
  const out: Counts = {};
  const add = (key: string, r: Row): void => {
    const g = (out[key] ??= { installed: 0, required: 0, unknown: 0 });
    const bucket = countedAs(r.state, r.superseded);
    if (bucket === 'installed') g.installed++;
    else if (bucket === 'required' || (old && r.state === 'Required')) g.required++;
    else if (bucket === 'unknown') g.unknown++;
  };
  for (const r of rows) {
    add(`classification\u0000${c.classification(r.index) || 'Unclassified'}`, r);
    for (const p of c.products(r.index)) add(`product\u0000${p}`, r);
  }
  return out;
}

const MACHINES = 4;

/** Real scans of fleet machines on the bundled catalog: each machine's stored rows. */
function scans(c: Catalog): Row[][] {
  const scanner = new Scanner(c);
  const model = new FleetModel(c);
  return Array.from({ length: MACHINES }, (_, k) => {
    const { outcomes } = scanOutcomes(scanner, model.machine(1, k), { all: false, reasons: false });
    return Array.from(outcomes, (w) => ({
      index: outcomeIndex(w),
      updateId: c.updateId(outcomeIndex(w)),
      state: outcomeState(w),
      superseded: outcomeSupersedence(w),
    }));
  });
}

/** Writes the old-schema rows: catalog 1 (the bundled one) with a set per machine, catalog 2 (its file gone) with one. */
async function seedOld(exec: (sql: string, params: unknown[]) => Promise<void>, c: Catalog, sets: Row[][]): Promise<void> {
  await exec("INSERT INTO catalogs (id, sha256, source, path, revisions, imported_at) VALUES (1, $1, 't', $2, 1, 't')", [
    'a'.repeat(64),
    bundledCatalogFile(),
  ]);
  await exec("INSERT INTO catalogs (id, sha256, source, path, revisions, imported_at) VALUES (2, $1, 't', '/gone/old.pscat', 1, 't')", [
    'b'.repeat(64),
  ]);
  for (let k = 0; k <= sets.length; k++) {
    const rows = sets[k % sets.length];
    const required = rows.filter((r) => r.state === 'Required').length;
    const setId = k + 1;
    await exec(
      'INSERT INTO result_sets (id, catalog_id, fingerprint, installed, required, ' +
        'not_applicable, unknown) VALUES ($1, $2, $3, 0, $4, 0, 0)',
      [setId, k < sets.length ? 1 : 2, `fp${k}`, required],
    );
    for (const r of rows) {
      await exec(
        'INSERT INTO result_updates (set_id, update_index, update_id, revision_number, ' +
          "state, superseded, reason) VALUES ($1, $2, $3, 1, $4, $5, '')",
        [setId, r.index, r.updateId, r.state, r.superseded],
      );
    }
    for (const [key, g] of Object.entries(groupCounts(c, rows, true))) {
      const [kind, name] = key.split('\u0000');
      await exec('INSERT INTO result_set_groups (set_id, kind, name, installed, required, unknown) VALUES ($1, $2, $3, $4, $5, $6)', [
        setId,
        kind,
        name,
        g.installed,
        g.required,
        g.unknown,
      ]);
    }
    const name = `PC-${k}`;
    await exec('INSERT INTO clients (id, name, name_key, architecture) VALUES ($1, $2, $3, $4)', [setId, name, name.toLowerCase(), 'x64']);
    await exec("INSERT INTO inventories (id, client_id, received_at, sha256, body, bytes) VALUES ($1, $1, 't', 'x', $2, 1)", [
      setId,
      Buffer.from('x'),
    ]);
    await exec("INSERT INTO scans (client_id, inventory_id, catalog_id, set_id, scanned_at, program) VALUES ($1, $1, $2, $1, 't', 'p')", [
      setId,
      k < sets.length ? 1 : 2,
    ]);
  }
}

/** The stored counts per group of one set. */
async function stored(read: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>, setId: number): Promise<Counts> {
  const out: Counts = {};
  for (const r of await read('SELECT kind, name, installed, required, unknown FROM result_set_groups WHERE set_id = $1', [setId]))
    out[`${String(r.kind)}\u0000${String(r.name)}`] = {
      installed: Number(r.installed),
      required: Number(r.required),
      unknown: Number(r.unknown),
    };
  return out;
}

const SQLITE_BEFORE = MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('possibly_superseded'));
const PG_BEFORE = PG_MIGRATIONS.findIndex((m) => m.includes('possibly_superseded'));

interface OldStore {
  readonly database: string;
  exec(sql: string, params: unknown[]): Promise<void>;
  read(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  done(): Promise<void>;
}

const BACKENDS: { name: string; create(): Promise<OldStore> }[] = [
  {
    name: 'sqlite',
    async create() {
      expect(SQLITE_BEFORE).toBeGreaterThan(0);
      const file = join(tempDir(), 'old.db');
      const db = sqliteMigratedTo(file, SQLITE_BEFORE);
      // PostgreSQL's $n placeholders as SQLite's ?, the values in the order they appear.
      const q = (sql: string, params: unknown[]): [string, unknown[]] => {
        const order = [...sql.matchAll(/\$(\d)/g)].map((m) => params[Number(m[1]) - 1]);
        return [sql.replace(/\$\d/g, '?'), order];
      };
      return {
        database: file,
        exec: async (sql, params) => {
          const [text, values] = q(sql, params);
          db.prepare(text).run(...values);
        },
        read: async (sql, params) => {
          const [text, values] = q(sql, params);
          return db.prepare(text).all(...values) as Record<string, unknown>[];
        },
        done: async () => void db.close(),
      };
    },
  },
  {
    name: 'postgres',
    async create() {
      expect(PG_BEFORE).toBeGreaterThan(0);
      const tdb = await createTestDatabase();
      const c = new pg.Client({ connectionString: tdb.url });
      await c.connect();
      await postgresMigratedTo(c, PG_BEFORE);
      return {
        database: tdb.url,
        exec: async (sql, params) => void (await c.query(sql, params)),
        read: async (sql, params) => (await c.query(sql, params)).rows as Record<string, unknown>[],
        done: async () => {
          await c.end();
          await tdb.drop();
        },
      };
    },
  },
];

for (const backend of BACKENDS) {
  it(
    `result sets stored before the counting rule are recounted per classification and product: ${backend.name}`,
    { timeout: 120_000 },
    async () => {
      const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
      const sets = scans(catalog);
      // The fleet has superseded Required updates, so the old counts differ from the rule's.
      expect(sets.some((rows) => rows.some((r) => r.state === 'Required' && r.superseded === 1))).toBe(true);
      const old = await backend.create();
      let site: Site | undefined;
      try {
        await old.exec('BEGIN', []);
        await seedOld(old.exec, catalog, sets);
        await old.exec('COMMIT', []);
        const security = 'Security Updates';
        const dir = tempDir();
        writeConfig(dir, { ...DEFAULT_CONFIG, database: old.database, listen: '127.0.0.1:0' });
        site = await Site.open(dir); // migrates
        const store: SiteStore = site.store;
        expect((await store.staleGroupSets()).map((s) => s.id)).toEqual(sets.map((_, k) => k + 1).concat(sets.length + 1));
        // Until recounted, the drill-down leaves the marked sets out rather than show the old rule's counts.
        expect((await store.groupMachines('classification', security, 100, 0)).total).toBe(0);

        // serve's start recounts them (close waits for it); the set of the catalog that cannot be read stays marked.
        const server = await serve(site, { scanQueue: false, scheduledSync: false });
        await server.close();
        expect((await store.staleGroupSets()).map((s) => s.id)).toEqual([sets.length + 1]);
        for (const [k, rows] of sets.entries()) {
          const want = groupCounts(catalog, rows, false);
          expect(await stored(old.read, k + 1)).toEqual(want);
        }
        expect(
          sets.some((rows) => JSON.stringify(groupCounts(catalog, rows, false)) !== JSON.stringify(groupCounts(catalog, rows, true))),
        ).toBe(true);
        const machines = await store.groupMachines('classification', security, 100, 0);
        expect(machines.items.map((m) => [m.name, m.required]).sort()).toEqual(
          sets
            .map((rows, k) => [`PC-${k}`, groupCounts(catalog, rows, false)[`classification\u0000${security}`]?.required])
            .filter(([, n]) => n !== undefined)
            .sort(),
        );

        // Nothing left to do for the catalog it can read; the other one is said, and stays out of reports.
        const lines: string[] = [];
        expect(await recountStaleGroups(store, site.catalogsDir, (l) => lines.push(l))).toEqual({ recounted: 0, left: 1 });
        expect(lines.join('\n')).toMatch(/1 result set\(s\) of catalog 2 keep counts of the old counting rule/);
        expect((await store.groupMachines('classification', security, 100, 0)).items.some((m) => m.name === `PC-${sets.length}`)).toBe(
          false,
        );
      } finally {
        await site?.close();
        await old.done();
      }
    },
  );
}

for (const backend of BACKENDS) {
  it(
    `classification counts stored under a GUID (before WSUS's names) are marked when the store opens, and recounted: ${backend.name}`,
    { timeout: 120_000 },
    async () => {
      const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
      const sets = scans(catalog);
      const old = await backend.create();
      const security = 'Security Updates';
      const guid = '0fa1201d-4330-4fa8-8ae9-b877473b6441'; // Security Updates' category GUID
      const dir = tempDir();
      writeConfig(dir, { ...DEFAULT_CONFIG, database: old.database, listen: '127.0.0.1:0' });
      let site: Site | undefined;
      try {
        await old.exec('BEGIN', []);
        await seedOld(old.exec, catalog, sets);
        await old.exec('COMMIT', []);
        site = await Site.open(dir); // every migration, this one included (no GUID named yet)
        await (await serve(site, { scanQueue: false, scheduledSync: false })).close(); // recounted
        await site.close();
        site = undefined;
        // As a build before the names left them: the classification named by its GUID (upper case in one set), and the
        // store one migration behind.
        await old.exec('UPDATE result_set_groups SET name = $1 WHERE kind = $2 AND name = $3 AND set_id <> 1', [
          guid,
          'classification',
          security,
        ]);
        await old.exec('UPDATE result_set_groups SET name = $1 WHERE kind = $2 AND name = $3', [
          guid.toUpperCase(),
          'classification',
          security,
        ]);
        const named = (await old.read('SELECT DISTINCT set_id FROM result_set_groups WHERE lower(name) = $1 ORDER BY set_id', [guid])).map(
          (r) => Number(r.set_id),
        );
        expect(named.length).toBeGreaterThan(1);
        expect(named).toContain(1); // the set whose GUID is in upper case
        if (backend.name === 'sqlite') await old.exec(`PRAGMA user_version = ${MIGRATIONS.length - 1}`, []);
        else await old.exec('DELETE FROM schema_migrations WHERE version = $1', [PG_MIGRATIONS.length]);

        site = await Site.open(dir); // the migration marks those sets (and the unreadable catalog's stays marked)
        const store: SiteStore = site.store;
        expect((await store.staleGroupSets()).map((s) => s.id)).toEqual([...new Set([...named, sets.length + 1])].sort((a, b) => a - b));
        await (await serve(site, { scanQueue: false, scheduledSync: false })).close();
        expect((await store.staleGroupSets()).map((s) => s.id)).toEqual([sets.length + 1]);
        for (const [k, rows] of sets.entries()) expect(await stored(old.read, k + 1)).toEqual(groupCounts(catalog, rows, false));
        expect(await old.read('SELECT set_id FROM result_set_groups WHERE lower(name) = $1 AND set_id <= $2', [guid, sets.length])).toEqual(
          [],
        );
      } finally {
        await site?.close();
        await old.done();
      }
    },
  );
}
