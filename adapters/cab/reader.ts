/**
 * Streaming cabinet reader: the directory is read once, then each folder is decoded block by block and its
 * bytes handed to the caller in order. Memory is bounded by one data block plus the decoder's window
 * (at most 2 MiB for LZX), whatever the cabinet's size.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PatchscanError, ioError } from '../../engine/errors.js';
import {
  CAB_BLOCK_MAX,
  CAB_INPUT_MAX,
  CAB_LENGTH_MAX,
  cabChecksum,
  readDirectory,
  type ByteSource,
  type CabDirectory,
  type CabEntry,
  type CabFolder,
} from './format.js';
import { LzxDecoder } from './lzx.js';
import { MszipDecoder, type BlockDecoder } from './mszip.js';

export interface CabLimits {
  /** Refuse a folder whose decoded size passes this (a decompression bomb stops here). */
  readonly maxFolderBytes: number;
  /** Refuse cabinets with more entries than this. */
  readonly maxEntries: number;
}

export const DEFAULT_CAB_LIMITS: CabLimits = {
  maxFolderBytes: 8 * 1024 ** 3,
  maxEntries: 65535,
};

/** The bytes of a file from `base` on: a cabinet embedded at `base` sees its own offsets. */
class FileSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly fd: number,
    private readonly base = 0,
  ) {
    this.size = Math.max(0, fstatSync(fd).size - base);
  }
  read(position: number, length: number): Buffer {
    const n = Math.max(0, Math.min(length, this.size - position));
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, buf, got, n - got, this.base + position + got);
      if (r === 0) break;
      got += r;
    }
    return got === n ? buf : buf.subarray(0, got);
  }
}

/** A file inside the cabinet, with a way to read its bytes once, in order. */
export interface CabFile extends CabEntry {
  /** Yields the file's bytes in chunks of at most 32 KiB. Valid only until the iteration moves on. */
  chunks(): Generator<Buffer, void, undefined>;
}

export class CabReader {
  readonly directory: CabDirectory;
  private readonly src: FileSource;
  private closed = false;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly limits: CabLimits,
    readonly offset: number,
  ) {
    this.src = new FileSource(fd, offset);
    try {
      this.directory = readDirectory(this.src, path);
      if (this.directory.entries.length > limits.maxEntries) {
        throw new PatchscanError(
          'CAB_LIMIT',
          `${path}: ${this.directory.entries.length} entries exceed the limit of ${limits.maxEntries}`,
          {
            file: path,
            limit: 'maxEntries',
          },
        );
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Opens the cabinet that starts at `offset` (default 0) of the file. */
  static open(path: string, limits: Partial<CabLimits> = {}, offset = 0): CabReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
      // A directory opens, and fails only when read, with no path in the error: refused here, with it.
      const st = fstatSync(fd);
      if (st.isDirectory()) {
        closeSync(fd);
        throw Object.assign(new Error('EISDIR'), { code: 'EISDIR', syscall: 'read' });
      }
      // A cabinet is read by position (its directory, then each folder's data where the directory says): a pipe or
      // a terminal has none, and read as one it looked like "no MSCF signature" — said as what it is instead.
      if (!st.isFile() && !st.isBlockDevice()) {
        closeSync(fd);
        throw new PatchscanError(
          'BAD_ARGUMENT',
          `${path}: a cabinet is read by position, which a pipe cannot give: save it to a file first and give that file`,
          { file: path },
        );
      }
    } catch (e) {
      throw PatchscanError.is(e) ? e : ioError('open', path, e);
    }
    return new CabReader(path, fd, { ...DEFAULT_CAB_LIMITS, ...limits }, offset);
  }

  /**
   * Opens every cabinet in the file: the one at offset 0 or, failing that, each cabinet embedded in other data
   * (a self-extracting program, a concatenation), found by searching for valid headers as cabextract does.
   * Throws the offset-0 error when no embedded cabinet is found either.
   */
  static openAll(path: string, limits: Partial<CabLimits> = {}): CabReader[] {
    let first: unknown;
    try {
      return [CabReader.open(path, limits)];
    } catch (e) {
      if (!PatchscanError.is(e) || e.code === 'IO') throw e;
      first = e;
    }
    const found: CabReader[] = [];
    for (const offset of signatureOffsets(path)) {
      if (offset === 0 || (found.length > 0 && offset < found[found.length - 1]!.offset + found[found.length - 1]!.directory.cabinetSize))
        continue;
      try {
        found.push(CabReader.open(path, limits, offset));
      } catch {
        // not a cabinet here; keep searching
      }
    }
    if (found.length === 0) throw first;
    return found;
  }

  get entries(): readonly CabEntry[] {
    return this.directory.entries;
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      closeSync(this.src.fd);
    }
  }

  /**
   * Yields every entry with its data, folder by folder in data order (so each folder is decoded once).
   * Data not read by the caller is skipped (still decoded: compressed streams cannot seek).
   */
  *files(): Generator<CabFile, void, undefined> {
    const { folders, entries } = this.directory;
    for (const folder of folders) {
      const inFolder = entries.filter((e) => e.folderIndex === folder.index).sort((a, b) => a.folderOffset - b.folderOffset);
      if (inFolder.length === 0) continue;
      const stream = new FolderStream(this.src, this.path, folder, this.directory.dataReserve, this.limits);
      for (const entry of inFolder) {
        let consumed = false;
        let expired = false;
        const file: CabFile = {
          ...entry,
          chunks: () => {
            if (consumed) throw new Error(`cabinet entry ${entry.name} was already read`);
            if (expired) throw new Error(`cabinet entry ${entry.name} must be read inside the files() loop, before it moves on`);
            consumed = true;
            return stream.range(entry);
          },
        };
        yield file;
        expired = true;
        if (!consumed)
          for (const _ of stream.range(entry)) {
            /* skip */
          }
      }
    }
  }

  /** Reads one entry fully into memory (for small entries such as index.xml). */
  readAll(name: string, maxBytes = 64 * 1024 * 1024): Buffer {
    const want = name.toLowerCase();
    for (const f of this.files()) {
      if (f.name.toLowerCase() !== want) continue;
      if (f.size > maxBytes) {
        throw new PatchscanError('CAB_LIMIT', `${this.path}: entry ${name} is ${f.size} bytes, more than the ${maxBytes} allowed`, {
          file: this.path,
          entry: name,
          limit: maxBytes,
        });
      }
      const parts: Buffer[] = [];
      for (const c of f.chunks()) parts.push(Buffer.from(c));
      return Buffer.concat(parts);
    }
    throw new PatchscanError('CATALOG_MISSING_FILE', `${this.path}: the cabinet holds no entry named ${name}`, {
      file: this.path,
      entry: name,
    });
  }
}

/** Every offset where the bytes "MSCF" occur, read in 1 MiB windows (bounded memory on any file size). */
function signatureOffsets(path: string): number[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out: number[] = [];
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < size; pos += chunk.length - 3) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      let i = chunk.subarray(0, n).indexOf('MSCF', 0, 'latin1');
      while (i >= 0) {
        if (out[out.length - 1] !== pos + i) out.push(pos + i);
        i = chunk.subarray(0, n).indexOf('MSCF', i + 1, 'latin1');
      }
      if (n < chunk.length) break;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Sequential decoded bytes of one folder; entries are cut out of it in offset order. */
class FolderStream {
  private readonly decoder: BlockDecoder | null;
  private blockIndex = 0;
  private nextBlockOffset: number;
  private current: Buffer = Buffer.alloc(0);
  private currentStart = 0; // folder offset of current[0]
  private decodedTotal = 0;

  constructor(
    private readonly src: ByteSource,
    private readonly path: string,
    private readonly folder: CabFolder,
    private readonly dataReserve: number,
    private readonly limits: CabLimits,
  ) {
    this.nextBlockOffset = folder.dataOffset;
    switch (folder.method) {
      case 'none':
        this.decoder = null;
        break;
      case 'mszip':
        this.decoder = new MszipDecoder();
        break;
      case 'lzx': {
        const bits = (folder.typeCompress >> 8) & 0x1f;
        try {
          this.decoder = new LzxDecoder(bits);
        } catch (e) {
          throw this.error('CAB_BAD_DATA', `folder ${folder.index} declares ${(e as Error).message}`);
        }
        break;
      }
      case 'quantum':
        throw this.error('CAB_UNSUPPORTED', `folder ${folder.index} uses Quantum compression, which patchscan does not decode`);
      default:
        throw this.error('CAB_UNSUPPORTED', `folder ${folder.index} uses unknown compression type ${folder.typeCompress & 0xf}`);
    }
  }

  private error(
    code: 'CAB_BAD_DATA' | 'CAB_UNSUPPORTED' | 'CAB_TRUNCATED' | 'CAB_LIMIT' | 'CAB_BAD_STRUCTURE',
    msg: string,
    extra: Record<string, unknown> = {},
  ): PatchscanError {
    return new PatchscanError(code, `${this.path}: ${msg}`, { file: this.path, folder: this.folder.index, ...extra });
  }

  *range(entry: CabEntry): Generator<Buffer, void, undefined> {
    let pos = entry.folderOffset;
    const end = entry.folderOffset + entry.size;
    if (end > CAB_LENGTH_MAX || end > this.folder.blockCount * CAB_BLOCK_MAX) {
      throw this.error(
        'CAB_BAD_STRUCTURE',
        `entry ${entry.name} (${entry.size} bytes at folder offset ${entry.folderOffset}` +
          `) lies beyond the ${this.folder.blockCount} data blocks of folder ` +
          `${this.folder.index}`,
        { entry: entry.name },
      );
    }
    if (pos < this.currentStart) {
      // Entries overlapping earlier ones would need a rewind; cabinets written by real tools never do this.
      throw this.error('CAB_BAD_STRUCTURE', `entry ${entry.name} overlaps the data of an earlier entry`);
    }
    while (pos < end) {
      while (pos >= this.currentStart + this.current.length) this.nextBlock(entry);
      const from = pos - this.currentStart;
      const to = Math.min(this.current.length, end - this.currentStart);
      yield this.current.subarray(from, to);
      pos += to - from;
    }
  }

  private nextBlock(entry: CabEntry): void {
    if (this.blockIndex >= this.folder.blockCount) {
      throw this.error(
        'CAB_BAD_STRUCTURE',
        `entry ${entry.name} extends past the end of folder ${this.folder.index} (${this.decodedTotal} bytes)`,
        { entry: entry.name },
      );
    }
    const at = this.nextBlockOffset;
    const hdr = this.src.read(at, 8 + this.dataReserve);
    if (hdr.length < 8 + this.dataReserve) {
      throw this.error(
        'CAB_TRUNCATED',
        `cabinet ends inside data block ${this.blockIndex} of folder ${this.folder.index} at offset ${at}`,
        { offset: at },
      );
    }
    const stored = hdr.readUInt32LE(0);
    const compressed = hdr.readUInt16LE(4);
    const uncompressed = hdr.readUInt16LE(6);
    if (compressed > CAB_INPUT_MAX || uncompressed > CAB_BLOCK_MAX || uncompressed === 0) {
      throw this.error(
        'CAB_BAD_DATA',
        `data block ${this.blockIndex} at offset ${at} declares ${compressed} → ${uncompressed} bytes, outside the format's limits`,
        { offset: at },
      );
    }
    const dataAt = at + 8 + this.dataReserve;
    const data = this.src.read(dataAt, compressed);
    if (data.length < compressed) {
      throw this.error(
        'CAB_TRUNCATED',
        `cabinet ends inside data block ${this.blockIndex} of folder ` +
          `${this.folder.index} (needs ${compressed} bytes at offset ${dataAt}, has ` +
          `${data.length})`,
        { offset: dataAt },
      );
    }
    if (stored !== 0) {
      const sum = cabChecksum(hdr, 4, 8, cabChecksum(data, 0, data.length, 0));
      if (sum !== stored)
        throw this.error('CAB_BAD_DATA', `data block ${this.blockIndex} at offset ${at} fails its checksum`, { offset: at });
    }
    let out: Buffer;
    if (this.decoder === null) {
      if (compressed !== uncompressed)
        throw this.error(
          'CAB_BAD_DATA',
          `stored data block ${this.blockIndex} at offset ${at} has ${compressed} bytes but declares ${uncompressed}`,
          { offset: at },
        );
      out = data;
    } else {
      try {
        out = this.decoder.decode(data, uncompressed);
      } catch (e) {
        throw this.error(
          'CAB_BAD_DATA',
          `data block ${this.blockIndex} of folder ${this.folder.index} at offset ${at}: ${(e as Error).message}`,
          { offset: at },
        );
      }
    }
    this.decodedTotal += out.length;
    if (this.decodedTotal > this.limits.maxFolderBytes) {
      throw this.error(
        'CAB_LIMIT',
        `folder ${this.folder.index} decodes to more than ${this.limits.maxFolderBytes} bytes (limit maxFolderBytes)`,
        { limit: 'maxFolderBytes' },
      );
    }
    this.currentStart += this.current.length;
    this.current = out;
    this.blockIndex++;
    this.nextBlockOffset = dataAt + compressed;
  }
}
