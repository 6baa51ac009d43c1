/**
 * Web console and report latency on a large site (issue #6: "fast on 100k clients"). Builds a site once in
 * bench/.work/console-<N>: the bundled catalog, 2,000 machines scanned for real, then N clients in all sharing those
 * machines' result sets (as a fleet shares profiles). Then times each page and report over HTTP on loopback.
 *
 * Each page's server CPU time is measured too (the server runs in this process: process.cpuUsage around the request),
 * which a machine shared with other work disturbs far less than wall-clock time.
 *
 * While each page's requests run, a probe asks GET /healthz every 20 ms and a 10 ms heartbeat watches this
 * process's event loop: their worst figures say how long the HTTP loop was held (issue #12 item 4). `--read-threads`
 * is how the site is opened: 2 (serve's, reads on worker threads) or 0 (reads on the HTTP loop, as before #12 item 4);
 * run both, interleaved, to compare.
 *
 *   node dist/bench/console.bench.js [--clients 100000] [--runs 20] [--only "group"] [--read-threads 2] [--carried]
 *   (--only: pages whose name has it; --carried: a site of its own where two catalog edits, bench/patch-tuesday.ts, were
 *   put in service after the first scans, so that most result sets are stored on a base and pages read through it)
 */
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { serve } from '../adapters/server/server.js';
import { ensureObjects } from '../adapters/site/objects.js';
import { CatalogVersions } from '../adapters/site/reports.js';
import { ScanService } from '../adapters/site/scan-service.js';
import { createUpdateGroup } from '../adapters/site/update-groups.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../adapters/site/site.js';
import Database from 'better-sqlite3';
import { computerKey } from '../adapters/store/computer-name.js';
import { now, sha256Hex } from '../adapters/store/sql/store.js';
import { runSync } from '../adapters/sync/sync.js';
import { BUNDLED_CORPUS } from '../adapters/cli/paths.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile, writeCatalogFile } from '../engine/catalog/file.js';
import type { CatalogData } from '../engine/catalog/data.js';
import { buildScanIndex } from '../engine/fleet/scan-index.js';
import { catalogInService } from './site-catalog.js';
import { buildCatalog, catalogRecords, patchTuesday } from './patch-tuesday.js';
import { arg, numArg } from './args.js';

/** As a site's sync writes a catalog: with its scan index. */
const writeIndexed = (file: string, data: CatalogData): number => writeCatalogFile(file, data, { scanIndex: buildScanIndex });

const clients = numArg('clients', '100000');
const runs = numArg('runs', '20');
const only = arg('only', '');
const readThreads = numArg('read-threads', '2');
const carried = process.argv.includes('--carried');
const ADMIN = 'psa_bench';
const dir = join(process.cwd(), 'bench', '.work', `console-${clients}${carried ? '-carried' : ''}`);
const REAL = 2000;

if (!existsSync(join(dir, 'ready'))) {
  rmSync(dir, { recursive: true, force: true });
  writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 1_000_000 } });
  const site = await Site.open(dir);
  const store = site.store;
  await ensureObjects(store, { testComputer: 'PC-0000000', syncHost: 'SYNC' });
  await store.setSetting('admin_token_hash', sha256Hex(ADMIN));
  await store.setSetting('initialized_at', now());
  await runSync(site, { source: BUNDLED_CORPUS });
  const model = new FleetModel(new Catalog(readCatalogFile((await store.currentCatalog())!.path)));
  const packr = new Packr({ useRecords: false });
  const t = performance.now();
  await store.transaction(async (tx) => {
    for (let k = 0; k < REAL; k++) {
      const inv = model.machine(1, k);
      await tx.enroll(inv.computer.name);
      const id = (await tx.client(inv.computer.name))!.id;
      await tx.addInventory(
        id,
        packr.pack(inv),
        ({ 0: 'x86', 9: 'x64', 6: 'ia64', 12: 'arm64' } as Record<number, string>)[inv.processor?.architecture ?? -1] ?? 'other',
      );
      await tx.enqueueScan(id, 'normal', 'bench');
    }
  });
  await store.setCollectionLimit((await store.objectId('collection', 'main'))!, null);
  const r = await new ScanService(site).runQueue();
  console.log(
    `scanned ${r.scanned} machines for real (${r.scanned - r.shared} distinct ` +
      `profiles) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  if (carried) {
    // Two catalog edits in service one after the other (as test/site/catalog-carry-over.test.ts's first two), each
    // carried over: the sets of the last one are mostly stored on a base.
    let records = catalogRecords(new Catalog(readCatalogFile((await store.currentCatalog())!.path)));
    for (const [k, [percent, seed]] of [
      [1, 1],
      [3, 2],
    ].entries()) {
      records = patchTuesday(records, percent!, seed!).records;
      const file = join(dir, `edit-${k}.pscat`);
      writeIndexed(file, buildCatalog(records, file).data);
      await catalogInService(site, file, 'bench');
      const scanner = new ScanService(site);
      await scanner.rescanAll('new catalog');
      const c = await scanner.runQueue();
      console.log(`catalog edit ${k + 1} (${percent} %): ${c.carried} of ${c.scanned - c.shared} distinct profiles carried over`);
    }
    const onBase = (await store.clientSetGroups()).filter((g) => g.set_id !== null);
    let sets = 0;
    for (const id of new Set(onBase.map((g) => g.set_id!))) if ((await store.resultSetLayers(id)).base) sets++;
    console.log(`${sets} of ${new Set(onBase.map((g) => g.set_id)).size} scanned result sets stored on a base`);
  }
  await site.close();
  // The rest of the fleet: clients that share those machines' profiles (their scans name the same result sets),
  // written straight into the SQLite file (this benchmark measures reading, not loading).
  const t2 = performance.now();
  const db = new Database(join(dir, DEFAULT_CONFIG.database));
  db.transaction(() => {
    const at = now();
    const insertClient = db.prepare(
      'INSERT INTO clients (name, name_key, token_hash, architecture, enrolled_at, ' +
        'last_upload_at, last_scan_at) VALUES (?, ?, NULL, ?, ?, ?, ?)',
    );
    const insertScan = db.prepare(
      'INSERT INTO scans (client_id, inventory_id, catalog_id, set_id, scanned_at, ' +
        'program) SELECT ?, inventory_id, catalog_id, set_id, scanned_at, program FROM ' +
        'scans WHERE client_id = ?',
    );
    const real = db.prepare('SELECT id, architecture FROM clients ORDER BY id').all() as { id: number; architecture: string }[];
    for (let k = REAL; k < clients; k++) {
      const like = real[k % real.length]!;
      const name = `PC-${String(k).padStart(7, '0')}`;
      const id = Number(
        insertClient.run(name, computerKey(name), like.architecture, at, k % 50 === 0 ? '2026-01-01T00:00:00Z' : at, at).lastInsertRowid,
      );
      insertScan.run(id, like.id);
    }
  })();
  db.close();
  const again = await Site.open(dir);
  await new ScanService(again).noteDaily(0);
  await again.close();
  console.log(`added ${clients - REAL} clients sharing those profiles in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  (await import('node:fs')).writeFileSync(join(dir, 'ready'), '');
}

const site = await Site.open(dir, { readThreads });
const s = await serve(site, { scanQueue: false, scheduledSync: false });

/** /healthz latencies and the event loop's longest stall (ms) while `fn` runs. */
async function probed<T>(fn: () => Promise<T>): Promise<{ value: T; health: number[]; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const beat = setInterval(() => {
    const t = performance.now();
    stallMs = Math.max(stallMs, t - last - 10);
    last = t;
  }, 10);
  const health: number[] = [];
  let done = false;
  const probe = (async () => {
    while (!done) {
      const t = performance.now();
      await (await fetch(`${s.url}/healthz`)).arrayBuffer();
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const value = await fn();
  done = true;
  await probe;
  clearInterval(beat);
  return { value, health, stallMs };
}
const login = await fetch(`${s.url}/login`, { method: 'POST', body: new URLSearchParams({ token: ADMIN }), redirect: 'manual' });
const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
const kb =
  (await site.store.resultUpdates((await site.store.computerScan('PC-0000001'))!.set_id)).find((u) => u.state === 'Required')?.update_id ??
  '';
// An update group to report on (Configuration Manager's "Compliance 1" of a group): every security update.
if (!(await site.store.updateGroup('Security updates'))) {
  const catalogs = new CatalogVersions(site.store, site.catalogsDir);
  await createUpdateGroup(site.store, catalogs, 'Security updates', { classifications: ['Security Updates'] }, '2026-01-01T00:00:00.000Z');
}
const col = (await site.store.collections()).find((c) => c.role === 'x64')!.name;
const pages: [string, string, Record<string, string>][] = [
  ['overview (KPIs, charts, collections, products)', '/', { cookie }],
  ['updates list (every update, fleet counts)', '/updates', { cookie }],
  ['updates list, search "kb50" anywhere', '/updates?q=kb50', { cookie }],
  ['computer search, first page', '/computers?q=PC-00512', { cookie }],
  ['computers sorted by Required, first page', '/computers?sort=required&dir=desc', { cookie }],
  ['computers as CSV (every client)', '/computers?format=csv&list=computer-list', { cookie }],
  ["a computer's compliance page", '/computers/PC-0051234', { cookie }],
  ["an update's page (who needs it)", `/updates/${kb}`, { cookie }],
  [`collection drill-down (${col})`, `/collections/${encodeURIComponent(col)}`, { cookie }],
  ['classification drill-down (Security Updates)', '/classifications/Security%20Updates', { cookie }],
  ['update groups list', '/groups', { cookie }],
  ["an update group's page", '/groups/Security%20updates', { cookie }],
  ['stale clients', '/stale?days=30', { cookie }],
  ['GET /v1/reports/classifications', '/v1/reports/classifications', { authorization: `Bearer ${ADMIN}` }],
  ['GET /v1/reports/collections', '/v1/reports/collections', { authorization: `Bearer ${ADMIN}` }],
];
console.log(
  `\n${clients.toLocaleString('en-US')} clients; ${runs} requests per page (after one warm-up); read threads ${readThreads}; ` +
    `load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}:`,
);
for (const [name, path, headers] of pages) {
  if (only && !name.includes(only)) continue;
  await fetch(`${s.url}${path}`, { headers });
  const ms: number[] = [];
  const cpu: number[] = [];
  let status = 0,
    bytes = 0;
  const { health, stallMs } = await probed(async () => {
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const c0 = process.cpuUsage();
      const r = await fetch(`${s.url}${path}`, { headers });
      bytes = (await r.arrayBuffer()).byteLength;
      const c = process.cpuUsage(c0);
      ms.push(performance.now() - t);
      cpu.push((c.user + c.system) / 1000);
      status = r.status;
    }
  });
  ms.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  health.sort((a, b) => a - b);
  console.log(
    `  ${name.padEnd(48)} ${status}  p50 ${ms[Math.floor(runs / 2)]!.toFixed(1)} ` +
      `ms  p99 ${ms[Math.min(runs - 1, Math.floor(runs * 0.99))]!.toFixed(1)} ms  CPU ` +
      `p50 ${cpu[Math.floor(runs / 2)]!.toFixed(0)} ms  ${(bytes / 1024).toFixed(0)} KiB  /healthz p99 ` +
      `${(health[Math.min(health.length - 1, Math.floor(health.length * 0.99))] ?? 0).toFixed(1)} ms max ` +
      `${(health[health.length - 1] ?? 0).toFixed(1)} ms (${health.length} probes)  loop stall max ${stallMs.toFixed(0)} ms`,
  );
}
await s.close();
await site.close();
