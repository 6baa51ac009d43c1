/**
 * Fleet speed as users run it (issue 14): the 50,000-revision catalog, fleets with 0, 10, 50 and 100 % of the
 * machines distinct (`corpus fleet --distinct`), msgpack and JSON Lines input, batch scan to /dev/null in the fleet
 * format without reasons (the `-lines` runs: in the default output, one line per machine), each run in a fresh process. With `--before DIR` (a build of an earlier commit, e.g.
 * `git worktree add /tmp/before <commit> && cd /tmp/before && npx tsc --outDir dist`), every run is repeated with
 * that build right after this one, so both see the same machine load: compare their ratio, not absolute figures.
 *
 *   node dist/bench/fleet.bench.js [--revisions 50000] [--clients 5000] [--hits-clients 20000] [--threads 2] [--before DIR]
 *                                  [--runs d0,d10,d50,d100,d100-jsonl,d0-nocache,d100-nocache,d100-lines,d100-nocache-lines,hits,hits-jsonl]
 *                                  [--json]
 *
 * `--runs` picks runs by key (default all, in that order: the --clients fleets by share distinct — the fleet
 * format, then the default output —, then the --hits-clients fleet with 0 % distinct). `--json`: the human lines go to stderr and one JSON line with every run's
 * figures to stdout (bench/issue-14.bench.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { arg, jsonOut, printJson, say } from './args.js';
import { benchCatalog, benchFleet, lazyCatalog, load1, machineLine } from './inputs.js';

const revisions = Number(arg('revisions', '50000'));
const clients = Number(arg('clients', '5000'));
const hitsClients = Number(arg('hits-clients', '20000'));
const threads = arg('threads', '2');
const before = arg('before', '');
const work = join(process.cwd(), 'bench', '.work');
mkdirSync(work, { recursive: true });
const MiB = 1048576;

say(
  `machine: ${machineLine()}, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
const cat = benchCatalog(work, revisions);
const catalog = lazyCatalog(cat);
const fleet = (n: number, distinct: number, ext: 'msgpack' | 'jsonl'): string => benchFleet(work, revisions, n, distinct, ext, catalog);

interface Run {
  /** The output format fleet-child wrote (absent from a build before it took one: the fleet format). */
  format?: string;
  seconds: number;
  cpuSeconds: number;
  machines: number;
  errors: number;
  hits: number;
  misses: number;
  maxRssBytes: number;
}
const child = (root: string, path: string, cache: boolean, output: 'msgpack' | 'jsonl'): Run =>
  JSON.parse(
    execFileSync(process.execPath, [join(root, 'bench', 'fleet-child.js'), cat, path, threads, cache ? '1' : '0', output], {
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

interface RunSpec {
  key: string;
  label: string;
  clients: number;
  distinct: number;
  input: 'msgpack' | 'jsonl';
  cache: boolean;
  /** The batch output: the fleet format (msgpack: every outcome), or the default one line per machine (jsonl). */
  output?: 'msgpack' | 'jsonl';
}
const ALL: RunSpec[] = [
  ...[0, 10, 50, 100].map((d): RunSpec => ({
    key: `d${d}`,
    label: `${clients} machines, ${d} % distinct, msgpack`,
    clients,
    distinct: d,
    input: 'msgpack',
    cache: true,
  })),
  { key: 'd100-jsonl', label: `${clients} machines, 100 % distinct, JSON Lines`, clients, distinct: 100, input: 'jsonl', cache: true },
  {
    key: 'd0-nocache',
    label: `${clients} machines, 0 % distinct, msgpack, --no-cache`,
    clients,
    distinct: 0,
    input: 'msgpack',
    cache: false,
  },
  {
    key: 'd100-nocache',
    label: `${clients} machines, 100 % distinct, msgpack, --no-cache`,
    clients,
    distinct: 100,
    input: 'msgpack',
    cache: false,
  },
  {
    key: 'd100-lines',
    label: `${clients} machines, 100 % distinct, msgpack, default output`,
    clients,
    distinct: 100,
    input: 'msgpack',
    cache: true,
    output: 'jsonl',
  },
  {
    key: 'd100-nocache-lines',
    label: `${clients} machines, 100 % distinct, msgpack, --no-cache, default output`,
    clients,
    distinct: 100,
    input: 'msgpack',
    cache: false,
    output: 'jsonl',
  },
  {
    key: 'hits',
    label: `${hitsClients} machines, 0 % distinct, msgpack`,
    clients: hitsClients,
    distinct: 0,
    input: 'msgpack',
    cache: true,
  },
  {
    key: 'hits-jsonl',
    label: `${hitsClients} machines, 0 % distinct, JSON Lines`,
    clients: hitsClients,
    distinct: 0,
    input: 'jsonl',
    cache: true,
  },
];
const keys = arg('runs', ALL.map((r) => r.key).join(',')).split(',');
for (const k of keys) if (!ALL.some((r) => r.key === k)) throw new Error(`unknown --runs entry ${k} (${ALL.map((r) => r.key).join(', ')})`);
const results: (RunSpec & Run & { build: 'this' | 'before'; fleet: string; threads: number; loadStart: number; loadEnd: number })[] = [];
/** A run in the output format `spec` names, or undefined when the build's fleet-child wrote another (one from before it took the format). */
const measure = (spec: RunSpec, path: string, build: 'this' | 'before', root: string): Run | undefined => {
  const loadStart = load1();
  const output = spec.output ?? 'msgpack';
  const r = child(root, path, spec.cache, output);
  if ((r.format ?? 'msgpack') !== output) return undefined;
  results.push({ ...spec, ...r, build, fleet: path, threads: Number(threads), loadStart, loadEnd: load1() });
  return r;
};
for (const spec of ALL.filter((r) => keys.includes(r.key))) {
  const path = fleet(spec.clients, spec.distinct, spec.input);
  say(`\n${spec.label} (${(statSync(path).size / MiB).toFixed(1)} MiB; load ${loadavg()[0]!.toFixed(1)})`);
  const builds: [string, 'this' | 'before', string][] = [
    ['this build', 'this', here],
    ...(before ? [['before', 'before', before] as [string, 'before', string]] : []),
  ];
  for (const [label, build, root] of builds) {
    const r = measure(spec, path, build, root);
    say(`  ${r ? line(label, r) : `${label}: not measured (its bench/fleet-child.js writes only the fleet format)`}`);
  }
}
if (jsonOut) printJson({ bench: 'fleet', machine: machineLine(), revisions, runs: results });
