/**
 * Encodes the Parquet file of `-f parquet` one row group at a time, from row groups in a compact form
 * ({@link RowGroupBatch}: typed arrays of catalog indexes, flags and text ids). It runs on a thread of its own
 * (parquet-thread.ts; in the calling thread with `--threads 0`): encoding is most of the work of this format, and its garbage (column arrays and pages the
 * size of a row group, each a V8 "large object" freed only by a full collection) is kept in a heap of its own,
 * with a limit, instead of the batch loop's. Written through hyparquet-writer (README says why that library):
 * dictionary-encoded strings, Snappy. Columns: docs/batch-output.md.
 */
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import type { ScanRow } from '../../engine/scanner/scanner.js';
import { STATES } from '../../engine/fleet/result-set.js';
import { ROW_COLUMNS } from './rows.js';

type Column = keyof ScanRow;

const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8' } as const;
/**
 * Each column's Parquet type; REQUIRED ones have a value in every row, OPTIONAL ones are null in error rows. `cves` is
 * a list of strings (the standard three-level LIST: DuckDB reads VARCHAR[], pandas a list per cell).
 */
const TYPES: Readonly<Record<Column, Omit<SchemaElement, 'name'>>> = {
  computer: { ...STRING, repetition_type: 'REQUIRED' },
  updateId: { ...STRING, repetition_type: 'OPTIONAL' },
  revisionNumber: { type: 'INT32', repetition_type: 'OPTIONAL' },
  kb: { ...STRING, repetition_type: 'OPTIONAL' },
  title: { ...STRING, repetition_type: 'OPTIONAL' },
  classification: { ...STRING, repetition_type: 'OPTIONAL' },
  severity: { ...STRING, repetition_type: 'OPTIONAL' },
  type: { ...STRING, repetition_type: 'OPTIONAL' },
  isBundle: { type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  releaseDate: { ...STRING, repetition_type: 'OPTIONAL' },
  cves: { repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  moreInfoUrl: { ...STRING, repetition_type: 'OPTIONAL' },
  state: { ...STRING, repetition_type: 'REQUIRED' },
  superseded: { type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  possiblySuperseded: { type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  reason: { ...STRING, repetition_type: 'REQUIRED' },
};
/** The columns in file order: the order of the other row formats (rows.ts). */
const COLUMNS: readonly (SchemaElement & { name: Column })[] = ROW_COLUMNS.map((name) => ({ name, ...TYPES[name] }));
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

/** A row's columns that say something of the machine; the others are the catalog's, null in a failed machine's row. */
const MACHINE_COLUMNS = ['computer', 'state', 'superseded', 'possiblySuperseded', 'reason'] as const;
/** A row's catalog columns: what scanRow reads from the catalog (derived, so the two cannot drift apart). */
export type CatalogColumns = Omit<ScanRow, (typeof MACHINE_COLUMNS)[number]>;
/** The catalog's columns: null in a failed machine's row (as are the two supersedence flags). */
const UPDATE_COLUMNS: readonly Column[] = ROW_COLUMNS.filter((c) => !(MACHINE_COLUMNS as readonly Column[]).includes(c));

/** flags' low 3 bits: a state's code in STATES' order, or this one for a machine that failed (state "Error"). */
export const ERROR_STATE = 4;
export const FLAG_SUPERSEDED = 8;
export const FLAG_POSSIBLY_SUPERSEDED = 16;

/**
 * One row group, compact: per row a catalog index, flags and two ids into `texts`, so the batch loop's side builds
 * no object per row and the group crosses to the encoding thread as four typed arrays and the texts it names once.
 */
export interface RowGroupBatch {
  readonly rows: number;
  /** Per row, the update's catalog index; -1 in a failed machine's row (its update columns are null). */
  readonly update: Int32Array;
  /** Per row, the state's code (STATES' order, or ERROR_STATE) | FLAG_SUPERSEDED | FLAG_POSSIBLY_SUPERSEDED. */
  readonly flags: Uint8Array;
  /** Per row, the computer's name: an index into texts. */
  readonly computer: Int32Array;
  /** Per row, the reason: an index into texts. */
  readonly reason: Int32Array;
  /** The distinct texts (names, reasons) of this group: each is encoded once per group, however many rows name it. */
  readonly texts: readonly string[];
  /** Catalog columns of the updates this group is the first to name (the encoder keeps them for later groups). */
  readonly catalog: readonly (readonly [number, CatalogColumns])[];
}

/** What the file says it holds, in its key-value metadata. */
export interface ParquetFileMeta {
  readonly states: readonly string[];
  readonly reasons: boolean;
}

/** A ByteWriter whose bytes are handed over between row groups (file offsets go on counting). */
class HandOverWriter extends ByteWriter {
  handOver(): Uint8Array {
    const out = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    return out;
  }
}

type Value = string | number | boolean | readonly string[] | null;

const STATE_TEXT: readonly string[] = [...STATES, 'Error'];

/**
 * The file, one row group at a time: group() returns the bytes of a group (the file's header before the first),
 * finish() the footer. Values go to the library as strings, the same string for every row with the same text.
 * (UTF-8 bytes, encoded once per text, cost 16 % more of this thread's time on the 5,000 machines of the issue-14
 * fleet: the library hashes and compares byte arrays in JavaScript, strings natively.)
 */
export class ParquetFileEncoder {
  private readonly bytes = new HandOverWriter(1 << 20);
  private readonly file: ParquetWriter;
  private readonly updates: (CatalogColumns | undefined)[] = [];

  constructor(meta: ParquetFileMeta) {
    this.file = new ParquetWriter({
      writer: this.bytes,
      schema: [{ name: 'root', num_children: COLUMNS.length }, ...COLUMNS.flatMap((c) => (c.name === 'cves' ? [c, ...CVE_ITEMS] : [c]))],
      codec: 'SNAPPY',
      createdBy: 'patchscan',
      kvMetadata: [
        { key: 'patchscan.states', value: meta.states.join(',') },
        { key: 'patchscan.reasons', value: String(meta.reasons) },
      ],
    });
  }

  group(b: RowGroupBatch): Uint8Array {
    for (const [i, u] of b.catalog) this.updates[i] = u;
    const n = b.rows;
    const texts = b.texts;
    // Filled by push: arrays made at their length (holey) measured 5 % slower to encode, and a larger peak.
    const col = Object.fromEntries(PARQUET_COLUMNS.map((c) => [c, [] as Value[]])) as Record<Column, Value[]>;
    for (let r = 0; r < n; r++) {
      const f = b.flags[r]!;
      col.computer.push(texts[b.computer[r]!]!);
      col.state.push(STATE_TEXT[f & 7]!);
      col.reason.push(texts[b.reason[r]!]!);
      const i = b.update[r]!;
      const u = i < 0 ? undefined : this.updates[i];
      if (u === undefined) {
        if (i >= 0) throw new Error(`row group names catalog update ${i} before its columns`);
        for (const c of UPDATE_COLUMNS) col[c].push(null);
        col.superseded.push(null);
        col.possiblySuperseded.push(null);
        continue;
      }
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
      col.superseded.push((f & FLAG_SUPERSEDED) !== 0);
      col.possiblySuperseded.push((f & FLAG_POSSIBLY_SUPERSEDED) !== 0);
    }
    const columnData = COLUMNS.map((c) => ({
      name: c.name,
      data: col[c.name],
      // Strings repeat (thousands of updates over millions of rows): always a dictionary, whatever the first page says.
      ...(c.type === 'BYTE_ARRAY' ? { encoding: 'RLE_DICTIONARY' as const } : {}),
      ...(NO_STATISTICS.has(c.name) ? { statistics: false } : {}),
    }));
    void this.file.write({ columnData, rowGroupSize: n });
    return this.bytes.handOver();
  }

  /** The footer (schema, row-group index): the file's last bytes. */
  finish(): Uint8Array {
    void this.file.finish();
    return this.bytes.handOver();
  }
}
