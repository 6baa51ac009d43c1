/**
 * What storing a result set costs on SQLite, by schema of the result rows (issue 14 item 4, site level: the store write
 * is most of a carry-over's time on a site, and the same work as a full rescan's). Real result sets with reasons —
 * distinct profiles scanned against a generated catalog after a "Patch Tuesday" edit (bench/patch-tuesday.ts) — are
 * written with the site's settings (WAL, synchronous = FULL, 25 sets per transaction, INSERTs of 100 rows) into one
 * database per variant, the variants interleaved per batch so that all see the same load. Prints CPU time per set
 * (fsync waits are not in it). Only today's schema is the site's; the others are what a migration could choose.
 *
 *   npm run build && node dist/bench/site-carry-over-store.bench.js [--revisions 50000] [--sets 150]
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { importCatalog } from '../adapters/catalog/import.js';
import { generateCatalog } from '../corpus/generate-catalog.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { outcomeIndex, outcomeState, outcomeSupersedence } from '../engine/fleet/result-set.js';
import { scanOutcomes } from '../engine/fleet/scan-outcomes.js';
import { Scanner } from '../engine/scanner/scanner.js';
import { arg, numArg } from './args.js';
import { buildCatalog, catalogRecords, patchTuesday } from './patch-tuesday.js';

const revisions = numArg('revisions', '50000');
const sets = numArg('sets', '150');
const work = arg('work', join(process.cwd(), 'bench', '.work'));
mkdirSync(work, { recursive: true });
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`load average at start: ${load()} (the machine is shared with other helpers' work)`);

const cab = join(work, `wsusscn2-${revisions}-1.cab`);
const file = join(work, `catalog-${revisions}-1.pscat`);
if (!existsSync(cab)) generateCatalog({ revisions, seed: 1, out: cab });
if (!existsSync(file)) importCatalog(cab, { out: file });
const imported = new Catalog(readCatalogFile(file));
const after = buildCatalog(patchTuesday(catalogRecords(imported), 1, 7).records, 'after');

interface Row {
  readonly index: number;
  readonly updateId: string;
  readonly revision: number;
  readonly state: string;
  readonly superseded: number;
  readonly reason: string;
}
const model = new FleetModel(imported);
const scanner = new Scanner(after);
const data: Row[][] = [];
for (let k = 0; k < sets; k++) {
  const { outcomes, reasons } = scanOutcomes(scanner, model.machine(1, k, true), { all: false, reasons: true });
  data.push(
    Array.from(outcomes, (w, j) => {
      const i = outcomeIndex(w);
      return {
        index: i,
        updateId: after.updateId(i),
        revision: after.revisionNumber(i),
        state: outcomeState(w),
        superseded: outcomeSupersedence(w),
        reason: reasons?.[j] ?? '',
      };
    }),
  );
}
const rows = data.reduce((a, s) => a + s.length, 0);
const bytes = data.reduce((a, s) => a + s.reduce((b, r) => b + Buffer.byteLength(r.reason), 0), 0);
const distinct = new Set(data.flatMap((s) => s.map((r) => r.reason))).size;
console.log(
  `${sets} result sets: ${Math.round(rows / sets)} rows and ${Math.round(bytes / sets / 1024)} KiB of reasons per set; ` +
    `${distinct.toLocaleString('en-US')} distinct reasons among ${rows.toLocaleString('en-US')} rows`,
);

const dir = join(work, `store-variants-${process.pid}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir);
function open(name: string, ddl: string): Database.Database {
  const db = new Database(join(dir, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(ddl);
  return db;
}
const ROWS = 100;
/** Multi-row INSERTs of 100 rows, as the store's addResultSet writes them. */
function insertRows(db: Database.Database, table: string, set: readonly Row[], values: (r: Row) => (string | number)[]): void {
  for (let k = 0; k < set.length; k += ROWS) {
    const chunk = set.slice(k, k + ROWS);
    const params = chunk.flatMap(values);
    const one = `(${values(chunk[0]!)
      .map(() => '?')
      .join(', ')})`;
    db.prepare(`INSERT INTO ${table} VALUES ${chunk.map(() => one).join(', ')}`).run(params);
  }
}
/** Reasons numbered once per distinct text, in the database (a site's many processes could not share a map alone). */
function reasonIds(db: Database.Database): (text: string) => number {
  db.exec('CREATE TABLE reasons (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)');
  const known = new Map<string, number>();
  const put = db.prepare<[string], { id: number }>(
    'INSERT INTO reasons (text) VALUES (?) ON CONFLICT (text) DO UPDATE SET text = excluded.text RETURNING id',
  );
  return (text) => {
    let id = known.get(text);
    if (id === undefined) known.set(text, (id = put.get(text)!.id));
    return id;
  };
}
const STATE_CODE: Record<string, number> = { Installed: 0, Required: 1, NotApplicable: 2, Unknown: 3 };
const ROW_COLUMNS = 'set_id INTEGER NOT NULL, update_index INTEGER NOT NULL, revision_number INTEGER NOT NULL, superseded INTEGER NOT NULL';
const KEY = 'PRIMARY KEY (set_id, update_index)) WITHOUT ROWID';

type Variant = { name: string; db: Database.Database; write: (setId: number, set: readonly Row[]) => void };
const variants: Variant[] = [];
{
  const db = open(
    'today',
    `CREATE TABLE result_updates (${ROW_COLUMNS}, update_id TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL, ${KEY};
     CREATE INDEX result_updates_by_update ON result_updates(update_id, state, set_id);`,
  );
  variants.push({
    name: "today's rows, index (update_id, state, set_id) on GUID text",
    db,
    write: (id, set) =>
      insertRows(db, 'result_updates', set, (r) => [id, r.index, r.revision, r.superseded, r.updateId, r.state, r.reason]),
  });
}
{
  const db = open(
    'reason-ids',
    `CREATE TABLE result_updates (${ROW_COLUMNS}, update_id TEXT NOT NULL, state TEXT NOT NULL, reason_id INTEGER NOT NULL, ${KEY};
     CREATE INDEX result_updates_by_update ON result_updates(update_id, state, set_id);`,
  );
  const reason = reasonIds(db);
  variants.push({
    name: 'reasons once per distinct text',
    db,
    write: (id, set) =>
      insertRows(db, 'result_updates', set, (r) => [id, r.index, r.revision, r.superseded, r.updateId, r.state, reason(r.reason)]),
  });
}
{
  const db = open(
    'integer-keys',
    `CREATE TABLE result_updates (${ROW_COLUMNS}, update_key INTEGER NOT NULL, state INTEGER NOT NULL, reason TEXT NOT NULL, ${KEY};
     CREATE INDEX result_updates_by_update ON result_updates(update_key, state, set_id);`,
  );
  // The GUID numbered once per site (a real schema would keep the numbering in a table of its own).
  const keys = new Map<string, number>();
  const key = (id: string): number => {
    let k = keys.get(id);
    if (k === undefined) keys.set(id, (k = keys.size));
    return k;
  };
  variants.push({
    name: 'the same index on integers (update key, state code)',
    db,
    write: (id, set) =>
      insertRows(db, 'result_updates', set, (r) => [
        id,
        r.index,
        r.revision,
        r.superseded,
        key(r.updateId),
        STATE_CODE[r.state]!,
        r.reason,
      ]),
  });
}
{
  const db = open(
    'no-index',
    `CREATE TABLE result_updates (${ROW_COLUMNS}, update_id TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL, ${KEY};`,
  );
  variants.push({
    name: "today's rows without the index by update",
    db,
    write: (id, set) =>
      insertRows(db, 'result_updates', set, (r) => [id, r.index, r.revision, r.superseded, r.updateId, r.state, r.reason]),
  });
}
{
  const db = open('blob', 'CREATE TABLE result_blobs (set_id INTEGER PRIMARY KEY, words BLOB NOT NULL, reason_ids BLOB NOT NULL)');
  const reason = reasonIds(db);
  const put = db.prepare('INSERT INTO result_blobs VALUES (?, ?, ?)');
  variants.push({
    name: 'one row per set: packed outcomes and reason ids',
    db,
    write: (id, set) => {
      const words = new Uint32Array(set.length);
      const ids = new Uint32Array(set.length);
      set.forEach((r, j) => {
        words[j] = ((r.index << 4) | (STATE_CODE[r.state]! << 2) | r.superseded) >>> 0;
        ids[j] = reason(r.reason);
      });
      put.run(id, Buffer.from(words.buffer), Buffer.from(ids.buffer));
    },
  });
}

const cpu = new Map<Variant, number>(variants.map((v) => [v, 0]));
for (let at = 0; at < sets; at += 25) {
  for (const v of variants) {
    const c = process.cpuUsage();
    v.db.transaction(() => {
      for (let k = at; k < Math.min(sets, at + 25); k++) v.write(k + 1, data[k]!);
    })();
    const d = process.cpuUsage(c);
    cpu.set(v, cpu.get(v)! + (d.user + d.system) / 1000);
  }
}
for (const v of variants) {
  console.log(`${(cpu.get(v)! / sets).toFixed(2).padStart(7)} ms CPU per set  ${v.name}`);
  v.db.close();
}
rmSync(dir, { recursive: true, force: true });
console.log(`load average at end: ${load()}`);
