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
