/**
 * One measured scan run in a fresh process (peak RSS belongs to it alone):
 *   node scan-child.js scan <catalog> <fleet.msgpack> <threads>   → batch scan to /dev/null (msgpack, no reasons)
 *   node scan-child.js decode <fleet.msgpack>                     → decode + validate only, same bytes, one thread
 */
import { createReadStream } from 'node:fs';
import { msgpackFrames } from '../engine/inventory/msgpack-frames.js';
import { runBatchScan } from '../adapters/cli/batch-scan.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { DEFAULT_INVENTORY_LIMITS, decodeInventory } from '../engine/inventory/validate.js';
import { createScannerPool } from '../engine/pool/scanner-pool.js';

const [mode, a, b, c] = process.argv.slice(2);
const rss = (): number => process.resourceUsage().maxRSS * 1024;

/** The first `n` documents of a msgpack fleet, as raw bytes (the rest of the file is not read). */
async function* firstFrames(path: string, n: number): AsyncGenerator<Uint8Array> {
  let k = 0;
  const stream = createReadStream(path);
  for await (const f of msgpackFrames(stream, DEFAULT_INVENTORY_LIMITS.maxBytes)) {
    yield Uint8Array.from(f.bytes);
    if (++k >= n) break;
  }
  stream.destroy();
}

if (mode === 'scan') {
  const threads = Number(c);
  // As `patchscan scan` reads it for a batch through workers: into shared memory, which the pool shares as is.
  const catalog = new Catalog(readCatalogFile(a!, { shared: threads > 0 }));
  const t = performance.now();
  const s = await runBatchScan({
    catalog,
    inventories: b!,
    out: '/dev/null',
    format: 'msgpack',
    threads,
    reasons: false,
    all: false,
    quiet: true,
    cache: process.env.PATCHSCAN_BENCH_NOCACHE !== '1',
  });
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(); // every thread of the process: the work done, whatever the wall clock
  // Per-machine latency inside the workers, from a second short pass (the batch path does not keep it).
  const scanner = await createScannerPool({ catalog, threads, reasons: false, cache: process.env.PATCHSCAN_BENCH_NOCACHE !== '1' });
  const micros: number[] = [];
  for await (const r of scanner.scanMany(firstFrames(b!, 2000))) if (r.ok) micros.push(r.micros);
  await scanner.close();
  micros.sort((x, y) => x - y);
  const hitRate = s.cache.hits / Math.max(1, s.cache.hits + s.cache.misses);
  process.stdout.write(
    `${JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, machines: s.machines, errors: s.errors, hitRate, p50: micros[Math.floor(micros.length / 2)], p99: micros[Math.floor(micros.length * 0.99)], maxRssBytes: rss() })}\n`,
  );
} else if (mode === 'decode') {
  const t = performance.now();
  let n = 0;
  // The same work the scan path does before scanning: the stream split into documents, each decoded and validated.
  // Read as the batch scan reads a fleet file (1 MiB chunks: adapters/inventory/sources.ts).
  for await (const f of msgpackFrames(createReadStream(a!, { highWaterMark: 1 << 20 }), DEFAULT_INVENTORY_LIMITS.maxBytes)) {
    decodeInventory(f.bytes, 'x', 'msgpack');
    n++;
  }
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t) / 1000, machines: n, maxRssBytes: rss() })}\n`);
} else {
  process.stderr.write('usage: scan-child.js scan <catalog> <fleet> <threads> | decode <fleet>\n');
  process.exitCode = 2;
}
