/**
 * A new catalog in service on a site (issue 14 item 4, site level): two SQLite sites with the same N clients (every
 * machine distinct), scanned on catalog A; then catalog B (a "Patch Tuesday" edit of A, bench/patch-tuesday.ts) put in
 * service the way a sync does (recorded, made current, the carry-over prepared — timed apart — and every client
 * queued). One site's queue runs with the
 * carry-over (ScanService's default), the other's with `carryOver: false` (the full rescan of before). Times the
 * whole queue run (read inventories, fingerprint, carry over or scan, store the result sets with reasons), checks
 * every client's stored rows equal, and prints both rates and the ratio.
 *
 *   npm run build && node dist/bench/site-carry-over.bench.js [--revisions 10000] [--clients 300] [--percent 1] [--seed 7] [--json]
 *     [--repeat 1] [--full-repeat 1] [--cpu-prof carry.cpuprofile] [--alloc-prof carry.heapprofile] [--scan-index 0] [--fast-job-ms 20,0]
 *     [--threads 0] [--keep]
 *
 * `--scan-index 0`: the catalogs are written without their scan index (engine/catalog/scan-index.ts), as a site's
 * catalogs synced before it existed.
 * `--threads N`: the timed queue runs' ScanService scans in N worker threads (default 0: in the calling thread), as
 * `serve` (its scan thread's pool, 1 by default) and `patchscan worker` (one per core) do: full scans run in the pool
 * while the calling thread stores; a carry-over runs in the calling thread either way.
 * `--fast-job-ms A,B,…`: the carrying site's queue runs take turns with each value as ScanService's `fastJobMs`
 * (0: batches never grow past the chunk, as before they did), and the medians are printed per value: a side-by-side
 * measure of batch growth in one process, on copies of one site (with `--repeat`, a multiple of the count).
 * `--repeat N`: the carry-over's queue run N times, each on a copy of the carrying site as the sync left it; the
 * median counts (on a shared VM one run varies by ±15 %, more than a small change moves it).
 * `--full-repeat N`: the full rescan N times the same way (~20 s each at 300 clients and 50,000 revisions; it moved
 * 16.8–23.3 s from bench to bench on one VM): the ratio is then of the two medians.
 * `--cpu-prof FILE`, `--alloc-prof FILE`: a V8 CPU profile, or a sampling profile of what it allocates, of the carrying
 * site's queue run only (open either in Chrome's DevTools).
 * `--keep`: the two sites are left in bench/.work (the path is said): the carrying site's `carrying` folder as the sync
 * left it (with `--repeat` > 1), for experiments that time its queue run on copies of it.
 * `--json`: the human lines go to stderr and one JSON line with the figures to stdout (bench/issue-14.bench.ts).
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { ensureObjects } from '../adapters/site/objects.js';
import { ScanService } from '../adapters/site/scan-service.js';
import { Site } from '../adapters/site/site.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile, writeCatalogFile } from '../engine/catalog/file.js';
import type { CatalogData } from '../engine/catalog/data.js';
import { buildScanIndex } from '../engine/fleet/scan-index.js';
import { arg, flag, jsonOut, numArg, printJson, say } from './args.js';
import { benchCatalog, flushed, load1, machineLine } from './inputs.js';
import { buildCatalog, catalogRecords, patchTuesday } from './patch-tuesday.js';
import { catalogInService } from './site-catalog.js';

/** As a site's sync writes a catalog: with its scan index (`--scan-index 0`: without, as a build before it wrote one). */
const writeIndexed = (file: string, data: CatalogData): number =>
  writeCatalogFile(file, data, arg('scan-index', '1') === '0' ? {} : { scanIndex: buildScanIndex });

const revisions = numArg('revisions', '10000');
const clients = numArg('clients', '300');
const percent = numArg('percent', '1');
const seed = numArg('seed', '7');
const repeat = Math.max(1, numArg('repeat', '1'));
const fullRepeat = Math.max(1, numArg('full-repeat', '1'));
const threads = Math.max(0, numArg('threads', '0'));
const fastJobMs = arg('fast-job-ms', '')
  .split(',')
  .filter((v) => v !== '')
  .map(Number);
const cpuProf = arg('cpu-prof', '');
const keep = flag('keep');
const allocProf = arg('alloc-prof', '');
const work = arg('work', join(process.cwd(), 'bench', '.work'));
mkdirSync(work, { recursive: true });

const loadStart = load1();
say(`machine: ${machineLine()}`);
say(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (the machine is shared with other helpers' work)`,
);
const imported = benchCatalog(work, revisions);
const fileA = join(work, `site-carry-${revisions}-A.pscat`);
const fileB = join(work, `site-carry-${revisions}-B-${percent}-${seed}.pscat`);
/**
 * Writes catalogs A and B. Their records (a JS object per update and rule node: ~100k objects at 50,000 revisions)
 * live only here: kept for the whole bench, every major GC of the timed queue runs walked them, and a site's process
 * holds nothing like them. (Freeing them did not measurably change the carry-over's time on its own: RESULTS.)
 */
function writeCatalogs(): void {
  const records = catalogRecords(new Catalog(readCatalogFile(imported)));
  writeIndexed(fileA, buildCatalog(records, fileA).data);
  writeIndexed(fileB, buildCatalog(patchTuesday(records, percent, seed).records, fileB).data);
}
writeCatalogs();
const a = new Catalog(readCatalogFile(fileA));

/** Puts `file` in service as a sync does; with `prepare`, times the carry-over a sync makes then (0 without). */
async function putInService(site: Site, file: string, prepare = false): Promise<number> {
  const { previous } = await catalogInService(site, file, 'bench');
  let s = 0;
  if (prepare && previous) {
    const t = performance.now();
    const line = await new ScanService(site).prepareCarryOver(previous.id);
    s = (performance.now() - t) / 1000;
    say(`sync's step (timed apart): ${line}`);
  }
  await new ScanService(site).rescanAll('new catalog');
  return s;
}

async function siteOnA(dir: string): Promise<Site> {
  const site = await Site.open(dir);
  await ensureObjects(site.store, { testComputer: 'PC-0000000', syncHost: 'SYNC' });
  await site.store.setSetting('initialized_at', new Date().toISOString());
  await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
  await putInService(site, fileA);
  const model = new FleetModel(a);
  const packr = new Packr({ useRecords: false });
  await site.store.transaction(async (tx) => {
    for (let k = 0; k < clients; k++) {
      const inv = { ...model.machine(1, k, true), computer: { name: `PC-${k}` } };
      await tx.enroll(inv.computer.name);
      const id = (await tx.client(inv.computer.name))!.id;
      await tx.addInventory(id, packr.pack(inv), 'x64');
      await tx.enqueueScan(id, 'normal', 'bench');
    }
  });
  await new ScanService(site).runQueue();
  // Its scans on catalog A on disk before B comes (flushed): otherwise the timed run's first checkpoint waits for the
  // file system to write ~1 GB of this setup (1,000 clients: a carry-over of 4.7 s instead of ~3), a cost a site whose
  // database was written days before a sync never pays. Both sites alike.
  flushed(dir);
  return site;
}

const root = join(work, `site-carry-${process.pid}`);
let t0 = performance.now();
const full = await siteOnA(join(root, 'full'));
// Progress on stderr (the setup takes minutes at 50,000 revisions); stdout keeps the figures only.
process.stderr.write(`site 1 of 2: ${clients} clients scanned on catalog A (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
t0 = performance.now();
const carrying = await siteOnA(join(root, 'carrying'));
process.stderr.write(`site 2 of 2: ${clients} clients scanned on catalog A (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
interface QueueTimes {
  readonly s: number;
  readonly cpu: number;
  readonly carried: number;
  readonly scanned: number;
  readonly pruneSeconds: number;
  readonly pruned: number;
}
const timeRun = async (site: Site, carryOver: boolean, fast?: number, prune = true): Promise<QueueTimes> => {
  // Pruning the sets of catalog A that nothing reads any more (which a site does when its queue runs dry) timed apart:
  // after a full rescan that is every one of them, after the carry-over only those not kept as bases.
  const scanner = new ScanService(site, { carryOver, prune: false, threads, ...(fast === undefined ? {} : { fastJobMs: fast }) });
  const profiler = carryOver && (cpuProf || allocProf) ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    if (cpuProf) {
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    if (allocProf)
      await profiler.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
  }
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await scanner.runQueue();
  const s = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6;
  if (profiler) {
    if (cpuProf) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(cpuProf, JSON.stringify(profile));
      say(`CPU profile of the carry-over's queue run: ${cpuProf}`);
    }
    if (allocProf) {
      const { profile } = await profiler.post('HeapProfiler.stopSampling');
      writeFileSync(allocProf, JSON.stringify(profile));
      say(`allocation profile of the carry-over's queue run: ${allocProf}`);
    }
    profiler.disconnect();
  }
  const t2 = performance.now();
  const pruned = prune ? await scanner.pruneResultSets() : 0;
  const pruneSeconds = (performance.now() - t2) / 1000;
  await scanner.close();
  return { s, cpu, carried: r.carried, scanned: r.scanned, pruneSeconds, pruned };
};
// Catalog B in service on both sites, with the sync's carry-over step (timed) for the site that carries over (the
// full-rescan site never reads it).
await putInService(full, fileB, false);
// Closed while the carry-over runs (its catalogs and caches are not the carrying site's); reopened to compare rows.
const fullDir = join(root, 'full');
let f: QueueTimes;
if (fullRepeat === 1) {
  f = await timeRun(full, false);
  await full.close();
} else {
  // Each run on a copy of the site as the sync left it, into the same folder; the last one stays to compare rows.
  // Only the last one prunes (~20 s at 300 clients, timed apart either way).
  await full.close();
  const asSynced = join(root, 'full-as-synced');
  cpSync(fullDir, asSynced, { recursive: true });
  const runs: QueueTimes[] = [];
  for (let k = 0; k < fullRepeat; k++) {
    rmSync(fullDir, { recursive: true, force: true });
    cpSync(asSynced, fullDir, { recursive: true });
    flushed(fullDir);
    const site = await Site.open(fullDir);
    runs.push(await timeRun(site, false, undefined, k === fullRepeat - 1));
    await site.close();
    say(`full rescan run ${k + 1} of ${fullRepeat}: ${runs[k]!.s.toFixed(2)} s, CPU ${runs[k]!.cpu.toFixed(2)} s`);
  }
  rmSync(asSynced, { recursive: true, force: true });
  const median = [...runs].sort((x, y) => x.s - y.s)[fullRepeat >> 1]!;
  const last = runs[fullRepeat - 1]!;
  f = { ...median, pruneSeconds: last.pruneSeconds, pruned: last.pruned };
}
const prepared = await putInService(carrying, fileB, true);
let carryingSite = carrying;
let c: QueueTimes;
if (repeat === 1) c = await timeRun(carrying, true, fastJobMs[0]);
else {
  const dir = join(root, 'carrying');
  await carrying.close();
  const runs: QueueTimes[] = [];
  for (let k = 0; k < repeat; k++) {
    const copy = join(root, `carrying-${k}`);
    cpSync(dir, copy, { recursive: true });
    flushed(copy);
    const site = await Site.open(copy);
    const fast = fastJobMs.length > 0 ? fastJobMs[k % fastJobMs.length] : undefined;
    runs.push(await timeRun(site, true, fast));
    say(
      `carry-over run ${k + 1} of ${repeat}: ${runs[k]!.s.toFixed(2)} s, CPU ${runs[k]!.cpu.toFixed(2)} s, ` +
        `JS heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MiB after it` +
        (fast === undefined ? '' : ` (fastJobMs ${fast})`),
    );
    if (k < repeat - 1) {
      await site.close();
      rmSync(copy, { recursive: true, force: true });
    } else carryingSite = site;
  }
  c = [...runs].sort((x, y) => x.s - y.s)[repeat >> 1]!;
  if (fastJobMs.length > 1) {
    for (const [v, fast] of fastJobMs.entries()) {
      const mine = runs.filter((_, k) => k % fastJobMs.length === v).sort((x, y) => x.s - y.s);
      if (mine.length === 0) continue;
      const m = mine[mine.length >> 1]!;
      say(
        `fastJobMs ${fast}: ${mine.length} runs, median ${m.s.toFixed(2)} s (CPU ${m.cpu.toFixed(2)} s), all ` +
          mine.map((r) => r.s.toFixed(2)).join(', '),
      );
    }
  }
}
let differ = 0;
const fullSite = await Site.open(fullDir);
for (let k = 0; k < clients; k++) {
  const rows = async (site: Site): Promise<string> =>
    JSON.stringify(await site.store.resultUpdates((await site.store.computerScan(`PC-${k}`))!.set_id));
  if ((await rows(fullSite)) !== (await rows(carryingSite))) differ++;
}
say(
  `catalog ${a.size} revisions, edit of ${percent} % (seed ${seed}); ${clients} clients, SQLite; ` +
    (threads === 0 ? 'scanned in the calling thread' : `${threads} scan thread(s)`),
);
say(`full rescan:  ${f.s.toFixed(2)} s (${(f.scanned / f.s).toFixed(0)} clients/s), CPU ${f.cpu.toFixed(2)} s`);
say(
  `carry-over:   ${c.s.toFixed(2)} s (${(c.scanned / c.s).toFixed(0)} clients/s), CPU ${c.cpu.toFixed(2)} s, ${c.carried} result sets carried over ` +
    `(the catalog in service loaded, the stored diff read)`,
);
say(`sync's step: ${prepared.toFixed(2)} s (old catalog loaded, the two diffed, stored; once per new catalog)`);
say(
  `pruning catalog A's sets no scan reads (when the queue runs dry; not in the ratios): after the full rescan ` +
    `${f.pruned} sets in ${f.pruneSeconds.toFixed(2)} s, after the carry-over ${c.pruned} in ${c.pruneSeconds.toFixed(2)} s`,
);
say(
  `ratio ${(f.s / c.s).toFixed(1)} × (the queue runs; CPU ${(f.cpu / c.cpu).toFixed(1)} ×), ${(f.s / (c.s + prepared)).toFixed(1)} × with the sync's step counted; ` +
    `clients whose stored rows differ: ${differ}`,
);
await fullSite.close();
await carryingSite.close();
if (keep) say(`sites kept in ${root}`);
else rmSync(root, { recursive: true, force: true });
if (jsonOut)
  printJson({
    bench: 'site-carry-over',
    machine: machineLine(),
    revisions: a.size,
    percent,
    seed,
    clients,
    threads,
    fullSeconds: f.s,
    fullScanned: f.scanned,
    carrySeconds: c.s,
    fullCpuSeconds: f.cpu,
    carryCpuSeconds: c.cpu,
    prepareSeconds: prepared,
    repeat,
    fullRepeat,
    fullPruneSeconds: f.pruneSeconds,
    fullPruned: f.pruned,
    carryPruneSeconds: c.pruneSeconds,
    carryPruned: c.pruned,
    carried: c.carried,
    carryScanned: c.scanned,
    ratio: f.s / c.s,
    differ,
    loadStart,
    loadEnd: load1(),
  });
if (differ > 0) process.exitCode = 1;
