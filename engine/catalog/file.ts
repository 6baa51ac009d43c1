/**
 * The compiled catalog file: a fixed header, then the payload.
 *
 *   0  8  magic "PSCATLG\0"
 *   8  4  format version (u32 LE): 2; version 1 (the whole data as msgpack, strings as a list) is still read
 *  12  4  reserved (0)
 *  16  8  payload length (u64 LE)
 *  24 32  SHA-256 of the payload
 *  56  …  payload
 *
 * Version 2's payload is the data's layout (layout.ts): a u32 LE length M, M bytes of msgpack holding everything but
 * the typed arrays and where each array is, then — from the next multiple of 8 — the arrays themselves, end to end.
 * Loading makes each array a view over the bytes read (nothing copied: a 50,000-revision catalog loaded in ~0.5 s
 * cold with its arrays copied out and ~290,000 strings decoded, now the strings are decoded only as read). Among the
 * arrays is the catalog's scan index when the writer gave one (scan-index.ts), checked when read.
 *
 * Writes are atomic (temporary file, fsync, rename): a reader sees the old file or the new one, never half.
 * Loading checks magic, version, length and checksum before decoding, and never touches XML.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic-file.js';
import { Packr } from 'msgpackr';
import { PatchscanError, ioError } from '../errors.js';
import { CATALOG_FORMAT_VERSION, type CatalogData } from './data.js';
import { nullPath, placeArrays, splitArrays, withViews, writeArrays } from './layout.js';
import { checkStringTable, encodeStrings, type StringTable } from './string-table.js';
import { attachScanIndex, checkScanIndex, SCAN_INDEX_VERSION, scanIndexOf, type ScanIndex } from './scan-index.js';

const MAGIC = Buffer.from('PSCATLG\0', 'latin1');
const HEADER = 56; // a multiple of 8: the payload's arrays are aligned in the file as in memory
const packr = new Packr({ useRecords: false, moreTypes: true });

/**
 * msgpackr keeps the last buffer it decoded (module-level `src` and a DataView over it) until it decodes another:
 * after a catalog, that could be the whole file, held for the life of the process (a heap snapshot of
 * `patchscan scan` found it). Decoding one byte after the catalog lets the file go.
 */
const NIL = Uint8Array.of(0xc0);

const align8 = (n: number): number => (n + 7) & ~7;

export interface EncodeCatalogOptions {
  /**
   * Store the catalog's scan index, built by this function from the data written: fleet/scan-index.ts
   * `buildScanIndex` (~0.3 s for 50,000 revisions, saved by every process and worker that scans from the file). A
   * function rather than an index, so that the index written is always the data's own.
   */
  readonly scanIndex?: (data: CatalogData) => ScanIndex;
}

/** The file's bytes. */
export function encodeCatalog(data: CatalogData, o: EncodeCatalogOptions = {}): Buffer {
  const index = o.scanIndex?.(data);
  if (index !== undefined && index.version !== SCAN_INDEX_VERSION)
    throw new PatchscanError(
      'INTERNAL',
      `a scan index of version ${index.version} cannot be written (this build writes ${SCAN_INDEX_VERSION})`,
    );
  const { rest, arrays } = splitArrays(index === undefined ? data : { ...data, scanIndex: index });
  const { places, size } = placeArrays(arrays);
  const meta = packr.pack({ rest, places });
  const region = align8(4 + meta.length);
  const out = Buffer.alloc(HEADER + region + size);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(CATALOG_FORMAT_VERSION, 8);
  out.writeBigUInt64LE(BigInt(region + size), 16);
  out.writeUInt32LE(meta.length, HEADER);
  meta.copy(out, HEADER + 4);
  writeArrays(arrays, places, out.buffer, out.byteOffset + HEADER + region);
  createHash('sha256').update(out.subarray(HEADER)).digest().copy(out, 24);
  return out;
}

/**
 * The catalog in `buf` (a whole file). Its arrays are views over `buf`'s memory (over a SharedArrayBuffer when `buf`
 * is over one: readCatalogFile's `shared`), so `buf` must not be changed afterwards.
 */
export function decodeCatalog(buf: Buffer, source = 'catalog'): CatalogData {
  return decodeVerified(buf, source, undefined);
}

/**
 * decodeCatalog, with the SHA-256 of `buf`'s payload made already by the caller (readSharedHashing, as it read the
 * bytes) or undefined to make it here. Either way it is compared with the header's before anything is decoded.
 */
function decodeVerified(buf: Buffer, source: string, payloadDigest: Buffer | undefined): CatalogData {
  const bad = badFile(source);
  const version = checkHeader(buf, buf.length, bad);
  const digest = payloadDigest ?? createHash('sha256').update(buf.subarray(HEADER)).digest();
  if (!digest.equals(buf.subarray(24, 56))) throw bad('checksum mismatch: the file is damaged');
  let data: CatalogData;
  try {
    data = version === 1 ? version1(buf.subarray(HEADER), bad) : version2(buf, bad);
  } catch (e) {
    throw PatchscanError.is(e) ? e : bad(`payload does not decode: ${(e as Error).message}`);
  } finally {
    packr.unpack(NIL);
  }
  if (data?.format !== 'patchscan-catalog') throw bad('payload is not a catalog');
  // The same data with this version's number: its scan index (kept beside it) goes with it.
  const out = attachScanIndex({ ...data, version: CATALOG_FORMAT_VERSION }, scanIndexOf(data));
  fileDigests.set(out, digest.toString('hex'));
  return out;
}

const badFile =
  (source: string) =>
  (why: string): PatchscanError =>
    new PatchscanError('COMPILED_BAD_FILE', `${source}: ${why}`, { file: source });

/**
 * The header's checks, on `head` (the file's first bytes, the whole header at least where the file has one) of a file
 * of `size` bytes: magic, a version this build reads, and a payload length that fits the size. Returns the version.
 */
function checkHeader(head: Buffer, size: number, bad: (why: string) => PatchscanError): number {
  if (size < HEADER || head.length < HEADER || !head.subarray(0, 8).equals(MAGIC))
    throw bad('not a patchscan compiled catalog (bad magic); compile one with `patchscan catalog import`');
  const version = head.readUInt32LE(8);
  if (version !== CATALOG_FORMAT_VERSION && version !== 1) {
    throw bad(
      `catalog format version ${version} is not one this version reads (1 or ${CATALOG_FORMAT_VERSION}); ` +
        'import the catalog again with this version (`patchscan catalog import`)',
    );
  }
  const length = Number(head.readBigUInt64LE(16));
  if (size !== HEADER + length) throw bad(`file is ${size} bytes but its header announces ${HEADER + length} (truncated or padded)`);
  return version;
}

const fileDigests = new WeakMap<CatalogData, string>();

/**
 * The SHA-256 (hex) of the payload of the file `data` was read from (checked when it was read): what names these very
 * bytes (a stored catalog delta is tied to its catalog by it: catalog-delta-file.ts). Undefined for data compiled in
 * memory or copied.
 */
export function fileDigestOf(data: CatalogData): string | undefined {
  return fileDigests.get(data);
}

function version2(file: Buffer, bad: (why: string) => PatchscanError): CatalogData {
  // Views need the arrays aligned in memory as in the file: a buffer that starts off a multiple of 8 is copied.
  const buf = file.byteOffset % 8 === 0 ? file : Buffer.from(new Uint8Array(file));
  const payload = buf.subarray(HEADER);
  if (payload.length < 4) throw bad('payload is too short');
  const m = payload.readUInt32LE(0);
  if (4 + m > payload.length) throw bad('payload is too short for its own description');
  // Copied out (a few KiB): msgpackr refuses a view over shared memory, and must not hold the file (NIL above).
  const meta = packr.unpack(Buffer.from(payload.subarray(4, 4 + m))) as { rest?: unknown; places?: unknown } | undefined;
  const region = align8(4 + m);
  if (meta === null || typeof meta !== 'object' || meta.rest === null || typeof meta.rest !== 'object')
    throw bad('payload is not a catalog');
  const data = withViews(meta.rest, meta.places, buf.buffer, buf.byteOffset + HEADER + region, Math.max(0, payload.length - region), bad);
  const missing = nullPath(data);
  if (missing !== undefined) throw bad(`its array ${missing} has no place in the file`);
  const { scanIndex, ...catalog } = data as CatalogData & { scanIndex?: unknown };
  const checked: CatalogData = { ...catalog, strings: checkStringTable(catalog.strings, bad) };
  // An index of another version is left out: scans build their own.
  return attachScanIndex(checked, scanIndex === undefined ? undefined : checkScanIndex(checked, scanIndex, bad));
}

/** Version 1: the data as one msgpack value (arrays copied out of it), its strings a list, turned into a table. */
function version1(payload: Buffer, bad: (why: string) => PatchscanError): CatalogData {
  // msgpackr refuses a view over shared memory (readCatalogFile's `shared`): such a file is decoded from a copy, and a
  // pool then lays its arrays out in shared memory of their own (pool/shared-catalog.ts).
  const data = packr.unpack(payload.buffer instanceof SharedArrayBuffer ? Buffer.from(payload) : payload) as
    (Omit<CatalogData, 'strings'> & { strings: unknown }) | undefined;
  if (data?.format !== 'patchscan-catalog') throw bad('payload is not a catalog');
  // Version 1 had no scan index: one found in such a file is not read (scans build their own).
  const { scanIndex: _, ...rest } = data as typeof data & { scanIndex?: unknown };
  return { ...rest, strings: version1Strings(data.strings, bad) };
}

function version1Strings(list: unknown, bad: (why: string) => PatchscanError): StringTable {
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw bad('its string table is not a list of strings');
  return encodeStrings(list);
}

/** Writes atomically (engine/io/atomic-file.ts). */
export function writeCatalogFile(path: string, data: CatalogData, o: EncodeCatalogOptions = {}): number {
  const bytes = encodeCatalog(data, o);
  writeFileAtomic(path, bytes, 'write the catalog to');
  return bytes.length;
}

export interface ReadCatalogOptions {
  /**
   * Read the file into a SharedArrayBuffer: the catalog's arrays are then in shared memory already, and a worker pool
   * (pool/shared-catalog.ts) shares them as they are instead of copying them.
   */
  readonly shared?: boolean;
}

export function readCatalogFile(path: string, o: ReadCatalogOptions = {}): CatalogData {
  let buf: Buffer;
  try {
    buf = o.shared ? readShared(path) : readFileSync(path);
  } catch (e) {
    throw PatchscanError.is(e) ? e : ioError('read the catalog', path, e);
  }
  return decodeCatalog(buf, path);
}

/**
 * {@link readCatalogFile} into shared memory (its `shared`), read by libuv's threads {@link READ_AHEAD} pieces at a time
 * while this thread hashes the pieces already read, in order: a 41 MB catalog loads in ~133 ms where reading it in four
 * pieces and then hashing it took ~157 (medians of ten, alternating: bench/RESULTS.md, 2026-12-03 21:06–00:06). Site
 * scans, `patchscan scan` and reports load their catalogs this way. The checksum is still verified
 * before anything is decoded, as readCatalogFile does: damaged bytes that decode (an offset made huge) could otherwise
 * send a scan into a loop of billions of steps.
 */
export async function readCatalogFileInPieces(path: string, o: PieceReadOptions = {}): Promise<CatalogData> {
  const piece = o.pieceBytes ?? PIECE;
  if (!Number.isSafeInteger(piece) || piece <= 0)
    throw new PatchscanError('BAD_ARGUMENT', `pieceBytes must be a positive whole number of bytes, not ${String(o.pieceBytes)}`);
  let read: { readonly buf: Buffer; readonly payloadDigest: Buffer | undefined };
  try {
    read = await readSharedHashing(path, piece);
  } catch (e) {
    throw PatchscanError.is(e) ? e : ioError('read the catalog', path, e);
  }
  return decodeVerified(read.buf, path, read.payloadDigest);
}

/**
 * The file in shared memory, read in pieces of `piece` bytes, {@link READ_AHEAD} at a time (libuv's threads: reading
 * is mostly the kernel faulting in fresh pages, which several threads do side by side), and the SHA-256 of its payload
 * (from byte {@link HEADER}) made here as the pieces come in, in file order — the hashing overlaps the reading.
 *
 * The header is read and checked first (checkHeader), so that a path naming some other large file fails at once rather
 * than after reading all of it. The digest is undefined — decodeVerified then makes it over exactly the bytes it decodes,
 * and words what is wrong — unless every piece came in whole and was hashed: a file that shrank while it was read
 * comes back short. A path that is not a regular file (a pipe: `-c /dev/stdin`) has no size to split: readStream.
 */
async function readSharedHashing(
  path: string,
  piece: number,
): Promise<{ readonly buf: Buffer; readonly payloadDigest: Buffer | undefined }> {
  const file = await open(path, 'r');
  try {
    const stat = await file.stat();
    if (!stat.isFile()) return { buf: await readStream(file, badFile(path)), payloadDigest: undefined };
    const size = stat.size;
    const head = Buffer.alloc(Math.min(size, HEADER));
    if (head.length > 0) await file.read(head, 0, head.length, 0);
    checkHeader(head, size, badFile(path));
    const buf = Buffer.from(new SharedArrayBuffer(size));
    const pieces = Math.ceil(size / piece);
    const got = new Float64Array(pieces).fill(-1); // bytes read per piece, -1 until it is in
    const hash = createHash('sha256');
    let hashed = 0; // pieces hashed, from the first
    let short = false;
    let failed = false; // a read failed: the other readers take no more pieces
    const readPiece = async (p: number): Promise<void> => {
      const from = p * piece,
        to = Math.min(size, from + piece);
      let at = from;
      while (at < to && !failed) {
        const { bytesRead } = await file.read(buf, at, to - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      got[p] = at - from;
    };
    const hashReady = (): void => {
      for (; hashed < pieces && got[hashed]! >= 0; hashed++) {
        const from = hashed * piece,
          to = Math.min(size, from + piece);
        if (got[hashed] !== to - from) short = true;
        if (!short && to > HEADER) hash.update(buf.subarray(Math.max(from, HEADER), to));
      }
    };
    let next = 0;
    // READ_AHEAD readers, each taking the next piece once its last one is in and what is ready of the file is hashed.
    const reader = async (): Promise<void> => {
      while (next < pieces && !failed) {
        const p = next++;
        try {
          await readPiece(p);
        } catch (e) {
          failed = true;
          throw e;
        }
        hashReady();
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_AHEAD, pieces) }, reader));
    hashReady();
    if (short || hashed !== pieces) {
      let read = 0;
      for (const n of got) read += Math.max(0, n);
      return { buf: buf.subarray(0, read), payloadDigest: undefined };
    }
    return { buf, payloadDigest: hash.digest() };
  } finally {
    await file.close();
  }
}

/**
 * A catalog from a file that is not a regular one (a pipe, a device), read in order: its header first, checked, then as
 * many bytes as the header announces, into shared memory, and then one byte more must not come (padded). So a device
 * that never ends (`/dev/zero`) is refused at its header, and a pipe's catalog is read whole, no further. The steps
 * once, for both readers (readStream, readStreamSync): each `yield` asks for bytes read into `into` from `at` on, and
 * gets how many came (0 at the end).
 */
function* streamSteps(bad: (why: string) => PatchscanError): Generator<{ readonly into: Buffer; readonly at: number }, Buffer, number> {
  function* fill(into: Buffer, from: number): Generator<{ readonly into: Buffer; readonly at: number }, number, number> {
    let at = from;
    while (at < into.length) {
      const n = yield { into, at };
      if (n === 0) break;
      at += n;
    }
    return at;
  }
  const head = Buffer.alloc(HEADER);
  const headRead = yield* fill(head, 0);
  if (headRead < HEADER) checkHeader(head.subarray(0, headRead), headRead, bad); // throws: shorter than a header
  const announced = HEADER + Number(head.readBigUInt64LE(16));
  checkHeader(head, announced, bad); // magic and version
  if (announced > MAX_STREAMED)
    throw bad(`its header announces ${announced} bytes, more than a catalog read from a pipe may hold (${MAX_STREAMED})`);
  const buf = Buffer.from(new SharedArrayBuffer(announced));
  head.copy(buf);
  const size = yield* fill(buf, HEADER);
  if (size < announced) checkHeader(head, size, bad);
  if ((yield { into: Buffer.alloc(1), at: 0 }) > 0)
    throw bad(`file is more than ${announced} bytes but its header announces ${announced} (truncated or padded)`);
  return buf;
}

/** streamSteps through a file handle, not blocking. */
async function readStream(file: FileHandle, bad: (why: string) => PatchscanError): Promise<Buffer> {
  const steps = streamSteps(bad);
  for (let step = steps.next(); ;) {
    if (step.done) return step.value;
    const { into, at } = step.value;
    step = steps.next((await file.read(into, at, Math.min(into.length - at, MAX_READ), null)).bytesRead);
  }
}

/** streamSteps through a file descriptor, synchronously (readCatalogFile's `shared`). */
function readStreamSync(fd: number, bad: (why: string) => PatchscanError): Buffer {
  const steps = streamSteps(bad);
  for (let step = steps.next(); ;) {
    if (step.done) return step.value;
    const { into, at } = step.value;
    step = steps.next(readSync(fd, into, at, Math.min(into.length - at, MAX_READ), null));
  }
}

/** The most a catalog read from a pipe may announce (Buffer's limit here): a damaged header allocates no more. */
const MAX_STREAMED = 2 ** 32 - 1;
/**
 * The most one read asks for: Node takes a read's length as a 32-bit int and aborts the process (a failed assertion,
 * no error to catch) on a larger one — a catalog of 2 GiB or more, or a pipe's header announcing one.
 */
const MAX_READ = 2 ** 30;

export interface PieceReadOptions {
  /** The size of a piece (default 2 MiB): tests read small files in many pieces with it. */
  readonly pieceBytes?: number;
}

/** Pieces of 2 MiB, four read at once (libuv's default pool): 1–4 MiB pieces measured alike here, 8 MiB slower. */
const PIECE = 2 << 20;
const READ_AHEAD = 4;

function readShared(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return readStreamSync(fd, badFile(path));
    const size = stat.size;
    // The header first, as readSharedHashing checks it: a path naming some other large file fails before it is allocated.
    const head = Buffer.alloc(Math.min(size, HEADER));
    if (head.length > 0) readSync(fd, head, 0, head.length, 0);
    checkHeader(head, size, badFile(path));
    const buf = Buffer.from(new SharedArrayBuffer(size));
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, Math.min(size - at, MAX_READ), at);
      if (n === 0) break; // shorter than it was: the length check words it
      at += n;
    }
    return at === size ? buf : buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}
