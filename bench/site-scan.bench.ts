/**
 * Site scanning throughput: a site with N stored inventories, every one queued, drained by `patchscan worker`
 * processes. Measured side by side in one run on identical, freshly built sites: 1 worker vs 2 workers (and the
 * thread count of each), so the ratio is what scaling out buys on this machine.
 *
 *   node dist/bench/site-scan.bench.js [--clients 2000] [--postgres] [--threads 1]
 *
 * With --postgres each site lives in a database created for the run (on $PATCHSCAN_BENCH_POSTGRES, default
 * postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards; without it, a SQLite file.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { BUNDLED_CORPUS } from '../adapters/cli/paths.js';
import { ensureObjects } from '../adapters/site/objects.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../adapters/site/site.js';
import { now } from '../adapters/store/sql/store.js';
import { runSync } from '../adapters/sync/sync.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { numArg } from './args.js';
import { benchDatabase } from './postgres.js';

const clients = numArg('clients', '2000');
const threads = numArg('threads', '1');
const onPostgres = process.argv.includes('--postgres');
const bin = new URL('../adapters/cli/bin.js', import.meta.url).pathname;

/** A site with `clients` stored inventories, each queued for a scan. */
async function buildSite(name: string): Promise<{ dir: string; drop(): Promise<void> }> {
  const dir = join(process.cwd(), 'bench', '.work', `site-scan-${name}`);
  rmSync(dir, { recursive: true, force: true });
  const db = onPostgres ? await benchDatabase(`patchscan_bench_${process.pid}_${name}`) : undefined;
  const database = db?.url;
  writeConfig(dir, { ...DEFAULT_CONFIG, ...(database ? { database } : {}) });
  const site = await Site.open(dir);
  await ensureObjects(site.store, { testComputer: 'PC-0000000', syncHost: 'SYNC' });
  await site.store.setSetting('initialized_at', now());
  await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
  await runSync(site, { source: BUNDLED_CORPUS });
  const model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
  const packr = new Packr({ useRecords: false });
  await site.store.transaction(async (tx) => {
    for (let k = 0; k < clients; k++) {
      const inv = model.machine(13, k);
      await tx.enroll(inv.computer.name);
      const id = (await tx.client(inv.computer.name))!.id;
      await tx.addInventory(id, packr.pack(inv), 'x64');
      await tx.enqueueScan(id, 'normal', 'bench');
    }
  });
  await site.close();
  return { dir, drop: async () => db?.drop() };
}

async function drain(dir: string, workers: number): Promise<{ seconds: number; scanned: number; profiles: number }> {
  const t = performance.now();
  const outs = await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, [bin, 'worker', '--data', dir, '--once', '--batch', '25', '--threads', String(threads)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker exited ${code}`))));
        }),
    ),
  );
  const seconds = (performance.now() - t) / 1000;
  let scanned = 0,
    shared = 0;
  for (const o of outs) {
    const m = /(\d+) scanned \((\d+) shared/.exec(o);
    scanned += Number(m?.[1] ?? 0);
    shared += Number(m?.[2] ?? 0);
  }
  return { seconds, scanned, profiles: scanned - shared };
}

console.log(
  `machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores; ` +
    `${onPostgres ? 'PostgreSQL' : 'SQLite'}; ${clients} queued inventories; ` +
    `${threads} engine thread(s) per worker`,
);
const results: Record<number, { seconds: number; scanned: number; profiles: number }> = {};
for (const workers of [1, 2]) {
  const site = await buildSite(`w${workers}`);
  try {
    results[workers] = await drain(site.dir, workers);
  } finally {
    await site.drop();
  }
  const r = results[workers];
  console.log(
    `${workers} worker process(es): ${r.scanned} scanned (${r.profiles} distinct ` +
      `profiles scanned by the engine) in ${r.seconds.toFixed(1)} s = ` +
      `${(r.scanned / r.seconds).toFixed(0)} scans/s (process start included)`,
  );
}
console.log(
  `2 workers ÷ 1 worker: ${(results[2]!.scanned / results[2]!.seconds / (results[1]!.scanned / results[1]!.seconds)).toFixed(2)}×`,
);
