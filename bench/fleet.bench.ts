/**
 * Fleet speed as users run it (issue 14): the 50,000-revision catalog, fleets with 0, 10, 50 and 100 % of the
 * machines distinct (`corpus fleet --distinct`), msgpack and JSON Lines input, batch scan to /dev/null in the fleet
 * format without reasons, each run in a fresh process. With `--before DIR` (a build of an earlier commit, e.g.
 * `git worktree add /tmp/before <commit> && cd /tmp/before && npx tsc --outDir dist`), every run is repeated with
 * that build right after this one, so both see the same machine load: compare their ratio, not absolute figures.
 *
 *   node dist/bench/fleet.bench.js [--revisions 50000] [--clients 5000] [--hits-clients 20000] [--threads 2] [--before DIR]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { importCatalog } from '../adapters/catalog/import.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { generateCatalog } from '../corpus/generate-catalog.js';
import { generateFleet } from '../corpus/generate-fleet.js';
import { arg } from './args.js';

const revisions = Number(arg('revisions', '50000'));
const clients = Number(arg('clients', '5000'));
const hitsClients = Number(arg('hits-clients', '20000'));
const threads = arg('threads', '2');
const before = arg('before', '');
const work = join(process.cwd(), 'bench', '.work');
mkdirSync(work, { recursive: true });
const MiB = 1048576;

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
const cab = join(work, `wsusscn2-${revisions}-1.cab`);
const cat = join(work, `catalog-${revisions}-1.pscat`);
if (!existsSync(cab)) generateCatalog({ revisions, seed: 1, out: cab });
if (!existsSync(cat)) importCatalog(cab, { out: cat });
const catalog = new Catalog(readCatalogFile(cat));

function fleet(n: number, distinct: number, ext: 'msgpack' | 'jsonl'): string {
  const path = join(work, `fleet-${revisions}-${n}-d${distinct}.${ext}`);
  if (!existsSync(path)) generateFleet(catalog, { clients: n, seed: 1, out: path, distinct });
  return path;
}

interface Run {
  seconds: number;
  cpuSeconds: number;
  machines: number;
  errors: number;
  hits: number;
  misses: number;
  maxRssBytes: number;
}
const child = (root: string, path: string, cache: boolean): Run =>
  JSON.parse(
    execFileSync(process.execPath, [join(root, 'bench', 'fleet-child.js'), cat, path, threads, cache ? '1' : '0'], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    }),
  ) as Run;
const here = new URL('..', import.meta.url).pathname;

const line = (label: string, r: Run): string => {
  const perCore = ((r.cpuSeconds / r.machines) * 1000).toFixed(2);
  return (
    `${label.padEnd(44)} ${(r.machines / r.seconds).toFixed(0).padStart(6)} ` +
    `machines/s  ${r.seconds.toFixed(1).padStart(6)} s  CPU ` +
    `${r.cpuSeconds.toFixed(1).padStart(6)} s (${perCore} ms/machine)  hits ` +
    `${((100 * r.hits) / Math.max(1, r.hits + r.misses)).toFixed(1)} %  RSS ` +
    `${(r.maxRssBytes / MiB).toFixed(0)} MiB  errors ${r.errors}`
  );
};

const runs: [string, string, boolean][] = [
  ...[0, 10, 50, 100].map((d): [string, string, boolean] => [
    `${clients} machines, ${d} % distinct, msgpack`,
    fleet(clients, d, 'msgpack'),
    true,
  ]),
  [`${clients} machines, 100 % distinct, JSON Lines`, fleet(clients, 100, 'jsonl'), true],
  [`${clients} machines, 0 % distinct, msgpack, --no-cache`, fleet(clients, 0, 'msgpack'), false],
  [`${hitsClients} machines, 0 % distinct, msgpack`, fleet(hitsClients, 0, 'msgpack'), true],
  [`${hitsClients} machines, 0 % distinct, JSON Lines`, fleet(hitsClients, 0, 'jsonl'), true],
];
for (const [label, path, cache] of runs) {
  console.log(`\n${label} (${(statSync(path).size / MiB).toFixed(1)} MiB; load ${loadavg()[0]!.toFixed(1)})`);
  console.log(`  ${line('this build', child(here, path, cache))}`);
  if (before) console.log(`  ${line('before', child(before, path, cache))}`);
}
