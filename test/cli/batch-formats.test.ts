/**
 * The batch output formats as a user gets them from the built binary: the default one line per machine (checked
 * against its JSON schema and against an in-process scan of each inventory), one row per update filtered by
 * --states, CSV, and Parquet read back by an independent reader (DuckDB) row for row equal to the JSON Lines rows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { Scanner, type ScanRow } from '../../engine/scanner/scanner.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli, type CliRun } from '../helpers/serve.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BUNDLED = join(ROOT, 'corpus/default/wsusscn2.cab');

const run = (args: string[]): CliRun => runCli(args, { timeout: 120_000 });

const readLines = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

interface MachineLine {
  computer: string | null;
  source: string;
  counts?: Record<string, number>;
  required?: { kb: string; updateId: string; reason?: string }[];
  possiblySuperseded?: { kb: string; updateId: string; reason?: string }[];
  unknown?: { kb: string; updateId: string; reason?: string }[];
  error?: { code: string; message: string };
}

describe('batch output formats', () => {
  const dir = tempDir();
  const catalogFile = join(dir, 'c.pscat');
  const fleet = join(dir, 'fleet.jsonl');
  const BAD_LINE = 7;
  let catalog: Catalog;
  /** The reference: each good line of the fleet scanned in this process by the plain Scanner (no pool, no writer). */
  let reference: Map<string, ScanRow[]>;

  beforeAll(() => {
    expect(run(['catalog', 'import', BUNDLED, '-o', catalogFile]).code).toBe(0);
    expect(run(['corpus', 'fleet', '-c', catalogFile, '-n', '150', '-s', '3', '-o', fleet]).code).toBe(0);
    const lines = readFileSync(fleet, 'utf8').split('\n');
    lines[BAD_LINE - 1] = '{"schema":"patchscan-inventory/1","computer":{"name":"BROKEN"},"collectedAt":"nope"}';
    writeFileSync(fleet, lines.join('\n'));
    catalog = new Catalog(readCatalogFile(catalogFile));
    const scanner = new Scanner(catalog);
    reference = new Map();
    lines.forEach((l, k) => {
      if (l.trim() === '' || k === BAD_LINE - 1) return;
      const inv = decodeInventory(Buffer.from(l), `line ${k + 1}`);
      reference.set(`${fleet}:${k + 1}`, scanner.scan(inv));
    });
  }, 120_000);

  it('default: one line per machine, valid against docs/batch-machine.schema.json, equal to an in-process scan', () => {
    const out = join(dir, 'machines.jsonl');
    const r = run(['scan', '-c', catalogFile, '-i', fleet, '-o', out, '--threads', '2']);
    expect(r.code, r.err).toBe(0);
    const lines = readLines<MachineLine>(out);
    expect(lines).toHaveLength(150);
    const ajv = new Ajv2020({ allErrors: true, formats: { uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i } });
    const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'docs/batch-machine.schema.json'), 'utf8')) as object);
    for (const l of lines) expect(validate(l), JSON.stringify(validate.errors)).toBe(true);
    const message = `${fleet}:${BAD_LINE}: collectedAt: must be an ISO 8601 date-time, got "nope"`;
    expect(lines[BAD_LINE - 1]).toEqual({ computer: null, source: `${fleet}:${BAD_LINE}`, error: { code: 'INVENTORY_INVALID', message } });
    let listed = 0;
    for (const l of lines.filter((x) => !x.error)) {
      const rows = reference.get(l.source)!;
      const pick = (x: ScanRow): { kb: string; updateId: string } => ({ kb: x.kb, updateId: x.updateId });
      // The counting rule, written out from the rows' fields.
      const required = rows.filter((x) => x.state === 'Required' && !x.superseded && !x.possiblySuperseded);
      const possibly = rows.filter((x) => x.state === 'Required' && x.possiblySuperseded);
      const unknown = rows.filter((x) => x.state === 'Unknown');
      expect(l.required).toEqual(required.map(pick));
      expect(l.possiblySuperseded).toEqual(possibly.map(pick));
      expect(l.unknown).toEqual(unknown.map(pick));
      expect(l.counts).toEqual({
        installed: rows.filter((x) => x.state === 'Installed').length,
        required: required.length,
        superseded: rows.filter((x) => x.state === 'Required' && x.superseded).length,
        possiblySuperseded: possibly.length,
        unknown: unknown.length,
      });
      listed += required.length + possibly.length + unknown.length;
    }
    expect(listed).toBeGreaterThan(100); // the fleet needs updates: the comparison compared something
    // The summary counts the same machines.
    expect(r.out).toMatch(/^Scanned 149 machine\(s\) .*; 1 error\(s\)/);
  });

  it('--reasons: each listed update carries the reason an in-process scan gives; --all adds notApplicable', () => {
    const out = join(dir, 'machines-reasons.jsonl');
    expect(run(['scan', '-c', catalogFile, '-i', fleet, '-o', out, '--reasons', '--threads', '1']).code).toBe(0);
    let reasons = 0;
    for (const l of readLines<MachineLine>(out).filter((x) => !x.error)) {
      const rows = reference.get(l.source)!;
      const byId = new Map(rows.map((x) => [x.updateId, x.reason]));
      for (const u of [...l.required!, ...l.possiblySuperseded!, ...l.unknown!]) {
        expect(u.reason).toBe(byId.get(u.updateId));
        expect(u.reason).not.toBe('');
        reasons++;
      }
    }
    expect(reasons).toBeGreaterThan(100);
    const all = join(dir, 'machines-all.jsonl');
    expect(run(['scan', '-c', catalogFile, '-i', fleet, '-o', all, '--all']).code).toBe(0);
    const first = readLines<MachineLine>(all).find((x) => !x.error)!;
    expect(first.counts!.notApplicable).toBeGreaterThan(0);
  });

  it.each([
    [undefined, ['Required', 'Unknown']],
    ['Installed', ['Installed']],
    ['required,INSTALLED,Required', ['Required', 'Installed']],
    ['all', ['Installed', 'Required', 'NotApplicable', 'Unknown']],
  ])('-f rows --states %s: exactly the rows of those states an in-process scan gives, in order', (states, expected) => {
    const out = join(dir, `rows-${states ?? 'default'}.jsonl`);
    const r = run(['scan', '-c', catalogFile, '-i', fleet, '-o', out, '-f', 'rows', '--reasons', ...(states ? ['--states', states] : [])]);
    expect(r.code, r.err).toBe(0);
    const rows = readLines<ScanRow & { error?: unknown; source?: string }>(out);
    expect(rows.filter((x) => x.error)).toHaveLength(1);
    const want = [...reference.values()].flat().filter((x) => expected.includes(x.state));
    expect(want.length).toBeGreaterThan(0);
    expect(rows.filter((x) => !x.error)).toEqual(want);
  });

  it('-f csv --states: the same rows as -f rows, as CSV', () => {
    const out = join(dir, 'rows.csv');
    expect(run(['scan', '-c', catalogFile, '-i', fleet, '-o', out, '-f', 'csv', '--states', 'Installed,Unknown']).code).toBe(0);
    const csv = readFileSync(out, 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe(
      'computer,updateId,revisionNumber,kb,title,classification,severity,type,isBundle,releaseDate,cves,moreInfoUrl,' +
        'state,superseded,possiblySuperseded,reason',
    );
    const want = [...reference.values()].flat().filter((x) => x.state === 'Installed' || x.state === 'Unknown');
    expect(csv.length - 2).toBe(want.length); // header and the error row
    expect(csv.filter((l) => l.includes(',Error,'))).toHaveLength(1);
    expect(
      csv
        .slice(1)
        .filter((l) => !l.includes(',Error,'))
        .map((l) => l.split(',')[1]),
    ).toEqual(want.map((x) => x.updateId));
  });

  it('-f parquet: DuckDB reads back exactly the rows -f rows writes (same --states, with reasons), errors as Error rows', async () => {
    for (const states of [undefined, 'all']) {
      const pq = join(dir, `rows-${states ?? 'default'}.parquet`);
      const jl = join(dir, `rows-${states ?? 'default'}-pq.jsonl`);
      const extra = states ? ['--states', states] : [];
      const r = run(['scan', '-c', catalogFile, '-i', fleet, '-o', pq, '-f', 'parquet', '--reasons', ...extra]);
      expect(r.code, r.err).toBe(0);
      // Encoded on its thread, or with --threads 0 in the calling thread: the same bytes.
      const inline = `${pq}.threads0.parquet`;
      expect(
        run(['scan', '-c', catalogFile, '-i', fleet, '-o', inline, '-f', 'parquet', '--reasons', '--threads', '0', ...extra]).code,
      ).toBe(0);
      expect(readFileSync(inline).equals(readFileSync(pq))).toBe(true);
      expect(run(['scan', '-c', catalogFile, '-i', fleet, '-o', jl, '-f', 'rows', '--reasons', ...extra]).code).toBe(0);
      const db = await DuckDBInstance.create(':memory:');
      const con = await db.connect();
      try {
        const read = await con.runAndReadAll(`SELECT * FROM read_parquet('${pq}')`);
        const fromParquet = read.getRowObjectsJS();
        const fromJsonl = readLines<Record<string, unknown>>(jl).map((x) =>
          x.error
            ? {
                computer: x.source,
                updateId: null,
                revisionNumber: null,
                kb: null,
                title: null,
                classification: null,
                severity: null,
                type: null,
                isBundle: null,
                releaseDate: null,
                cves: null,
                moreInfoUrl: null,
                state: 'Error',
                superseded: null,
                possiblySuperseded: null,
                reason: `${(x.error as { code: string }).code}: ${(x.error as { message: string }).message}`,
              }
            : x,
        );
        expect(fromJsonl.length).toBeGreaterThan(1000);
        expect(fromParquet).toEqual(fromJsonl);
        const types = await con.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${pq}'))`);
        expect(Object.fromEntries(types.getRowObjectsJS().map((t) => [t.column_name, t.column_type]))).toEqual({
          computer: 'VARCHAR',
          updateId: 'VARCHAR',
          revisionNumber: 'INTEGER',
          kb: 'VARCHAR',
          title: 'VARCHAR',
          classification: 'VARCHAR',
          severity: 'VARCHAR',
          type: 'VARCHAR',
          isBundle: 'BOOLEAN',
          releaseDate: 'VARCHAR',
          cves: 'VARCHAR[]',
          moreInfoUrl: 'VARCHAR',
          state: 'VARCHAR',
          superseded: 'BOOLEAN',
          possiblySuperseded: 'BOOLEAN',
          reason: 'VARCHAR',
        });
      } finally {
        con.closeSync();
        db.closeSync();
      }
    }
  });

  it('without -f, writes the format --out names by its extension (batch and single), and the default elsewhere', () => {
    const given = (name: string, format: string): Buffer => {
      const out = join(dir, `given-${name}`);
      expect(run(['scan', '-c', catalogFile, '-i', fleet, '-o', out, '-f', format]).code).toBe(0);
      return readFileSync(out);
    };
    const named = (name: string): Buffer => {
      const out = join(dir, `named-${name}`);
      const r = run(['scan', '-c', catalogFile, '-i', fleet, '-o', out]);
      expect(r.code, r.err).toBe(0);
      return readFileSync(out);
    };
    expect(named('rows.csv').toString()).toBe(given('rows.csv', 'csv').toString());
    expect(named('lines.JSONL').toString()).toBe(given('lines.jsonl', 'jsonl').toString());
    expect(named('other.out').toString()).toBe(given('other.jsonl', 'jsonl').toString());
    const pq = named('rows.parquet');
    expect([pq.subarray(0, 4).toString(), pq.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);
    // The fleet format: msgpack documents, not a JSON line.
    const mp = named('fleet.msgpack');
    expect(mp[0]).not.toBe('{'.charCodeAt(0));
    expect(mp.length).toBeGreaterThan(0);
    // One inventory: .csv is CSV (a header line), else the table.
    const one = join(dir, 'one.json');
    writeFileSync(one, readFileSync(fleet, 'utf8').split('\n')[0]);
    const single = (out: string): string => {
      const r = run(['scan', '-c', catalogFile, one, '-o', join(dir, out)]);
      expect(r.code, r.err).toBe(0);
      return readFileSync(join(dir, out), 'utf8');
    };
    const csv = single('one.csv');
    expect(csv.split('\r\n')[0]).toMatch(/^[a-zA-Z]+(,[a-zA-Z]+)+$/);
    expect(single('one.txt')).not.toBe(csv);
    expect(JSON.parse(single('one-rows.json'))).toEqual(expect.any(Array));
  });

  it('refuses what does not fit, naming the option (exit 2)', () => {
    const cases: [string[], RegExp][] = [
      [
        ['--states', 'Missing'],
        /^patchscan: BAD_ARGUMENT: --states "Missing": "Missing" is not a state; give states from Installed, Required, NotApplicable, Unknown separated by commas, or all\n/,
      ],
      [
        ['--states', 'Required,Unknwn'],
        /^patchscan: BAD_ARGUMENT: --states "Required,Unknwn": "Unknwn" is not a state \(did you mean Unknown\?\); give states from /,
      ],
      [['--states', ','], /^patchscan: BAD_ARGUMENT: --states ",": no state given/],
      [
        ['--states', 'Required'],
        /^patchscan: BAD_ARGUMENT: --states filters the row formats \(rows, csv, parquet\), not jsonl: add -f rows/,
      ],
      [['-f', 'rows', '--states', 'NotApplicable'], /^patchscan: BAD_ARGUMENT: --states NotApplicable needs --all/],
      [['-f', 'xlsx'], /^patchscan: BAD_ARGUMENT: --format must be jsonl, rows, csv, parquet, msgpack in batch mode, not "xlsx"/],
    ];
    for (const [args, message] of cases) {
      const r = run(['scan', '-c', catalogFile, '-i', fleet, '-o', join(dir, 'x.out'), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});
