/**
 * Fleet scan benchmark (issue #4): a generated catalog (default 50,000 revisions) and generated fleets, scanned in
 * fresh processes at 1 and 2 threads; decode-only time of the same bytes measured side by side; tinybench
 * micro-benchmarks for one rule evaluation and one machine scan.
 *
 *   node dist/bench/scan.bench.js [--revisions 50000] [--clients 10000,100000] [--threads 1,2] [--decode no] [--micro no] [--json]
 *
 * `--decode no` leaves out the decode-only pass, `--micro no` the micro-benchmarks. `--json`: the human lines go to
 * stderr and one JSON line with the figures to stdout (bench/issue-14.bench.ts).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { Catalog } from '../engine/catalog/catalog.js';
import { readCatalogFile } from '../engine/catalog/file.js';
import { EvalContext } from '../engine/eval/context.js';
import { Machine } from '../engine/inventory/machine.js';
import type { Inventory } from '../engine/inventory/types.js';
import { msgpackFrames } from '../engine/inventory/msgpack-frames.js';
import { decodeInventory } from '../engine/inventory/validate.js';
import { Scanner } from '../engine/scanner/scanner.js';
import { arg, jsonOut, printJson, say } from './args.js';
import { benchCatalog, benchFleet, load1, machineLine } from './inputs.js';

const revisions = Number(arg('revisions', '50000'));
const clientsList = arg('clients', '10000').split(',').map(Number);
const threadsList = arg('threads', '1,2').split(',').map(Number);
const decodePass = arg('decode', 'yes') !== 'no';
const micro = arg('micro', 'yes') !== 'no';
const work = join(process.cwd(), 'bench', '.work');
mkdirSync(work, { recursive: true });
const child = new URL('./scan-child.js', import.meta.url).pathname;
const MiB = 1048576;

say(`machine: ${machineLine()}`);
const cat = benchCatalog(work, revisions);
const catalog = new Catalog(readCatalogFile(cat));
say(`catalog: ${catalog.size.toLocaleString('en-US')} revisions (${cat})`);

interface ScanRun {
  seconds: number;
  cpuSeconds: number;
  machines: number;
  errors: number;
  hitRate: number;
  p50: number;
  p99: number;
  maxRssBytes: number;
}
/** Every fleet's figures (`--json`). */
const fleets: {
  clients: number;
  fleet: string;
  decode?: { seconds: number };
  scans: (ScanRun & { threads: number; loadStart: number; loadEnd: number })[];
}[] = [];
const fleetPaths: string[] = [];
for (const clients of clientsList) {
  const fleet = benchFleet(work, revisions, clients, 0, 'msgpack', () => catalog);
  fleetPaths.push(fleet);
  say(`\nfleet of ${clients.toLocaleString('en-US')} machines (${(statSync(fleet).size / MiB).toFixed(1)} MiB msgpack)`);
  const f: (typeof fleets)[number] = { clients, fleet, scans: [] };
  fleets.push(f);
  let decode: { seconds: number } | undefined;
  if (decodePass) {
    decode = JSON.parse(execFileSync(process.execPath, [child, 'decode', fleet], { encoding: 'utf8' })) as { seconds: number };
    f.decode = decode;
    say(
      `  decode-only        ${(clients / decode.seconds).toFixed(0)} machines/s (` +
        `${((decode.seconds / clients) * 1e6).toFixed(1)} µs/machine)`,
    );
  }
  for (const threads of threadsList) {
    const loadStart = load1();
    const r = JSON.parse(
      execFileSync(process.execPath, [child, 'scan', cat, fleet, String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 }),
    ) as ScanRun;
    f.scans.push({ ...r, threads, loadStart, loadEnd: load1() });
    say(
      `  ${threads} thread(s)        ${(r.machines / r.seconds).toFixed(0)} ` +
        `machines/s, ${r.seconds.toFixed(1)} s (CPU ${r.cpuSeconds.toFixed(1)} s, all ` +
        `threads); per machine p50 ${r.p50} µs, p99 ${r.p99} µs; cache hit rate ` +
        `${(r.hitRate * 100).toFixed(1)} %; peak RSS ${(r.maxRssBytes / MiB).toFixed(0)} ` +
        `MiB (process: main + workers share it); errors ${r.errors}`,
    );
    if (threads === 1 && decode) say(`  scan ÷ decode       ${(r.seconds / decode.seconds).toFixed(1)} (goal ≤ 3)`);
  }
}

// Micro-benchmarks on the first machine of the first fleet
// (its first document only: a fleet file can be larger than one Node.js buffer).
async function firstMachine(path: string): Promise<Inventory> {
  for await (const f of msgpackFrames(createReadStream(path), 1 << 26)) return decodeInventory(f.bytes, 'first machine');
  throw new Error(`${path} is empty`);
}
const micros: { name: string; meanMicros: number; p50Micros: number }[] = [];
if (micro) {
  const first = await firstMachine(fleetPaths[0]!);
  const scanner = new Scanner(catalog);
  const fv = Array.from({ length: catalog.data.nodes.count }, (_, n) => n).find((n) => scanner.program.ruleName(n) === 'FileVersion')!;
  const bench = new Bench({ time: 1000 });
  const ctx = new EvalContext(catalog, new Machine(first));
  bench
    .add("one rule evaluation (FileVersion; its fact already in the machine's fact vector)", () => {
      scanner.program.eval(fv, ctx);
    })
    .add('one machine scan (all updates, states only)', () => {
      const s = scanner.machineScan(first);
      for (let i = 0; i < catalog.size; i++) if (catalog.isReportable(i)) s.state(i);
    });
  await bench.run();
  say('\nmicro-benchmarks (tinybench):');
  for (const t of bench.tasks) {
    const r = t.result as { latency?: { p50?: number; mean?: number }; throughput?: { mean?: number } } | undefined;
    micros.push({ name: t.name, meanMicros: (r?.latency?.mean ?? 0) * 1000, p50Micros: (r?.latency?.p50 ?? 0) * 1000 });
    say(`  ${t.name}: mean ${((r?.latency?.mean ?? 0) * 1000).toFixed(1)} µs, p50 ${((r?.latency?.p50 ?? 0) * 1000).toFixed(1)} µs`);
  }
}
if (jsonOut) printJson({ bench: 'scan', machine: machineLine(), revisions, fleets, ...(micro ? { micro: micros } : {}) });
