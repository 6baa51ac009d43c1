/**
 * The command line as a user runs it: the built `patchscan` binary in a child process, real files, exit codes.
 * (`npm test` builds first.)
 */
import { SCAN_INDEX_VERSION } from '../../engine/catalog/scan-index.js';
import { scanScheme } from '../../engine/scanner/section-memo.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { Packr, Unpackr } from 'msgpackr';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCatalog } from '../../adapters/catalog/import.js';
import { generateCatalog, MIN_REVISIONS } from '../../corpus/generate-catalog.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { FIXTURES, tempDir } from '../helpers/tmp.js';
import { BIN, runCli, type CliRun } from '../helpers/serve.js';

const run = (args: string[], cwd?: string): CliRun => runCli(args, { cwd });

describe('patchscan CLI', () => {
  const dir = tempDir();

  it('--help teaches the commands and a typical session', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['cab', 'catalog', 'corpus', 'demo', 'scan', 'explain', 'manifest']) expect(r.out).toContain(cmd);
    expect(r.out).toContain('patchscan catalog import wsusscn2.cab --out catalog.pscat');
    expect(run(['catalog', 'import', '--help']).out).toMatch(/--out <file>/);
  });

  it('cab list and cab extract', () => {
    const cab = join(FIXTURES, 'cab', 'lzx-21.cab');
    const l = run(['cab', 'list', cab]);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/lzx\s+\| foldername\/somefile\.txt/);
    expect(JSON.parse(run(['cab', 'list', '--json', cab]).out).map((e: { name: string }) => e.name)).toEqual([
      'README.md',
      'foldername/somefile.txt',
    ]);
    const x = run(['cab', 'extract', cab, join(dir, 'x')]);
    expect(x.code).toBe(0);
    expect(x.out).toMatch(/Extracted 2 file\(s\)/);
    expect(readFileSync(join(dir, 'x', 'foldername', 'somefile.txt'), 'utf8').length).toBeGreaterThan(0);
  });

  it('a hostile cabinet fails with its code, a message naming the file, exit 2, nothing written', () => {
    const r = run(['cab', 'extract', join(FIXTURES, 'cab', 'cve-2015-4470-mszip-over-read.cab'), join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^patchscan: CAB_BAD_DATA: .*cve-2015-4470-mszip-over-read\.cab: data block 0/);
    expect(readdirSync(join(dir, 'bad'))).toEqual([]);
  });

  it('corpus catalog → catalog import → info → show, end to end', () => {
    const cab = join(dir, 'wsusscn2.cab');
    const g = run(['corpus', 'catalog', '--revisions', '800', '--seed', '5', '--out', cab]);
    expect(g.code, g.err).toBe(0);
    expect(g.out).toMatch(/800 revisions/);
    const out = join(dir, 'c.pscat');
    const i = run(['catalog', 'import', cab, '--out', out]);
    expect(i.code, i.err).toBe(0);
    expect(i.out).toMatch(/Imported 800 revisions/);
    expect(i.out).toMatch(/revisions\/s, [\d.]+ MiB of XML/);
    expect(i.err).toBe(''); // not a terminal: no progress bar noise

    const info = JSON.parse(run(['catalog', 'info', out, '--json']).out);
    expect(info.updates).toBe(800);
    expect(info.byType.Category).toBeGreaterThan(10);
    expect(info.byClassification['Security Updates']).toBeGreaterThan(0);
    expect(info.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.rules.types.WindowsVersion).toBeGreaterThan(0);
    expect(run(['catalog', 'info', out]).out).toMatch(/Rule types +And/);
    // The import stores the catalog's scan index (engine/catalog/scan-index.ts), and info says so.
    expect(info.scanIndex).toEqual({ version: SCAN_INDEX_VERSION, scheme: scanScheme(), preparedLeaves: expect.any(Number) });
    expect(info.scanIndex.preparedLeaves).toBeGreaterThan(100);
    expect(run(['catalog', 'info', out]).out).toMatch(
      /\nScan index +stored \(version \d+, scheme [0-9a-f]{12}; [\d,]+ rule leaves prepared\)/,
    );

    // Show a bundle by KB, then one of its children by UpdateId: the child carries the rules.
    const c = new Catalog(readCatalogFile(out));
    const bundle = c.data.indexes.byKb[0];
    const shown = run(['catalog', 'show', out, `KB${c.kb(bundle)}`]);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(c.title(bundle));
    const child = c.bundledUpdates(bundle)[0].members[0];
    const cs = run(['catalog', 'show', out, child.updateId]);
    expect(cs.out).toMatch(/Applicability rules:\n {2}IsInstalled:\n {4}\S/);
    expect(cs.out).toMatch(/Bundled by:\n {2}- \S+ KB\d+/);
  });

  it('corpus catalog writes exactly the revisions asked for, down to the smallest catalog; fewer is refused naming the minimum', () => {
    for (const n of [44, 60]) {
      const cab = join(dir, `small-${n}.cab`);
      const g = run(['corpus', 'catalog', '--revisions', String(n), '--out', cab]);
      expect(g.code, g.err).toBe(0);
      expect(g.out).toMatch(new RegExp(`: ${n} revisions \\(\\d+ bundles, 2[12] detectoids, 21 categories\\)`));
      if (n === 44) expect(g.out).toContain(': 44 revisions (1 bundles, ');
      const i = run(['catalog', 'import', cab, '--out', join(dir, `small-${n}.pscat`)]);
      expect(i.code, i.err).toBe(0);
      expect(i.out).toMatch(new RegExp(`^Imported ${n} revisions`));
    }
    const cab = join(dir, 'small-43.cab');
    const r = run(['corpus', 'catalog', '--revisions', '43', '--out', cab]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('patchscan: BAD_ARGUMENT: --revisions "43": give a whole number of revisions, at least 44\n');
    expect(existsSync(cab)).toBe(false);
    // The library refuses the same, with its reason.
    expect(() => generateCatalog({ revisions: 43, seed: 1, out: cab })).toThrow(
      /^revisions 43: give a whole number of at least 44 \(the category tree and detectoids take 42/,
    );
    expect(MIN_REVISIONS).toBe(44);
  });

  it('the generator never overshoots: every small count, and counts that used to come out one too many', () => {
    const sizes: [number, number][] = [
      ...Array.from({ length: 40 }, (_, k): [number, number] => [44 + k, 1 + (k % 3)]),
      [389, 9],
      [390, 2],
      [400, 5],
    ];
    for (const [n, seed] of sizes) {
      const cab = join(dir, `exact-${n}-${seed}.cab`);
      expect(generateCatalog({ revisions: n, seed, out: cab }).revisions, `${n} (seed ${seed})`).toBe(n);
      expect(importCatalog(cab, { out: join(dir, `exact-${n}-${seed}.pscat`) }).catalog.updates.count, `${n} (seed ${seed})`).toBe(n);
    }
  }, 60_000);

  it('catalog show prints one update with relations and rules', () => {
    const out = join(dir, 'fx.pscat');
    expect(run(['catalog', 'import', join(FIXTURES, 'wsusscn2', 'wsusscn2.cab'), '-o', out]).code).toBe(0);
    const s = run(['catalog', 'show', out, 'KB765432']);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^KB765432 {2}2020-09 Security Monthly Quality Rollup/);
    expect(s.out).toMatch(/Superseded by:\n {2}- 1c560bb8-276c-41ca-b597-35ae23bf424c KB876543 "Security Update for Windows 8/);
    expect(s.out).toMatch(/Supersedes:\n {2}- 906004e7-3aaa-4e87-8bd6-576c844d302b \(not in this catalog\)/);
    const j = JSON.parse(run(['catalog', 'show', out, '05a7711a-079e-4fbb-8d1a-9015c92a2ae0', '--json']).out);
    expect(j.kb).toBe('765432');
    const nf = run(['catalog', 'show', out, 'KB1']);
    expect(nf.code).toBe(2);
    expect(nf.err).toMatch(/^patchscan: NOT_FOUND: no update matches "KB1"/);
  });

  it('a missing input is an IO error with exit 1', () => {
    const r = run(['catalog', 'import', join(dir, 'nope.cab'), '--out', join(dir, 'n.pscat')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^patchscan: IO: cannot read .*nope\.cab: no such file or directory/);
    expect(existsSync(join(dir, 'n.pscat'))).toBe(false);
  });

  it('demo runs the main job on the bundled corpus', () => {
    const r = run(['demo', '--data-dir', join(dir, 'demo'), '--clients', '200']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Imported 3,000 revisions/);
    expect(r.out).toMatch(/\$ patchscan catalog show .* KB\d+/);
    expect(r.out).toMatch(/Scanned 200 machine\(s\) in [\d.]+ s .*; 0 error\(s\)/);
    expect(r.out).toMatch(/Most needed \(Required, not superseded\):\n {2}KB\d+/);
    expect(existsSync(join(dir, 'demo', 'catalog.pscat'))).toBe(true);
    expect(readFileSync(join(dir, 'demo', 'results.jsonl'), 'utf8').split('\n').length).toBeGreaterThan(200);
    // The site half: SQLite store, real upload server, the pilot, then every client.
    expect(r.out).toMatch(/\$ patchscan serve --data .*\nlistening on http:\/\/127\.0\.0\.1:\d+/);
    expect(r.out).toMatch(/50 accepted; scanned so far: 1 \(only the pre-production collection is targeted\)/);
    expect(r.out).toMatch(/now scanned 50 of 50 clients/);
    expect(existsSync(join(dir, 'demo', 'site', 'patchscan.db'))).toBe(true);
    // Running it again tells the same story on the same site.
    const again = run(['demo', '--data-dir', join(dir, 'demo'), '--clients', '200']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/All objects were already present/);
    expect(again.out).toMatch(/Sync unchanged/);
    expect(again.out).toMatch(/50 accepted; scanned so far: 1 /);
  }, 90_000); // two whole demos (import, batch scan, a site with a server): ~13 s on a quiet 2-core machine
});

describe('patchscan scan, explain, manifest', () => {
  const dir = tempDir();
  const catalog = join(dir, 'demo.pscat');
  const inventory = join(FIXTURES, 'inventories', 'win10-22h2-x64.json');
  const bundled = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

  it('scans an inventory: JSONL rows carry the documented fields; table, csv and json agree on the count', () => {
    expect(run(['catalog', 'import', bundled, '-o', catalog]).code).toBe(0);
    const r = run(['scan', '--catalog', catalog, inventory, '--format', 'jsonl']);
    expect(r.code, r.err).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length).toBeGreaterThan(50);
    for (const k of [
      'computer',
      'updateId',
      'revisionNumber',
      'kb',
      'title',
      'classification',
      'severity',
      'state',
      'superseded',
      'reason',
    ])
      expect(rows[0]).toHaveProperty(k);
    expect(new Set(rows.map((x) => x.computer))).toEqual(new Set(['WS-0042']));
    expect(rows.every((x) => x.state !== 'NotApplicable')).toBe(true);
    expect(rows.some((x) => x.state === 'Required' && x.superseded === false)).toBe(true);
    const csv = run(['scan', '-c', catalog, inventory, '--format', 'csv']).out.trim().split('\r\n');
    expect(csv[0]).toBe(
      'computer,updateId,revisionNumber,kb,title,classification,severity,type,isBundle,releaseDate,cves,moreInfoUrl,state,superseded,possiblySuperseded,reason',
    );
    expect(csv.length - 1).toBe(rows.length);
    expect(JSON.parse(run(['scan', '-c', catalog, inventory, '--format', 'json']).out)).toHaveLength(rows.length);
    expect(run(['scan', '-c', catalog, inventory]).out).toMatch(new RegExp(`${rows.length} row\\(s\\): `));
    const all = run(['scan', '-c', catalog, inventory, '--format', 'jsonl', '--all']).out.trim().split('\n');
    expect(all.length).toBe(3000);
  });

  it('writes rows to --out', () => {
    const out = join(dir, 'rows.csv');
    const r = run(['scan', '-c', catalog, inventory, '--format', 'csv', '--out', out]);
    expect(r.out).toMatch(/^Wrote \d+ row\(s\) for 1 inventory\(ies\) to /);
    expect(readFileSync(out, 'utf8')).toMatch(/^computer,updateId/);
  });

  it('explains one update as a tree with values and facts read', () => {
    const rows = run(['scan', '-c', catalog, inventory, '--format', 'jsonl'])
      .out.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kb: string; state: string; isBundle: boolean });
    const required = rows.find((x) => x.state === 'Required')!;
    const e = run(['explain', '-c', catalog, inventory, `KB${required.kb}`]);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/^WS-0042: KB\d+ /);
    expect(e.out).toMatch(/State {5}Required/);
    expect(e.out).toMatch(/Bundled updates:\n( {2}\[\w+\] .*\n)* {2}\[Required\]/);
    const child = JSON.parse(run(['explain', '-c', catalog, inventory, `KB${required.kb}`, '--json']).out) as {
      children: { updateId: string; state: string }[];
    };
    const c = run(['explain', '-c', catalog, inventory, child.children.find((x) => x.state === 'Required')!.updateId]);
    expect(c.out).toMatch(/IsInstalled:\n {2}\[False\] /);
    expect(c.out).toMatch(/← .*: /); // facts read, with the machine's values
  });

  it('a malformed inventory fails with INVENTORY_INVALID naming the field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        schema: 'patchscan-inventory/1',
        computer: { name: 'X' },
        collectedAt: '2026-01-01T00:00:00Z',
        os: { major: 'ten' },
      }),
    );
    const r = run(['scan', '-c', catalog, bad]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`patchscan: INVENTORY_INVALID: ${bad}: os.major: must be an integer from 0 to 4294967295, got "ten"\n`);
  });

  it('manifest lists exactly the facts the catalog asks for', () => {
    const m = JSON.parse(run(['manifest', catalog, '--json']).out);
    expect(m.schema).toBe('patchscan-manifest/1');
    expect(m.csidl).toEqual(['37', '38', '41']);
    expect(m.registryKeys.map((k: { key: string }) => k.key)).toContain(
      'HKEY_LOCAL_MACHINE\\software\\microsoft\\windows nt\\currentversion',
    );
    expect(m.msiProducts).toBe(true);
    expect(m.cbsPackages).toBe(true);
    expect(run(['manifest', catalog]).out).toMatch(/files +\d+ under CSIDL folders/);
  });
  it('standard output that cannot be written (a full disk: /dev/full) is one IO line and exit 1, never a stack trace', () => {
    if (!existsSync(catalog)) expect(run(['catalog', 'import', bundled, '-o', catalog]).code).toBe(0);
    const r = spawnSync('sh', ['-c', '"$1" "$2" scan -c "$3" "$4" > /dev/full', 'sh', process.execPath, BIN, catalog, inventory], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('patchscan: IO: cannot write to standard output: the disk is full\n');
    expect(r.status).toBe(1);
  });

  it('a cabinet on a pipe is refused as what it is (read by position), not as "no MSCF signature"', () => {
    const r = spawnSync('sh', ['-c', 'cat "$1" | "$2" "$3" cab list /dev/stdin', 'sh', bundled, process.execPath, BIN], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe(
      'patchscan: BAD_ARGUMENT: /dev/stdin: a cabinet is read by position, which a pipe cannot give: save it to a file first and give that file\n',
    );
    expect(r.status).toBe(2);
  });

  it('results written to a pipe whose reader stops early (-o /dev/stdout | head) end the scan quietly, exit 0', () => {
    if (!existsSync(catalog)) expect(run(['catalog', 'import', bundled, '-o', catalog]).code).toBe(0);
    const fleet = join(dir, 'pipe-fleet.jsonl');
    expect(run(['corpus', 'fleet', '-c', catalog, '-n', '400', '-o', fleet]).code).toBe(0);
    const status = join(dir, 'pipe-status');
    const r = spawnSync(
      'sh',
      [
        '-c',
        '("$1" "$2" scan -c "$3" -i "$4" -o /dev/stdout -q; echo $? > "$5") | head -c 100 > /dev/null',
        'sh',
        process.execPath,
        BIN,
        catalog,
        fleet,
        status,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(readFileSync(status, 'utf8').trim()).toBe('0');
  });

  it('a fleet (one inventory per line) given as one inventory is refused with a pointer to --inventories', () => {
    if (!existsSync(catalog)) expect(run(['catalog', 'import', bundled, '-o', catalog]).code).toBe(0);
    const fleet = join(dir, 'as-one.jsonl');
    expect(run(['corpus', 'fleet', '-c', catalog, '-n', '3', '-o', fleet]).code).toBe(0);
    const r = run(['scan', '-c', catalog, fleet]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^patchscan: INVENTORY_INVALID: .*\(line 2, column 1\) — one inventory per line is a fleet: "patchscan scan --inventories .*as-one\.jsonl" reads it\n$/,
    );
    // JSON that goes on within its first line is just not JSON: no such pointer.
    const bad = join(dir, 'trailing.json');
    writeFileSync(bad, '{"a":1} x');
    expect(run(['scan', '-c', catalog, bad]).err).not.toContain('--inventories');
  });
  it('a directory where a file is needed is one IO line and exit 1, never a stack trace, and leaves no file behind', () => {
    if (!existsSync(catalog)) expect(run(['catalog', 'import', bundled, '-o', catalog]).code).toBe(0);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    for (const args of [
      ['scan', '--catalog', catalog, folder],
      ['scan', '--catalog', catalog, inventory, '--out', folder],
      ['cab', 'list', folder],
      ['corpus', 'fleet', '--catalog', catalog, '--clients', '2', '--out', folder],
      ['upload', '--server', 'http://127.0.0.1:1', '--token', 'pst_x', folder],
    ]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(/^patchscan: IO: cannot \w+ .*it is a directory, where a file is needed\n$/);
      expect(r.err, args.join(' ')).toContain(folder);
    }
    expect(existsSync(`${folder}.tmp`)).toBe(false);
  });
});

describe('patchscan scan --inventories (batch) and corpus fleet', () => {
  const dir = tempDir();
  const catalog = join(dir, 'demo.pscat');
  const bundled = new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname;

  it(
    'generates a fleet, scans it through workers, writes one row per update (-f ' +
      'rows --states all --reasons) and a summary; a bad line is an error row',
    () => {
      expect(run(['catalog', 'import', bundled, '-o', catalog]).code).toBe(0);
      const fleet = join(dir, 'fleet.jsonl');
      const g = run(['corpus', 'fleet', '-c', catalog, '-n', '300', '-s', '2', '-o', fleet]);
      expect(g.code, g.err).toBe(0);
      expect(g.out).toMatch(/^Wrote .*fleet\.jsonl: 300 inventories/);
      // Corrupt one line: the batch must go on.
      const lines = readFileSync(fleet, 'utf8').split('\n');
      lines[10] = '{"schema":"patchscan-inventory/1","computer":{"name":"BROKEN"},"collectedAt":"nope"}';
      writeFileSync(fleet, lines.join('\n'));
      const out = join(dir, 'rows.jsonl');
      const r = run([
        'scan',
        '-c',
        catalog,
        '--inventories',
        fleet,
        '--out',
        out,
        '--threads',
        '2',
        '-f',
        'rows',
        '--states',
        'all',
        '--reasons',
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^Scanned 299 machine\(s\) in [\d.]+ s \(\d+ machines\/s, 2 worker thread\(s\)\); 1 error\(s\); results in /);
      expect(r.out).toMatch(
        /Updates: Required [\d,]+, Installed [\d,]+, Unknown [\d,]+; Required but superseded [\d,]+, possibly superseded [\d,]+/,
      );
      expect(r.out).toMatch(
        /Rule values: [1-9][\d.]* % of those the first machine of a profile needed came from machines with the same inventory sections/,
      );
      expect(r.out).toMatch(/Most needed \(Required, not superseded\):\n {2}KB\d+ {2}[\d,]+ machine\(s\)/);
      expect(r.out).toContain(`INVENTORY_INVALID: ${fleet}:11: collectedAt: must be an ISO 8601 date-time, got "nope"`);
      const rows = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows.filter((x) => x.error)).toEqual([
        {
          computer: null,
          source: `${fleet}:11`,
          error: { code: 'INVENTORY_INVALID', message: `${fleet}:11: collectedAt: must be an ISO 8601 date-time, got "nope"` },
        },
      ]);
      const ok = rows.filter((x) => !x.error);
      // Machines with nothing applicable have no rows; every row belongs to one of the 299 scanned machines.
      const computers = new Set(ok.map((x) => x.computer));
      expect(computers.size).toBeGreaterThan(200);
      expect(computers.size).toBeLessThanOrEqual(299);
      expect(computers.has('BROKEN')).toBe(false);
      for (const k of [
        'computer',
        'updateId',
        'revisionNumber',
        'kb',
        'title',
        'classification',
        'severity',
        'state',
        'superseded',
        'reason',
      ])
        expect(ok[0]).toHaveProperty(k);
    },
  );

  it('on a terminal (a real pty, script(1)), the progress line counts machines to the last one, with no percentage', () => {
    const fleet = join(dir, 'tty-fleet.jsonl');
    expect(run(['corpus', 'fleet', '-c', catalog, '-n', '300', '-s', '5', '-o', fleet]).code).toBe(0);
    const cmd = [process.execPath, BIN, 'scan', '-c', catalog, '--inventories', fleet, '-o', join(dir, 'tty.jsonl'), '--threads', '2']
      .map((a) => `'${a}'`)
      .join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    // Each redraw starts with a carriage return; the scan's lines of progress, in order.
    const lines = r.stdout.split(/[\r\n]/).filter((l) => l.startsWith('scanning'));
    expect(lines.length).toBeGreaterThan(1);
    // The input is a stream of unknown length: a percentage would read 100 % all along (it did, and stopped at 256).
    for (const l of lines) expect(l).not.toMatch(/%/);
    expect(lines.at(-1)).toMatch(/^scanning +300 in [\d.]+s(, [\d,.]+\/s)? +0 error\(s\)/);
  });

  it('the same batch in one thread, without reasons, as csv and msgpack, gives the same states', () => {
    const fleet = join(dir, 'fleet.jsonl');
    const csv = join(dir, 'rows.csv');
    expect(
      run([
        'scan',
        '-c',
        catalog,
        '-i',
        fleet,
        '-o',
        csv,
        '-f',
        'csv',
        '--states',
        'Installed,Required,Unknown',
        '--threads',
        '0',
        '--no-reasons',
      ]).code,
    ).toBe(0);
    const csvRows = readFileSync(csv, 'utf8').trim().split('\r\n');
    const jsonl = readFileSync(join(dir, 'rows.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { state?: string; error?: unknown });
    expect(csvRows.length - 1).toBe(jsonl.length);
    const states = (xs: string[]): Record<string, number> =>
      xs.reduce<Record<string, number>>((a, s) => ({ ...a, [s]: (a[s] ?? 0) + 1 }), {});
    expect(states(csvRows.slice(1).map((l) => (l.includes(',Error,') ? 'Error' : l.split(',').at(-4)!)))).toEqual(
      states(jsonl.map((x) => (x.error ? 'Error' : x.state!))),
    );
  });

  it('msgpack is the fleet format: each result set once, then one record per machine naming it', () => {
    const fleet = join(dir, 'fleet.jsonl');
    const mp = join(dir, 'rows.msgpack');
    const m = run(['scan', '-c', catalog, '-i', fleet, '-o', mp, '-f', 'msgpack', '--no-reasons']);
    expect(m.code, m.err).toBe(0);
    expect(m.out).toMatch(/^Scanned 299 machine/);
    const records = new Unpackr({ useRecords: false }).unpackMultiple(readFileSync(mp)) as Record<string, unknown>[];
    const sets = new Map<number, unknown[][]>();
    const fromMsgpack: string[] = [];
    for (const rec of records) {
      if (rec.updates) {
        expect(sets.has(rec.resultSet as number)).toBe(false); // written once
        sets.set(rec.resultSet as number, rec.updates as unknown[][]);
      } else if (rec.resultSet !== undefined) {
        const rows = sets.get(rec.resultSet as number);
        expect(rows, 'a result set is written before the first machine that names it').toBeDefined();
        for (const [updateId, state, superseded] of rows!)
          fromMsgpack.push(
            `${rec.computer as string} ${updateId as string} ${state as string} ${superseded === null ? 'possibly' : String(superseded)}`,
          );
      } else expect(rec.error).toMatchObject({ code: 'INVENTORY_INVALID' });
    }
    expect(records.filter((r) => r.computer !== undefined && r.resultSet !== undefined)).toHaveLength(299);
    expect(sets.size).toBeLessThan(299); // machines with the same profile share a set
    const jsonl = readFileSync(join(dir, 'rows.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((x) => !x.error);
    expect(fromMsgpack.sort()).toEqual(
      jsonl
        .map(
          (x) =>
            `${x.computer as string} ${x.updateId as string} ${x.state as string} ` +
            `${x.possiblySuperseded ? 'possibly' : String(x.superseded)}`,
        )
        .sort(),
    );
  });

  it('reads the same machines from a msgpack stream, a directory and standard input', () => {
    const fleet = join(dir, 'fleet.jsonl');
    const docs = readFileSync(fleet, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { computer: { name: string } })
      .filter((d) => d.computer.name !== 'BROKEN');
    const packr = new Packr({ useRecords: false });
    writeFileSync(join(dir, 'fleet.msgpack'), Buffer.concat(docs.map((d) => packr.pack(d))));
    const folder = join(dir, 'inbox');
    mkdirSync(folder);
    docs
      .slice(0, 20)
      .forEach((d, i) =>
        writeFileSync(join(folder, `${d.computer.name}.${i % 2 ? 'json' : 'msgpack'}`), i % 2 ? JSON.stringify(d) : packr.pack(d)),
      );
    const summary = (args: string[], input?: string): string => {
      const r = spawnSync(process.execPath, [BIN, 'scan', '-c', catalog, ...args, '--no-reasons', '-f', 'csv', '--states', 'all'], {
        encoding: 'utf8',
        input,
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      // Timing and the rule-value sharing rate depend on which thread scanned which batch; the results do not.
      return (
        r.stdout
          // Where the machines were scanned differs too: standard input's size is not known beforehand (defaultThreads).
          .replace(/ in [\d.]+ s \(\d+ machines\/s, (?:in the calling thread|\d+ worker thread\(s\))\)/, '')
          .replace(/results in \S+/, '')
          .replace(/^Rule values: .*\n/m, '')
      );
    };
    const fromJsonl = summary(['-i', fleet, '-o', join(dir, 'a.csv')]);
    expect(summary(['-i', join(dir, 'fleet.msgpack'), '-o', join(dir, 'b.csv')])).toBe(
      fromJsonl.replace('; 1 error(s)', '; 0 error(s)').replace(/Errors \(first 10\):\n.*\n?/, ''),
    );
    expect(readFileSync(join(dir, 'b.csv'), 'utf8')).toBe(
      readFileSync(join(dir, 'a.csv'), 'utf8')
        .split('\r\n')
        .filter((l) => !l.includes(',Error,'))
        .join('\r\n'),
    );
    expect(summary(['-i', '-', '-o', join(dir, 'c.csv')], readFileSync(fleet, 'utf8'))).toBe(fromJsonl.replaceAll(`${fleet}:`, 'stdin:'));
    // JSON Lines on standard input that open with a byte-order mark (as PowerShell 5.1 writes) or a blank line are
    // JSON Lines still, not a msgpack stream of garbage.
    for (const lead of ['\uFEFF', '\r\n'])
      expect(summary(['-i', '-', '-o', join(dir, 'c2.csv')], lead + readFileSync(fleet, 'utf8'))).toBe(
        fromJsonl
          .replaceAll(`${fleet}:`, 'stdin:')
          .replace(lead === '\r\n' ? /stdin:(\d+)/g : /$^/, (_m, n: string) => `stdin:${Number(n) + 1}`),
      );
    // Every inventory refused: exit 2, so that a script does not take the run for a success.
    writeFileSync(join(dir, 'bad.jsonl'), '{"a":1}\ngarbage\n');
    const bad = run(['scan', '-c', catalog, '-i', join(dir, 'bad.jsonl'), '-o', join(dir, 'bad.out'), '-q']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/Scanned 0 machine\(s\).*; 2 error\(s\)/);
    expect(bad.out).toContain('bad.jsonl:2: is neither a JSON object nor a msgpack map (it starts with byte 0x67, "g")');
    expect(readFileSync(join(dir, 'c.csv'), 'utf8').replaceAll('stdin:', 'x:')).toBe(
      readFileSync(join(dir, 'a.csv'), 'utf8').replaceAll(`${fleet}:`, 'x:'),
    );
    const d = summary(['-i', folder, '-o', join(dir, 'd.csv')]);
    expect(d).toMatch(/^Scanned 20 machine\(s\); 0 error\(s\);/);
    const names = new Set(
      readFileSync(join(dir, 'd.csv'), 'utf8')
        .trim()
        .split('\r\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    );
    expect([...names].sort()).toEqual(
      docs
        .slice(0, 20)
        .map((x) => x.computer.name)
        .filter((n) => names.has(n))
        .sort(),
    );
    expect(names.size).toBeGreaterThan(10);
    // A folder named like an inventory is passed over; a file that cannot be read (a dangling link) is its own error
    // row: the other machines are scanned and written, where one such entry used to end the batch with nothing.
    mkdirSync(join(folder, 'sub.json'));
    symlinkSync(join(dir, 'no-such-file'), join(folder, 'zz-dangling.json'));
    const e = summary(['-i', folder, '-o', join(dir, 'e.csv')]);
    expect(e).toMatch(/^Scanned 20 machine\(s\); 1 error\(s\);/);
    expect(e).toContain(`${join(folder, 'zz-dangling.json')} (unreadable: no such file or directory): has no bytes`);
  });

  it('a msgpack stream that stops making sense ends in one error row; what came before is scanned', () => {
    const good = readFileSync(join(dir, 'fleet.msgpack'));
    const cut = join(dir, 'cut.msgpack');
    writeFileSync(cut, good.subarray(0, Math.floor(good.length / 2)));
    const r = run(['scan', '-c', catalog, '-i', cut, '-o', join(dir, 'cut.jsonl'), '--no-reasons']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/; 1 error\(s\);/);
    expect(r.out).toMatch(/cut\.msgpack#\d+ \(the stream ends inside a document\)/);
    const garbage = join(dir, 'garbage.msgpack');
    writeFileSync(
      garbage,
      Buffer.concat([new Packr({ useRecords: false }).pack({ schema: 'patchscan-inventory/1' }), Buffer.from([0xc1, 1, 2, 3])]),
    );
    const g = run(['scan', '-c', catalog, '-i', garbage, '-o', join(dir, 'garbage.jsonl'), '--no-reasons']);
    expect(g.code, g.err).toBe(2); // every inventory refused
    expect(g.out).toMatch(/Scanned 0 machine\(s\) .*; 2 error\(s\);/);
    expect(g.out).toContain('byte 0xc1 does not start a msgpack value; the rest of the stream cannot be split');
    // A 0xc1 inside the second document: that document is the error (msgpackr alone would decode it, 0xc1 as an object),
    // named for what is wrong in it, not for its first byte; the first document is scanned.
    const inner = join(dir, 'inner.msgpack');
    const packr = new Packr({ useRecords: false });
    const first = readFileSync(join(FIXTURES, 'inventories', 'win10-22h2-x64.json'), 'utf8');
    writeFileSync(inner, Buffer.concat([packr.pack(JSON.parse(first)), Buffer.from([0x82, 0xa1, 0x61, 0xc1, 0xa1, 0x62, 0x01])]));
    const i = run(['scan', '-c', catalog, '-i', inner, '-o', join(dir, 'inner.jsonl'), '--no-reasons']);
    expect(i.out).toMatch(/Scanned 1 machine\(s\) .*; 1 error\(s\);/);
    expect(i.out).toContain(
      'inner.msgpack#2 (a 0xc1 byte (never used by msgpack) where a value should start inside this document; the rest of ' +
        'the stream cannot be split): not valid msgpack: a byte msgpack does not use (0xc1), or a header out of place',
    );
  });

  it('explains bad batch arguments', () => {
    expect(run(['scan', '-c', catalog, '-i', join(dir, 'fleet.jsonl')]).err).toMatch(
      /^patchscan: BAD_ARGUMENT: batch mode \(--inventories\) writes to a file: add --out FILE/,
    );
    expect(run(['scan', '-c', catalog, '-i', join(dir, 'nope.txt'), '-o', join(dir, 'x')]).err).toMatch(
      /^patchscan: IO: cannot read inventories from/,
    );
    expect(run(['scan', '-c', catalog]).err).toMatch(/^patchscan: BAD_ARGUMENT: give inventory files, or --inventories SOURCE/);
  });
});

describe('batch scan interrupted with SIGINT', () => {
  it('stops reading, finishes what is in flight, writes it out, reports, exits 130', async () => {
    const dir = tempDir();
    const catalog = join(dir, 'c.pscat');
    expect(run(['catalog', 'import', new URL('../../corpus/default/wsusscn2.cab', import.meta.url).pathname, '-o', catalog]).code).toBe(0);
    const fleet = join(dir, 'fleet.jsonl');
    expect(run(['corpus', 'fleet', '-c', catalog, '-n', '3000', '-o', fleet]).code).toBe(0);
    const out = join(dir, 'rows.jsonl');
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN, 'scan', '-c', catalog, '-i', fleet, '-o', out, '--threads', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Interrupt once results have started to land (in OUT.partial: OUT appears only when the batch ends).
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (existsSync(`${out}.partial`) && readFileSync(`${out}.partial`).length > 50_000) {
          expect(existsSync(out)).toBe(false);
          clearInterval(t);
          child.kill('SIGINT');
          resolve();
        }
      }, 20);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stdout).toMatch(/^Interrupted: Scanned (\d[\d,]*) machine\(s\)/);
    const scanned = Number(/Scanned ([\d,]+) machine/.exec(stdout)![1].replaceAll(',', ''));
    expect(scanned).toBeGreaterThan(0);
    expect(scanned).toBeLessThan(3000);
    // What was done is published under OUT, and every line written is whole JSON.
    expect(existsSync(`${out}.partial`)).toBe(false);
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    for (const l of lines) JSON.parse(l);
  }, 120_000);
});
