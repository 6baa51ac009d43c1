/**
 * The compiled catalog file: a fixed header, then the msgpack-encoded {@link CatalogData}.
 *
 *   0  8  magic "PSCATLG\0"
 *   8  4  format version (u32 LE)
 *  12  4  reserved (0)
 *  16  8  payload length (u64 LE)
 *  24 32  SHA-256 of the payload
 *  56  …  payload
 *
 * Writes are atomic (temporary file, fsync, rename): a reader sees the old file or the new one, never half.
 * Loading checks magic, version, length and checksum before decoding, and never touches XML.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-file.js';
import { Packr } from 'msgpackr';
import { PatchscanError, ioError } from '../errors.js';
import { CATALOG_FORMAT_VERSION, type CatalogData } from './data.js';

const MAGIC = Buffer.from('PSCATLG\0', 'latin1');
const HEADER = 56;
const packr = new Packr({ useRecords: false, moreTypes: true });

/**
 * msgpackr keeps the last buffer it decoded (module-level `src` and a DataView over it) until it decodes another:
 * after a catalog, that is the whole file, 36 MiB for a 50,000-revision catalog, held for the life of the process
 * (a heap snapshot of `patchscan scan` found it). Decoding one byte after the catalog lets the file go.
 */
const NIL = Uint8Array.of(0xc0);

export function encodeCatalog(data: CatalogData): Buffer {
  const payload = packr.pack(data);
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(CATALOG_FORMAT_VERSION, 8);
  header.writeBigUInt64LE(BigInt(payload.length), 16);
  createHash('sha256').update(payload).digest().copy(header, 24);
  return Buffer.concat([header, payload]);
}

export function decodeCatalog(buf: Buffer, source = 'catalog'): CatalogData {
  const bad = (why: string): PatchscanError => new PatchscanError('COMPILED_BAD_FILE', `${source}: ${why}`, { file: source });
  if (buf.length < HEADER || !buf.subarray(0, 8).equals(MAGIC))
    throw bad('not a patchscan compiled catalog (bad magic); compile one with `patchscan catalog import`');
  const version = buf.readUInt32LE(8);
  if (version !== CATALOG_FORMAT_VERSION) {
    throw bad(`catalog format version ${version} is not the supported version ${CATALOG_FORMAT_VERSION}; re-import the catalog`);
  }
  const length = Number(buf.readBigUInt64LE(16));
  if (buf.length !== HEADER + length)
    throw bad(`file is ${buf.length} bytes but its header announces ${HEADER + length} (truncated or padded)`);
  const payload = buf.subarray(HEADER);
  const digest = createHash('sha256').update(payload).digest();
  if (!digest.equals(buf.subarray(24, 56))) throw bad('checksum mismatch: the file is damaged');
  let data: CatalogData;
  try {
    data = packr.unpack(payload) as CatalogData;
  } catch (e) {
    throw bad(`payload does not decode: ${(e as Error).message}`);
  } finally {
    packr.unpack(NIL);
  }
  if (data?.format !== 'patchscan-catalog') throw bad('payload is not a catalog');
  return data;
}

/** Writes atomically (engine/io/atomic-file.ts). */
export function writeCatalogFile(path: string, data: CatalogData): number {
  const bytes = encodeCatalog(data);
  writeFileAtomic(path, bytes, 'write the catalog to');
  return bytes.length;
}

export function readCatalogFile(path: string): CatalogData {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw ioError('read the catalog', path, e);
  }
  return decodeCatalog(buf, path);
}
