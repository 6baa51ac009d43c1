/**
 * Catalog sync integrity: a rejected cabinet leaves nothing behind that a later good one could pick up (every
 * attempt unpacks into its own empty directory, and the import reads only what the cabinet lists); a failed sync
 * never removes or changes the catalog in service; two syncs of one site never run at once (one runs, the other
 * answers "busy" at once), across processes; and a sync killed with SIGKILL does not leave the site locked.
 * Real files, real processes, real SQLite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { CabReader } from '../../adapters/cab/reader.js';
import { CabWriter } from '../../adapters/cab/writer.js';
import { importCatalog, sha256File } from '../../adapters/catalog/import.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { MSG_SYNC_DONE, MSG_SYNC_FAILED, MSG_SYNC_STARTED, runSync } from '../../adapters/sync/sync.js';
import { generateCatalog } from '../../corpus/generate-catalog.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { BIN } from '../helpers/serve.js';
import { setUpSite } from '../helpers/site-setup.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;
const OPEN_SQLITE_JS = new URL('../../dist/adapters/store/sqlite/open.js', import.meta.url).href;

async function newSite(dir: string): Promise<Site> {
  writeConfig(dir, { ...DEFAULT_CONFIG, sync: { ...DEFAULT_CONFIG.sync, retries: 1, backoffMs: 10, timeoutMs: 2_000 } });
  const site = await Site.open(dir);
  await setUpSite(site, { testComputer: 'PILOT', syncHost: 'SYNC' });
  return site;
}

/** How many catalogs the site database records, read from the SQLite file on its own (no store method says). */
function catalogCount(site: Site): { n: number } {
  const db = new Database(join(site.dir, 'patchscan.db'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) AS n FROM catalogs').get() as { n: number };
  } finally {
    db.close();
  }
}

/** A drop folder holding `cab` as wsusscn2.cab. */
function drop(dir: string, cab: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(cab, join(dir, 'wsusscn2.cab'));
  return dir;
}

/** Everything that decides a scan: each update's identity and its three rules. */
function digest(path: string): string {
  const c = new Catalog(readCatalogFile(path));
  const rows: unknown[] = [];
  for (let i = 0; i < c.size; i++) {
    rows.push([
      c.updateId(i),
      c.revisionId(i),
      ...(['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const).map((s) => {
        const r = c.ruleRoot(i, s);
        return r < 0 ? null : c.ruleTree(r);
      }),
    ]);
  }
  return JSON.stringify(rows);
}

/** What is left in the sync directory besides the last cabinet, and any temporary file among the catalogs. */
function leftovers(site: Site): string[] {
  const sync = existsSync(site.syncDir) ? readdirSync(site.syncDir).filter((f) => f !== 'wsusscn2.cab') : [];
  const cats = existsSync(site.catalogsDir) ? readdirSync(site.catalogsDir).filter((f) => !/^[0-9a-f]{16}\.pscat$/.test(f)) : [];
  return [...sync.map((f) => `sync/${f}`), ...cats.map((f) => `catalogs/${f}`)];
}

function run(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string; at: number }>;
} {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string; at: number }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, out, err, at: performance.now() }));
  });
  return { child, done };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Stores an inventory for PILOT (as an upload would) so that rescans have something to scan. */
async function storePilotInventory(site: Site, catalogPath: string): Promise<number> {
  const model = new FleetModel(new Catalog(readCatalogFile(catalogPath)));
  const inv = { ...model.machine(5, 0), computer: { name: 'PILOT' }, processor: { architecture: 9 } };
  await site.store.enroll('PILOT');
  const id = (await site.store.client('PILOT'))!.id;
  await site.store.transaction((tx) => tx.addInventory(id, new Packr({ useRecords: false }).pack(inv), 'x64'));
  return id;
}

describe('catalog sync integrity', () => {
  const dir = tempDir();
  let good: string;
  let bad: string;
  let poisonedRid: number;
  let extraUpdateId: string;
  let reference: string; // the catalog compiled from the good cabinet alone

  beforeAll(() => {
    good = join(dir, 'good.cab');
    generateCatalog({ revisions: 300, seed: 21, out: good });
    reference = join(dir, 'reference.pscat');
    importCatalog(good, { out: reference });
    // The bad cabinet: the good one's entries, with package.cab damaged (the sync rejects it), plus two core
    // fragments at the top level: a known revision whose IsInstalled is made <True/>, and a revision the catalog
    // does not hold.
    const parts = join(dir, 'parts');
    mkdirSync(parts);
    const outer = CabReader.open(good);
    const entries: [string, Buffer][] = [];
    for (const f of outer.files()) entries.push([f.name, Buffer.concat([...f.chunks()].map((c) => Buffer.from(c)))]);
    outer.close();
    writeFileSync(join(parts, 'package2.cab'), entries.find(([n]) => n === 'package2.cab')![1]);
    const range = CabReader.open(join(parts, 'package2.cab'));
    let poisoned: [string, Buffer] | undefined;
    for (const f of range.files()) {
      const text = Buffer.concat([...f.chunks()].map((c) => Buffer.from(c))).toString('utf8');
      if (!poisoned && f.name.startsWith('c/') && text.includes('<IsInstalled>') && text.includes('Software')) {
        poisonedRid = Number(f.name.slice(2));
        poisoned = [f.name, Buffer.from(text.replace(/<IsInstalled>.*?<\/IsInstalled>/s, '<IsInstalled><True /></IsInstalled>'))];
      }
    }
    range.close();
    expect(poisoned).toBeDefined();
    extraUpdateId = '0badc0de-0000-4000-8000-000000000001';
    const extra = poisoned![1].toString('utf8').replace(/UpdateID="[0-9a-f-]+"/, `UpdateID="${extraUpdateId}"`);
    writeFileSync(join(parts, 'extra'), extra);
    bad = join(dir, 'bad.cab');
    const w = new CabWriter(bad);
    for (const [name, data] of entries) w.add(name, name === 'package.cab' ? data.subarray(0, 200) : data);
    w.add(poisoned![0], poisoned![1]);
    w.add('c/999999999', Buffer.from(extra));
    w.finish();
  });

  it(
    'a rejected cabinet does not poison the next good one: the catalog in service ' +
      "is the good cabinet's alone, and no work files are left",
    async () => {
      const site = await newSite(join(dir, 'poison-site'));
      const folder = join(dir, 'drop-poison');
      drop(folder, bad);
      const r1 = await runSync(site, { source: folder });
      expect(r1.outcome).toBe('failed');
      expect((await site.store.syncMessages(1))[0].message_id).toBe(MSG_SYNC_FAILED);
      expect(await site.store.currentCatalog()).toBeUndefined();
      expect(leftovers(site)).toEqual([]);

      drop(folder, good);
      const r2 = await runSync(site, { source: folder });
      expect(r2.outcome, r2.message).toBe('updated');
      expect(leftovers(site)).toEqual([]);
      const cat = (await site.store.currentCatalog())!;
      const inService = new Catalog(readCatalogFile(cat.path));
      expect(inService.findByUpdateId(extraUpdateId)).toEqual([]);
      const i = inService.findByRevisionId(poisonedRid)!;
      expect(inService.ruleTree(inService.ruleRoot(i, 'IsInstalled'))).not.toEqual({ kind: 'const', value: true });
      // The same as a sync of the good cabinet on a fresh site, and as the cabinet compiled on its own.
      const fresh = await newSite(join(dir, 'fresh-site'));
      expect((await runSync(fresh, { source: drop(join(dir, 'drop-fresh'), good) })).outcome).toBe('updated');
      expect(cat.revisions).toBe((await fresh.store.currentCatalog())!.revisions);
      expect(digest(cat.path)).toBe(digest((await fresh.store.currentCatalog())!.path));
      expect(digest(cat.path)).toBe(digest(reference));
      const ref = new Catalog(readCatalogFile(reference));
      const machines = Array.from({ length: 20 }, (_, k) => new FleetModel(ref).machine(k, 0));
      expect(machines.map((m) => new Scanner(inService).scan(m))).toEqual(machines.map((m) => new Scanner(ref).scan(m)));
      // The next sync of the same cabinet is unchanged, and stays so.
      expect((await runSync(site, { source: folder })).outcome).toBe('unchanged');
      await fresh.close();
      await site.close();
    },
  );

  it('a cabinet that lists its fragments at the top level is still imported from them (only what it lists)', () => {
    // The bad cabinet's top-level fragments are read from a cabinet with a good package.cab; a stray file in a
    // shared work directory is not.
    const withTop = join(dir, 'top.cab');
    const goodOuter = CabReader.open(good);
    const packageCab = goodOuter.readAll('package.cab');
    goodOuter.close();
    const outer = CabReader.open(bad);
    const w = new CabWriter(withTop);
    for (const f of outer.files()) {
      const data = Buffer.concat([...f.chunks()].map((c) => Buffer.from(c)));
      w.add(f.name, f.name === 'package.cab' ? packageCab : data);
    }
    outer.close();
    w.finish();
    const work = join(dir, 'shared-work');
    mkdirSync(join(work, 'c'), { recursive: true });
    const stray = '0badc0de-0000-4000-8000-000000000002';
    writeFileSync(
      join(work, 'c', '999999998'),
      readFileSync(join(dir, 'parts', 'extra'))
        .toString('utf8')
        .replace(extraUpdateId, stray),
    ); // a stray fragment
    writeFileSync(join(work, 'package.xml'), '<not a package/>');
    const r = importCatalog(withTop, { out: join(dir, 'top.pscat'), workDir: work });
    const c = new Catalog(r.catalog);
    expect(c.findByUpdateId(extraUpdateId).length).toBe(1); // listed by the cabinet: read
    expect(c.findByUpdateId(stray)).toEqual([]); // not listed: never read
    expect(readdirSync(work).sort()).toEqual(['c', 'package.xml']); // the import's own scratch directory is gone
  });

  it(
    'two `patchscan sync` processes at once: one imports, the other is busy at once ' +
      'and names it; the catalog serves and a later sync is unchanged',
    async () => {
      const site = await newSite(join(dir, 'overlap-site'));
      const folder = drop(join(dir, 'drop-overlap'), BUNDLED);
      const reference3000 = join(dir, 'bundled.pscat');
      importCatalog(BUNDLED, { out: reference3000 });
      const client = await storePilotInventory(site, reference3000);
      const started = performance.now();
      const a = run(['sync', '--data', site.dir, '--source', folder]);
      const b = run(['sync', '--data', site.dir, '--source', folder]);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const results = [
        { r: ra, pid: a.child.pid! },
        { r: rb, pid: b.child.pid! },
      ];
      const winner = results.find((x) => x.r.code === 0);
      const loser = results.find((x) => x.r.code !== 0);
      expect(winner, `${ra.out}${ra.err}\n${rb.out}${rb.err}`).toBeDefined();
      expect(loser, `${ra.out}${ra.err}\n${rb.out}${rb.err}`).toBeDefined();
      expect(winner!.r.out).toMatch(/^Sync updated: /);
      expect(loser!.r.code).toBe(1);
      expect(loser!.r.out).toMatch(
        new RegExp(
          `^Sync busy: another sync of this site is running \\(pid ${winner!.pid} on [^,]+, started at \\d{4}-\\d\\d-\\d\\dT[^)]+\\)`,
        ),
      );
      expect(loser!.r.at).toBeLessThan(winner!.r.at); // it did not wait for the import
      expect(loser!.r.at - started).toBeLessThan(10_000);
      // Exactly one import: one catalog, in service, its file present; the busy attempt is on record.
      const ids = (await site.store.syncMessages(100)).reverse().map((m) => m.message_id);
      expect(ids.filter((id) => id === MSG_SYNC_STARTED)).toHaveLength(1);
      expect(ids.filter((id) => id === MSG_SYNC_DONE)).toHaveLength(1);
      expect(
        (await site.store.syncMessages(100)).some(
          (m) =>
            m.message_id === MSG_SYNC_FAILED &&
            /^SMS Legacy Update Synchronization not started: SYNC_BUSY: another sync of this site is running \(pid \d+/.test(m.text),
        ),
      ).toBe(true);
      expect(catalogCount(site)).toEqual({ n: 1 });
      const cat = (await site.store.currentCatalog())!;
      expect(existsSync(cat.path)).toBe(true);
      expect(digest(cat.path)).toBe(digest(reference3000));
      expect(leftovers(site)).toEqual([]);
      // The stored inventory was queued for a rescan by the import, and scans against the catalog in service.
      expect((await new ScanService(site).runQueue()).scanned).toBe(1);
      const scan = (await site.store.lastScan(client))!;
      expect(scan.catalog_id).toBe(cat.id);
      const again = run(['sync', '--data', site.dir, '--source', folder]);
      const ra2 = await again.done;
      expect(ra2.code, ra2.err).toBe(0);
      expect(ra2.out).toMatch(/^Sync unchanged: /);
      await site.close();
    },
    60_000,
  );

  it('in one process too: a second sync while one runs is busy, and the first one completes', async () => {
    const site = await newSite(join(dir, 'inproc-site'));
    const folder = drop(join(dir, 'drop-inproc'), good);
    let second: Awaited<ReturnType<typeof runSync>> | undefined;
    const other = await Site.open(site.dir);
    const pending: Promise<void>[] = [];
    const r = await runSync(site, {
      source: folder,
      onLog: (line) => {
        // Called from inside the running sync: start another on the same site, through its own connection.
        if (line.startsWith('Message 6709') && !second)
          pending.push(
            runSync(other, { source: folder }).then((x) => {
              second = x;
            }),
          );
      },
    });
    await Promise.all(pending);
    expect(r.outcome, r.message).toBe('updated');
    expect(second?.outcome).toBe('busy');
    expect(second?.error?.code).toBe('SYNC_BUSY');
    expect(second?.message).toContain(`another sync of this site is running (pid ${process.pid}`);
    expect(existsSync((await site.store.currentCatalog())!.path)).toBe(true);
    // The lock is released: the next sync runs.
    expect((await runSync(other, { source: folder })).outcome).toBe('unchanged');
    await other.close();
    await site.close();
  });

  it(
    'a sync overtaken by another process committing the same cabinet while it ' +
      'compiles never removes or changes the catalog in service',
    async () => {
      const site = await newSite(join(dir, 'committed-site'));
      const folder = drop(join(dir, 'drop-committed'), BUNDLED);
      const sha = sha256File(BUNDLED);
      const compiled = join(dir, 'committed.pscat');
      importCatalog(BUNDLED, { out: compiled });
      const inService = join(site.catalogsDir, `${sha.slice(0, 16)}.pscat`);
      // Another writer that does not take the lock (an older patchscan, say) commits the same cabinet while this
      // sync compiles it: a process started just before this sync looks the cabinet up and begins its import. Before
      // the fix, this sync's insert then failed (UNIQUE) and its clean-up deleted the file now in service.
      const script = `
      import { copyFileSync, mkdirSync } from 'node:fs';
      import { openSqliteStore } from ${JSON.stringify(OPEN_SQLITE_JS)};
      mkdirSync(${JSON.stringify(site.catalogsDir)}, { recursive: true });
      copyFileSync(${JSON.stringify(compiled)}, ${JSON.stringify(inService)});
      const store = openSqliteStore(${JSON.stringify(join(site.dir, 'patchscan.db'))});
      await store.transaction(async (tx) => {
        const id = await tx.addCatalog({ sha256: ${JSON.stringify(sha)}, source: 'elsewhere', path: ${JSON.stringify(inService)}, revisions: 3000, signer: null, signed_at: null });
        await tx.setSetting('current_catalog', String(id));
      });
      await store.close();`;
      let child: ChildProcess | undefined;
      const r = await runSync(site, {
        source: folder,
        onLog: (line) => {
          if (/Authenticode signature/.test(line) && !child) {
            child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
            // Give the writer time to commit before this (synchronous) import reaches its own commit.
            const until = Date.now() + 5_000;
            while (Date.now() < until && !existsSync(inService)) {
              /* wait for the copy */
            }
          }
        },
      });
      await new Promise<void>((resolve) => (child!.exitCode !== null ? resolve() : child!.on('exit', () => resolve())));
      expect(child!.exitCode).toBe(0);
      expect(['updated', 'failed']).toContain(r.outcome);
      const cur = (await site.store.currentCatalog())!;
      expect(cur.sha256).toBe(sha);
      expect(cur.path).toBe(inService);
      expect(existsSync(inService)).toBe(true);
      expect(readFileSync(inService).equals(readFileSync(compiled))).toBe(true);
      expect(catalogCount(site)).toEqual({ n: 1 });
      expect(leftovers(site)).toEqual([]);
      const catalog = new Catalog(readCatalogFile(inService));
      expect(new Scanner(catalog).scan(new FleetModel(catalog).machine(1, 0)).length).toBeGreaterThan(0);
      await site.close();
    },
    30_000,
  );

  it('a sync killed with SIGKILL does not leave the site locked: the next sync takes over, cleans its leftovers and imports', async () => {
    const site = await newSite(join(dir, 'killed-site'));
    const folder = drop(join(dir, 'drop-killed'), BUNDLED);
    const log = join(site.logsDir, 'wsyncmgr.log');
    const victim = run(['sync', '--data', site.dir, '--source', folder]);
    // Kill it inside the import (the signature line comes just before it).
    for (let i = 0; i < 2_000 && !(existsSync(log) && /Authenticode signature/.test(readFileSync(log, 'utf8'))); i++) await sleep(10);
    await sleep(250);
    victim.child.kill('SIGKILL');
    const v = await victim.done;
    expect(v.signal).toBe('SIGKILL');
    expect(await site.store.currentCatalog()).toBeUndefined();
    const held = await site.store.setting('lock:sync'); // it died holding the lock
    expect(held).toBeDefined();
    const lock = JSON.parse(held!) as { process: string; holder: string };
    expect(lock.process).toContain(`/${victim.child.pid}/`); // host/pid/start
    expect(lock.holder).toContain(`pid ${victim.child.pid} on `);
    const next = run(['sync', '--data', site.dir, '--source', folder]);
    const n = await next.done;
    expect(n.code, n.out + n.err).toBe(0);
    expect(n.out).toMatch(/^Sync updated: /);
    expect(n.err).toContain(`took over the sync lock of pid ${victim.child.pid}`);
    expect(await site.store.setting('lock:sync')).toBeUndefined();
    expect(existsSync((await site.store.currentCatalog())!.path)).toBe(true);
    expect(leftovers(site)).toEqual([]);
    await site.close();
  }, 60_000);
});
