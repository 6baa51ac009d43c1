/**
 * A small real site for "one count everywhere" tests (test/site/one-count.test.ts; the console's test adds its pages):
 * the bundled catalog synced, fleet machines uploaded over HTTP to a real `serve` on loopback, every collection
 * unlimited and scanned. `expected*` recompute each figure independently — the engine's own scan of each inventory,
 * counted with the counting rule — so surfaces are compared with each other and with something that does not go
 * through the store or the reports.
 */
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { upload } from '../../adapters/server/upload-client.js';
import { ScanService } from '../../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { Inventory } from '../../engine/inventory/types.js';
import {
  combineBuckets,
  countedAs,
  emptyCounts,
  isCompliant,
  type CountBucket,
  type OutcomeCounts,
} from '../../engine/scanner/counting.js';
import { Scanner, type ScanRow } from '../../engine/scanner/scanner.js';
import { supersedenceCode } from '../../engine/scanner/supersedence.js';
import { runCli, type CliRun } from './serve.js';
import { setUpSite } from './site-setup.js';
import { tempDir } from './tmp.js';

export { BUNDLED } from './site-setup.js';
export const ADMIN_TOKEN = 'psa_one-count-admin';

export interface OneCountSite {
  readonly dir: string;
  readonly site: Site;
  readonly server: RunningServer;
  readonly url: string;
  readonly catalog: Catalog;
  /** Every uploaded machine's inventory, by computer name. */
  readonly inventories: ReadonlyMap<string, Inventory>;
  /** The engine's rows of each machine (all reportable, non-NotApplicable updates). */
  readonly rows: ReadonlyMap<string, readonly ScanRow[]>;
  close(): Promise<void>;
}

/** Builds the site: `clients` fleet machines (seed 11), uploaded over HTTP, all scanned. */
export async function oneCountSite(clients = 24): Promise<OneCountSite> {
  const dir = tempDir();
  writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 1000 } });
  const site = await Site.open(dir);
  // Not mainUnlimited: the seed unlimits the main collection only after the uploads (its last step, below).
  await setUpSite(site, { testComputer: 'PC-0000000', syncHost: 'SYNC-HOST', admin: ADMIN_TOKEN, sync: true });
  const catalog = new Catalog(readCatalogFile((await site.store.currentCatalog())!.path));
  const model = new FleetModel(catalog);
  const server = await serve(site, { scheduledSync: false });
  const inventories = new Map<string, Inventory>();
  for (let i = 0; i < clients; i++) {
    const inv = model.machine(11, i);
    const token = await site.store.enroll(inv.computer.name);
    const r = await upload(server.url, token, Buffer.from(JSON.stringify(inv)), { expedited: false, gzip: true });
    if (r.status !== 202) throw new Error(`upload of ${inv.computer.name}: ${r.status} ${JSON.stringify(r.body)}`);
    inventories.set(inv.computer.name, inv);
  }
  // The seed's last step: the main collection unlimited, every stored inventory scanned.
  const main = (await site.store.collectionByName('Microsoft Updates Tool'))!;
  await site.store.setCollectionLimit(main.id, null);
  await new ScanService(site).rescanAll('one-count test');
  await server.idle();
  const scanner = new Scanner(catalog);
  const rows = new Map([...inventories].map(([name, inv]) => [name, scanner.scan(inv)]));
  return {
    dir,
    site,
    server,
    url: server.url,
    catalog,
    inventories,
    rows,
    async close() {
      await server.close();
      await site.close();
    },
  };
}

const bucket = (r: ScanRow): CountBucket => countedAs(r.state, supersedenceCode(r));

/** One machine's counts, from the engine's rows and the counting rule. */
export function expectedMachine(s: OneCountSite, name: string): OutcomeCounts {
  const c = emptyCounts();
  for (const r of s.rows.get(name)!) c[bucket(r)]++;
  return c;
}

/** Machines by their combined outcome of a set of updates (all of one KB, or all fixing one CVE). */
export function expectedMachines(s: OneCountSite, updateIds: ReadonlySet<string>): OutcomeCounts {
  const c = emptyCounts();
  for (const rows of s.rows.values()) {
    const b = combineBuckets(rows.filter((r) => updateIds.has(r.updateId)).map(bucket));
    if (b) c[b]++;
  }
  return c;
}

/** The fleet: client × update counts and compliant machines. */
export function expectedFleet(s: OneCountSite): OutcomeCounts & { compliant: number; scanned: number } {
  const total = emptyCounts();
  let compliant = 0;
  for (const name of s.rows.keys()) {
    const c = expectedMachine(s, name);
    for (const k of Object.keys(total) as CountBucket[]) total[k] += c[k];
    if (isCompliant(c)) compliant++;
  }
  return { ...total, compliant, scanned: s.rows.size };
}

/** The same counts in the shape the reports print them (StateCounts). */
export const asStateCounts = (c: OutcomeCounts): Record<string, number> => ({
  Installed: c.installed,
  Required: c.required,
  Unknown: c.unknown,
  superseded: c.superseded,
  possiblySuperseded: c.possiblySuperseded,
});

/** The CLI as a process on the site, `--json`; its parsed output. */
export function cliJson<T = any>(s: OneCountSite, args: readonly string[]): T {
  const r = runCli([...args, '--data', s.dir, '--json']);
  if (r.code !== 0) throw new Error(`patchscan ${args.join(' ')}: exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as T;
}

/** The CLI as a process, its text output (`onSite: false` for commands that take no site, like scan). */
export function cliText(s: OneCountSite, args: readonly string[], onSite = true): CliRun {
  return runCli([...args, ...(onSite ? ['--data', s.dir] : [])]);
}

/** GET over HTTP with the admin token; JSON parsed. */
export async function httpJson<T = any>(s: OneCountSite, path: string): Promise<{ status: number; body: T }> {
  // A fresh connection per request: cliJson/cliText block this event loop (spawnSync), and a kept-alive socket the
  // server closed meanwhile would be reused before the client's idle timer could drop it (ECONNRESET).
  const r = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, connection: 'close' } });
  const text = await r.text();
  return { status: r.status, body: (r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text) as T };
}

/** A KB of the catalog carried by several updates (per architecture) that some machine has an outcome for. */
export function multiUpdateKb(s: OneCountSite): { kb: string; updateIds: Set<string> } {
  const byKb = new Map<string, Set<string>>();
  for (let i = 0; i < s.catalog.size; i++) {
    if (!s.catalog.isReportable(i) || !s.catalog.kb(i)) continue;
    const set = byKb.get(s.catalog.kb(i)) ?? new Set<string>();
    set.add(s.catalog.updateId(i));
    byKb.set(s.catalog.kb(i), set);
  }
  let best: { kb: string; updateIds: Set<string>; machines: number } | undefined;
  for (const [kb, ids] of byKb) {
    if (ids.size < 2) continue;
    const machines = [...s.rows.values()].filter((rows) => rows.some((r) => ids.has(r.updateId))).length;
    if (machines > 0 && (!best || machines > best.machines)) best = { kb, updateIds: ids, machines };
  }
  if (!best) throw new Error('the bundled catalog has no KB with several updates that a machine of this fleet has an outcome for');
  return best;
}
