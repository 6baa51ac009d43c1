/**
 * One measured batch scan in a fresh process (peak RSS belongs to it alone), as a user runs it to a file:
 *   node fleet-child.js <catalog> <fleet.msgpack|fleet.jsonl> <threads> <cache 1|0> [msgpack|jsonl]
 * Output format msgpack (the fleet format: every outcome) unless `jsonl` (the default batch output, one line per
 * machine), no reasons, to /dev/null. Prints one JSON line.
 */
import { runBatchScan } from '../adapters/cli/batch-scan.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFileInPieces } from '../engine/catalog/file.js';

const [catalogPath, fleet, threads, cache, format = 'msgpack'] = process.argv.slice(2);
if (format !== 'msgpack' && format !== 'jsonl') throw new Error(`format must be msgpack or jsonl, not ${format}`);
// Read as `patchscan scan` reads it: into shared memory (which a pool then shares as is), hashed as it is read.
const catalog = new Catalog(await readCatalogFileInPieces(catalogPath!));
const cpu0 = process.cpuUsage();
const t = performance.now();
const s = await runBatchScan({
  catalog,
  inventories: fleet!,
  out: '/dev/null',
  format,
  threads: Number(threads),
  reasons: false,
  all: false,
  quiet: true,
  cache: cache !== '0',
});
const seconds = (performance.now() - t) / 1000;
const cpu = process.cpuUsage(cpu0); // every thread of the process
process.stdout.write(
  `${JSON.stringify({ format, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, machines: s.machines, errors: s.errors, hits: s.cache.hits, misses: s.cache.misses, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
