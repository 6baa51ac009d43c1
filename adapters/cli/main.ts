/**
 * The `patchscan` command line. Each command is a thin wrapper over the engine and adapters; errors with a
 * stable code are printed as `patchscan: CODE: message` and exit with status 2 (bad input) or 1 (I/O).
 */
import { Command, CommanderError } from 'commander';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { importCatalog, ImportPhase } from '../catalog/import.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { sharedCatalog } from '../../engine/pool/shared-catalog.js';
import { describeUpdate, formatSummary, formatUpdate, summarize } from '../../engine/catalog/describe.js';
import { readCatalogFile, readCatalogFileInPieces } from '../../engine/catalog/file.js';
import { ioError, PatchscanError } from '../../engine/errors.js';
import { generateCatalog, MIN_REVISIONS } from '../../corpus/generate-catalog.js';
import { BATCH_FORMATS, DEFAULT_ROW_STATES, ROW_FORMATS, type BatchFormat } from '../scan-output/batch-output.js';
import { STATES } from '../../engine/fleet/result-set.js';
import type { UpdateState } from '../../engine/scanner/machine-scan.js';
import { buildManifest, formatManifest } from '../../engine/eval/manifest.js';
import type { ScanRow } from '../../engine/scanner/scanner.js';
import { readInventoryFile } from '../inventory/read.js';
import { formatRows, type RowFormat } from '../scan-output/rows.js';
import { writeFileSync } from 'node:fs';
import { ProgressBar } from './progress.js';
import { nearest, nonNegativeInt, positiveInt, wholeNumber } from './commands/args.js';
import { addSiteCommands } from './commands/index.js';

import { BUNDLED_CORPUS } from './paths.js';

export { BUNDLED_CORPUS };

const PHASE_LABEL: Record<ImportPhase, string> = {
  hash: 'hashing',
  unpack: 'unpacking',
  package: 'package',
  fragments: 'fragments',
  compile: 'compiling',
  write: 'writing',
};

/** `--states all`: every state the scan reports (NotApplicable only with --all). */
const ALL_STATES: readonly UpdateState[] = [...STATES];

/** The batch formats an output file's extension names (`rows` has none of its own: .jsonl is one line per machine). */
const BATCH_BY_EXTENSION: readonly string[] = ['jsonl', 'csv', 'parquet', 'msgpack'];

/**
 * The format `out`'s extension names, of `known`, when --format is not given: `-o results.parquet` gets Parquet, not JSON
 * Lines in a file named .parquet (and `-o one.csv` CSV, not a text table).
 */
function formatOfOut(out: string | undefined, known: readonly string[]): string | undefined {
  const ext = out === undefined ? undefined : /\.([A-Za-z]+)$/.exec(out)?.[1]?.toLowerCase();
  return ext !== undefined && known.includes(ext) ? ext : undefined;
}

/** `--states Required,unknown` → the states, each named once; `all` is every state. */
function parseStates(raw: string): readonly UpdateState[] {
  const names = raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0]!.toLowerCase() === 'all') return ALL_STATES;
  const out: UpdateState[] = [];
  const bad = (why: string): PatchscanError =>
    new PatchscanError(
      'BAD_ARGUMENT',
      `--states ${JSON.stringify(raw)}: ${why}; give states from ${STATES.join(', ')} separated by commas, or all`,
      { option: '--states', value: raw },
    );
  for (const n of names) {
    const st = STATES.find((x) => x.toLowerCase() === n.toLowerCase());
    if (!st) {
      const near = nearest(n, STATES);
      throw bad(`${JSON.stringify(n)} is not a state${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (!out.includes(st)) out.push(st);
  }
  if (out.length === 0) throw bad('no state given');
  return out;
}

/** Seeds are 32-bit: the generators' PRNGs take seed >>> 0. */
const seed = (): ((raw: string) => number) => nonNegativeInt('--seed', '', 0xffff_ffff);

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function runImport(
  input: string,
  out: string,
  workDir: string | undefined,
  quiet: boolean,
  packages: readonly string[] = [],
): Promise<ReturnType<typeof importCatalog>> {
  const { importCatalog } = await import('../catalog/import.js');
  const bar = new ProgressBar(process.stderr, !quiet && process.stderr.isTTY === true);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  try {
    return importCatalog(input, {
      out,
      ...(workDir ? { workDir } : {}),
      ...(packages.length ? { packages } : {}),
      onProgress: (p) =>
        bar.update({ label: PHASE_LABEL[p.phase], done: p.done, total: p.total, unit: p.unit, ...(p.detail ? { detail: p.detail } : {}) }),
    });
  } finally {
    bar.done();
  }
}

function importReport(r: ReturnType<typeof importCatalog>, out: string): string {
  const s = r.catalog.stats;
  const mb = r.xmlBytes / 1048576;
  return [
    `Imported ${r.catalog.updates.count.toLocaleString('en-US')} revisions into ${out} in ${r.seconds.toFixed(2)} s`,
    `  ${(r.catalog.updates.count / r.seconds).toFixed(0)} revisions/s, ` +
      `${mb.toFixed(1)} MiB of XML at ${(mb / r.seconds).toFixed(1)} MiB/s, compiled ` +
      `size ${(r.outBytes / 1048576).toFixed(2)} MiB`,
    `  source SHA-256 ${r.catalog.source.sha256}`,
    ...(s.missingCore || s.orphanFragments
      ? [`  note: ${s.missingCore} update(s) without a core fragment, ${s.orphanFragments} fragment(s) for unknown revisions`]
      : []),
    ...(Object.keys(s.unsupportedRules).length
      ? [
          `  note: unsupported rule elements kept as Unknown: ${Object.entries(s.unsupportedRules)
            .map(([k, v]) => `${k} ×${v}`)
            .join(', ')}`,
        ]
      : []),
  ].join('\n');
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('patchscan')
    .description(
      'Answer, for whole fleets of Windows machines, which Microsoft updates each one ' +
        "has, needs, or does not need —\nfrom Microsoft's offline catalog " +
        '(wsusscn2.cab), compiled once and scanned fast.',
    )
    .version('0.1.0')
    .addHelpText(
      'after',
      `
Typical session:
  $ patchscan corpus catalog --revisions 5000 --seed 1 --out wsusscn2.cab   # or download Microsoft's wsusscn2.cab
  $ patchscan catalog import wsusscn2.cab --out catalog.pscat
  $ patchscan catalog info catalog.pscat
  $ patchscan catalog show catalog.pscat KB3090243
  $ patchscan manifest catalog.pscat --json > manifest.json           # what clients must collect
  $ patchscan scan --catalog catalog.pscat pc1.json                   # one row per update the machine has or needs
  $ patchscan explain --catalog catalog.pscat pc1.json KB3090243      # why, as a tree with the facts read
  $ patchscan corpus fleet --catalog catalog.pscat --clients 10000 --out fleet.jsonl
  $ patchscan scan --catalog catalog.pscat --inventories fleet.jsonl --out machines.jsonl     # one line per machine (docs/batch-output.md)

  $ patchscan demo        # import, show, and scan a generated fleet, on the bundled sample catalog

Site server (ITMU's workflow, one SQLite file):
  $ patchscan init --data site                      # database, programs, collections (pilot), admin token
  $ patchscan sync --data site --source ./catalog-folder     # or an https:// URL; daily under serve
  $ patchscan client enroll PC-0001 --data site     # prints the client's token
  $ patchscan serve --data site                     # uploads, scan queue, scheduled sync (127.0.0.1:8530)
  $ patchscan upload --server http://127.0.0.1:8530 --token T pc1.json [--expedited]
  $ patchscan compliance PC-0001 --data site
  $ patchscan collection unlimit "Microsoft Updates Tool" --data site   # leave the pilot: scan every client

Inventories are JSON or msgpack documents (docs/inventory.md); errors print "patchscan: CODE: message" and exit 2
(bad input) or 1 (a file-system or database problem); 3 is a check that found something to say (verify) or a
removal that only said what it would take (remove, client remove without --yes).`,
    );

  const cab = program.command('cab').description('read Microsoft cabinet files (stored, MSZIP, LZX)');
  cab
    .command('list')
    .description('list the files in a cabinet')
    .argument('<file>', 'cabinet file')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      const { CabReader } = await import('../cab/reader.js');
      const readers = CabReader.openAll(file);
      try {
        const rows = readers.flatMap((r) =>
          r.entries.map((e) => ({
            name: e.name,
            size: e.size,
            modified: e.modified.toISOString(),
            folder: e.folderIndex,
            method: r.directory.folders[e.folderIndex]?.method ?? 'unknown',
          })),
        );
        if (o.json) print(JSON.stringify(rows, null, 2));
        else {
          print(' File size | Modified             | Method | Name');
          print('-----------+----------------------+--------+-----');
          for (const e of rows)
            print(`${String(e.size).padStart(10)} | ${e.modified.slice(0, 19).replace('T', ' ')}  | ${e.method.padEnd(6)} | ${e.name}`);
          print(`\n${rows.length} file(s)`);
        }
      } finally {
        for (const r of readers) r.close();
      }
    });
  cab
    .command('extract')
    .description('extract every file of a cabinet into a directory (all or nothing; entry names cannot escape it)')
    .argument('<file>', 'cabinet file')
    .argument('<dir>', 'target directory (created if missing)')
    .action(async (file: string, dir: string) => {
      const { extractCab } = await import('../cab/extract.js');
      const bar = new ProgressBar();
      const total = statSync(file).size;
      try {
        const files = extractCab(file, dir, {
          onProgress: (name, bytes) =>
            bar.update({ label: 'extracting', done: Math.min(bytes, total), total, unit: 'bytes', detail: name }),
        });
        bar.done();
        print(`Extracted ${files.length} file(s), ${files.reduce((n, f) => n + f.size, 0).toLocaleString('en-US')} bytes, into ${dir}`);
      } finally {
        bar.done();
      }
    });

  const catalog = program.command('catalog').description('import and inspect compiled catalogs');
  catalog
    .command('import')
    .description('compile wsusscn2.cab (or a folder with its extracted contents) into a compact indexed catalog')
    .argument('<input>', 'wsusscn2.cab, or a folder holding index.xml, package.cab/package.xml and the range cabinets')
    .requiredOption('-o, --out <file>', 'compiled catalog to write (atomically)')
    .option('--work-dir <dir>', 'scratch directory for the unpacked cabinet (default: next to --out, removed afterwards)')
    .option('--package <file...>', "also compile third-party update packages (SCUP / WSUS local publishing .sdp.xml: a vendor's drivers)")
    .option('-q, --quiet', 'no progress bar')
    .action(async (input: string, o: { out: string; workDir?: string; package?: string[]; quiet?: boolean }) => {
      const r = await runImport(input, o.out, o.workDir, o.quiet === true, o.package ?? []);
      print(importReport(r, o.out));
      if (o.package?.length) print(`  with ${o.package.length} third-party package(s): ${o.package.join(', ')}`);
    });
  catalog
    .command('info')
    .description('summarize a compiled catalog: counts by type, classification and product, rule types, source hash')
    .argument('<file>', 'compiled catalog')
    .option('--json', 'print JSON')
    .action((file: string, o: { json?: boolean }) => {
      const c = new Catalog(readCatalogFile(file));
      const s = summarize(c);
      print(o.json ? JSON.stringify(s, null, 2) : formatSummary(s, file, statSync(file).size));
    });
  catalog
    .command('show')
    .description('show one update: identity, relations (prerequisites, bundle, supersedence) and its rules')
    .argument('<file>', 'compiled catalog')
    .argument('<query>', 'KB number (KB4577066 or 4577066), UpdateId, or RevisionId')
    .option('--json', 'print JSON')
    .option('--lang <language>', 'title language', 'en')
    .action((file: string, query: string, o: { json?: boolean; lang: string }) => {
      const c = new Catalog(readCatalogFile(file));
      const hits = c.find(query);
      if (hits.length === 0)
        throw new PatchscanError(
          'NOT_FOUND',
          `no update matches ${JSON.stringify(query)} in ${file} (try a KB number, an UpdateId or a RevisionId)`,
          { query },
        );
      const ds = hits.map((i) => describeUpdate(c, i, o.lang));
      print(o.json ? JSON.stringify(ds.length === 1 ? ds[0] : ds, null, 2) : ds.map(formatUpdate).join('\n\n' + '─'.repeat(60) + '\n\n'));
    });

  program
    .command('scan')
    .description(
      'scan inventories against a compiled catalog: one row per software update that ' +
        'is not NotApplicable; in batch mode (--inventories) one line per machine by default',
    )
    .requiredOption('-c, --catalog <file>', 'compiled catalog (patchscan catalog import)')
    .argument('[inventory...]', 'inventory files (JSON or msgpack, see docs/inventory.md)')
    .option(
      '-i, --inventories <source>',
      'batch mode: a directory, a .jsonl file, a .msgpack stream, or - (stdin); streamed through worker threads',
    )
    .option(
      '-f, --format <format>',
      `table | json | jsonl | csv; batch mode: ${BATCH_FORMATS.join(' | ')} (jsonl: one line per machine; docs/batch-output.md). ` +
        'Default: the one --out names by its extension (.csv, .parquet, .msgpack, .json, .jsonl), else table, or jsonl in batch mode',
    )
    .option('-o, --out <file>', 'write rows to a file (required in batch mode; written as FILE.partial and renamed when the batch ends)')
    .option(
      '-t, --threads <n>',
      'batch mode: worker threads (default: one per core, but none for an input of fewer than ~4,000 machines on 2 ' +
        'cores or fewer without --all or reasons on every row, where the pool costs more to start than it gives; ' +
        '0 = no workers; at most 1024)',
      nonNegativeInt('--threads', 'threads', 1024),
    )
    .option(
      '--states <list>',
      `batch row formats (rows, csv, parquet): the states written, comma-separated (` +
        `${STATES.join(', ')}, or all; default ${DEFAULT_ROW_STATES.join(',')})`,
      parseStates,
    )
    .option('--reasons', 'batch mode: a reason for each update written (each row; each update a machine line lists)')
    .option('--no-reasons', 'batch mode: no reasons (the default)')
    .option('--no-cache', 'batch mode: scan every machine, even when an identical one was just scanned')
    .option('--all', 'also NotApplicable updates, bundle children, detectoids and categories')
    .option('--lang <language>', 'title language', 'en')
    .option('-q, --quiet', 'no progress bar')
    .action(
      async (
        inventories: string[],
        o: {
          catalog: string;
          inventories?: string;
          format?: string;
          out?: string;
          threads?: number;
          states?: readonly UpdateState[];
          reasons?: boolean;
          cache: boolean;
          all?: boolean;
          lang: string;
          quiet?: boolean;
        },
      ) => {
        // A batch scans through worker threads: its catalog is read into the memory they share (one copy, not two).
        const batch = o.inventories !== undefined && o.threads !== 0;
        const data = await readCatalogFileInPieces(o.catalog);
        const catalog = batch ? sharedCatalog(data) : new Catalog(data);
        if (o.inventories !== undefined) {
          if (inventories.length > 0) throw new PatchscanError('BAD_ARGUMENT', 'give inventory files or --inventories, not both');
          if (!o.out) throw new PatchscanError('BAD_ARGUMENT', 'batch mode (--inventories) writes to a file: add --out FILE');
          const format = (o.format ?? formatOfOut(o.out, BATCH_BY_EXTENSION) ?? 'jsonl') as BatchFormat;
          if (!BATCH_FORMATS.includes(format))
            throw new PatchscanError(
              'BAD_ARGUMENT',
              `--format must be ${BATCH_FORMATS.join(', ')} in batch mode, not ${JSON.stringify(o.format)}`,
            );
          if (o.states && !ROW_FORMATS.includes(format))
            throw new PatchscanError(
              'BAD_ARGUMENT',
              `--states filters the row formats (${ROW_FORMATS.join(', ')}), not ${format}: add -f rows`,
            );
          if (o.states !== ALL_STATES && o.states?.includes('NotApplicable') && !o.all)
            throw new PatchscanError(
              'BAD_ARGUMENT',
              '--states NotApplicable needs --all (without it NotApplicable updates are not scanned for rows)',
            );
          const { formatBatchSummary, runBatchScan } = await import('./batch-scan.js');
          const summary = await runBatchScan({
            catalog,
            inventories: o.inventories,
            out: o.out,
            format,
            ...(o.threads !== undefined ? { threads: o.threads } : {}),
            reasons: o.reasons === true,
            cache: o.cache,
            all: o.all === true,
            ...(o.states ? { states: o.states } : {}),
            quiet: o.quiet === true,
          });
          print(formatBatchSummary(summary, o.out));
          if (summary.interrupted) process.exitCode = 130;
          // Every inventory refused: nothing was scanned, and a script must not take the run for a success. (Some
          // refused among scanned ones: the run did its job; each is an error record in the output and the summary.)
          else if (summary.machines > 0 && summary.scanned === 0) process.exitCode = 2;
          return;
        }
        if (inventories.length === 0) throw new PatchscanError('BAD_ARGUMENT', 'give inventory files, or --inventories SOURCE for a batch');
        if (o.states)
          throw new PatchscanError(
            'BAD_ARGUMENT',
            '--states filters batch output (--inventories); a scan of inventory files shows every state',
          );
        const format = o.format ?? formatOfOut(o.out, ['json', 'jsonl', 'csv']) ?? 'table';
        if (!['table', 'json', 'jsonl', 'csv'].includes(format))
          throw new PatchscanError('BAD_ARGUMENT', `--format must be table, json, jsonl or csv, not ${JSON.stringify(format)}`);
        const { Scanner } = await import('../../engine/scanner/scanner.js');
        const scanner = new Scanner(catalog);
        const rows: ScanRow[] = [];
        for (const path of inventories) rows.push(...scanner.scan(readInventoryFile(path), { all: o.all === true, language: o.lang }));
        const text = formatRows(rows, format as RowFormat);
        if (o.out) {
          writeFileSync(o.out, text);
          print(`Wrote ${rows.length} row(s) for ${inventories.length} inventory(ies) to ${o.out}`);
        } else process.stdout.write(text);
      },
    );
  program
    .command('explain')
    .description(
      "explain one update's state on one machine: prerequisites, bundled updates, every rule with its value and the facts it read",
    )
    .requiredOption('-c, --catalog <file>', 'compiled catalog')
    .argument('<inventory>', 'inventory file')
    .argument('<query>', 'KB number, UpdateId or RevisionId')
    .option('--json', 'print JSON')
    .action(async (inventory: string, query: string, o: { catalog: string; json?: boolean }) => {
      const { formatExplanation, Scanner } = await import('../../engine/scanner/scanner.js');
      const c = new Catalog(readCatalogFile(o.catalog));
      const hits = c.find(query);
      if (hits.length === 0) throw new PatchscanError('NOT_FOUND', `no update matches ${JSON.stringify(query)} in ${o.catalog}`, { query });
      const scanner = new Scanner(c);
      const inv = readInventoryFile(inventory);
      const es = hits.map((i) => scanner.explain(inv, i));
      print(o.json ? JSON.stringify(es.length === 1 ? es[0] : es, null, 2) : es.map(formatExplanation).join(`\n\n${'─'.repeat(60)}\n\n`));
    });
  program
    .command('manifest')
    .description("list exactly the facts this catalog's rules ask for, so a collector gathers only those")
    .argument('<catalog>', 'compiled catalog')
    .option('--json', "print the manifest as JSON (the collector's input)")
    .action((catalogPath: string, o: { json?: boolean }) => {
      const m = buildManifest(new Catalog(readCatalogFile(catalogPath)));
      print(o.json ? JSON.stringify(m, null, 2) : formatManifest(m));
    });

  const corpus = program.command('corpus').description('generate test corpora');
  corpus
    .command('catalog')
    .description('write a format-faithful wsusscn2.cab (outer CAB, index.xml, package.cab, range CABs; MSZIP), deterministic from the seed')
    .requiredOption(
      '-n, --revisions <n>',
      `total revisions, exactly (categories, detectoids, bundles, children; at least ${MIN_REVISIONS})`,
      wholeNumber('--revisions', { min: MIN_REVISIONS, unit: 'revisions' }),
    )
    .option('-s, --seed <n>', 'seed (0 to 4294967295)', seed(), 1)
    .requiredOption('-o, --out <file>', 'cabinet to write')
    .action((o: { revisions: number; seed: number; out: string }) => {
      const bar = new ProgressBar();
      mkdirSync(dirname(resolve(o.out)), { recursive: true });
      const t = performance.now();
      const g = generateCatalog({
        revisions: o.revisions,
        seed: o.seed,
        out: o.out,
        onProgress: (d, n) => bar.update({ label: 'generating', done: d, total: n, unit: 'items' }),
      });
      bar.done();
      print(
        `Wrote ${o.out}: ${g.revisions.toLocaleString('en-US')} revisions (${g.bundles} ` +
          `bundles, ${g.detectoids} detectoids, ${g.categories} categories), ${g.rangeCabs}` +
          ` range cabinet(s), ${(g.bytes / 1048576).toFixed(2)} MiB, in ` +
          `${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    });

  corpus
    .command('fleet')
    .description(
      'write heterogeneous inventories that exercise a catalog (OS builds, ' +
        'architectures, patch levels, products, languages, missing facts); streaming, deterministic',
    )
    .requiredOption('-c, --catalog <file>', 'compiled catalog the fleet should exercise')
    // 10 million machines is ~35 GB of JSON Lines: a typo's extra digits should not fill the disk.
    .requiredOption(
      '-n, --clients <n>',
      'number of machines (at most 10,000,000: ~35 GB)',
      positiveInt('--clients', 'machines', 10_000_000),
    )
    .option('-s, --seed <n>', 'seed (0 to 4294967295)', seed(), 1)
    .requiredOption('-o, --out <file>', '.jsonl (one JSON inventory per line) or .msgpack (a msgpack stream)')
    .option(
      '--distinct <percent>',
      'share of machines (0 to 100) with a profile of their own: product, Office, .NET and driver versions drifting machine to machine',
      nonNegativeInt('--distinct', 'percent', 100),
      0,
    )
    .action(async (o: { catalog: string; clients: number; seed: number; out: string; distinct: number }) => {
      const { generateFleet } = await import('../../corpus/generate-fleet.js');
      const bar = new ProgressBar();
      const t = performance.now();
      mkdirSync(dirname(resolve(o.out)), { recursive: true });
      const r = generateFleet(new Catalog(readCatalogFile(o.catalog)), {
        clients: o.clients,
        seed: o.seed,
        out: o.out,
        distinct: o.distinct,
        onProgress: (d, n) => bar.update({ label: 'fleet', done: d, total: n, unit: 'items' }),
      });
      bar.done();
      print(
        `Wrote ${o.out}: ${r.clients.toLocaleString('en-US')} inventories, ` +
          `${(r.bytes / 1048576).toFixed(1)} MiB, in ` +
          `${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    });

  program
    .command('demo')
    .description(
      'the main job on the bundled sample: import it, scan a generated fleet in ' +
        'batch, then run a site (SQLite store, sync, the upload server on loopback) and ' +
        'show compliance',
    )
    .option(
      '--data-dir <dir>',
      'a folder for all the demo makes: the compiled catalog, the fleet, the results, and the site in DIR/site ' +
        '(the folder other commands take as --data, e.g. "patchscan report collections --data DIR/site")',
      'patchscan-data',
    )
    .option('-n, --clients <n>', 'machines in the sample fleet', positiveInt('--clients', 'machines'), 1000)
    .action(async (o: { dataDir: string; clients: number }) => {
      if (!existsSync(BUNDLED_CORPUS))
        throw new PatchscanError('CATALOG_MISSING_FILE', `bundled corpus ${BUNDLED_CORPUS} is missing; reinstall patchscan`);
      const { generateFleet } = await import('../../corpus/generate-fleet.js');
      const { formatBatchSummary, runBatchScan } = await import('./batch-scan.js');
      const { siteDemo } = await import('./site-demo.js');
      const out = join(o.dataDir, 'catalog.pscat');
      const r = await runImport(BUNDLED_CORPUS, out, undefined, false);
      print(importReport(r, out));
      print('');
      const c = new Catalog(readCatalogFile(out));
      print(formatSummary(summarize(c), out, statSync(out).size));
      const sample = c.data.indexes.byKb[Math.floor(c.data.indexes.byKb.length / 2)];
      if (sample !== undefined) {
        print(`\n${'─'.repeat(60)}\n$ patchscan catalog show ${out} KB${c.kb(sample)}\n`);
        print(formatUpdate(describeUpdate(c, sample)));
      }
      const fleet = join(o.dataDir, 'fleet.jsonl');
      const results = join(o.dataDir, 'results.jsonl');
      print(`\n${'─'.repeat(60)}\n$ patchscan corpus fleet --catalog ${out} --clients ${o.clients} --out ${fleet}`);
      const g = generateFleet(c, { clients: o.clients, seed: 1, out: fleet });
      print(`Wrote ${fleet}: ${g.clients.toLocaleString('en-US')} inventories`);
      print(`\n$ patchscan scan --catalog ${out} --inventories ${fleet} --out ${results}`);
      const summary = await runBatchScan({ catalog: c, inventories: fleet, out: results, format: 'jsonl', reasons: true, all: false });
      print(formatBatchSummary(summary, results));
      await siteDemo(join(o.dataDir, 'site'), fleet, Math.min(o.clients, 50), print);
    });
  addSiteCommands(program);
  usageErrors(program);
  return program;
}

const commandPath = (c: Command): string => (c.parent ? `${commandPath(c.parent)} ${c.name()}` : c.name());

/**
 * Usage errors (unknown commands and options, missing arguments, bad values) print one line,
 * `patchscan: BAD_ARGUMENT: …`, and a pointer to the command's help, and exit with status 2 — not the whole help,
 * not a stack trace. Help and --version exit 0. Applied to every command: commander copies these settings only to
 * commands made after them.
 */
function usageErrors(c: Command): void {
  const path = commandPath(c);
  c.exitOverride()
    .showHelpAfterError(false)
    .showSuggestionAfterError(true)
    .configureOutput({
      outputError: (text, write) => {
        // commander: "error: unknown option '--batchh'\n(Did you mean --batch?)\n"
        const [first = '', ...rest] = text
          .trim()
          .replace(/^error: /, '')
          .split('\n');
        const hint = rest.map((l) => l.replace(/^\(Did you mean (.*)\?\)$/, '(did you mean $1?)')).join(' ');
        write(`patchscan: BAD_ARGUMENT: ${first}${hint ? ` ${hint}` : ''}\nRun "${path} --help" for usage.\n`);
      },
    });
  for (const sub of c.commands) usageErrors(sub);
}

/**
 * Commander answers `patchscan wrker --help` with the root's help (exit 0) and `patchscan help wrker` with the
 * root's help on stderr: a mistyped command is found here first, along the command path, and named.
 */
function checkCommandPath(program: Command, args: readonly string[]): void {
  let c = program;
  for (let i = 0; i < args.length && c.commands.length > 0; i++) {
    const a = args[i]!;
    if (a.startsWith('-')) return checkMandatoryCommand(c, args.slice(i)); // other options (--help, --version, …) are commander's
    const isHelp = a === 'help' && !c.commands.some((x) => x.name() === 'help');
    const name = isHelp ? args[i + 1] : a;
    if (name === undefined || name.startsWith('-')) return;
    const sub = c.commands.find((x) => x.name() === name || x.aliases().includes(name));
    if (!sub) {
      const names = c.commands.flatMap((x) => [x.name(), ...x.aliases()]);
      const near = nearest(name, names);
      process.stderr.write(
        `patchscan: BAD_ARGUMENT: unknown command '${name}'` +
          `${c === program ? '' : ` of "${commandPath(c)}"`}` +
          `${near ? ` (did you mean '${near}'?)` : ''}\nRun "${commandPath(c)} --help" for ` +
          `the commands.\n`,
      );
      throw new CommanderError(2, 'commander.unknownCommand', `unknown command '${name}'`);
    }
    if (isHelp) return;
    c = sub;
    if (c.commands.length === 0) return checkMandatoryCommand(c, args.slice(i + 1));
  }
}

/**
 * Commander checks a command's required options before its unknown ones: `scan --catlog x` said "required option
 * '-c, --catalog <file>' not specified". For a command with required options, an unknown long option is named first,
 * with the nearest known one, as commander names it for any other command.
 */
function checkMandatoryCommand(c: Command, args: readonly string[]): void {
  if (!c.options.some((o) => o.mandatory)) return;
  const known = ['--help', ...c.options.flatMap((o) => (o.long ? [o.long] : []))];
  for (const a of args) {
    if (a === '--') return;
    if (!a.startsWith('--')) continue;
    const name = a.split('=')[0]!;
    if (known.includes(name)) continue;
    const near = nearest(name, known);
    process.stderr.write(
      `patchscan: BAD_ARGUMENT: unknown option '${name}'${near ? ` (did you mean ${near}?)` : ''}\n` +
        `Run "${commandPath(c)} --help" for usage.\n`,
    );
    throw new CommanderError(2, 'commander.unknownOption', `unknown option '${name}'`);
  }
}

export async function main(argv: string[]): Promise<void> {
  try {
    const program = buildProgram();
    checkCommandPath(program, argv.slice(2));
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Printed already (help, version, or the usage error above); help and version are not errors.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    // Results written to a pipe whose reader stopped (`-o /dev/stdout | head`): the reader's choice, not an error,
    // as a closed standard output is (bin.ts).
    if (PatchscanError.is(e, 'IO') && e.details.syscode === 'EPIPE') return;
    if (PatchscanError.is(e)) {
      process.stderr.write(`patchscan: ${e.code}: ${e.message}\n`);
      process.exitCode = e.code === 'IO' || e.code === 'STORE_UNAVAILABLE' ? 1 : 2; // 1: the system (files, the database), 2: the input
      return;
    }
    // A file-system error a command did not wrap (a directory where a file is needed, a path through a file): the
    // same one line as a wrapped one, never a stack trace. Anything else is a bug, and its trace is what to report.
    const sys = e as NodeJS.ErrnoException;
    if (e instanceof Error && typeof sys.syscall === 'string' && typeof sys.code === 'string') {
      const io = ioError(sys.syscall, sys.path ?? 'a file', e);
      process.stderr.write(`patchscan: ${io.code}: ${io.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}
