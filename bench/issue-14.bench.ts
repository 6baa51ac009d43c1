/**
 * Issue 14 item 5: every figure of the issue measured side by side in one run, printed as one markdown table (row = the
 * issue's figure with the command a user types to reproduce it; columns = measured, goal, met or missed, load).
 *
 *   npm run bench:issue-14 -- [--scale full|small] [--only batch,batch-distinct,json,distinct,steady,fleet-distinct,delta,site,site-large,1m] [--inputs-only]
 *
 * `--inputs-only` generates the fleets and catalog the run needs (the 1M fleet takes tens of minutes on one core) and
 * stops: run it while the machine is busy, then the measured run when it is quiet.
 * It runs the existing benchmarks one after the other, each in a child process with `--json` (they generate or reuse
 * the inputs under bench/.work/ and start a fresh process per measured run where they always did):
 *   batch     item 1  bench/batch-output.bench.ts     the default output, -f rows, -f parquet, each also --reasons
 *   batch-distinct    the same                        -f rows and -f parquet with reasons on a 100 % distinct fleet
 *                                                     (the heaviest results per machine: "RSS < 1 GB on any fleet")
 *   json      item 2  bench/fleet.bench.ts            the same fleet from msgpack and from JSON Lines
 *   distinct  item 3  bench/fleet.bench.ts            0, 10, 50, 100 % distinct; 0 and 100 % with --no-cache; 100 %
 *                                                     in the default output too (with and without --no-cache)
 *   steady    item 3  bench/fleet.bench.ts            100 % distinct and --no-cache again, 4 × the machines (the
 *                                                     first ones are the distinct step's fleets), and what the
 *                                                     machines past those cost: the difference of the two runs
 *   fleet-distinct item 3  bench/fleet.bench.ts       100 % distinct at fleet scale (100,000 machines), the default
 *                                                     output with and without --no-cache: a whole run, start included
 *   delta     item 4  bench/catalog-delta.bench.ts    engine: carry-over vs full rescan
 *   site      item 4  bench/site-carry-over.bench.ts  site: carry-over vs full rescan, 300 clients
 *   site-large item 4 the same                        1,000 clients (the queue run's fixed start amortized)
 *   1m        1M      bench/scan.bench.ts             the 1M fleet, msgpack in, fleet format out, no reasons
 * `--scale full` (the default) is the issue's sizes; `--scale small` runs every row on small inputs in a few minutes
 * (to check the benchmark works, not to quote). Progress goes to stderr; the table to stdout and to
 * bench/.work/issue-14-SCALE-TIME.md.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { arg, flag } from './args.js';
import { benchCatalog, benchFleet, lazyCatalog, load1, machineLine } from './inputs.js';

type Scale = 'full' | 'small';
const scale = arg('scale', 'full') as Scale;
if (scale !== 'full' && scale !== 'small') throw new Error(`--scale must be full or small, not ${String(scale)}`);

/** Sizes per scale. Full: the issue's (50,000-revision catalog; 5,000 of a 100k fleet; 100k; 5k; 1M). */
const SIZES = {
  full: {
    revisions: 50000,
    batchClients: 100000,
    batchMachines: 5000,
    jsonClients: 100000,
    distinctClients: 5000,
    steadyClients: 20000,
    fleetDistinctClients: 100000,
    deltaProfiles: 1000,
    siteClients: 300,
    siteClientsLarge: 1000,
    bigClients: 1000000,
  },
  small: {
    revisions: 50000,
    batchClients: 2000,
    batchMachines: 300,
    jsonClients: 2000,
    distinctClients: 500,
    steadyClients: 2000,
    fleetDistinctClients: 4000,
    deltaProfiles: 100,
    siteClients: 20,
    siteClientsLarge: 40,
    bigClients: 5000,
  },
}[scale];
const THREADS = 2;
const R = SIZES.revisions;
const CATALOG = `catalog-${R}-1.pscat`;

/** Item 3's rows: the goal is the first-of-a-profile scan's — every machine of a 100 % fleet, and every machine with sharing off. */
function distinctRows(out: Json): Row[] {
  return (out.runs as Json[])
    .filter((r) => r.build === 'this')
    .map((r): Row => {
      const goalApplies = r.distinct === 100 || !r.cache;
      const perCoreMs = (r.seconds * r.threads * 1000) / r.machines;
      return {
        item: '3',
        figure: `${n(r.machines)} machines, ${r.distinct} % distinct, msgpack${outputNamed(r)}${r.cache ? '' : ', result sharing off (`--no-cache`)'}`,
        command: `\`${scanCommand(r.fleet, r.cache ? '' : ' --no-cache', r.output)}\``,
        measured: fleetMeasured(r),
        goal: goalApplies ? `≤ 1 ms per machine per core (≥ ${n(1000 * r.threads)} machines/s on ${r.threads} cores)` : '— (reported)',
        verdict: goalApplies ? verdict(perCoreMs <= 1) : '—',
        load: loads(r.loadStart, r.loadEnd),
      };
    });
}

/**
 * Item 3 past the start: the steady step's fleets begin with the distinct step's (the generator is deterministic and
 * streams, so the first 5,000 machines of the 20,000-machine fleet are the 5,000-machine fleet, checked byte for byte
 * here). What the 15,000 machines after them cost is the difference of the two runs: the process start, the catalog
 * load and each worker's warm-up (JIT, rules compiled on first use, rule values first seen) fall in the first run.
 */
function pastTheStartRows(steady: Json, earlier: Readonly<Record<string, Json>>): Row[] {
  const first = earlier.distinct;
  if (first === undefined) return [];
  const rows: Row[] = [];
  for (const big of (steady.runs as Json[]).filter((r) => r.build === 'this')) {
    const small = (first.runs as Json[]).find(
      (r) => r.build === 'this' && r.distinct === big.distinct && r.cache === big.cache && r.output === big.output,
    );
    if (small === undefined || small.machines >= big.machines) continue;
    if (!isPrefix(small.fleet, big.fleet)) continue;
    const machines = big.machines - small.machines;
    const seconds = big.seconds - small.seconds;
    const cpu = big.cpuSeconds - small.cpuSeconds;
    const perCoreMs = (seconds * big.threads * 1000) / machines;
    const figure =
      `past the start: machines ${n(small.machines + 1)}–${n(big.machines)} of the ${n(big.machines)}, ${big.distinct} % distinct, msgpack${outputNamed(big)}` +
      (big.cache ? '' : ', result sharing off (`--no-cache`)');
    const command = `the two rows above with the same fleet: (${n(big.machines)} in ${n(big.seconds, 1)} s) − (${n(small.machines)} in ${n(small.seconds, 1)} s)`;
    if (!(seconds > 0)) {
      // The larger run took no longer than the smaller: the machine's load moved between them (small scales, a busy VM).
      rows.push({
        item: '3',
        figure,
        command,
        measured: '**not measurable**: the larger run took no longer than the smaller',
        goal: '',
        verdict: '—',
        load: '',
      });
      continue;
    }
    rows.push({
      item: '3',
      figure,
      command,
      measured:
        `**${n(machines / seconds)} machines/s**; ${n(perCoreMs, 2)} ms per machine per core (wall), ` +
        `CPU ${n((cpu * 1000) / machines, 2)} ms/machine (the first ${n(small.machines)} took ${n(small.seconds, 1)} s: ` +
        `${n((small.seconds * big.threads * 1000) / small.machines, 2)} ms per machine per core)`,
      goal: `≤ 1 ms per machine per core (≥ ${n(1000 * big.threads)} machines/s on ${big.threads} cores)`,
      verdict: big.distinct === 100 || !big.cache ? verdict(perCoreMs <= 1) : '—',
      load: `${loads(small.loadStart, small.loadEnd)}; ${loads(big.loadStart, big.loadEnd)}`,
    });
  }
  return rows;
}

/** Whether the file at `a` is the start of the file at `b` (fleet paths as the fleet benchmark reports them). */
function isPrefix(a: string, b: string): boolean {
  const x = readFileSync(a);
  const fd = openSync(b, 'r');
  try {
    const y = Buffer.alloc(x.length);
    return readSync(fd, y, 0, x.length, 0) === x.length && x.equals(y);
  } finally {
    closeSync(fd);
  }
}

interface Step {
  key: string;
  title: string;
  script: string;
  args: string[];
  /** The rows of this step's output; `earlier` holds the outputs of the steps run before it, by key. */
  rows: (out: Json, earlier: Readonly<Record<string, Json>>) => Row[];
}
interface Row {
  item: string;
  figure: string;
  command: string;
  measured: string;
  goal: string;
  verdict: string;
  load: string;
}
/** The children's JSON lines, read as plain data (each benchmark's `--json` output; see its printJson call). */
type Json = any;

const n = (x: number, digits = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mib = (bytes: number): string => `${n(bytes / 1048576)} MiB`;
const loads = (a: number, b: number): string => `${a.toFixed(1)} → ${b.toFixed(1)}`;
const verdict = (ok: boolean): string => (ok ? '**met**' : '**missed**');
const GB = 1e9;

/** A fleet-child run of bench/fleet.bench.ts: the row's measured cell. */
const fleetMeasured = (r: Json): string => {
  const rate = r.machines / r.seconds;
  return (
    `${n(rate)} machines/s (${n(r.machines)} in ${n(r.seconds, 1)} s); ${n((r.seconds * r.threads * 1000) / r.machines, 2)} ms ` +
    `per machine per core (wall), CPU ${n((r.cpuSeconds * 1000) / r.machines, 2)} ms/machine; ` +
    `${n((100 * r.hits) / Math.max(1, r.hits + r.misses), 1)} % answered by an earlier profile; peak RSS ${mib(r.maxRssBytes)}; errors ${r.errors}`
  );
};
/** The batch output a fleet run wrote: the fleet format (msgpack), or with `output: 'jsonl'` the default one line per machine. */
const scanCommand = (fleet: string, extra = '', output = 'msgpack'): string =>
  `patchscan scan -c ${CATALOG} -i ${fleet.split('/').pop()} -o /dev/null${output === 'jsonl' ? '' : ' -f msgpack --no-reasons'} --threads ${THREADS}${extra}`;
const outputNamed = (r: Json): string => (r.output === 'jsonl' ? ', default output (one line per machine)' : '');

/** The rows of a batch-output run (item 1): one per format, this build's runs. */
function batchRows(out: Json): Row[] {
  const fleet = out.distinct > 0 ? `, ${out.distinct} % distinct` : '';
  return (out.runs as Json[])
    .filter((r) => r.build === 'this')
    .map((r) => ({
      item: '1',
      figure: `${{ default: 'default batch output (JSON Lines, one line per machine)', rows: '`-f rows` (default states: Required, Unknown)', parquet: '`-f parquet` (default states)' }[r.format as string] ?? r.what}, ${n(r.machines)} machines${fleet}`,
      command: `\`${(r.command as string)
        .replace(' -q', '')
        .replace('catalog.pscat', CATALOG)
        .replace('OUT', (r.format as string).startsWith('parquet') ? 'out.parquet' : 'out.jsonl')}\``,
      measured:
        `${n(r.seconds, 1)} s, ${n(r.machines / r.seconds)} machines/s, ${n(r.bytesWritten / 1e6, 1)} MB written ` +
        `(${n(r.bytesWritten / r.machines / 1e3, 1)} KB/machine), peak RSS ${mib(r.maxRssBytes)}; CPU ${n(r.cpuSeconds, 1)} s`,
      goal: 'peak RSS < 1 GB (10⁹ bytes)',
      verdict: verdict(r.maxRssBytes < GB),
      load: loads(r.loadStart, r.loadEnd),
    }));
}

/**
 * Item 4 on a SQLite site of `clients` clients. Run at two sizes: the queue run pays a fixed start (loading the
 * catalog in service, the stored diff, the first commit: ~0.3–0.4 s) that a small site's carry-over of ~4 ms a
 * client does not amortize, and the ratio grows with the site. The ratio is of medians (3 full rescans, 5 carry-overs,
 * each on a copy of the site as the sync left it): one full rescan of 300 clients moved 16.8–23.3 s from run to run
 * here, one carry-over 0.85–1.40 s.
 */
const SITE_REPEATS = ['--full-repeat', '3', '--repeat', '5'];
function siteStep(key: string, clients: number): Step {
  return {
    key,
    title: `item 4: the same on a SQLite site, ${n(clients)} clients`,
    script: 'site-carry-over.bench.js',
    args: ['--revisions', `${R}`, '--clients', `${clients}`, ...SITE_REPEATS],
    rows: (out) => [
      {
        item: '4',
        figure: `site: a sync's new catalog carried over vs full rescan, ${n(out.clients)} clients (SQLite), ${n(out.revisions)} revisions, ${out.percent} % edit`,
        command: `\`node dist/bench/site-carry-over.bench.js --revisions ${R} --clients ${out.clients} ${SITE_REPEATS.join(' ')}\``,
        measured:
          `full rescan ${n(out.fullSeconds, 2)} s (${n(out.fullScanned / out.fullSeconds)} clients/s), carry-over ${n(out.carrySeconds, 2)} s ` +
          `(${out.carried} carried): **${n(out.ratio, 1)} ×** (with the sync's carry-over step of ${n(out.prepareSeconds, 2)} s: ` +
          `${n(out.fullSeconds / (out.carrySeconds + out.prepareSeconds), 1)} ×); ${out.differ} clients' stored rows differ`,
        goal: '≥ 20 ×, 0 rows differ',
        verdict: verdict(out.ratio >= 20 && out.differ === 0),
        load: loads(out.loadStart, out.loadEnd),
      },
    ],
  };
}

const STEPS: Step[] = [
  {
    key: 'batch',
    title: `item 1: batch output, the first ${n(SIZES.batchMachines)} machines of a ${n(SIZES.batchClients)}-machine fleet`,
    script: 'batch-output.bench.js',
    args: [
      '--revisions',
      `${R}`,
      '--clients',
      `${SIZES.batchClients}`,
      '--machines',
      `${SIZES.batchMachines}`,
      '--formats',
      'default,reasons,rows,rows-reasons,parquet,parquet-reasons',
    ],
    rows: batchRows,
  },
  {
    key: 'batch-distinct',
    title: `item 1: batch output with reasons, ${n(SIZES.batchMachines)} machines each with a profile of its own`,
    script: 'batch-output.bench.js',
    args: ['--revisions', `${R}`, '--machines', `${SIZES.batchMachines}`, '--distinct', '100', '--formats', 'rows-reasons,parquet-reasons'],
    rows: batchRows,
  },
  {
    key: 'json',
    title: `item 2: JSON Lines vs msgpack input, ${n(SIZES.jsonClients)} machines`,
    script: 'fleet.bench.js',
    args: ['--revisions', `${R}`, '--hits-clients', `${SIZES.jsonClients}`, '--threads', `${THREADS}`, '--runs', 'hits,hits-jsonl'],
    rows: (out) => {
      const mp = (out.runs as Json[]).find((r) => r.key === 'hits' && r.build === 'this');
      const js = (out.runs as Json[]).find((r) => r.key === 'hits-jsonl' && r.build === 'this');
      const row = (r: Json, what: string): Row => ({
        item: '2',
        figure: `${n(r.machines)} machines from ${what}, \`-f msgpack --no-reasons\``,
        command: `\`${scanCommand(r.fleet)}\``,
        measured: fleetMeasured(r),
        goal: '—',
        verdict: '—',
        load: loads(r.loadStart, r.loadEnd),
      });
      const share = js.machines / js.seconds / (mp.machines / mp.seconds);
      return [
        row(mp, 'msgpack'),
        row(js, 'JSON Lines'),
        {
          item: '2',
          figure: 'JSON Lines ÷ msgpack, machines/s (the two rows above)',
          command: 'the two commands above',
          measured: `${n(share * 100, 1)} % (CPU per machine: msgpack ÷ JSON ${n(((mp.cpuSeconds / mp.machines) * 100) / (js.cpuSeconds / js.machines), 1)} %)`,
          goal: '≥ 80 %',
          verdict: verdict(share >= 0.8),
          load: loads(mp.loadStart, js.loadEnd),
        },
      ];
    },
  },
  {
    key: 'distinct',
    title: `item 3: 0, 10, 50, 100 % distinct fleets of ${n(SIZES.distinctClients)} machines; 0 and 100 % with --no-cache; 100 % in the default output`,
    script: 'fleet.bench.js',
    args: [
      '--revisions',
      `${R}`,
      '--clients',
      `${SIZES.distinctClients}`,
      '--threads',
      `${THREADS}`,
      '--runs',
      'd0,d10,d50,d100,d0-nocache,d100-nocache,d100-lines,d100-nocache-lines',
    ],
    rows: distinctRows,
  },
  {
    key: 'steady',
    title: `item 3 past the start: the same fleets grown to ${n(SIZES.steadyClients)} machines (100 % distinct; 0 and 100 % with --no-cache; 100 % in the default output)`,
    script: 'fleet.bench.js',
    args: [
      '--revisions',
      `${R}`,
      '--clients',
      `${SIZES.steadyClients}`,
      '--threads',
      `${THREADS}`,
      '--runs',
      'd100,d0-nocache,d100-nocache,d100-lines,d100-nocache-lines',
    ],
    rows: (out, earlier) => [...distinctRows(out), ...pastTheStartRows(out, earlier)],
  },
  {
    key: 'fleet-distinct',
    title: `item 3 at fleet scale: ${n(SIZES.fleetDistinctClients)} machines, 100 % distinct, the default output (a whole run, each worker's start included)`,
    script: 'fleet.bench.js',
    args: [
      '--revisions',
      `${R}`,
      '--clients',
      `${SIZES.fleetDistinctClients}`,
      '--threads',
      `${THREADS}`,
      '--runs',
      'd100-lines,d100-nocache-lines',
    ],
    rows: distinctRows,
  },
  {
    key: 'delta',
    title: `item 4: a new catalog (1 % edit) without a full rescan, engine, ${n(SIZES.deltaProfiles)} distinct profiles`,
    script: 'catalog-delta.bench.js',
    args: ['--revisions', `${R}`, '--profiles', `${SIZES.deltaProfiles}`],
    rows: (out) => [
      {
        item: '4',
        figure: `engine: carry-over vs full rescan, ${n(out.profiles)} distinct profiles, ${n(out.revisions)}-revision catalog, ${out.percent} % edit`,
        command: `\`node dist/bench/catalog-delta.bench.js --revisions ${R} --profiles ${out.profiles}\``,
        measured:
          `full rescan ${n(out.profiles / out.fullSeconds)} machines/s, carried over ${n(out.profiles / out.carrySeconds)} machines/s: ` +
          `**${n(out.ratio, 1)} ×** (with the one-off diff of ${n(out.diffSeconds * 1000)} ms: ${n(out.ratioWithDiff, 1)} ×; ` +
          `CPU ${n(out.cpuRatio, 1)} ×); ${out.differing} of ${n(out.profiles)} result sets differ from the full rescan`,
        goal: '≥ 20 ×, results identical',
        verdict: verdict(out.ratio >= 20 && out.differing === 0),
        load: loads(out.loadStart, out.loadEnd),
      },
    ],
  },
  siteStep('site', SIZES.siteClients),
  siteStep('site-large', SIZES.siteClientsLarge),
  {
    key: '1m',
    title: `the ${n(SIZES.bigClients)}-machine fleet (1M at full scale), msgpack in, fleet format out, no reasons`,
    script: 'scan.bench.js',
    args: ['--revisions', `${R}`, '--clients', `${SIZES.bigClients}`, '--threads', `${THREADS}`, '--decode', 'no', '--micro', 'no'],
    rows: (out) =>
      (out.fleets as Json[]).flatMap((f) =>
        (f.scans as Json[]).map((r): Row => {
          const rate = r.machines / r.seconds;
          const isOneMillion = f.clients === 1000000;
          return {
            item: '1M',
            figure: `${n(r.machines)} machines (${n(r.hitRate * 100, 1)} % answered by an earlier profile), ${r.threads} threads`,
            command: `\`${scanCommand(f.fleet)}\``,
            measured:
              `**${n(rate)} machines/s** (${n(r.seconds, 1)} s, CPU ${n(r.cpuSeconds, 1)} s); peak RSS ${mib(r.maxRssBytes)} ` +
              `(with a second pass over 2,000 machines for latency: p50 ${r.p50} µs, p99 ${r.p99} µs); errors ${r.errors}`,
            goal: 'no regression: ≥ 24,400 machines/s (recorded 24,409–29,579), peak RSS ≤ 794 MiB (recorded)',
            verdict: isOneMillion ? verdict(rate >= 24400 && r.maxRssBytes <= 794 * 1048576) : '— (not the 1M fleet)',
            load: loads(r.loadStart, r.loadEnd),
          };
        }),
      ),
  },
];

const only = arg('only', STEPS.map((s) => s.key).join(',')).split(',');
for (const k of only)
  if (!STEPS.some((s) => s.key === k)) throw new Error(`unknown --only entry ${k} (${STEPS.map((s) => s.key).join(', ')})`);
const steps = STEPS.filter((s) => only.includes(s.key));

const t0 = performance.now();
const clock = (): string => {
  const s = Math.round((performance.now() - t0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
const progress = (line: string): void => {
  process.stderr.write(`[issue-14 ${clock()}] ${line}\n`);
};
if (flag('inputs-only')) {
  // The same files, by the same helper and names, as the benchmarks below would generate on their first run.
  const work = join(process.cwd(), 'bench', '.work');
  mkdirSync(work, { recursive: true });
  const cat = benchCatalog(work, R);
  const catalog = lazyCatalog(cat);
  const want: [string, number, number, 'msgpack' | 'jsonl'][] = [
    ['batch', SIZES.batchClients, 0, 'jsonl'],
    ['batch-distinct', SIZES.batchMachines, 100, 'jsonl'],
    ['json', SIZES.jsonClients, 0, 'msgpack'],
    ['json', SIZES.jsonClients, 0, 'jsonl'],
    ...[0, 10, 50, 100].map((d): [string, number, number, 'msgpack'] => ['distinct', SIZES.distinctClients, d, 'msgpack']),
    ['steady', SIZES.steadyClients, 100, 'msgpack'],
    ['steady', SIZES.steadyClients, 0, 'msgpack'],
    ['fleet-distinct', SIZES.fleetDistinctClients, 100, 'msgpack'],
    ['1m', SIZES.bigClients, 0, 'msgpack'],
  ];
  for (const [step, clients, distinct, ext] of want) {
    if (!only.includes(step)) continue;
    progress(`input for ${step}: ${benchFleet(work, R, clients, distinct, ext, catalog)}`);
  }
  progress('inputs ready');
  process.exit(0);
}

const started = new Date();
const machine = `${machineLine()}; load average at start ${loadavg()
  .map((x) => x.toFixed(1))
  .join(' ')}`;
progress(`${machine}; scale ${scale}; ${steps.length} steps: ${steps.map((s) => s.key).join(', ')}`);

const rows: Row[] = [];
const outputs: Record<string, Json> = {};
const notes: string[] = [];
for (const [k, step] of steps.entries()) {
  const cmd = [join('dist', 'bench', step.script), ...step.args];
  progress(`step ${k + 1}/${steps.length}: ${step.title} — node ${cmd.join(' ')} --json`);
  const loadStart = load1();
  const t = performance.now();
  // The child's human lines (and its progress) go to our stderr; its one JSON line comes back on stdout.
  const r = spawnSync(process.execPath, [new URL(step.script, import.meta.url).pathname, ...step.args, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - t) / 1000;
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let out: Json;
  try {
    out = JSON.parse(last);
  } catch {
    out = undefined;
  }
  // A benchmark that finds results differing exits 1 but still prints its figures: the table shows them.
  if (out === undefined) {
    rows.push({
      item: step.key,
      figure: step.title,
      command: `\`node ${cmd.join(' ')}\``,
      measured: `**failed** (exit ${r.status ?? r.signal}${r.error ? `: ${r.error.message}` : ''}; see stderr)`,
      goal: '',
      verdict: '**failed**',
      load: loads(loadStart, load1()),
    });
  } else {
    try {
      rows.push(...step.rows(out, outputs));
      outputs[step.key] = out;
    } catch (e) {
      // A JSON line without the runs this row reads (a benchmark changed): say so instead of losing the other rows.
      rows.push({
        item: step.key,
        figure: step.title,
        command: `\`node ${cmd.join(' ')}\``,
        measured: `**unreadable output** (${(e as Error).message}): ${last.slice(0, 200)}`,
        goal: '',
        verdict: '**failed**',
        load: loads(loadStart, load1()),
      });
    }
  }
  notes.push(
    `- ${step.title}: \`node ${cmd.join(' ')}\` — ${n(seconds)} s including input generation, load ${loads(loadStart, load1())}, exit ${r.status ?? r.signal}`,
  );
  progress(`step ${k + 1}/${steps.length} done in ${n(seconds)} s (exit ${r.status ?? r.signal})`);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const table = [
  `Issue 14, every figure in one run (\`npm run bench:issue-14 -- --scale ${scale}\`${only.length < STEPS.length ? ` --only ${only.join(',')}` : ''}), ` +
    `${started.toISOString().slice(0, 16).replace('T', ' ')}–${new Date().toISOString().slice(11, 16)} UTC, ${clock()} in all.`,
  `Machine: ${machine}; load average at end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}.`,
  ...(scale === 'small' ? ["**Small scale: not the issue's sizes — a check that every row runs, not figures to quote.**"] : []),
  '',
  '| item | figure | command | measured | goal | met? | load (1 min) start → end |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${[r.item, r.figure, r.command, r.measured, r.goal, r.verdict, r.load].map(cell).join(' | ')} |`),
  '',
  "Each row's benchmark (inputs generated or reused under bench/.work/):",
  ...notes,
  '',
].join('\n');
process.stdout.write(table);
const work = join(process.cwd(), 'bench', '.work');
mkdirSync(work, { recursive: true });
const file = join(work, `issue-14-${scale}-${started.toISOString().replace(/[:.]/g, '-')}.md`);
writeFileSync(file, table);
progress(`table written to ${file}`);
