/**
 * Storage of a numbered rule table (file-version-table.ts, reg-value-table.ts): records of a fixed number of numbers,
 * end to end in one Float64Array that doubles when full.
 */

/** `records` with room for one more record of `width` numbers after the first `count`: itself, or a copy twice as large. */
export function withRoomForOne(records: Float64Array<ArrayBuffer>, count: number, width: number): Float64Array<ArrayBuffer> {
  if ((count + 1) * width <= records.length) return records;
  const grown = new Float64Array(Math.max(records.length * 2, (count + 1) * width));
  grown.set(records);
  return grown;
}

/** Records a table starts with room for. */
const INITIAL_RECORDS = 1024;

/** An empty table's storage, for records of `width` numbers. */
export function emptyRecords(width: number): Float64Array<ArrayBuffer> {
  return new Float64Array(width * INITIAL_RECORDS);
}

/** The records a scan index stored (catalog/scan-index.ts), as a table's storage: their size, or an empty table's if larger. */
export function storedRecords(records: Uint32Array, width: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(Math.max(records.length, width * INITIAL_RECORDS));
  out.set(records);
  return out;
}
