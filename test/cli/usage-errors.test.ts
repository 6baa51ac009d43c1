/**
 * Usage errors through the real CLI (issue 11, item 9): a bad option value, an unknown command or option, a missing
 * argument is one line — `patchscan: BAD_ARGUMENT: …` naming the option (or command) and what is accepted — and
 * exit status 2; never a Node stack trace, never the root help with status 0. Help still exits 0.
 * And a directory that is not a site (item 15): every site command but `init` refuses it, suggests
 * `patchscan init`, and creates nothing. (`npm test` builds first.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../adapters/cli/main.js';
import { choice, nearest, nonNegativeInt, positiveInt } from '../../adapters/cli/commands/args.js';
import { Site } from '../../adapters/site/site.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';

const BIN = new URL('../../dist/adapters/cli/bin.js', import.meta.url).pathname;
const BUNDLED = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function environment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  delete clean.PATCHSCAN_DATA;
  delete clean.PATCHSCAN_DATABASE;
  return { ...clean, ...env };
}

function run(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: environment(env), timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The same, without blocking: the tables below run their processes a few at a time. */
function runAsync(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: environment({}),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let out = '',
      err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

const STACK = /^\s+at /m;

describe('usage errors exit 2 with one line naming the option and what is accepted', () => {
  const dir = tempDir();
  const site = join(dir, 'site');
  beforeAll(() => {
    const r = run(['init', '--data', site, '--test-computer', 'WS-0042'], dir);
    expect(r.code, r.err).toBe(0);
  });

  // [arguments, what stderr must say]; every case: exit 2, nothing on stdout, no stack trace.
  const s = (...args: string[]): string[] => [...args, '--data', 'site'];
  const cases: [string[], RegExp][] = [
    // Numbers: not a number, below, above, not whole.
    [s('report', 'stale', '--days', 'abc'), /^patchscan: BAD_ARGUMENT: --days "abc": give a whole number of days, from 0 to 36500\n$/],
    [s('report', 'stale', '--days', '-1'), /^patchscan: BAD_ARGUMENT: --days "-1": give a whole number of days/],
    [s('report', 'stale', '--days', '1.5'), /^patchscan: BAD_ARGUMENT: --days "1\.5": give a whole number of days/],
    [
      s('report', 'stale', '--days', '999999999'),
      /^patchscan: BAD_ARGUMENT: --days "999999999": give a whole number of days, from 0 to 36500/,
    ],
    [
      s('report', 'update', 'KB1', '--limit', 'abc'),
      /^patchscan: BAD_ARGUMENT: --limit "abc": give a whole number of machines, 0 or more\n$/,
    ],
    [s('sync', 'status', '-n', 'abc'), /^patchscan: BAD_ARGUMENT: --limit "abc": give a whole number of messages, 0 or more\n$/],
    [s('queue', 'status', '-n', 'abc'), /^patchscan: BAD_ARGUMENT: --limit "abc": give a whole number of jobs, 0 or more\n$/],
    [s('queue', 'status', '--limit', '1e3'), /^patchscan: BAD_ARGUMENT: --limit "1e3": give a whole number of jobs/],
    [s('worker', '--batch', '0'), /^patchscan: BAD_ARGUMENT: --batch "0": give a whole number of jobs, from 1 to 10000\n$/],
    [s('worker', '--batch', 'abc'), /^patchscan: BAD_ARGUMENT: --batch "abc": /],
    [s('worker', '--idle-ms', '0'), /^patchscan: BAD_ARGUMENT: --idle-ms "0": give a whole number of milliseconds, from 1 to 3600000\n$/],
    [
      s('worker', '--lease-seconds', '86400'),
      /^patchscan: BAD_ARGUMENT: --lease-seconds "86400": give a whole number of seconds, from 1 to 86399\n$/,
    ],
    [
      s('serve', '--listen', '127.0.0.1:99999'),
      /^patchscan: BAD_ARGUMENT: --listen "127\.0\.0\.1:99999": give host:port with a port from 0 to 65535/,
    ],
    [s('serve', '--listen', 'localhost'), /^patchscan: BAD_ARGUMENT: --listen "localhost": give host:port/],
    [
      ['scan', '-c', 'x.pscat', '--threads', 'many', 'pc.json'],
      /^patchscan: BAD_ARGUMENT: --threads "many": give a whole number of threads, from 0 to 1024\n$/,
    ],
    [
      ['corpus', 'catalog', '--revisions', 'abc', '--out', 'x.cab'],
      /^patchscan: BAD_ARGUMENT: --revisions "abc": give a whole number of revisions, at least 44\n$/,
    ],
    [
      ['corpus', 'catalog', '--revisions', '43', '--out', 'x.cab'],
      /^patchscan: BAD_ARGUMENT: --revisions "43": give a whole number of revisions, at least 44\n$/,
    ],
    [
      ['corpus', 'catalog', '--revisions', '100', '--seed', '-1', '--out', 'x.cab'],
      /^patchscan: BAD_ARGUMENT: --seed "-1": give a whole number, from 0 to 4294967295\n$/,
    ],
    [
      ['corpus', 'fleet', '-c', 'x.pscat', '--clients', '0', '-o', 'f.jsonl'],
      /^patchscan: BAD_ARGUMENT: --clients "0": give a whole number of machines, from 1 to 10000000\n$/,
    ],
    [['demo', '--clients', 'lots'], /^patchscan: BAD_ARGUMENT: --clients "lots": give a whole number of machines, 1 or more\n$/],
    // Names: update states in any case, but only those.
    [
      s('report', 'update', 'KB1', '--state', 'Missing'),
      /^patchscan: BAD_ARGUMENT: --state "Missing": give one of Installed, Required, NotApplicable, Unknown\n$/,
    ],
    [
      s('report', 'update', 'KB1', '--state', ''),
      /^patchscan: BAD_ARGUMENT: --state "": give one of Installed, Required, NotApplicable, Unknown\n$/,
    ],
    [
      s('report', 'computer', 'PC-1', '--state', 'missing'),
      /^patchscan: BAD_ARGUMENT: --state "missing": give one of Installed, Required, NotApplicable, Unknown\n$/,
    ],
    [s('report', 'cve', 'KB123'), /^patchscan: BAD_ARGUMENT: "KB123" is not a CVE id: give CVE-YYYY-NNNN\n$/],
    // Unknown commands: named, the nearest suggested, pointing at the help; never the root help with status 0.
    [['frobnicate'], /^patchscan: BAD_ARGUMENT: unknown command 'frobnicate'\nRun "patchscan --help" for the commands\.\n$/],
    [['wrker', '--help'], /^patchscan: BAD_ARGUMENT: unknown command 'wrker' \(did you mean 'worker'\?\)\n/],
    [['wrker'], /^patchscan: BAD_ARGUMENT: unknown command 'wrker' \(did you mean 'worker'\?\)\n/],
    [['help', 'wrker'], /^patchscan: BAD_ARGUMENT: unknown command 'wrker' \(did you mean 'worker'\?\)\n/],
    [['complience', 'PC-1'], /unknown command 'complience' \(did you mean 'compliance'\?\)/],
    [
      ['report', 'stal', '--days', '3'],
      /^patchscan: BAD_ARGUMENT: unknown command 'stal' of "patchscan report" \(did you mean 'stale'\?\)\nRun "patchscan report --help" for the commands\.\n$/,
    ],
    [['collection', 'lst'], /unknown command 'lst' of "patchscan collection" \(did you mean 'list'\?\)/],
    [['queue', 'stats'], /unknown command 'stats' of "patchscan queue" \(did you mean 'status'\?\)/],
    [['sync', 'stauts', '--data', 'site'], /^patchscan: BAD_ARGUMENT: unknown sync action "stauts"/],
    // Unknown options, missing arguments and options: commander's message, in the same form.
    [
      s('worker', '--batchh', '3'),
      /^patchscan: BAD_ARGUMENT: unknown option '--batchh' \(did you mean --batch\?\)\nRun "patchscan worker --help" for usage\.\n$/,
    ],
    [
      s('report', 'computer'),
      /^patchscan: BAD_ARGUMENT: missing required argument 'name'\nRun "patchscan report computer --help" for usage\.\n$/,
    ],
    [['corpus', 'catalog', '--revisions', '60'], /^patchscan: BAD_ARGUMENT: required option '-o, --out <file>' not specified\n/],
    // A misspelled required option is an unknown option, not a missing one (commander checks required ones first).
    [
      ['scan', '--catlog', 'c.pscat', 'pc.json'],
      /^patchscan: BAD_ARGUMENT: unknown option '--catlog' \(did you mean --catalog\?\)\nRun "patchscan scan --help" for usage\.\n$/,
    ],
    [
      ['corpus', 'catalog', '--revisions', '60', '--outt=x.cab'],
      /^patchscan: BAD_ARGUMENT: unknown option '--outt' \(did you mean --out\?\)\n/,
    ],
    [
      ['upload', '--sever', 'http://127.0.0.1:1', 'pc.json'],
      /^patchscan: BAD_ARGUMENT: unknown option '--sever' \(did you mean --server\?\)\n/,
    ],
    [
      ['upload', '--server', 'file:///etc/passwd', '--token', 'pst_x', join(FIXTURES, 'inventories', 'win10-22h2-x64.json')],
      /^patchscan: BAD_ARGUMENT: --server "file:\/\/\/etc\/passwd": give an http:\/\/ or https:\/\/ URL \(e\.g\. http:\/\/127\.0\.0\.1:8530\)\n$/,
    ],
    [
      ['corpus', 'fleet', '-c', 'c.pscat', '-n', '99999999999999', '-o', 'f.jsonl'],
      /^patchscan: BAD_ARGUMENT: --clients "99999999999999": give a whole number of machines, from 1 to 10000000\n/,
    ],
    [['report', 'stale', '--data', 'site', '--days'], /^patchscan: BAD_ARGUMENT: option '--days <n>' argument missing\n/],
    [s('worker', 'extra'), /^patchscan: BAD_ARGUMENT: too many arguments for 'worker'/],
  ];

  it.concurrent.for(cases)('patchscan %j', async ([args, err], { expect }) => {
    const r = await runAsync(args, dir);
    expect(r.err).toMatch(err);
    expect(r.err).not.toMatch(STACK);
    expect(r.code, r.err).toBe(2);
    expect(r.out).toBe('');
  });

  it("a group without its subcommand prints the group's help on stderr, exit 2", () => {
    const r = run(['report'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Usage: patchscan report \[options\] \[command\]/);
    expect(r.out).toBe('');
  });

  it("help still works and exits 0: --help, help COMMAND, COMMAND --help, a group's help, --version", () => {
    const root = run(['--help'], dir);
    expect(root.code).toBe(0);
    expect(root.out).toMatch(/^Usage: patchscan \[options\] \[command\]/);
    for (const args of [
      ['help', 'worker'],
      ['worker', '--help'],
      ['worker', '-h'],
    ]) {
      const r = run(args, dir);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      expect(r.out).toMatch(/^Usage: patchscan worker \[options\]/);
      expect(r.out).toContain('--batch <n>');
      expect(r.err).toBe('');
    }
    for (const args of [
      ['report', 'help', 'stale'],
      ['report', 'stale', '--help'],
      ['help', 'report'],
    ]) {
      const r = run(args, dir);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      expect(r.out).toMatch(/^Usage: patchscan report/);
    }
    expect(run(['--version'], dir)).toMatchObject({ code: 0, out: '0.1.0\n' });
    expect(existsSync(join(dir, 'patchscan-data'))).toBe(false); // help opens no site
  });

  it('good values still pass: 0 where 0 is allowed, surrounding blanks, state names in any case', () => {
    const stale = run(s('report', 'stale', '--days', '0', '--json'), dir);
    expect(stale.code, stale.err).toBe(0);
    expect(JSON.parse(stale.out)).toMatchObject({ total: 0 });
    expect(run(s('sync', 'status', '-n', '0'), dir)).toMatchObject({ code: 0 });
    expect(run(s('queue', 'status', '-n', '5'), dir)).toMatchObject({ code: 0 });
    expect(run(s('worker', '--once', '--batch', '3', '--idle-ms', '10', '--lease-seconds', '60'), dir)).toMatchObject({ code: 0 });
    // Parsed (not BAD_ARGUMENT): the command goes on to say there is no catalog in service yet.
    const u = run(s('report', 'update', 'KB1', '--state', 'required'), dir);
    expect(u.err).toBe('patchscan: NOT_FOUND: no update KB1 in the catalog in service\n');
  });

  it('the parsers: whole numbers in decimal digits only, names in any case, the nearest command', () => {
    expect(nonNegativeInt('--n')('0')).toBe(0);
    expect(nonNegativeInt('--n')(' 12 ')).toBe(12);
    for (const bad of ['', ' ', '-0', '+1', '0x10', '1e3', '1.0', 'Infinity', 'NaN', '9007199254740993'])
      expect(() => nonNegativeInt('--n')(bad), bad).toThrow(/^--n ".*": give a whole number, 0 or more$/);
    expect(() => positiveInt('--batch', 'jobs', 10)('11')).toThrow('--batch "11": give a whole number of jobs, from 1 to 10');
    const state = choice('--state', ['Installed', 'Required', 'NotApplicable', 'Unknown'] as const);
    expect(['required', 'REQUIRED', 'Required', 'notapplicable', ' unknown'].map(state)).toEqual([
      'Required',
      'Required',
      'Required',
      'NotApplicable',
      'Unknown',
    ]);
    expect(() => state('Missing')).toThrow('--state "Missing": give one of Installed, Required, NotApplicable, Unknown');
    expect(nearest('wrker', ['worker', 'serve', 'scan'])).toBe('worker');
    expect(nearest('sacn', ['worker', 'serve', 'scan'])).toBe('scan');
    expect(nearest('frobnicate', ['worker', 'serve', 'scan'])).toBeUndefined();
  });
});

describe('report update --state: state names in any case select the same machines', () => {
  const dir = tempDir();
  const site = join(dir, 'site');

  it('a scanned machine is listed under --state required, REQUIRED and Required alike', async () => {
    expect(run(['init', '--data', site, '--test-computer', 'WS-0042'], dir).code).toBe(0);
    const sync = run(['sync', '--data', site, '--source', BUNDLED], dir);
    expect(sync.code, sync.err).toBe(0);
    // The machine's inventory goes in as an upload would store it; then an expedited rescan scans it.
    const opened = await Site.open(site);
    try {
      await opened.store.enroll('WS-0042');
      const client = (await opened.store.client('WS-0042'))!;
      // Stored as the upload route stores it: msgpack.
      const inventory = JSON.parse(readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8')) as unknown;
      await opened.store.addInventory(client.id, new Packr({ useRecords: false }).pack(inventory), 'x64');
    } finally {
      await opened.close();
    }
    const re = run(['rescan', 'WS-0042', '--expedited', '--data', site], dir);
    expect(re.code, re.err).toBe(0);
    expect(re.out).toMatch(/^Scanned WS-0042 now/);
    const computer = JSON.parse(run(['report', 'computer', 'WS-0042', '--data', site, '--json'], dir).out) as {
      updates: { kb: string; state: string }[];
    };
    const kb = computer.updates.find((u) => u.state === 'Required' && u.kb)!.kb;
    const machines = (state: string): { total: number; items: { computer: string; state: string }[] } => {
      const r = run(['report', 'update', `KB${kb}`, '--state', state, '--data', site, '--json'], dir);
      expect(r.code, r.err).toBe(0);
      return (JSON.parse(r.out) as { machines: { total: number; items: { computer: string; state: string }[] } }).machines;
    };
    const required = machines('Required');
    expect(required.total).toBe(1);
    expect(required.items).toMatchObject([{ computer: 'WS-0042', state: 'Required' }]);
    expect(machines('required')).toEqual(required);
    expect(machines('REQUIRED')).toEqual(required);
    expect(machines('installed').total).toBe(0);
  }, 60_000);
});

describe('a directory that is not a site is refused, and nothing is created', () => {
  const dir = tempDir();
  const commands: string[][] = [
    ['compliance'],
    ['compliance', 'PC-1'],
    ['report', 'collections'],
    ['report', 'stale', '--days', '3'],
    ['serve', '--listen', '127.0.0.1:0'],
    ['worker', '--once'],
    ['sync'],
    ['sync', 'status'],
    ['client', 'list'],
    ['client', 'enroll', 'PC-1'],
    ['collection', 'list'],
    ['queue', 'status'],
    ['rescan', 'PC-1'],
    ['verify'],
    ['remove', '--yes'],
  ];

  it.concurrent.for(commands)('patchscan %s … --data typo', async (args, { expect }) => {
    const typo = join(dir, `typo-${args.join('-')}`);
    const r = await runAsync([...args, '--data', typo], dir);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toBe(
      `patchscan: NOT_FOUND: ${typo} is not a patchscan site (it does not exist): run ` +
        `"patchscan init --data ${typo}" to create one, or give --data the directory of ` +
        `an existing site\n`,
    );
    expect(r.out).toBe('');
    expect(existsSync(typo)).toBe(false);
  });

  it('the default directory (./patchscan-data) is not created either; an empty directory stays empty', () => {
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    const r = run(['compliance'], cwd);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^patchscan: NOT_FOUND: .*\/cwd\/patchscan-data is not a patchscan site \(it does not exist\): run "patchscan init --data patchscan-data"/,
    );
    expect(readdirSync(cwd)).toEqual([]);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const e = run(['report', 'collections', '--data', empty], dir);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/is not a patchscan site \(it has no patchscan\.json\): run "patchscan init --data /);
    expect(readdirSync(empty)).toEqual([]); // no patchscan.db
    // $PATCHSCAN_DATA is a --data like any other.
    const env = run(['client', 'list'], dir, { PATCHSCAN_DATA: join(dir, 'env-typo') });
    expect(env.code).toBe(2);
    expect(existsSync(join(dir, 'env-typo'))).toBe(false);
  });

  it('--database does not stand in for the site directory (a PostgreSQL URL is never contacted, its password never shown)', () => {
    for (const args of [['serve', '--listen', '127.0.0.1:0'], ['worker', '--once'], ['compliance']]) {
      const typo = join(dir, `pg-${args[0]}`);
      const r = run([...args, '--data', typo, '--database', 'postgres://u:s3cret@127.0.0.1:1/nope'], dir);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/^patchscan: NOT_FOUND: .* is not a patchscan site \(it does not exist\): run "patchscan init --data .*"/);
      expect(r.err).toContain('The database postgres://u:***@127.0.0.1:1/nope was not opened');
      expect(r.err).not.toContain('s3cret');
      expect(existsSync(typo)).toBe(false);
    }
    const file = join(dir, 'elsewhere.db');
    const r = run(['compliance', '--data', join(dir, 'sqlite-typo'), '--database', file], dir);
    expect(r.code).toBe(2);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(join(dir, 'sqlite-typo'))).toBe(false);
  });

  it("points at the demo's site when --data is the demo's directory", () => {
    const demo = join(dir, 'demo-data');
    expect(run(['init', '--data', join(demo, 'site')], dir).code).toBe(0);
    const r = run(['compliance', '--data', demo], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`; the demo's site is ${join(demo, 'site')} (--data ${join(demo, 'site')})`);
  });

  it('init still makes a site in a new directory, and the commands then work', () => {
    const fresh = join(dir, 'fresh');
    const i = run(['init', '--data', fresh], dir);
    expect(i.code, i.err).toBe(0);
    expect(existsSync(join(fresh, 'patchscan.json'))).toBe(true);
    const c = run(['compliance', '--data', fresh], dir);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/^Clients 0, scanned 0/);
  });
});

describe('--help of every site command', () => {
  const leaves = (c: Command): Command[] => (c.commands.length ? c.commands.flatMap(leaves) : [c]);
  const path = (c: Command): string => (c.parent ? `${path(c.parent)} ${c.name()}` : c.name());
  const siteCommands = leaves(buildProgram()).filter((c) => c.options.some((o) => o.long === '--data'));

  it('covers the site commands', () => {
    expect(siteCommands.map(path)).toEqual(
      expect.arrayContaining([
        'patchscan init',
        'patchscan serve',
        'patchscan worker',
        'patchscan compliance',
        'patchscan report stale',
        'patchscan client list',
        'patchscan collection list',
        'patchscan queue status',
        'patchscan sync',
      ]),
    );
  });

  it('mentions --data and --database', () => {
    for (const c of siteCommands) {
      const help = c.helpInformation();
      expect(help, path(c)).toMatch(/--data <dir>\s+the site directory/);
      expect(help, path(c)).toMatch(/--database <url\|file>\s+the site database: a SQLite file or\s+postgres:\/\//);
    }
    const worker = run(['worker', '--help'], tempDir());
    expect(worker.out).toContain('--database <url|file>');
  });
});
