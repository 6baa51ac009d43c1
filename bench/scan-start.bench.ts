/**
 * A scan's start with and without the catalog's scan index (engine/catalog/scan-index.ts), side by side: the same
 * generated catalog written twice — with its index, as `patchscan catalog import` writes it now, and without, as every
 * catalog was written before — and, for each file alternately, a fresh process that reads it, builds a scanner and
 * scans the first machines of a fleet of distinct machines (every machine a profile of its own), timing each step.
 * What one worker thread of a pool, or a `patchscan scan` in the calling thread, pays before and while it warms up.
 *
 *   npm run build && node dist/bench/scan-start.bench.js [--revisions 50000] [--machines 200] [--runs 3]
 *
 * Prints per file the medians of: reading the file, the scanner's first machine (what it builds before it, and the
 * machine), machines 2 to N, peak RSS; and the ratio of the two.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile, writeCatalogFile } from '../engine/catalog/file.js';
import { scanIndexOf, withoutScanIndex } from '../engine/catalog/scan-index.js';
import { buildScanIndex } from '../engine/fleet/scan-index.js';
import { scanOutcomes } from '../engine/fleet/scan-outcomes.js';
import { Scanner } from '../engine/scanner/scanner.js';
import { arg, flag, numArg } from './args.js';
import { benchCatalog, benchFleet, fleetInventories, machineLine } from './inputs.js';

interface Figures {
  readMs: number;
  firstMs: number;
  restMs: number;
  indexed: boolean;
  maxRssMiB: number;
}

if (flag('child')) {
  // One measured start in this fresh process.
  const invs = fleetInventories(arg('fleet', ''), numArg('machines', '200'));
  const t0 = performance.now();
  const catalog = new Catalog(readCatalogFile(arg('catalog', '')));
  const t1 = performance.now();
  const scanner = new Scanner(catalog);
  const options = { all: false, reasons: false };
  scanOutcomes(scanner, invs[0]!, options);
  const t2 = performance.now();
  for (let k = 1; k < invs.length; k++) scanOutcomes(scanner, invs[k]!, options);
  const t3 = performance.now();
  const f: Figures = {
    readMs: t1 - t0,
    firstMs: t2 - t1,
    restMs: t3 - t2,
    indexed: scanIndexOf(catalog.data) !== undefined,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(f)}\n`);
  process.exit(0);
}

const revisions = numArg('revisions', '50000');
const machines = numArg('machines', '200');
const runs = Math.max(1, numArg('runs', '3'));
const work = arg('work', join(process.cwd(), 'bench', '.work'));
console.log(`machine: ${machineLine()}`);
const source = benchCatalog(work, revisions);
const withIndex = join(work, `catalog-${revisions}-1-indexed.pscat`);
const without = join(work, `catalog-${revisions}-1-no-index.pscat`);
if (!existsSync(withIndex) || !existsSync(without)) {
  const data = withoutScanIndex(readCatalogFile(source));
  writeCatalogFile(withIndex, data, { scanIndex: buildScanIndex });
  writeCatalogFile(without, data);
}
const fleet = benchFleet(work, revisions, 5000, 100, 'msgpack', () => new Catalog(readCatalogFile(source)));
const self = fileURLToPath(import.meta.url);
const measure = (catalog: string): Figures =>
  JSON.parse(
    execFileSync(process.execPath, [self, '--child', '--catalog', catalog, '--fleet', fleet, '--machines', String(machines)], {
      encoding: 'utf8',
    }),
  ) as Figures;

const results = new Map<string, Figures[]>([
  [without, []],
  [withIndex, []],
]);
for (let r = 0; r < runs; r++)
  for (const file of [without, withIndex]) {
    const f = measure(file);
    results.get(file)!.push(f);
    console.log(
      `run ${r + 1}, ${f.indexed ? 'with' : 'without'} index: read ${f.readMs.toFixed(0)} ms, first machine ${f.firstMs.toFixed(0)} ms, ` +
        `machines 2-${machines} ${f.restMs.toFixed(0)} ms, peak RSS ${f.maxRssMiB.toFixed(0)} MiB`,
    );
  }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (file: string): { read: number; first: number; rest: number; total: number; rss: number } => {
  const fs = results.get(file)!;
  return {
    read: median(fs.map((f) => f.readMs)),
    first: median(fs.map((f) => f.firstMs)),
    rest: median(fs.map((f) => f.restMs)),
    total: median(fs.map((f) => f.readMs + f.firstMs + f.restMs)),
    rss: median(fs.map((f) => f.maxRssMiB)),
  };
};
const a = summary(without);
const b = summary(withIndex);
console.log(`\n${revisions} revisions, first ${machines} machines of a 100 % distinct fleet, medians of ${runs} runs each (alternating):`);
for (const [name, s] of [
  ['without index', a],
  ['with index', b],
] as const)
  console.log(
    `  ${name.padEnd(14)} read ${s.read.toFixed(0).padStart(4)} ms  first machine ${s.first.toFixed(0).padStart(4)} ms  ` +
      `machines 2-${machines} ${s.rest.toFixed(0).padStart(5)} ms  all ${s.total.toFixed(0).padStart(5)} ms  peak RSS ${s.rss.toFixed(0)} MiB`,
  );
console.log(
  `  first machine ${(a.first / b.first).toFixed(2)} × faster with the index; read to machine ${machines}: ${(a.total / b.total).toFixed(2)} ×`,
);
