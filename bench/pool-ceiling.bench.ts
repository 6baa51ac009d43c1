/**
 * How far a pool of worker threads can go on a fleet of distinct machines (issue 14, item 3), measured against what
 * bounds it: the same fleet scanned, in fresh `patchscan scan` processes run side by side and alternating,
 *
 *   pool      the whole fleet through the pool (`--threads 2`, or `--threads` given);
 *   thread    the whole fleet in the calling thread (`--threads 0`): one scanner that sees every machine;
 *   halves    two `--threads 0` processes at once, each given half the fleet: what the pool's workers do (each scanner
 *             learns the rule values of only the machines it is given), minus the pool;
 *   doubled   two `--threads 0` processes at once, each given the whole fleet: two scanners that each see every machine
 *             — a bound on a pool whose workers would share everything they learn, as if for free.
 *
 * Every run is a fresh process timed from its start to its end (the catalog's load and the pool's start included).
 * `doubled` scans twice the machines, so its rate counts both processes.
 *
 *   npm run build && node dist/bench/pool-ceiling.bench.js [--clients 5000] [--distinct 100] [--threads 2] [--runs 3]
 *     [--format jsonl]
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { msgpackValueEnd } from '../engine/inventory/msgpack-frames.js';
import { arg, numArg } from './args.js';
import { benchCatalog, benchFleet, lazyCatalog, load1, machineLine } from './inputs.js';

const clients = numArg('clients', '5000');
const distinct = numArg('distinct', '100');
const threads = numArg('threads', '2');
const runs = Math.max(1, numArg('runs', '3'));
const format = arg('format', 'jsonl');
const work = arg('work', join(process.cwd(), 'bench', '.work'));
const cli = fileURLToPath(new URL('../adapters/cli/bin.js', import.meta.url));

console.log(`machine: ${machineLine()}`);
const catalog = benchCatalog(work, 50000);
const fleet = benchFleet(work, 50000, clients, distinct, 'msgpack', lazyCatalog(catalog));

/** The fleet's two halves by machine count, as msgpack streams beside it (made once). */
function halves(): [string, string] {
  const paths: [string, string] = [fleet.replace(/\.msgpack$/, '-half1.msgpack'), fleet.replace(/\.msgpack$/, '-half2.msgpack')];
  if (paths.every((p) => existsSync(p))) return paths;
  const bytes = readFileSync(fleet);
  let at = 0;
  for (let k = 0; k < Math.floor(clients / 2); k++) at = msgpackValueEnd(bytes, at);
  writeFileSync(paths[0], bytes.subarray(0, at));
  writeFileSync(paths[1], bytes.subarray(at));
  return paths;
}
const [half1, half2] = halves();

/** One `patchscan scan` of `input`; resolves when it exits (a failure rejects with its stderr). */
function scan(input: string, threadCount: number, out: string): Promise<void> {
  const args = [cli, 'scan', '-c', catalog, '-i', input, '-o', out, '-f', format, '--no-reasons', '--no-cache', '-q'];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...args, '--threads', String(threadCount)], { maxBuffer: 1 << 24 }, (e, _out, err) =>
      e ? reject(new Error(`${e.message}\n${err}`)) : resolve(),
    );
  });
}

/** Seconds from the first start to the last exit of `scans`, started together. */
async function timed(scans: (() => Promise<void>)[]): Promise<number> {
  const t = performance.now();
  await Promise.all(scans.map((s) => s()));
  return (performance.now() - t) / 1000;
}

const out1 = join(work, 'pool-ceiling-1.out');
const out2 = join(work, 'pool-ceiling-2.out');
const kinds = {
  pool: { machines: clients, run: () => timed([() => scan(fleet, threads, out1)]) },
  thread: { machines: clients, run: () => timed([() => scan(fleet, 0, out1)]) },
  halves: { machines: clients, run: () => timed([() => scan(half1, 0, out1), () => scan(half2, 0, out2)]) },
  doubled: { machines: 2 * clients, run: () => timed([() => scan(fleet, 0, out1), () => scan(fleet, 0, out2)]) },
} as const;
type Kind = keyof typeof kinds;
const seconds = new Map<Kind, number[]>(Object.keys(kinds).map((k) => [k as Kind, []]));

console.log(
  `${clients.toLocaleString('en-US')} machines, ${distinct} % distinct, 50,000 revisions; -f ${format} --no-reasons --no-cache; pool of ${threads}`,
);
for (let r = 1; r <= runs; r++) {
  const line: string[] = [];
  for (const k of Object.keys(kinds) as Kind[]) {
    const s = await kinds[k].run();
    seconds.get(k)!.push(s);
    line.push(`${k} ${s.toFixed(2)} s (${Math.round(kinds[k].machines / s).toLocaleString('en-US')} /s)`);
  }
  console.log(`run ${r} (load ${load1()}): ${line.join(' | ')}`);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (k: Kind): number => kinds[k].machines / median(seconds.get(k)!);
console.log(`\nmedians of ${runs} run(s), machines/s (process start to exit):`);
for (const k of Object.keys(kinds) as Kind[]) console.log(`  ${k.padEnd(8)} ${Math.round(rate(k)).toLocaleString('en-US')}`);
console.log(
  `pool ÷ halves ${(rate('pool') / rate('halves')).toFixed(2)} (what the pool itself costs or gives); ` +
    `doubled ÷ pool ${(rate('doubled') / rate('pool')).toFixed(2)} (the most that sharing what workers learn could give)`,
);
