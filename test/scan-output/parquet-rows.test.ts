/**
 * The Parquet writer holds at most a few row groups, not the file: rows go out as each group fills (the file grows
 * while the scan runs), and an independent reader (DuckDB) finds those groups — each of the configured size but the
 * last — and every row written, in order. (Encoding on its thread: test/pool/parquet-thread.test.ts.)
 */
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParquetRowsWriter } from '../../adapters/scan-output/parquet-rows.js';
import { StateFilter } from '../../adapters/scan-output/row-writers.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { groupRows, query, rowsOf, sampleMachines, writeAll, type Machine } from '../helpers/parquet.js';
import { tempDir } from '../helpers/tmp.js';

describe('Parquet rows writer', () => {
  const dir = tempDir();
  let catalog: Catalog;
  let machines: Machine[];
  const filter = new StateFilter(['Installed', 'Required', 'Unknown']);

  beforeAll(() => {
    catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    machines = sampleMachines(catalog);
  });

  it('hands each row group over as it fills: several groups in the file, written before the end', async () => {
    const rowGroup = 300;
    const w = ParquetRowsWriter.open(catalog, filter, { reasons: true, rowGroup, thread: false });
    const file = join(dir, 'rows.parquet');
    writeFileSync(file, '');
    let rows = 0;
    const sizes: number[] = []; // the file's size after each hand-over before finish()
    const names: string[] = [];
    try {
      for (const m of machines) {
        rows += rowsOf(m, filter);
        names.push(...Array<string>(rowsOf(m, filter)).fill(m.computer!));
        if (m.ok) w.machine(m);
        else w.error(m);
        await tick(); // the encoded group comes back in a later turn
        // Nothing waits for the end: a full group is handed over as soon as it is encoded.
        if (w.size > 0) {
          appendFileSync(file, w.take());
          sizes.push(statSync(file).size);
        }
      }
      await w.finish();
      appendFileSync(file, w.take());
    } finally {
      await w.close();
    }
    const groups = Math.ceil(rows / rowGroup);
    expect(groups).toBeGreaterThanOrEqual(4);
    // One hand-over per full group, each making the file larger.
    expect(sizes).toHaveLength(Math.floor(rows / rowGroup));
    for (let k = 1; k < sizes.length; k++) expect(sizes[k]).toBeGreaterThan(sizes[k - 1]);

    expect(await groupRows(file)).toEqual(Array.from({ length: groups }, (_, k) => (k < groups - 1 ? rowGroup : rows - rowGroup * k)));
    const read = await query<{ computer: string }>(`SELECT computer FROM read_parquet('${file}')`);
    expect(read.map((r) => r.computer)).toEqual(names);
    // Min/max statistics where a reader can skip row groups by them; none for free text (parquet-encoder.ts NO_STATISTICS).
    const stats = await query<{ p: string; has: boolean }>(
      `SELECT path_in_schema AS p, bool_and(stats_min_value IS NOT NULL) AS has FROM parquet_metadata('${file}') GROUP BY p`,
    );
    const has = Object.fromEntries(stats.map((r) => [r.p, r.has]));
    expect({ computer: has.computer, kb: has.kb, state: has.state, title: has.title, reason: has.reason }).toEqual({
      computer: true,
      kb: true,
      state: true,
      title: false,
      reason: false,
    });
  });

  it('holds the loop while two groups are with the encoder: after each wait, fewer are', async () => {
    const seen = { machines: 0, held: 0, mostInFlight: 0 };
    const w = ParquetRowsWriter.open(catalog, filter, { reasons: true, rowGroup: 100, thread: false });
    await writeAll(w, machines, join(dir, 'held.parquet'), seen);
    expect(seen.machines).toBe(machines.length);
    // Machines of a few hundred rows fill groups of 100 faster than the encoder's answers come back.
    expect(seen.held).toBeGreaterThan(10);
    expect(seen.mostInFlight).toBeLessThan(2);
  });
});
