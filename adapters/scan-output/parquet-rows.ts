/**
 * The rows of a batch scan as Apache Parquet (`-f parquet`), for analytics tools that read it directly (DuckDB,
 * Spark, pandas/pyarrow): one row per update a machine has or needs, filtered by state like `rows`, with the same
 * columns. Written through hyparquet-writer (README says why that library) one row group at a time: rows gather in
 * column arrays until a group is full, the group is encoded (dictionary-encoded strings, Snappy) and its bytes handed
 * to the batch loop — memory holds one row group, whatever the fleet. The footer (schema, row-group index) is written
 * by finish(). A machine that failed is one row with state "Error", the reason "CODE: message", the update columns
 * null. Columns: docs/batch-output.md.
 */
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import { outcomeIndex, outcomePossiblySuperseded, outcomeState, outcomeSuperseded } from '../../engine/fleet/result-set.js';
import { scanRow, type ScanRow } from '../../engine/scanner/scanner.js';
import type { BatchWriter } from './batch-output.js';
import type { StateFilter } from './row-writers.js';

/** Rows per row group: encoding one takes a few hundred MB at 100,000 rows (peak RSS 992 MiB on 2,000 machines of the
 * issue-14 fleet; 861 MiB at 50,000, 751 MiB at 25,000, files 14 % and 38 % larger than at 100,000). */
export const ROW_GROUP = 50_000;

type Column =
  | 'computer'
  | 'updateId'
  | 'revisionNumber'
  | 'kb'
  | 'title'
  | 'classification'
  | 'severity'
  | 'type'
  | 'isBundle'
  | 'releaseDate'
  | 'cves'
  | 'moreInfoUrl'
  | 'state'
  | 'superseded'
  | 'possiblySuperseded'
  | 'reason';

const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8' } as const;
/**
 * The columns in file order; REQUIRED ones have a value in every row, OPTIONAL ones are null in error rows. `cves` is
 * a list of strings (the standard three-level LIST: DuckDB reads VARCHAR[], pandas a list per cell).
 */
const COLUMNS: readonly (SchemaElement & { name: Column })[] = [
  { name: 'computer', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'updateId', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'revisionNumber', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'kb', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'title', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'classification', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'severity', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'type', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'isBundle', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  { name: 'releaseDate', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'cves', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'moreInfoUrl', ...STRING, repetition_type: 'OPTIONAL' },
  { name: 'state', ...STRING, repetition_type: 'REQUIRED' },
  { name: 'superseded', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  { name: 'possiblySuperseded', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  { name: 'reason', ...STRING, repetition_type: 'REQUIRED' },
];
/**
 * Columns written without min/max statistics: free text, whose bounds let no reader skip a row group (they help on
 * `computer`, `kb`, `state`…), and computing them was a fifth of writing a group (2,000 machines: 10.7 → 8.8 s).
 */
const NO_STATISTICS: ReadonlySet<Column> = new Set<Column>(['title', 'moreInfoUrl', 'cves', 'reason']);
const CVE_ITEMS: readonly SchemaElement[] = [
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', ...STRING, repetition_type: 'REQUIRED' },
];
export const PARQUET_COLUMNS: readonly Column[] = COLUMNS.map((c) => c.name);

type Value = string | number | boolean | readonly string[] | null;

/** A ByteWriter whose bytes are handed over between row groups (file offsets go on counting). */
class HandOverWriter extends ByteWriter {
  handOver(): Uint8Array {
    const out = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    return out;
  }
}

/** A row's catalog columns: what scanRow reads from the catalog (derived, so the two cannot drift apart). */
type CatalogColumns = Omit<ScanRow, 'computer' | 'state' | 'superseded' | 'possiblySuperseded' | 'reason'>;

export class ParquetRowsWriter implements BatchWriter {
  private readonly bytes = new HandOverWriter(1 << 20);
  private readonly file: ParquetWriter;
  private readonly columns: Record<Column, Value[]>;
  private rows = 0;
  /** Per catalog update, its catalog columns (read once). */
  private readonly updates: (CatalogColumns | undefined)[];

  /** Rows per row group (ROW_GROUP unless a test asks for small ones). */
  private readonly rowGroup: number;

  constructor(
    private readonly catalog: Catalog,
    private readonly filter: StateFilter,
    options: { readonly reasons: boolean; readonly rowGroup?: number },
  ) {
    this.rowGroup = options.rowGroup ?? ROW_GROUP;
    this.file = new ParquetWriter({
      writer: this.bytes,
      schema: [{ name: 'root', num_children: COLUMNS.length }, ...COLUMNS.flatMap((c) => (c.name === 'cves' ? [c, ...CVE_ITEMS] : [c]))],
      codec: 'SNAPPY',
      createdBy: 'patchscan',
      kvMetadata: [
        { key: 'patchscan.states', value: filter.states.join(',') },
        { key: 'patchscan.reasons', value: String(options.reasons) },
      ],
    });
    this.columns = this.empty();
    this.updates = new Array(catalog.size);
  }

  get size(): number {
    return this.bytes.index;
  }

  take(): Uint8Array {
    return this.bytes.handOver();
  }

  machine(m: ScannedMachine): void {
    const { outcomes, reasons } = m.resultSet;
    const col = this.columns;
    for (let k = 0; k < outcomes.length; k++) {
      const w = outcomes[k]!;
      if (!this.filter.has(w)) continue;
      const u = this.update(outcomeIndex(w));
      col.computer.push(m.computer);
      col.updateId.push(u.updateId);
      col.revisionNumber.push(u.revisionNumber);
      col.kb.push(u.kb);
      col.title.push(u.title);
      col.classification.push(u.classification);
      col.severity.push(u.severity);
      col.type.push(u.type);
      col.isBundle.push(u.isBundle);
      col.releaseDate.push(u.releaseDate);
      col.cves.push(u.cves);
      col.moreInfoUrl.push(u.moreInfoUrl);
      col.state.push(outcomeState(w));
      col.superseded.push(outcomeSuperseded(w));
      col.possiblySuperseded.push(outcomePossiblySuperseded(w));
      col.reason.push(reasons ? (reasons[k] ?? '') : '');
      if (++this.rows === this.rowGroup) this.writeGroup();
    }
  }

  error(m: FailedMachine): void {
    const col = this.columns;
    for (const c of PARQUET_COLUMNS) col[c].push(null);
    col.computer[col.computer.length - 1] = m.computer ?? m.source;
    col.state[col.state.length - 1] = 'Error';
    col.reason[col.reason.length - 1] = `${m.error.code}: ${m.error.message}`;
    if (++this.rows === this.rowGroup) this.writeGroup();
  }

  finish(): void {
    if (this.rows > 0) this.writeGroup();
    void this.file.finish();
  }

  private writeGroup(): void {
    const columnData = COLUMNS.map((c) => ({
      name: c.name,
      data: this.columns[c.name],
      // Strings repeat (thousands of updates over millions of rows): always a dictionary, whatever the first page says.
      ...(c.type === 'BYTE_ARRAY' ? { encoding: 'RLE_DICTIONARY' as const } : {}),
      ...(NO_STATISTICS.has(c.name) ? { statistics: false } : {}),
    }));
    void this.file.write({ columnData, rowGroupSize: this.rows });
    Object.assign(this.columns, this.empty());
    this.rows = 0;
  }

  private empty(): Record<Column, Value[]> {
    return Object.fromEntries(PARQUET_COLUMNS.map((c) => [c, []])) as unknown as Record<Column, Value[]>;
  }

  /** The catalog's columns of update i, as the rows of `patchscan scan` have them (scanRow), read once. */
  private update(i: number): CatalogColumns {
    let u = this.updates[i];
    if (!u) {
      const outcome = { index: i, state: 'Installed', superseded: false, possiblySuperseded: false } as const;
      const { computer: _c, state: _s, superseded: _u, possiblySuperseded: _p, reason: _r, ...fields } = scanRow(this.catalog, '', outcome);
      u = fields;
      this.updates[i] = u;
    }
    return u;
  }
}
