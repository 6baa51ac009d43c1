/**
 * Microsoft Cabinet (MS-CAB) directory structures: the header, folder table and file table.
 *
 * Only the directory is read here (a few kilobytes to a few megabytes); folder data is decoded by
 * {@link ./reader.ts} block by block, so a 1 GB cabinet is never held in memory.
 *
 * Where the specification and libmspack (the library behind Debian's `cabextract`, our test oracle) disagree,
 * we follow libmspack, because users compare our output with `cabextract`'s:
 * - the file table is read straight after the folder table (libmspack ignores `coffFiles`, so entries that only
 *   `coffFiles` reaches stay hidden);
 * - empty file names are refused;
 * - an entry whose data would lie beyond its folder's last possible block is listed but cannot be extracted.
 */
import { PatchscanError } from '../../engine/errors.js';

export const CAB_SIGNATURE = 0x4643534d; // "MSCF" little-endian
export const CAB_BLOCK_MAX = 32768; // uncompressed bytes per CFDATA block
export const CAB_INPUT_MAX = 32768 + 6144; // compressed bytes per CFDATA block (LZX worst case)
/** Folder offsets are 31-bit with room for one block; libmspack's CAB_LENGTHMAX. */
export const CAB_LENGTH_MAX = 0x7fff8000;

const FLAG_PREV_CABINET = 0x0001;
const FLAG_NEXT_CABINET = 0x0002;
const FLAG_RESERVE_PRESENT = 0x0004;

const IFOLD_CONTINUED_FROM_PREV = 0xfffd;
const IFOLD_CONTINUED_TO_NEXT = 0xfffe;
const IFOLD_CONTINUED_PREV_AND_NEXT = 0xffff;

export const ATTR_NAME_IS_UTF = 0x80;

export type CompressionMethod = 'none' | 'mszip' | 'quantum' | 'lzx';

export interface CabFolder {
  readonly index: number;
  /** Absolute offset of the first CFDATA block. */
  readonly dataOffset: number;
  readonly blockCount: number;
  readonly method: CompressionMethod | 'unknown';
  /** Raw `typeCompress` word; for LZX bits 8..12 carry the window size. */
  readonly typeCompress: number;
}

export interface CabEntry {
  /** Name as stored, with `\` converted to `/`; NOT yet checked for safety (see {@link ./safe-path.ts}). */
  readonly name: string;
  readonly size: number;
  /** Offset of the file's bytes within its folder's uncompressed stream. */
  readonly folderOffset: number;
  readonly folderIndex: number;
  /** DOS date/time converted to a Date (local time, as cabextract prints it). */
  readonly modified: Date;
  readonly attributes: number;
}

export interface CabDirectory {
  readonly cabinetSize: number;
  readonly setId: number;
  readonly cabinetIndex: number;
  /** Reserved bytes in every CFDATA header (skipped). */
  readonly dataReserve: number;
  readonly folders: readonly CabFolder[];
  /** Entries in table order (libmspack/cabextract order). */
  readonly entries: readonly CabEntry[];
}

/** Random access to the cabinet's bytes; `read` returns fewer bytes only at end of file. */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Buffer;
}

function methodOf(typeCompress: number): CompressionMethod | 'unknown' {
  switch (typeCompress & 0x000f) {
    case 0:
      return 'none';
    case 1:
      return 'mszip';
    case 2:
      return 'quantum';
    case 3:
      return 'lzx';
    default:
      return 'unknown';
  }
}

function dosDateTime(date: number, time: number): Date {
  const year = 1980 + (date >> 9);
  const month = ((date >> 5) & 0x0f) - 1;
  const day = date & 0x1f;
  return new Date(year, month, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2);
}

/** Cursor over the directory area with truncation checks that name the structure being read. */
class Cursor {
  pos: number;
  constructor(
    private readonly src: ByteSource,
    private readonly file: string,
    start: number,
  ) {
    this.pos = start;
  }
  bytes(length: number, what: string): Buffer {
    const b = this.src.read(this.pos, length);
    if (b.length < length) {
      throw new PatchscanError('CAB_TRUNCATED', `${this.file}: cabinet ends inside the ${what} at offset ${this.pos}`, {
        file: this.file,
        offset: this.pos,
        structure: what,
      });
    }
    this.pos += length;
    return b;
  }
  /** A NUL-terminated string of at most 256 bytes including the NUL (libmspack's limit). */
  cstring(what: string, permitEmpty: boolean): Buffer {
    const avail = this.src.read(this.pos, 256);
    const nul = avail.indexOf(0);
    if (nul < 0) {
      if (avail.length < 256) {
        throw new PatchscanError('CAB_TRUNCATED', `${this.file}: cabinet ends inside the ${what} at offset ${this.pos}`, {
          file: this.file,
          offset: this.pos,
          structure: what,
        });
      }
      throw new PatchscanError('CAB_BAD_HEADER', `${this.file}: ${what} at offset ${this.pos} is longer than 255 bytes`, {
        file: this.file,
        offset: this.pos,
        structure: what,
      });
    }
    if (nul === 0 && !permitEmpty) {
      throw new PatchscanError('CAB_BAD_HEADER', `${this.file}: ${what} at offset ${this.pos} is empty`, {
        file: this.file,
        offset: this.pos,
        structure: what,
      });
    }
    const s = avail.subarray(0, nul);
    this.pos += nul + 1;
    return s;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An entry's name: as ISO-8859-1 when the entry does not say UTF-8 (as libmspack converts them), else as UTF-8 —
 * undefined when those bytes are not UTF-8 (decoded leniently, two different names could become one, and one entry
 * silently replace the other).
 */
export function decodeName(raw: Buffer, attributes: number): string | undefined {
  let text: string;
  if (attributes & ATTR_NAME_IS_UTF) {
    try {
      text = strictUtf8.decode(raw);
    } catch {
      return undefined;
    }
  } else text = raw.toString('latin1');
  return text.replaceAll('\\', '/');
}

/**
 * Reads and validates the cabinet directory. Throws `CAB_BAD_HEADER`, `CAB_TRUNCATED`, `CAB_BAD_STRUCTURE` or
 * `CAB_UNSUPPORTED` (cabinet sets) with the file name and offset.
 */
export function readDirectory(src: ByteSource, file: string): CabDirectory {
  const cur = new Cursor(src, file, 0);
  if (src.size < 36) {
    const sig = src.read(0, 4);
    if (sig.length < 4 || sig.readUInt32LE(0) !== CAB_SIGNATURE) {
      throw new PatchscanError('CAB_BAD_HEADER', `${file}: not a cabinet file (no MSCF signature at offset 0)`, { file, offset: 0 });
    }
  }
  const h = cur.bytes(36, 'cabinet header');
  if (h.readUInt32LE(0) !== CAB_SIGNATURE) {
    throw new PatchscanError('CAB_BAD_HEADER', `${file}: not a cabinet file (no MSCF signature at offset 0)`, { file, offset: 0 });
  }
  const cabinetSize = h.readUInt32LE(8);
  const folderCount = h.readUInt16LE(26);
  const fileCount = h.readUInt16LE(28);
  const flags = h.readUInt16LE(30);
  const setId = h.readUInt16LE(32);
  const cabinetIndex = h.readUInt16LE(34);
  if (folderCount === 0) {
    throw new PatchscanError('CAB_BAD_HEADER', `${file}: cabinet declares no folders`, { file, offset: 26 });
  }
  if (fileCount === 0) {
    throw new PatchscanError('CAB_BAD_HEADER', `${file}: cabinet declares no files`, { file, offset: 28 });
  }
  let folderReserve = 0;
  let dataReserve = 0;
  if (flags & FLAG_RESERVE_PRESENT) {
    const r = cur.bytes(4, 'reserve sizes');
    const headerReserve = r.readUInt16LE(0);
    folderReserve = r.readUInt8(2);
    dataReserve = r.readUInt8(3);
    if (headerReserve > 60000) {
      throw new PatchscanError('CAB_BAD_HEADER', `${file}: header reserve of ${headerReserve} bytes is implausible`, { file, offset: 36 });
    }
    cur.bytes(headerReserve, 'header reserve');
  }
  if (flags & FLAG_PREV_CABINET) {
    cur.cstring('previous cabinet name', true);
    cur.cstring('previous disk name', true);
  }
  if (flags & FLAG_NEXT_CABINET) {
    cur.cstring('next cabinet name', true);
    cur.cstring('next disk name', true);
  }

  const folders: CabFolder[] = [];
  for (let i = 0; i < folderCount; i++) {
    const f = cur.bytes(8 + folderReserve, `folder entry ${i}`);
    const typeCompress = f.readUInt16LE(6);
    folders.push({ index: i, dataOffset: f.readUInt32LE(0), blockCount: f.readUInt16LE(4), typeCompress, method: methodOf(typeCompress) });
  }

  const entries: CabEntry[] = [];
  for (let i = 0; i < fileCount; i++) {
    const at = cur.pos;
    const f = cur.bytes(16, `file entry ${i}`);
    const size = f.readUInt32LE(0);
    const folderOffset = f.readUInt32LE(4);
    const folderIndex = f.readUInt16LE(8);
    const attributes = f.readUInt16LE(14);
    const rawName = cur.cstring(`name of file entry ${i}`, false);
    if (
      folderIndex === IFOLD_CONTINUED_FROM_PREV ||
      folderIndex === IFOLD_CONTINUED_TO_NEXT ||
      folderIndex === IFOLD_CONTINUED_PREV_AND_NEXT
    ) {
      throw new PatchscanError('CAB_UNSUPPORTED', `${file}: file entry ${i} spans a cabinet set (multi-part cabinets are not supported)`, {
        file,
        offset: at,
        entry: i,
      });
    }
    if (folderIndex >= folderCount) {
      throw new PatchscanError(
        'CAB_BAD_STRUCTURE',
        `${file}: file entry ${i} at offset ${at} names folder ${folderIndex}, but the cabinet has ${folderCount}`,
        {
          file,
          offset: at,
          entry: i,
        },
      );
    }
    const name = decodeName(rawName, attributes);
    if (name === undefined)
      throw new PatchscanError('CAB_BAD_STRUCTURE', `${file}: file entry ${i} at offset ${at} says its name is UTF-8, and it is not`, {
        file,
        offset: at,
        entry: i,
      });
    entries.push({
      name,
      size,
      folderOffset,
      folderIndex,
      modified: dosDateTime(f.readUInt16LE(10), f.readUInt16LE(12)),
      attributes,
    });
  }
  if (flags & (FLAG_PREV_CABINET | FLAG_NEXT_CABINET)) {
    throw new PatchscanError('CAB_UNSUPPORTED', `${file}: cabinet is part of a multi-cabinet set, which patchscan does not read`, {
      file,
      offset: 30,
    });
  }
  for (const fo of folders) {
    if (fo.dataOffset >= src.size && fo.blockCount > 0) {
      throw new PatchscanError(
        'CAB_TRUNCATED',
        `${file}: folder ${fo.index} data at offset ${fo.dataOffset} is beyond the end of the file (${src.size} bytes)`,
        {
          file,
          offset: fo.dataOffset,
          folder: fo.index,
        },
      );
    }
  }
  return { cabinetSize, setId, cabinetIndex, dataReserve, folders, entries };
}

/** The MS-CAB data-block checksum (XOR of little-endian words, odd tail bytes in reverse order). */
export function cabChecksum(data: Uint8Array, start: number, end: number, seed: number): number {
  let sum = seed >>> 0;
  let i = start;
  const words = (end - start) >>> 2;
  for (let w = 0; w < words; w++, i += 4) {
    sum ^= (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
  }
  // The 1-3 leftover bytes are packed high-to-low: with three, the first lands in bits 16..23.
  let tail = 0;
  for (let left = (end - start) & 3; left > 0; left--) tail |= data[i++]! << (8 * (left - 1));
  return (sum ^ tail) >>> 0;
}
