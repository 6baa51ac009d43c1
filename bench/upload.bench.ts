/**
 * Upload load test: `patchscan serve` (child processes) on loopback, hammered by autocannon (in this process) for a
 * fixed duration with real inventories from many enrolled clients (each request carries its own client's token and
 * inventory). Prints sustained uploads/s, latency p50/p99, errors and non-2xx answers, and the servers' RSS over
 * time; checks afterwards that every accepted upload is stored.
 *
 *   node dist/bench/upload.bench.js [--seconds 20] [--connections 32] [--clients 2000]
 *        [--postgres]        the site on PostgreSQL (a database created for the run on $PATCHSCAN_BENCH_POSTGRES,
 *                            default postgres://postgres@127.0.0.1:5432/postgres, dropped afterwards)
 *        [--servers N]       N serve processes on one site, requests spread over them (N > 1 needs --postgres)
 *        [--no-scan]         servers take uploads only (`serve --no-scan`: scans belong to `patchscan worker`)
 *        [--workers N]       N `patchscan worker` processes beside the servers (with --no-scan)
 *        [--rescan]          every client has a stored inventory, and a full rescan of the site (what a new catalog
 *                            queues) is queued as the load starts: upload latency while the site rescans
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BUNDLED_CORPUS } from '../adapters/cli/paths.js';
import { Packr } from 'msgpackr';
import { ensureObjects, variantOf } from '../adapters/site/objects.js';
import { ScanService } from '../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../adapters/site/site.js';
import { now } from '../adapters/store/sql/store.js';
import { runSync } from '../adapters/sync/sync.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { numArg } from './args.js';
import { benchDatabase } from './postgres.js';

const seconds = numArg('seconds', '20');
const connections = numArg('connections', '32');
const clients = numArg('clients', '2000');
const servers = numArg('servers', '1');
const onPostgres = process.argv.includes('--postgres');
const scanning = !process.argv.includes('--no-scan');
const workers = numArg('workers', '0');
const rescan = process.argv.includes('--rescan');
if (servers > 1 && !onPostgres) throw new Error('--servers > 1 needs --postgres (a SQLite site is one process)');

const packr = new Packr({ useRecords: false }); // stored inventories are msgpack, as the upload route stores them
const db = onPostgres ? await benchDatabase(`patchscan_bench_${process.pid}`) : undefined;
const database = db?.url;

const dir = join(process.cwd(), 'bench', '.work', 'upload-site');
rmSync(dir, { recursive: true, force: true });
writeConfig(dir, {
  ...DEFAULT_CONFIG,
  ...(database ? { database } : {}),
  listen: '127.0.0.1:0',
  limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 1_000_000 },
});
const site = await Site.open(dir);
await ensureObjects(site.store, { testComputer: 'PC-0000000', syncHost: 'SYNC' });
await site.store.setSetting('initialized_at', now());
await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
await runSync(site, { source: BUNDLED_CORPUS });
const model = new FleetModel(new Catalog(readCatalogFile((await site.store.currentCatalog())!.path)));
const bodies: Buffer[] = [];
const tokens: string[] = [];
for (let k = 0; k < clients; k++) {
  const inv = model.machine(7, k);
  tokens.push(await site.store.enroll(inv.computer.name));
  bodies.push(Buffer.from(JSON.stringify(inv)));
  if (rescan) {
    const c = (await site.store.client(inv.computer.name))!;
    await site.store.addInventory(c.id, Buffer.from(packr.pack(inv)), variantOf(inv.processor?.architecture) ?? 'other');
  }
}
await site.close();

const bin = new URL('../adapters/cli/bin.js', import.meta.url).pathname;
const children: ChildProcess[] = [];
const urls: string[] = [];
for (let s = 0; s < servers; s++) {
  const child = spawn(process.execPath, [bin, 'serve', '--data', dir, '--listen', '127.0.0.1:0', ...(scanning ? [] : ['--no-scan'])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  urls.push(
    await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
    }),
  );
}
const workerChildren: ChildProcess[] = [];
for (let w = 0; w < workers; w++) {
  const child = spawn(process.execPath, [bin, 'worker', '--data', dir, '--threads', '1', '--idle-ms', '100'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  workerChildren.push(child);
}
let rescanQueued = 0;
if (rescan) {
  const s2 = await Site.open(dir);
  rescanQueued = await new ScanService(s2).rescanAll('bench: full rescan');
  await s2.close();
}
const rss: number[] = [];
const metric = async (url: string, name: string): Promise<number> =>
  Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? NaN);
const sampler = setInterval(
  () => void Promise.all(urls.map((u) => metric(u, 'process_resident_memory_bytes'))).then((v) => rss.push(Math.max(...v))),
  1000,
);

// One autocannon per server, connections split between them, run together.
let k = 0;
const runs = await Promise.all(
  urls.map((url) =>
    autocannon({
      url,
      connections: Math.max(1, Math.round(connections / servers)),
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/v1/inventory',
          setupRequest: (req: Record<string, unknown>) => {
            const i = k++ % clients;
            return { ...req, headers: { authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' }, body: bodies[i] };
          },
        },
      ],
    }),
  ),
);
clearInterval(sampler);
const queueAfterLoad = (await (await fetch(`${urls[0]}/healthz`)).json()) as {
  queue: { expedited: number; normal: number };
  running?: number;
};
// Let the scan queue catch up (when the servers scan), then stop them and count what was stored.
for (let i = 0; (scanning || workers > 0) && i < 600; i++) {
  const h = (await (await fetch(`${urls[0]}/healthz`)).json()) as { queue: { expedited: number; normal: number }; running?: number };
  if (h.queue.expedited + h.queue.normal + (h.running ?? 0) === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
for (const c of [...children, ...workerChildren]) c.kill('SIGTERM');
await Promise.all([...children, ...workerChildren].map((c) => new Promise((r) => c.on('exit', r))));
const after = await Site.open(dir);
let stored = 0,
  scanned = 0;
for (const c of await after.store.clients()) {
  stored += await after.store.inventoryCount(c.id);
  if (c.last_scan_at !== null) scanned++;
}
await after.close();
await db?.drop();

const sum = (f: (r: (typeof runs)[number]) => number): number => runs.reduce((a, r) => a + f(r), 0);
const accepted = sum((r) => r['2xx'] as number);
const lat = (p: 'p50' | 'p99'): number => Math.max(...runs.map((r) => r.latency[p]));
const MiB = 1048576;
const os = await import('node:os');
console.log(
  `machine: ${os.cpus()[0]?.model ?? '?'}, ${os.availableParallelism()} cores; ` +
    `${onPostgres ? 'PostgreSQL' : 'SQLite'}; ${servers} server(s)` +
    `${scanning ? ', scanning in-process' : ', --no-scan'}` +
    `${workers ? `, ${workers} worker(s)` : ''}` +
    `${rescan ? ', full rescan running' : ''}; ${connections} connections, ${seconds}` +
    ` s, ${clients} clients, bodies ~${(bodies[0]!.length / 1024).toFixed(1)} KiB JSON`,
);
console.log(
  `uploads: ${sum((r) => r.requests.total)} sent, ${accepted} accepted (202), ` +
    `non-2xx ${sum((r) => r.non2xx)}, errors ${sum((r) => r.errors)}, timeouts ` +
    `${sum((r) => r.timeouts)}`,
);
console.log(`throughput: ${sum((r) => r.requests.average).toFixed(0)} uploads/s average`);
console.log(`latency (worst server): p50 ${lat('p50')} ms, p99 ${lat('p99')} ms, max ${Math.max(...runs.map((r) => r.latency.max))} ms`);
console.log(`server RSS (1 s samples, largest server): ${rss.map((x) => (x / MiB).toFixed(0)).join(' ')} MiB`);
console.log(`stored inventories: ${stored} (accepted: ${accepted}); clients scanned: ${scanned}`);
if (rescan)
  console.log(
    `full rescan: ${rescanQueued} clients queued as the load started; still queued ` +
      `when it ended: ${queueAfterLoad.queue.normal + queueAfterLoad.queue.expedited} ` +
      `(+${queueAfterLoad.running ?? 0} running)`,
  );
