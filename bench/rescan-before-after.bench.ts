/**
 * Upload latency while a full rescan of the site runs, before and after the store port / worker split (issue #12,
 * item 8), side by side in one run: the same load client (autocannon in this process, each request its own client's
 * token and inventory) against
 *   - old: `serve` of an earlier build (`--old DIST`, e.g. a worktree of main at 3c7ecc4 built with `npm run build`),
 *     which scans its queue on its HTTP event loop, its site set up through that build's modules (bench/old-site.mjs);
 *   - new: `serve` of this build (scans in a worker thread of its own);
 *   - new-split (`--split`): this build's `serve --no-scan` plus one `patchscan worker --threads 1` process.
 * Each run: a fresh SQLite site with the bundled catalog and `--clients` clients, each with a stored inventory; a
 * full rescan (every client queued, what a new catalog queues) is queued as the load starts; uploads for
 * `--seconds`. Rounds alternate the order of the variants; the summary gives each variant's median.
 *
 * `--old-current`: the old build has this build's schema (an earlier commit of the store port, e.g. main before
 * serve's scan thread): its site is set up and its rescan queued with this build's modules; only `serve` differs.
 * While the uploads run, a probe asks GET /healthz every 20 ms: its worst latency says how long serve's HTTP loop
 * was held (by a batch's SQLite writes, say).
 *
 *   node dist/bench/rescan-before-after.bench.js --old /work/wt-old/dist [--rounds 3] [--seconds 10]
 *        [--connections 32] [--clients 2000] [--split] [--old-current]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Packr } from 'msgpackr';
import { BUNDLED_CORPUS } from '../adapters/cli/paths.js';
import { importCatalog } from '../adapters/catalog/import.js';
import { ensureObjects, variantOf } from '../adapters/site/objects.js';
import { ScanService } from '../adapters/site/scan-service.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../adapters/site/site.js';
import { now } from '../adapters/store/sql/store.js';
import { runSync } from '../adapters/sync/sync.js';
import { FleetModel } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { arg, numArg } from './args.js';

const seconds = numArg('seconds', '10');
const connections = numArg('connections', '32');
const clients = numArg('clients', '2000');
const rounds = numArg('rounds', '3');
const oldDist = arg('old', '');
if (!oldDist)
  throw new Error('give --old DIST: the dist/ directory of an earlier build (git worktree add DIR 3c7ecc4; npm run build there)');
const oldCurrent = process.argv.includes('--old-current');
const variants = ['old', 'new', ...(process.argv.includes('--split') ? ['new-split'] : [])] as const;
type Variant = (typeof variants)[number];

const work = join(process.cwd(), 'bench', '.work', 'rescan-before-after');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const oldSite = new URL('../../bench/old-site.mjs', import.meta.url).pathname;
const newBin = new URL('../adapters/cli/bin.js', import.meta.url).pathname;
const oldBin = join(resolve(oldDist), 'adapters', 'cli', 'bin.js');

// One fleet for every run: the bundled catalog's machines, as JSON bodies and as a file for the old build's setup.
const catalogFile = join(work, 'bundled.pscat');
importCatalog(BUNDLED_CORPUS, { out: catalogFile });
const model = new FleetModel(new Catalog(readCatalogFile(catalogFile)));
const inventories = Array.from({ length: clients }, (_, k) => model.machine(7, k));
const bodies = inventories.map((inv) => Buffer.from(JSON.stringify(inv)));
const inventoriesFile = join(work, 'inventories.jsonl');
writeFileSync(inventoriesFile, bodies.map((b) => b.toString()).join('\n') + '\n');
const packr = new Packr({ useRecords: false });

async function setupNew(dir: string): Promise<string[]> {
  writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0', limits: { ...DEFAULT_CONFIG.limits, uploadsPerMinute: 1_000_000 } });
  const site = await Site.open(dir);
  await ensureObjects(site.store, { testComputer: 'PC-0000000', syncHost: 'SYNC' });
  await site.store.setSetting('initialized_at', now());
  await site.store.setCollectionLimit((await site.store.objectId('collection', 'main'))!, null);
  await runSync(site, { source: BUNDLED_CORPUS });
  const tokens: string[] = [];
  for (const inv of inventories) {
    tokens.push(await site.store.enroll(inv.computer.name));
    const c = (await site.store.client(inv.computer.name))!;
    await site.store.addInventory(c.id, Buffer.from(packr.pack(inv)), variantOf(inv.processor?.architecture) ?? 'other');
  }
  await site.close();
  return tokens;
}

function setupOld(dir: string): string[] {
  const tokensFile = join(dir, '..', `${dir.split('/').pop()}-tokens.txt`);
  const r = spawnSync(process.execPath, [oldSite, resolve(oldDist), 'setup', dir, BUNDLED_CORPUS, inventoriesFile, tokensFile], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`old build's site setup exited ${r.status}`);
  return readFileSync(tokensFile, 'utf8').trim().split('\n');
}

async function queueRescan(v: Variant, dir: string): Promise<number> {
  if (v === 'old' && !oldCurrent) {
    const r = spawnSync(process.execPath, [oldSite, resolve(oldDist), 'rescan', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`old build's rescan exited ${r.status}: ${r.stderr}`);
    return Number(r.stdout.trim());
  }
  const site = await Site.open(dir);
  try {
    return await new ScanService(site).rescanAll('bench: full rescan');
  } finally {
    await site.close();
  }
}

function start(bin: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

const listening = (child: ChildProcess): Promise<string> =>
  new Promise((resolveUrl, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolveUrl(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code} before listening: ${out}`)));
  });

interface Figures {
  readonly variant: Variant;
  readonly round: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly non2xx: number;
  readonly healthP99: number;
  readonly healthMax: number;
  readonly queued: number;
  readonly left: number;
}

async function run(v: Variant, round: number): Promise<Figures> {
  const dir = join(work, `${v}-${round}`);
  const tokens = v === 'old' && !oldCurrent ? setupOld(dir) : await setupNew(dir);
  const bin = v === 'old' ? oldBin : newBin;
  const server = start(bin, ['serve', '--data', dir, '--listen', '127.0.0.1:0', ...(v === 'new-split' ? ['--no-scan'] : [])]);
  const children = [server];
  try {
    const url = await listening(server);
    if (v === 'new-split') {
      const w = spawn(process.execPath, [newBin, 'worker', '--data', dir, '--threads', '1', '--idle-ms', '100'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(w);
    }
    const queued = await queueRescan(v, dir);
    let k = 0;
    const health: number[] = [];
    let loading = true;
    const probe = (async () => {
      while (loading) {
        const t = performance.now();
        await (await fetch(`${url}/healthz`)).arrayBuffer();
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const r = await autocannon({
      url,
      connections,
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
    });
    loading = false;
    await probe;
    health.sort((a, b) => a - b);
    const h = (await (await fetch(`${url}/healthz`)).json()) as { queue: { expedited: number; normal: number } };
    return {
      variant: v,
      round,
      rate: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      non2xx: r.non2xx + r.errors + r.timeouts,
      healthP99: Math.round(health[Math.min(health.length - 1, Math.floor(health.length * 0.99))] ?? 0),
      healthMax: Math.round(health[health.length - 1] ?? 0),
      queued,
      left: h.queue.normal + h.queue.expedited,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.on('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
console.log(
  `machine: ${os.cpus()[0]?.model ?? '?'}, ${os.availableParallelism()} cores, ` +
    `Node ${process.version}; SQLite sites; ${connections} connections, ${seconds} ` +
    `s, ${clients} clients; old build ${oldDist}`,
);
const all: Figures[] = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [...variants] : [...variants].reverse();
  for (const v of order) {
    const f = await run(v, round);
    all.push(f);
    console.log(
      `round ${round + 1} ${v.padEnd(9)} ${f.rate.toFixed(0)} uploads/s, p50 ${f.p50} ` +
        `ms, p99 ${f.p99} ms, max ${f.max} ms, not 202: ${f.non2xx}; /healthz p99 ${f.healthP99} ms max ${f.healthMax} ms; rescan ${f.queued} ` +
        `queued, ${f.left} left at the end; load ${load()}; ${new Date().toISOString()}`,
    );
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log('\nmedians over the rounds:');
for (const v of variants) {
  const mine = all.filter((f) => f.variant === v);
  console.log(
    `${v.padEnd(9)} ${median(mine.map((f) => f.rate)).toFixed(0)} uploads/s, p50 ` +
      `${median(mine.map((f) => f.p50))} ms, p99 ${median(mine.map((f) => f.p99))} ms ` +
      `(p99 per round: ${mine.map((f) => f.p99).join(', ')}), /healthz p99 ${median(mine.map((f) => f.healthP99))} ms, ` +
      `max ${median(mine.map((f) => f.healthMax))} ms, rescan left ` +
      `${median(mine.map((f) => f.left))} of ${clients}`,
  );
}
