/**
 * `-f parquet` encodes on a thread of its own (adapters/scan-output/parquet-rows.ts): the same bytes as encoding in
 * the calling thread; a group closes early when its text is large, so the thread keeps within its heap whatever the
 * reasons; a thread that dies is an error the batch sees, not a hang.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GROUP_TEXT, ParquetRowsWriter, rowGroupEncoder, type ParquetRowsOptions } from '../../adapters/scan-output/parquet-rows.js';
import { StateFilter } from '../../adapters/scan-output/row-writers.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { packOutcome, ResultSet } from '../../engine/fleet/result-set.js';
import { SUP_NO } from '../../engine/scanner/supersedence.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { groupRows, query, sampleMachines, writeAll, type Machine } from '../helpers/parquet.js';
import { tempDir } from '../helpers/tmp.js';

describe('Parquet encoding thread', () => {
  const dir = tempDir();
  let catalog: Catalog;
  let machines: Machine[];
  const filter = new StateFilter(['Installed', 'Required', 'Unknown']);

  beforeAll(() => {
    catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    machines = sampleMachines(catalog);
  });

  it('encodes on its thread the same bytes as in the calling thread, error rows and all', async () => {
    const options: ParquetRowsOptions = { reasons: true, rowGroup: 250 };
    const inline = await writeAll(
      ParquetRowsWriter.open(catalog, filter, { ...options, thread: false }),
      machines,
      join(dir, 'inline.parquet'),
    );
    const threaded = await writeAll(ParquetRowsWriter.open(catalog, filter, options), machines, join(dir, 'thread.parquet'));
    expect(threaded.length).toBeGreaterThan(10_000);
    expect(threaded.equals(inline)).toBe(true);
    const errors = await query<{ computer: string; reason: string; kb: string | null; superseded: boolean | null }>(
      `SELECT computer, reason, kb, superseded FROM read_parquet('${join(dir, 'thread.parquet')}') WHERE state = 'Error'`,
    );
    expect(errors).toEqual(
      machines
        .filter((m) => !m.ok)
        .map((m) => ({ computer: m.computer, reason: 'INVENTORY_INVALID: no os section', kb: null, superseded: null })),
    );
  });

  it('closes a group early when its distinct text is large: every reason different and long, the thread keeps to its heap', async () => {
    // 60,000 rows, each with a reason of its own of 700 characters (42 M characters); groups close at 8 M.
    const perMachine = 600;
    const groupText = GROUP_TEXT; // the default, not an option: the bound users get
    const file = join(dir, 'distinct.parquet');
    await writeAll(ParquetRowsWriter.open(catalog, filter, { reasons: true }), distinct(catalog, 100, perMachine), file);
    const groups = await groupRows(file);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(100 * perMachine);
    // Each group but the last closed at the first row past the text bound (names count too: 4-5 characters each).
    const perGroup = Math.ceil(groupText / 700);
    for (const n of groups.slice(0, -1)) {
      expect(n).toBeGreaterThan(perGroup - 200);
      expect(n).toBeLessThanOrEqual(perGroup);
    }
    const [check] = await query<{ n: bigint; distinct: bigint; len: number }>(
      `SELECT count(*) AS n, count(DISTINCT reason) AS distinct, min(length(reason))::INTEGER AS len FROM read_parquet('${file}')`,
    );
    expect(check).toEqual({ n: 60_000n, distinct: 60_000n, len: 700 });
  });

  it('a thread that dies (its heap) is an error the batch sees, naming what to do, and never a hang', async () => {
    // At start-up (a heap too small to load in): the error comes at the end, from finish().
    const w = ParquetRowsWriter.open(catalog, filter, { reasons: true, rowGroup: 50_000, threadHeapMb: 1 });
    await expect(writeAll(w, [...machines, ...machines, ...machines], join(dir, 'dies.parquet'))).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/Parquet encoding thread ran out of its 1 MiB heap .*--threads 0/),
    });
    // Part-way (a heap that loads, and no room for a group): the loop hears of it while it waits, long before the end.
    const seen = { machines: 0, held: 0, mostInFlight: 0 };
    const small = ParquetRowsWriter.open(catalog, filter, { reasons: true, threadHeapMb: 12 });
    await expect(writeAll(small, distinct(catalog, 400, 600), join(dir, 'dies-later.parquet'), seen)).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/ran out of its 12 MiB heap/),
    });
    expect(seen.machines).toBeLessThan(100);
  });

  it('a group the thread cannot encode fails that group and every later request, never a hang', async () => {
    const encoder = rowGroupEncoder({ states: ['Required'], reasons: false }, { thread: true });
    // A row naming catalog update 7 in a group that does not carry its columns: the encoder refuses it.
    const bad = {
      rows: 1,
      update: Int32Array.of(7),
      flags: Uint8Array.of(1),
      computer: Int32Array.of(0),
      reason: Int32Array.of(1),
      texts: ['PC-1', ''],
      catalog: [],
    };
    try {
      const failed = { code: 'INTERNAL', message: expect.stringContaining('names catalog update 7 before its columns') };
      await expect(encoder.encode(bad)).rejects.toMatchObject(failed);
      await expect(encoder.finish()).rejects.toMatchObject(failed);
    } finally {
      await encoder.close();
    }
  });
});

/** Machines whose every reason is its own, 700 characters long, over the catalog's first 600 updates. */
function* distinct(catalog: Catalog, machines: number, perMachine: number): Generator<Machine> {
  const updates = Math.min(catalog.size, 600);
  for (let k = 0; k < machines; k++) {
    const outcomes = new Uint32Array(perMachine);
    const reasons: string[] = [];
    for (let j = 0; j < perMachine; j++) {
      outcomes[j] = packOutcome(j % updates, 'Required', SUP_NO);
      reasons.push(`machine ${k} update ${j}: `.padEnd(700, 'x'));
    }
    const set = new ResultSet({ id: k + 1, shared: false, outcomes, reasons });
    yield { ok: true, source: `m${k}`, computer: `PC-${k}`, resultSet: set, updates: set.updates, micros: 0 };
  }
}
