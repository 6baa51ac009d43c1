/**
 * The generated catalog and fleets the benchmarks share, made once and kept under bench/.work/ (generating the
 * 1,000,000-machine fleet takes tens of minutes, so every benchmark reuses a file another one made).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { importCatalog } from '../adapters/catalog/import.js';
import { generateCatalog } from '../corpus/generate-catalog.js';
import { generateFleet } from '../corpus/generate-fleet.js';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { msgpackValueEnd } from '../engine/inventory/msgpack-frames.js';
import type { Inventory } from '../engine/inventory/types.js';
import { decodeInventory } from '../engine/inventory/validate.js';

/** The compiled generated catalog of `revisions` revisions (seed 1), generated and imported if missing. */
export function benchCatalog(work: string, revisions: number): string {
  const cab = join(work, `wsusscn2-${revisions}-1.cab`);
  const cat = join(work, `catalog-${revisions}-1.pscat`);
  if (!existsSync(cat)) {
    // Any benchmark may be the first run in a fresh clone, where bench/.work does not exist yet.
    mkdirSync(work, { recursive: true });
    if (!existsSync(cab)) generateCatalog({ revisions, seed: 1, out: cab });
    importCatalog(cab, { out: cat });
  }
  return cat;
}

/**
 * The generated fleet of `clients` machines (seed 1) for the catalog of `revisions` revisions, `distinct` % of them
 * with a profile of their own, generated if missing. A fleet with none distinct is the generator's default fleet,
 * byte for byte (corpus/generate-fleet.ts), so either of its two names is taken: `fleet-R-N.ext` (batch-output,
 * scan) or `fleet-R-N-d0.ext` (fleet). `catalog` is loaded only when a fleet must be generated.
 */
export function benchFleet(
  work: string,
  revisions: number,
  clients: number,
  distinct: number,
  ext: 'msgpack' | 'jsonl',
  catalog: () => Catalog,
): string {
  const names =
    distinct === 0
      ? [`fleet-${revisions}-${clients}.${ext}`, `fleet-${revisions}-${clients}-d0.${ext}`]
      : [`fleet-${revisions}-${clients}-d${distinct}.${ext}`];
  const paths = names.map((n) => join(work, n));
  const found = paths.find((p) => existsSync(p));
  if (found) return found;
  const out = paths[0]!;
  mkdirSync(work, { recursive: true });
  const t = performance.now();
  let shown = t;
  process.stderr.write(`generating ${out} (${clients.toLocaleString('en-US')} machines, ${distinct} % distinct)\n`);
  generateFleet(catalog(), {
    clients,
    seed: 1,
    out,
    distinct,
    // Large fleets take minutes: say how far it got every 30 s.
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - shown < 30_000) return;
      shown = now;
      process.stderr.write(`  ${((100 * done) / total).toFixed(0)} % after ${((now - t) / 1000).toFixed(0)} s\n`);
    },
  });
  process.stderr.write(`  generated in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  return out;
}

/** A lazily loaded catalog: read once, and only if asked. */
export function lazyCatalog(path: string): () => Catalog {
  let c: Catalog | undefined;
  return () => (c ??= new Catalog(readCatalogFile(path)));
}

/** The machine, as every benchmark prints it. */
export const machineLine = (): string =>
  `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;

/** The 1-minute load average, one decimal. */
export const load1 = (): number => Math.round(loadavg()[0]! * 10) / 10;

/** The first `max` machines of a msgpack fleet file, decoded and validated (for benchmarks that time scans alone). */
export function fleetInventories(path: string, max: number): Inventory[] {
  const bytes = readFileSync(path);
  const invs: Inventory[] = [];
  for (let at = 0; at < bytes.length && invs.length < max;) {
    const end = msgpackValueEnd(bytes, at);
    invs.push(decodeInventory(bytes.subarray(at, end), 'fleet'));
    at = end;
  }
  return invs;
}

/**
 * Flushes a site's files to disk before it is timed. A copy leaves ~100 MB of the database unwritten in the page
 * cache, and the run's first commit (an fsync) then waited ~0.1 s for the file system to write it: a cost of the
 * copy, not of the run (a site's database has been on disk long before a sync).
 */
export function flushed(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const fd = openSync(join(e.parentPath, e.name), 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
