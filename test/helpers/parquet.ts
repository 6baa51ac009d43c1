/** Parquet writer helpers: machines of the bundled catalog, a loop like the batch scan's, DuckDB queries. */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ParquetRowsWriter } from '../../adapters/scan-output/parquet-rows.js';
import type { StateFilter } from '../../adapters/scan-output/row-writers.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import { ResultSet } from '../../engine/fleet/result-set.js';
import { Scanner } from '../../engine/scanner/scanner.js';

export type Machine = ScannedMachine | FailedMachine;

/** 40 machines of the bundled catalog with reasons; every 13th (from the 6th) failed. */
export function sampleMachines(catalog: Catalog): Machine[] {
  const scanner = new Scanner(catalog);
  const model = new FleetModel(catalog);
  return Array.from({ length: 40 }, (_, k): Machine => {
    if (k % 13 === 5)
      return {
        ok: false,
        source: `fleet.jsonl:${k + 1}`,
        computer: `BROKEN-${k}`,
        error: { code: 'INVENTORY_INVALID', message: 'no os section' },
      };
    const inv = model.machine(5, k, true);
    const set = new ResultSet({ id: k + 1, shared: false, ...scanOutcomes(scanner, inv, { all: false, reasons: true }) });
    return { ok: true, source: `m${k}`, computer: inv.computer.name, resultSet: set, updates: set.updates, micros: 0 };
  });
}

/** Rows a machine gives under a filter. */
export const rowsOf = (m: Machine, filter: StateFilter): number => (m.ok ? m.resultSet.outcomes.filter((w) => filter.has(w)).length : 1);

/** Feeds machines to a writer as the batch loop does (holding while it is behind), returns the file's bytes. */
export async function writeAll(
  w: ParquetRowsWriter,
  machines: Iterable<Machine>,
  file: string,
  seen: { machines: number; held: number; mostInFlight: number } = { machines: 0, held: 0, mostInFlight: 0 },
): Promise<Buffer> {
  writeFileSync(file, '');
  try {
    for (const m of machines) {
      if (m.ok) w.machine(m);
      else w.error(m);
      seen.machines++;
      const held = w.backlog();
      if (held) {
        seen.held++;
        await held;
      }
      seen.mostInFlight = Math.max(seen.mostInFlight, w.groupsInFlight);
      if (w.size > 0) appendFileSync(file, w.take());
    }
    await w.finish();
    appendFileSync(file, w.take());
  } finally {
    await w.close();
  }
  return readFileSync(file);
}

export async function query<T>(sql: string): Promise<T[]> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    return (await con.runAndReadAll(sql)).getRowObjectsJS() as T[];
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** Rows of each row group of a file, in order. */
export const groupRows = async (file: string): Promise<number[]> =>
  (
    await query<{ n: number }>(
      `SELECT any_value(row_group_num_rows)::INTEGER AS n FROM parquet_metadata('${file}') GROUP BY row_group_id ORDER BY row_group_id`,
    )
  ).map((r) => r.n);
