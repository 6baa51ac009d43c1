/**
 * Import benchmark: a generated catalog of ≥ 50,000 revisions (format-faithful wsusscn2.cab), imported and loaded
 * in fresh processes. Prints seconds, revisions/s, MB/s of XML, peak RSS, compiled size and load time.
 *
 *   npm run bench                       # 50,000 revisions, seed 1
 *   npm run bench -- --revisions 200000 --runs 3
 *
 * Goals on a 2-core machine (issue #2): import < 60 s, peak RSS < 1.5 GB, load < 1 s.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateCatalog } from '../corpus/generate-catalog.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const revisions = arg('revisions', 50_000);
const seed = arg('seed', 1);
const runs = arg('runs', 3);
const work = join(process.cwd(), 'bench', '.work');
mkdirSync(work, { recursive: true });
const cab = join(work, `wsusscn2-${revisions}-${seed}.cab`);
const out = join(work, `catalog-${revisions}-${seed}.pscat`);
const child = new URL('./import-child.js', import.meta.url).pathname;

const MiB = 1048576;
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} ` +
    `cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
if (!existsSync(cab)) {
  const t = performance.now();
  const g = generateCatalog({ revisions, seed, out: cab });
  console.log(
    `generated ${cab}: ${g.revisions} revisions, ${g.rangeCabs} range cabinets, ` +
      `${(g.bytes / MiB).toFixed(1)} MiB (${(g.xmlBytes / MiB).toFixed(0)} MiB XML) in ` +
      `${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
}
console.log(`input: ${cab} (${(statSync(cab).size / MiB).toFixed(1)} MiB)`);

interface ImportRun {
  seconds: number;
  revisions: number;
  xmlBytes: number;
  outBytes: number;
  facts: number;
  nodes: number;
  strings: number;
  maxRssBytes: number;
  phases: Record<string, number>;
}
const imports: ImportRun[] = [];
for (let r = 0; r < runs; r++) {
  imports.push(
    JSON.parse(execFileSync(process.execPath, [child, 'import', cab, out], { encoding: 'utf8', maxBuffer: 1 << 24 })) as ImportRun,
  );
}
const loads: { loadSeconds: number; lookupMicros: number; maxRssBytes: number }[] = [];
for (let r = 0; r < Math.max(5, runs); r++)
  loads.push(JSON.parse(execFileSync(process.execPath, [child, 'load', out], { encoding: 'utf8' })));

const s = median(imports.map((i) => i.seconds));
const first = imports[0]!;
const phaseNames = Object.keys(first.phases);
console.log(`\nimport of ${first.revisions.toLocaleString('en-US')} revisions, ${runs} runs (median; min–max):`);
console.log(
  `  time            ${s.toFixed(2)} s   (` +
    `${Math.min(...imports.map((i) => i.seconds)).toFixed(2)}–` +
    `${Math.max(...imports.map((i) => i.seconds)).toFixed(2)})   goal < 60 s`,
);
console.log(`  revisions/s     ${(first.revisions / s).toFixed(0)}`);
console.log(`  XML             ${(first.xmlBytes / MiB).toFixed(0)} MiB at ${(first.xmlBytes / MiB / s).toFixed(1)} MiB/s`);
console.log(`  peak RSS        ${(median(imports.map((i) => i.maxRssBytes)) / MiB).toFixed(0)} MiB   goal < 1536 MiB`);
console.log(`  phases          ${phaseNames.map((p) => `${p} ${median(imports.map((i) => i.phases[p] ?? 0)).toFixed(2)} s`).join(', ')}`);
console.log(
  `  compiled file   ${(first.outBytes / MiB).toFixed(1)} MiB (` +
    `${first.nodes.toLocaleString('en-US')} rule nodes, ` +
    `${first.facts.toLocaleString('en-US')} facts, ` +
    `${first.strings.toLocaleString('en-US')} strings)`,
);
console.log(`load of the compiled file, ${loads.length} runs (median):`);
console.log(`  load            ${(median(loads.map((l) => l.loadSeconds)) * 1000).toFixed(0)} ms   goal < 1000 ms`);
console.log(`  KB lookup       ${median(loads.map((l) => l.lookupMicros)).toFixed(1)} µs`);
console.log(`  peak RSS        ${(median(loads.map((l) => l.maxRssBytes)) / MiB).toFixed(0)} MiB`);
