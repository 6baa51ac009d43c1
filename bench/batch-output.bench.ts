/**
 * Batch scan output as users run it (issue 14, first row): `patchscan scan -i fleet.jsonl -o OUT` in each output
 * format, every run a fresh process measured by GNU time (wall time, peak RSS of the process and its worker threads),
 * the bytes it wrote, and optionally (`--before`) the same command by an earlier build right before or after it, so
 * before and after share the machine's load.
 *
 *   node dist/bench/batch-output.bench.js [--revisions 50000] [--clients 100000] [--machines 5000] [--distinct 0] [--before OLD/dist/adapters/cli/bin.js]
 *                                         [--formats default,reasons,rows,rows-reasons,rows-all,parquet,parquet-reasons,msgpack] [--json]
 *
 * The fleet is the first --machines inventories of a --clients fleet (JSON Lines) from the generated catalog; with
 * `--distinct D` (1-100), a fleet of --machines inventories of which D % have a profile of their own (the generator's
 * diversity knob: with reasons, the heaviest output per machine, since no two machines' results are alike).
 * `--json`: the table goes to stderr and one JSON line with every run's figures to stdout (bench/issue-14.bench.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { arg, jsonOut, printJson, say } from './args.js';
import { benchCatalog, benchFleet, lazyCatalog, load1, machineLine } from './inputs.js';

const revisions = Number(arg('revisions', '50000'));
const clients = Number(arg('clients', '100000'));
const machines = Number(arg('machines', '5000'));
const distinct = Number(arg('distinct', '0'));
if (!(distinct >= 0 && distinct <= 100)) throw new Error(`--distinct must be 0-100, not ${arg('distinct', '')}`);
const before = arg('before', '');
const formats = arg('formats', 'default,reasons,rows,rows-all,parquet,msgpack').split(',');
const work = join(process.cwd(), 'bench', '.work');
mkdirSync(work, { recursive: true });
const BIN = new URL('../adapters/cli/bin.js', import.meta.url).pathname;

const RUNS: Record<string, { args: string[]; what: string }> = {
  default: { args: [], what: 'default (jsonl: one line per machine)' },
  reasons: { args: ['--reasons'], what: 'jsonl --reasons' },
  rows: { args: ['-f', 'rows'], what: '-f rows (Required, Unknown)' },
  'rows-reasons': { args: ['-f', 'rows', '--reasons'], what: '-f rows --reasons (Required, Unknown, each with its reason)' },
  'rows-all': { args: ['-f', 'rows', '--states', 'all', '--reasons'], what: '-f rows --states all --reasons (the old default output)' },
  parquet: { args: ['-f', 'parquet'], what: '-f parquet (Required, Unknown)' },
  'parquet-reasons': { args: ['-f', 'parquet', '--reasons'], what: '-f parquet --reasons (Required, Unknown, each with its reason)' },
  msgpack: { args: ['-f', 'msgpack'], what: '-f msgpack' },
};

/** The first n lines of a file, copied (the rest is not read). */
async function head(from: string, to: string, n: number): Promise<void> {
  const out = createWriteStream(to);
  const rl = createInterface({ input: createReadStream(from), crlfDelay: Infinity });
  let k = 0;
  for await (const line of rl) {
    if (k++ >= n) break;
    if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  rl.close();
  await new Promise<void>((r) => out.end(r));
}

const cat = benchCatalog(work, revisions);
// A distinct fleet is generated at its size; the default one is the head of a larger fleet (the issue's).
const full = benchFleet(work, revisions, distinct > 0 ? machines : clients, distinct, 'jsonl', lazyCatalog(cat));
const fleet = distinct > 0 ? full : join(work, `fleet-${revisions}-${clients}-first-${machines}.jsonl`);
if (!existsSync(fleet)) await head(full, fleet, machines);
const fleetName = distinct > 0 ? `fleet-${machines}-d${distinct}.jsonl` : `fleet-first-${machines}.jsonl`;

say(`machine: ${machineLine()}`);
say(
  `catalog ${cat}; fleet: ${distinct > 0 ? `${fleet}, ${distinct} % distinct` : `the first ${machines.toLocaleString('en-US')} machines of ${full}`} ` +
    `(${(statSync(fleet).size / 1048576).toFixed(1)} MiB)\n`,
);
try {
  execFileSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'ignore' });
} catch {
  throw new Error("GNU time (/usr/bin/time) is needed to measure a child process's peak RSS: apt-get install time");
}

/** One run's figures (`--json`). */
interface Measured {
  format: string;
  build: 'this' | 'earlier';
  what: string;
  /** The command as a user types it (file names shortened). */
  command: string;
  machines: number;
  seconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  bytesWritten: number;
  loadStart: number;
  loadEnd: number;
}
const measured: Measured[] = [];

function measure(format: string, build: 'this' | 'earlier', bin: string, args: string[]): void {
  const label = `${build === 'this' ? 'this build' : 'earlier build'}: ${RUNS[format]!.what}`;
  const out = join(work, `batch-out-${process.pid}`);
  const cmd = ['scan', '-c', cat, '-i', fleet, '-o', out, '-q', ...args];
  const loadStart = load1();
  const load = loadStart.toFixed(1);
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M %U %S', process.execPath, bin, ...cmd], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${r.stderr}`);
  const [, seconds, rssKiB, user, sys] = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr)!;
  // CPU time (user + system, every thread) depends less on the machine's load than wall time does.
  const cpu = `${(Number(user) + Number(sys)).toFixed(1)} s`;
  const bytes = statSync(out).size;
  rmSync(out, { force: true });
  const s = Number(seconds);
  const command = `patchscan ${cmd.join(' ').replace(out, 'OUT').replace(cat, 'catalog.pscat').replace(fleet, fleetName)}`;
  measured.push({
    format,
    build,
    what: RUNS[format]!.what,
    command,
    machines,
    seconds: s,
    cpuSeconds: Number(user) + Number(sys),
    maxRssBytes: Number(rssKiB) * 1024,
    bytesWritten: bytes,
    loadStart,
    loadEnd: load1(),
  });
  say(
    `| ${label} | ${s.toFixed(1)} s | ${(machines / s).toFixed(0)} | ` +
      `${(Number(rssKiB) / 1024).toFixed(0)} MiB | ${(bytes / 1e6).toFixed(1)} MB (` +
      `${(bytes / machines / 1e3).toFixed(1)} KB/machine) | ${load} | ${cpu} |`,
  );
  say(`|   \`${command}\` | | | | | | |`);
}

say('| run | time | machines/s | peak RSS | written | load (1 min) at start | CPU (user + sys) |');
say('|---|---|---|---|---|---|---|');
for (const [k, f] of formats.entries()) {
  const run = RUNS[f];
  if (!run) throw new Error(`unknown --formats entry ${f} (${Object.keys(RUNS).join(', ')})`);
  // With --before, the same command by both builds back to back, which goes first alternating, so that a load that
  // rises or falls through the benchmark does not always favour the same build.
  const pair: ['this' | 'earlier', string][] = [['this', BIN]];
  if (before) pair[k % 2 === 0 ? 'push' : 'unshift'](['earlier', before]);
  for (const [build, bin] of pair) measure(f, build, bin, run.args);
}
if (jsonOut) printJson({ bench: 'batch-output', machine: machineLine(), revisions, clients, machines, distinct, runs: measured });
