/**
 * Catalog files made by hand for tests of the reader (engine/catalog/file.ts): a format 2 file with its description
 * rewritten and its checksum made right again (what a damaged-then-rehashed or crafted file looks like), and a format 1
 * file as builds before 2026-12-02 wrote it.
 */
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';

const HEADER = 56;
const packr = new Packr({ useRecords: false, moreTypes: true });

/** A format 2 file's description: everything but the arrays (`rest`) and where each array is (`places`). */
export interface FileDescription {
  rest: Record<string, unknown>;
  places: Record<string, unknown>;
}

/** The description of format 2 file `bytes`. */
export function descriptionOf(bytes: Buffer): FileDescription {
  const m = bytes.readUInt32LE(HEADER);
  return packr.unpack(bytes.subarray(HEADER + 4, HEADER + 4 + m)) as FileDescription;
}

/**
 * Format 2 file `bytes` with `description` in place of its own — the arrays stay where they were — and the length and
 * checksum in its header made to fit.
 */
export function withDescription(bytes: Buffer, description: FileDescription): Buffer {
  const m = bytes.readUInt32LE(HEADER);
  const again = packr.pack(description);
  const region = (4 + again.length + 7) & ~7;
  const oldRegion = (4 + m + 7) & ~7;
  const out = Buffer.alloc(HEADER + region + (bytes.length - HEADER - oldRegion));
  bytes.copy(out, 0, 0, 24);
  out.writeBigUInt64LE(BigInt(out.length - HEADER), 16);
  out.writeUInt32LE(again.length, HEADER);
  again.copy(out, HEADER + 4);
  bytes.copy(out, HEADER + region, HEADER + oldRegion);
  createHash('sha256').update(out.subarray(HEADER)).digest().copy(out, 24);
  return out;
}

/** A version 1 file as versions before 2026-12-02 wrote it: the header, then the whole data as one msgpack value. */
export function version1File(data: unknown): Buffer {
  const payload = packr.pack(data);
  const header = Buffer.alloc(HEADER);
  header.write('PSCATLG\0', 0, 'latin1');
  header.writeUInt32LE(1, 8);
  header.writeBigUInt64LE(BigInt(payload.length), 16);
  createHash('sha256').update(payload).digest().copy(header, 24);
  return Buffer.concat([header, payload]);
}
