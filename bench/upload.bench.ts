/**
 * Upload load test (issue #7): `patchscan serve` (a child process) on loopback with its scan queue running, hammered
 * by autocannon (in this process) for
 * a fixed duration with real inventories from many enrolled clients (each request carries its own client's token
 * and inventory). Prints sustained uploads/s, latency p50/p99, errors and non-2xx answers, and the server's RSS over
 * time; checks afterwards that every accepted upload is in the database.
 *
 *   node dist/bench/upload.bench.js [--seconds 20] [--connections 32] [--clients 2000]
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { ensureObjects } from '../adapters/site/objects.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../adapters/site/site.js';
import Database from 'better-sqlite3';
import { now } from '../adapters/store/sql/store.js';
import { runSync } from '../adapters/sync/sync.js';
import { BUNDLED_CORPUS } from '../adapters/cli/paths.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { numArg } from './args.js';

const seconds = numArg('seconds', '20');
const connections = numArg('connections', '32');
const clients = numArg('clients', '2000');
const dir = join(process.cwd(), 'bench', '.work', 'upload-site');
rmSync(dir, { recursive: true, force: true });
writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 1_000_000 } });
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
}
await site.close();
const child = spawn(process.execPath, [new URL('../adapters/cli/bin.js', import.meta.url).pathname, 'serve', '--data', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => {
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) resolve(m[1]!);
  });
});
const server = { url };
const rss: number[] = [];
const metric = async (name: string): Promise<number> => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? NaN);
const sampler = setInterval(() => void metric('process_resident_memory_bytes').then((v) => rss.push(v)), 1000);
let k = 0;
const result = await autocannon({
  url: server.url,
  connections,
  duration: seconds,
  requests: [{
    method: 'POST',
    path: '/v1/inventory',
    setupRequest: (req: Record<string, unknown>) => {
      const i = k++ % clients;
      return { ...req, headers: { authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' }, body: bodies[i] };
    },
  }],
});
clearInterval(sampler);
// Let the scan queue catch up, then stop the server and count what it stored.
for (let i = 0; i < 600; i++) {
  const h = (await (await fetch(`${url}/healthz`)).json()) as { queue: { expedited: number; normal: number } };
  if (h.queue.expedited + h.queue.normal === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
const after = new Database(join(dir, DEFAULT_CONFIG.database), { readonly: true });
const stored = (after.prepare('SELECT count(*) AS n FROM inventories').get() as { n: number }).n;
const scanned = (after.prepare('SELECT count(*) AS n FROM scans').get() as { n: number }).n;
const MiB = 1048576;
console.log(`machine: ${(await import('node:os')).cpus()[0]?.model ?? '?'}, ${(await import('node:os')).availableParallelism()} cores; ${connections} connections, ${seconds} s, ${clients} clients, bodies ~${(bodies[0]!.length / 1024).toFixed(1)} KiB JSON`);
console.log(`uploads: ${result.requests.total} sent, ${(result['2xx'] as number)} accepted (202), non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`);
console.log(`throughput: ${result.requests.average.toFixed(0)} uploads/s average (min ${result.requests.min}, max ${result.requests.max})`);
console.log(`latency: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`);
console.log(`server RSS (1 s samples): ${rss.map((x) => (x / MiB).toFixed(0)).join(' ')} MiB`);
console.log(`stored inventories: ${stored} (accepted: ${result['2xx'] as number}); clients scanned: ${scanned}`);
after.close();
