/**
 * The Parquet writer holds one row group, not the file: rows go out as each group fills (the file grows while the
 * scan runs), and an independent reader (DuckDB) finds those groups — each of the configured size but the last — and
 * every row written, in order.
 */
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ParquetRowsWriter } from '../../adapters/scan-output/parquet-rows.js';
import { StateFilter } from '../../adapters/scan-output/row-writers.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import type { ScannedMachine } from '../../engine/pool/protocol.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { ResultSet } from '../../engine/fleet/result-set.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { tempDir } from '../helpers/tmp.js';

describe('Parquet rows writer', () => {
  const dir = tempDir();

  it('hands each row group over as it fills: several groups in the file, written before the end', async () => {
    const catalog = new Catalog(readCatalogFile(bundledCatalogFile()));
    const scanner = new Scanner(catalog);
    const model = new FleetModel(catalog);
    const filter = new StateFilter(['Installed', 'Required', 'Unknown']);
    const rowGroup = 300;
    const w = new ParquetRowsWriter(catalog, filter, { reasons: true, rowGroup });
    const file = join(dir, 'rows.parquet');
    writeFileSync(file, '');
    let rows = 0;
    const sizes: number[] = []; // the file's size after each hand-over before finish()
    const names: string[] = [];
    for (let k = 0; k < 40; k++) {
      const inv = model.machine(5, k, true);
      const set = new ResultSet({ id: k + 1, shared: false, ...scanOutcomes(scanner, inv, { all: false, reasons: true }) });
      const m: ScannedMachine = { ok: true, source: `m${k}`, computer: inv.computer.name, resultSet: set, updates: set.updates, micros: 0 };
      const before = rows;
      for (const word of set.outcomes) if (filter.has(word)) rows++;
      names.push(...Array<string>(rows - before).fill(inv.computer.name));
      w.machine(m);
      // Nothing waits for the end: at most one group's rows are held, and a full group is handed over at once.
      if (w.size > 0) {
        appendFileSync(file, w.take());
        sizes.push(statSync(file).size);
      }
    }
    const groups = Math.ceil(rows / rowGroup);
    expect(groups).toBeGreaterThanOrEqual(4);
    // One hand-over per full group (the 4-byte header may go first, alone), each making the file larger.
    expect(sizes.filter((n) => n > 4)).toHaveLength(Math.floor(rows / rowGroup));
    for (let k = 1; k < sizes.length; k++) expect(sizes[k]).toBeGreaterThan(sizes[k - 1]);
    w.finish();
    appendFileSync(file, w.take());

    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      const meta = (
        await con.runAndReadAll(
          `SELECT row_group_id AS g, any_value(row_group_num_rows)::INTEGER AS n FROM parquet_metadata('${file}') GROUP BY g ORDER BY g`,
        )
      ).getRowObjectsJS() as { g: bigint; n: number }[];
      expect(meta.map((r) => r.n)).toEqual(Array.from({ length: groups }, (_, k) => (k < groups - 1 ? rowGroup : rows - rowGroup * k)));
      const read = (await con.runAndReadAll(`SELECT computer FROM read_parquet('${file}')`)).getRowObjectsJS() as { computer: string }[];
      expect(read.map((r) => r.computer)).toEqual(names);
      // Min/max statistics where a reader can skip row groups by them; none for free text (parquet-rows.ts NO_STATISTICS).
      const stats = (
        await con.runAndReadAll(
          `SELECT path_in_schema AS p, bool_and(stats_min_value IS NOT NULL) AS has FROM parquet_metadata('${file}') GROUP BY p`,
        )
      ).getRowObjectsJS() as { p: string; has: boolean }[];
      const has = Object.fromEntries(stats.map((r) => [r.p, r.has]));
      expect({ computer: has.computer, kb: has.kb, state: has.state, title: has.title, reason: has.reason }).toEqual({
        computer: true,
        kb: true,
        state: true,
        title: false,
        reason: false,
      });
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });
});
