/**
 * A catalog's string table as two arrays — every string's UTF-8 bytes end to end, and where each starts — instead of
 * an array of strings. Loading a 50,000-revision catalog decoded its ~290,000 strings one by one (~0.25 s of a cold
 * start, most of the file's decode); as bytes the table loads as one blob, is laid out in shared memory for a pool by
 * a copy, and only the strings a process reads are decoded, once each ({@link StringReader}).
 */
import { type PatchscanError } from '../errors.js';

export interface StringTable {
  /** String i is bytes[offsets[i] .. offsets[i + 1]); offsets has one more entry than there are strings. */
  readonly offsets: Uint32Array;
  readonly bytes: Uint8Array;
}

/** The table of `list` (string 0 is the empty string by the builder's convention; nothing here depends on it). */
export function encodeStrings(list: readonly string[]): StringTable {
  const offsets = new Uint32Array(list.length + 1);
  // Measured first, then written straight into one buffer (no Buffer per string).
  let length = 0;
  for (let i = 0; i < list.length; i++) {
    offsets[i] = length;
    length += Buffer.byteLength(list[i]!, 'utf8');
  }
  offsets[list.length] = length;
  // Memory of its own (not a slice of Node's shared pool, which a small table would be): the table may be cloned.
  const bytes = Buffer.allocUnsafeSlow(length);
  for (let i = 0; i < list.length; i++) bytes.write(list[i]!, offsets[i]!, offsets[i + 1]! - offsets[i]!, 'utf8');
  // A plain Uint8Array over the same memory: msgpackr and structured clones keep its type.
  return { offsets, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

export function stringCount(t: StringTable): number {
  return Math.max(0, t.offsets.length - 1);
}

/**
 * Whether the table holds string `id`. One it does not reads as '' — by {@link StringReader.get}, and by the readers
 * that compare or copy a string's bytes in place (an empty range): the rule is here once for all of them.
 */
export function holdsString(t: StringTable, id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id + 1 < t.offsets.length;
}

/**
 * Checks a table read from a file (its checksum held, but a file is input): offsets ascending and within the bytes.
 * `bad` words the error as the file's reader does.
 */
export function checkStringTable(t: unknown, bad: (why: string) => PatchscanError): StringTable {
  const table = t as Partial<StringTable> | undefined;
  if (!(table?.offsets instanceof Uint32Array) || !(table.bytes instanceof Uint8Array) || table.offsets.length === 0)
    throw bad('its string table is not offsets and bytes');
  const { offsets, bytes } = table;
  if (offsets[0] !== 0) throw bad('its string table does not start at byte 0');
  for (let i = 1; i < offsets.length; i++) if (offsets[i]! < offsets[i - 1]!) throw bad(`its string table's offset ${i} goes backwards`);
  if (offsets[offsets.length - 1] !== bytes.length)
    throw bad(`its string table ends at byte ${offsets[offsets.length - 1]} of ${bytes.length}`);
  return { offsets, bytes };
}

const CHUNK_BITS = 10,
  CHUNK = 1 << CHUNK_BITS;

/** Strings of a table, each decoded on first use and kept (the strings a process reads recur). */
export class StringReader {
  private readonly bytes: Buffer;
  private readonly offsets: Uint32Array;
  /**
   * Decoded strings by id, in arrays of {@link CHUNK} made as ids in their range are first read: a scanner's first
   * machines read thousands of rule attributes through here, and a Map's lookup was ~8 % of their time (an array's
   * slot is one read); one array for the whole table (~290,000 slots) cost ~7 ms to make, in every process and worker.
   */
  private readonly chunks: ((string | undefined)[] | undefined)[] = [];

  constructor(private readonly table: StringTable) {
    // A Buffer over the table's memory (no copy; shared memory stays shared): it decodes a slice in place.
    this.bytes = Buffer.from(table.bytes.buffer, table.bytes.byteOffset, table.bytes.byteLength);
    this.offsets = table.offsets;
  }

  /** String `id`, or '' for an id the table does not hold (as a missing array entry read before). */
  get(id: number): string {
    if (!holdsString(this.table, id)) return '';
    const chunk = (this.chunks[id >>> CHUNK_BITS] ??= new Array<string | undefined>(CHUNK));
    return (chunk[id & (CHUNK - 1)] ??= this.bytes.toString('utf8', this.offsets[id], this.offsets[id + 1]));
  }
}
