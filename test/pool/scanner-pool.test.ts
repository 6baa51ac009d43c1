/**
 * The worker pool: workers share one catalog through a SharedArrayBuffer and must give exactly the results the
 * in-process scanner gives, in input order, turning a bad inventory into an error result without stopping.
 */
import { spawnSync } from 'node:child_process';
import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { encodeStrings } from '../../engine/catalog/string-table.js';
import type { MachineResult } from '../../engine/pool/protocol.js';
import { createScannerPool } from '../../engine/pool/scanner-pool.js';
import { fromShared, sharedCatalog, sharedLayout, toShared } from '../../engine/pool/shared-catalog.js';
import { fingerprintMsgpack } from '../../engine/fleet/msgpack-profile.js';
import { fingerprint } from '../../engine/fleet/fingerprint.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import type { Inventory } from '../../engine/inventory/types.js';
import type { ResultSet } from '../../engine/fleet/result-set.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { bundledCatalogFile } from '../helpers/bundled.js';

/** What a user sees of a result: result-set ids and timings depend on thread scheduling, the rest must not. */
const view = (r: MachineResult): unknown => (r.ok ? { source: r.source, computer: r.computer, updates: r.updates } : r);

describe('scanner pool', () => {
  let catalog: Catalog;
  let fleet: ReturnType<FleetModel['machine']>[];

  beforeAll(() => {
    catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const model = new FleetModel(catalog);
    fleet = Array.from({ length: 300 }, (_, i) => model.machine(9, i));
  });

  const strip = (rs: MachineResult[]): unknown[] => rs.map(view);

  it('the shared catalog is the same catalog, in shared memory', () => {
    const data = fromShared(toShared(catalog.data));
    expect(data.updates.rules.buffer).toBeInstanceOf(SharedArrayBuffer);
    const shared = new Catalog(data);
    for (let i = 0; i < catalog.size; i += 97) {
      expect([shared.updateId(i), shared.title(i), shared.kb(i), shared.prerequisites(i)]).toEqual([
        catalog.updateId(i),
        catalog.title(i),
        catalog.kb(i),
        catalog.prerequisites(i),
      ]);
    }
    expect(Array.from(data.nodes.op)).toEqual(Array.from(catalog.data.nodes.op));
  });

  it('every string of the table comes back from the shared bytes, multi-byte UTF-8 and empty ones included', () => {
    const all = Array.from({ length: catalog.data.strings.offsets.length - 1 }, (_, k) => catalog.str(k));
    const strings = [...all, 'Übersicht — 更新プログラム', '', '😀 KB5026368', 'é'];
    const shared = new Catalog(fromShared(toShared({ ...catalog.data, strings: encodeStrings(strings) })));
    expect(shared.data.strings.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(strings.map((_, k) => shared.str(k))).toEqual(strings);
    expect(shared.str(strings.length)).toBe(''); // past the table: '' (as a missing entry always read)
  });

  it('a catalog read into shared memory is the same catalog, and a pool shares that memory instead of copying it', async () => {
    const c = sharedCatalog(readCatalogFile(bundledCatalogFile()));
    expect(c.data.updates.rules.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(c.data.strings.bytes.buffer).toBeInstanceOf(SharedArrayBuffer); // decoded from the shared bytes as asked for
    for (let i = 0; i < catalog.size; i++)
      expect([c.updateId(i), c.title(i), c.kb(i), c.releaseDate(i)]).toEqual([
        catalog.updateId(i),
        catalog.title(i),
        catalog.kb(i),
        catalog.releaseDate(i),
      ]);
    expect(sharedLayout(c).buffer).toBe(sharedLayout(c).buffer); // the same memory each time, not a copy
    expect(sharedLayout(c).buffer).toBe(c.data.updates.rules.buffer);
    expect(sharedLayout(catalog).buffer).not.toBe(sharedLayout(catalog).buffer); // a plain catalog is copied
    const pool = await createScannerPool({ catalog: c, threads: 2 });
    const plain = await createScannerPool({ catalog, threads: 0 });
    try {
      const got: unknown[] = [];
      const want: unknown[] = [];
      for await (const r of pool.scanMany(fleet.slice(0, 40))) got.push(view(r));
      for await (const r of plain.scanMany(fleet.slice(0, 40))) want.push(view(r));
      expect(got).toEqual(want);
    } finally {
      await pool.close();
      await plain.close();
    }
  });

  it('2 worker threads give exactly the in-process results, in order, with a bad inventory as an error result', async () => {
    const bad = { bytes: Buffer.from('{"schema":"patchscan-inventory/1","computer":{}}'), source: 'fleet.jsonl:151' };
    const inputs = [...fleet.slice(0, 150), bad, ...fleet.slice(150)];
    const inProcess = await createScannerPool({ catalog, threads: 0, batchSize: 64 });
    const pooled = await createScannerPool({ catalog, threads: 2, batchSize: 64 });
    try {
      const a: MachineResult[] = [];
      for await (const r of inProcess.scanMany(inputs)) a.push(r);
      const b: MachineResult[] = [];
      for await (const r of pooled.scanMany(inputs)) b.push(r);
      expect(b).toHaveLength(301);
      expect(strip(b)).toEqual(strip(a));
      expect(b.map((r) => (r.ok ? r.computer : r.source)).slice(149, 152)).toEqual(['PC-0000149', 'fleet.jsonl:151', 'PC-0000150']);
      const err = b[150];
      expect(err.ok).toBe(false);
      if (!err.ok)
        expect(err.error).toEqual({
          code: 'INVENTORY_INVALID',
          message: 'fleet.jsonl:151: computer.name: must be a string, got undefined',
        });
    } finally {
      await inProcess.close();
      await pooled.close();
    }
  });

  it('agrees with Scanner.scan row by row (states, superseded, reasons)', async () => {
    const pooled = await createScannerPool({ catalog, threads: 1 });
    try {
      const one = await pooled.scan(fleet[7]);
      expect(one.ok).toBe(true);
      const rows = new Scanner(catalog).scan(fleet[7]);
      if (one.ok)
        expect(one.updates.map((u) => [catalog.updateId(u.index), u.state, u.superseded, u.possiblySuperseded, u.reason])).toEqual(
          rows.map((r) => [r.updateId, r.state, r.superseded, r.possiblySuperseded, r.reason]),
        );
    } finally {
      await pooled.close();
    }
  });

  it('a pool closed while its workers are still loading shuts down cleanly (built package, 60 pools)', () => {
    // Node 20.19+ aborted the process when a worker was terminated inside piscina's synchronous require() of the
    // ES-module worker (about 1 pool in 360 here). Run in a child: an abort would take the test runner with it.
    const lib = new URL('../../dist/engine/index.js', import.meta.url).href;
    const script = `
      import { createScannerPool, Catalog, readCatalogFile } from ${JSON.stringify(lib)};
      const catalog = new Catalog(readCatalogFile(process.argv[1]));
      for (let i = 0; i < 60; i++) {
        const s = await createScannerPool({ catalog, threads: 2 });
        await new Promise((r) => setTimeout(r, i));
        await s.close();
      }
      console.log('closed 60 pools');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, bundledCatalogFile()], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).not.toMatch(/FATAL ERROR/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('closed 60 pools');
  });

  it('refuses bad options with their names', async () => {
    await expect(createScannerPool({ catalog, threads: -1 })).rejects.toThrow(/threads must be a whole number ≥ 0/);
    await expect(createScannerPool({ catalog, batchSize: 0 })).rejects.toThrow(/batchSize must be a positive whole number/);
    await expect(createScannerPool({ catalog, threads: 1, workerHeapMb: 0 })).rejects.toThrow(/workerHeapMb must be a positive number/);
  });

  it('an input that is no inventory at all is a BAD_ARGUMENT naming its type, never its content; an ArrayBuffer is bytes', async () => {
    const pool = await createScannerPool({ catalog, threads: 0 });
    try {
      const text = JSON.stringify(fleet[0]);
      for (const [input, type] of [
        [text, 'a string'],
        [null, 'null'],
        [42, 'a number'],
        [[fleet[0]], 'an array'],
      ] as const) {
        const e = await pool.scan(input as never).catch((x: unknown) => x);
        expect(e).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining(`scan input 0 is ${type}:`) });
        expect((e as Error).message).not.toContain(fleet[0].computer.name); // no inventory text in a log line
      }
      const bytes = Buffer.from(text);
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      expect(view(await pool.scan(ab as never))).toEqual({ ...(view(await pool.scan(bytes)) as object) });
    } finally {
      await pool.close();
    }
  });

  it('a closed pool scans nothing more, and a scan it interrupts ends with a coded error', async () => {
    for (const threads of [0, 2]) {
      const pool = await createScannerPool({ catalog, threads });
      expect((await pool.scan(fleet[0])).ok).toBe(true);
      await pool.close();
      await expect(pool.scan(fleet[1])).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/pool is closed/) });
    }
    // Closed mid-way: the consumer's loop ends with a PatchscanError, not piscina's uncoded "Terminating worker thread".
    const pool = await createScannerPool({ catalog, threads: 2, batchSize: 100 });
    const got: MachineResult[] = [];
    const many = Array.from({ length: 20 }, () => fleet).flat();
    const e = await (async () => {
      for await (const r of pool.scanMany(many)) {
        got.push(r);
        if (got.length === 1) void pool.close();
      }
    })().catch((x: unknown) => x);
    expect(got.length).toBeLessThan(many.length);
    expect(e).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/closed while it scanned/) });
  });

  it('a worker over its heap limit fails the scan with an error that says so, instead of waiting or crashing', async () => {
    // 4 MiB: too little for a worker to load the catalog, let alone scan (the default is 160 MiB or more).
    const s = await createScannerPool({ catalog, threads: 1, workerHeapMb: 4 });
    try {
      const scan = async (): Promise<number> => {
        let n = 0;
        for await (const r of s.scanMany(fleet.slice(0, 20))) if (r.ok) n++;
        return n;
      };
      const e = (await scan().catch((x: unknown) => x)) as { code?: string; message?: string };
      expect(e.code).toBe('INTERNAL');
      expect(e.message).toMatch(/a scan worker thread ran out of its 4 MiB heap .*--threads 0/);
      // And the next scan of the same pool says it too, and that the pool is done.
      await expect(scan()).rejects.toMatchObject({
        code: 'INTERNAL',
        message: expect.stringMatching(/ran out of its 4 MiB heap.*This pool scans nothing more: close it/),
      });
    } finally {
      await s.close();
    }
  });

  it('reasons stay bytes on a fleet whose machines share nothing, and a set named again holds them as strings', async () => {
    const model = new FleetModel(catalog);
    const run = async (inputs: Inventory[]): Promise<Map<ResultSet, number>> => {
      const pool = await createScannerPool({ catalog, threads: 2, reasons: true, batchSize: 16 });
      const named = new Map<ResultSet, number>();
      try {
        for await (const r of pool.scanMany(inputs)) if (r.ok) named.set(r.resultSet, (named.get(r.resultSet) ?? 0) + 1);
      } finally {
        await pool.close();
      }
      return named;
    };
    // Every machine a profile of its own: no reason becomes a string in this thread but as it is read.
    const distinct = await run(Array.from({ length: 48 }, (_, i) => model.machine(13, i, true)));
    expect(distinct.size).toBe(48);
    const withOutcomes = [...distinct.keys()].filter((set) => set.size > 0);
    expect(withOutcomes.length).toBeGreaterThan(10);
    for (const set of withOutcomes) expect(set.reasonBytes).toBeGreaterThan(0);
    // Machines of a few images: a set named by a second machine was decoded once, and is held as strings.
    const sharing = await run(fleet.slice(0, 120));
    const again = [...sharing].filter(([set, n]) => n > 1 && set.size > 0);
    expect(again.length).toBeGreaterThan(5);
    for (const [set] of again) expect(set.reasonBytes).toBe(0);
    for (const [set] of again) {
      expect(set.hasReasons).toBe(true);
      expect(set.updates.map((u) => u.reason)).toEqual(Array.from({ length: set.size }, (_, k) => set.reason(k)));
    }
  });
});

describe('result cache', () => {
  it('gives exactly the results of uncached scans (threads 0 and 2), with hits on a realistic fleet', async () => {
    const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const model = new FleetModel(catalog);
    const fleet = Array.from({ length: 600 }, (_, i) => model.machine(4, i));
    const collect = async (
      threads: number,
      cache: boolean,
    ): Promise<{ results: unknown[]; stats: { hits: number; misses: number }; ruleValues: { shared: number; evaluated: number } }> => {
      const s = await createScannerPool({ catalog, threads, cache, batchSize: 50 });
      const results: unknown[] = [];
      for await (const r of s.scanMany(fleet)) results.push(view(r));
      const stats = s.cacheStats();
      const ruleValues = s.ruleValueStats();
      await s.close();
      return { results, stats, ruleValues };
    };
    const off = await collect(0, false);
    const on = await collect(0, true);
    const pooled = await collect(2, true);
    expect(on.results).toEqual(off.results);
    expect(pooled.results).toEqual(off.results);
    expect(off.stats).toEqual({ hits: 0, misses: 0 });
    expect(on.stats.hits + on.stats.misses).toBe(600);
    expect(on.stats.hits).toBeGreaterThan(100); // machines from the same image at the same patch level
    expect(pooled.stats.hits + pooled.stats.misses).toBe(600);
    // First-of-a-profile scans took rule values from machines with the same sections, and evaluated the rest.
    for (const run of [off, on, pooled])
      expect(run.ruleValues.shared > 0 && run.ruleValues.evaluated > 0, JSON.stringify(run.ruleValues)).toBe(true);
    expect(off.ruleValues.shared + off.ruleValues.evaluated).toBeGreaterThan(on.ruleValues.shared + on.ruleValues.evaluated); // fewer scans
  }, 120_000); // a thousand scans and a pool: minutes on a busy 2-core machine

  it(
    'rule values shared between machines by section give exactly the unshared ' +
      'results (real catalog, 600 machines, sections recombined)',
    () => {
      const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
      const model = new FleetModel(catalog);
      const fleet: Inventory[] = Array.from({ length: 400 }, (_, i) => model.machine(6, i));
      // Neighbours that share some sections and not others (the memo's hits and misses both happen).
      for (let i = 0; i < 200; i++) {
        const a = fleet[i],
          b = fleet[(i * 7 + 3) % 400];
        fleet.push({
          ...a,
          computer: { name: `MIX-${i}` },
          files: b.files,
          ...(i % 3 === 0 ? { registry: b.registry } : {}),
          ...(i % 5 === 0 ? { os: b.os && { ...b.os, ubr: 1 + i } } : {}),
        });
      }
      const shared = new Scanner(catalog);
      const plain = new Scanner(catalog, { shareRuleResults: false });
      const opts = { all: true, reasons: false }; // reasons are explained afresh (never from shared values)
      for (const inv of fleet) expect(scanOutcomes(shared, inv, opts)).toEqual(scanOutcomes(plain, inv, opts));
    },
    120_000,
  );

  it('keys by what rules can read: identity and unread details do not matter, a file version does', async () => {
    const d = { fileSize: false, fileDates: false, fileLanguage: false, processorDetail: false };
    const base = {
      schema: 'patchscan-inventory/1' as const,
      computer: { name: 'A' },
      collectedAt: '2026-01-01T00:00:00Z',
      processor: { architecture: 9, count: 4 },
      files: [{ path: 'C:\\x.dll', exists: true, version: '1.0.0.0', size: 10 }],
    };
    const same = {
      ...base,
      computer: { name: 'B', id: 'other' },
      collectedAt: '2026-02-02T00:00:00Z',
      processor: { architecture: 9, count: 16 },
      files: [{ path: 'C:\\x.dll', exists: true, version: '1.0.0.0', size: 99 }],
    };
    const newer = { ...base, files: [{ path: 'C:\\x.dll', exists: true, version: '2.0.0.0', size: 10 }] };
    expect(fingerprint(same, d)).toEqual(fingerprint(base, d));
    expect(fingerprint(newer, d)).not.toEqual(fingerprint(base, d));
    expect(fingerprint(same, { ...d, fileSize: true })).not.toEqual(fingerprint(base, { ...d, fileSize: true }));
    expect(fingerprint(same, { ...d, processorDetail: true })).not.toEqual(fingerprint(base, { ...d, processorDetail: true }));
  });

  it('the msgpack digest leaves out the same things, straight from the bytes', async () => {
    const pack = (x: unknown): Uint8Array => new Packr({ useRecords: false }).pack(x);
    const d = { fileSize: false, fileDates: false, fileLanguage: false, processorDetail: false };
    const base = {
      schema: 'patchscan-inventory/1',
      computer: { name: 'A' },
      collectedAt: '2026-01-01T00:00:00Z',
      processor: { architecture: 9, count: 4 },
      files: [{ path: 'C:\\x.dll', exists: true, version: '1.0.0.0', size: 10, created: '2020-01-01T00:00:00Z' }],
      os: { major: 10, minor: 0, build: 19045, productType: 1 },
    };
    const same = {
      ...base,
      computer: { name: 'B-MUCH-LONGER-NAME', id: 'x' },
      collectedAt: '2026-02-02T10:00:00Z',
      processor: { architecture: 9, count: 64, level: 6 },
      files: [{ path: 'C:\\x.dll', exists: true, version: '1.0.0.0', size: 99999, created: '2021-05-05T00:00:00Z' }],
    };
    expect(fingerprintMsgpack(pack(same), d)).toEqual(fingerprintMsgpack(pack(base), d));
    for (const changed of [
      { ...base, files: [{ ...base.files[0], version: '2.0.0.0' }] },
      { ...base, files: [{ ...base.files[0], exists: false }] },
      { ...base, processor: { architecture: 12, count: 4 } },
      { ...base, os: { ...base.os, build: 22631 } },
      { ...base, files: [] },
    ])
      expect(fingerprintMsgpack(pack(changed), d)).not.toEqual(fingerprintMsgpack(pack(base), d));
    expect(fingerprintMsgpack(pack(same), { ...d, fileSize: true })).not.toEqual(fingerprintMsgpack(pack(base), { ...d, fileSize: true }));
    expect(fingerprintMsgpack(pack(same), { ...d, fileDates: true })).not.toEqual(
      fingerprintMsgpack(pack(base), { ...d, fileDates: true }),
    );
    expect(fingerprintMsgpack(pack(same), { ...d, processorDetail: true })).not.toEqual(
      fingerprintMsgpack(pack(base), { ...d, processorDetail: true }),
    );
    // Moving a file's fields into the next entry is a different machine, not the same bytes.
    const two = {
      ...base,
      files: [
        { path: 'a', exists: true },
        { path: 'b', exists: true, version: '1.0' },
      ],
    };
    const moved = {
      ...base,
      files: [
        { path: 'a', exists: true, version: '1.0' },
        { path: 'b', exists: true },
      ],
    };
    expect(fingerprintMsgpack(pack(two), d)).not.toEqual(fingerprintMsgpack(pack(moved), d));
  });
});
