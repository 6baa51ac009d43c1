/**
 * A cabinet writer (stored or MSZIP), used by the corpus generator and by tests to build real cabinets.
 * Entries are streamed: data blocks go to a side file as they fill, the directory is kept in memory
 * (tens of bytes per entry), and the cabinet is assembled and renamed into place on `finish()`.
 *
 * Output is deterministic: the same entries give the same bytes (fixed timestamps, fixed compression level).
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { ioError, PatchscanError } from '../../engine/errors.js';
import { ATTR_NAME_IS_UTF, CAB_BLOCK_MAX, CAB_SIGNATURE, cabChecksum } from './format.js';

export type WriteCompression = 'none' | 'mszip';

export interface CabWriterOptions {
  readonly compression?: WriteCompression;
  /** zlib level for MSZIP (1 fastest … 9 smallest); default 6. */
  readonly level?: number;
  /** Timestamp stored for every entry; default 2024-01-01 00:00:00. */
  readonly date?: Date;
}

interface PendingEntry {
  readonly name: Buffer;
  readonly utf8: boolean;
  readonly size: number;
  readonly folderOffset: number;
  readonly folder: number;
}

interface FolderInfo {
  blocks: number;
  dataStart: number; // offset in the side file
}

const MAX_BLOCKS_PER_FOLDER = 65535;
const MAX_ENTRIES = 65535;

export class CabWriter {
  private readonly tmpData: string;
  private readonly dataFd: number;
  private dataSize = 0;
  private readonly entries: PendingEntry[] = [];
  private readonly folders: FolderInfo[] = [{ blocks: 0, dataStart: 0 }];
  private pending = Buffer.alloc(CAB_BLOCK_MAX);
  private pendingLength = 0;
  private folderOffset = 0;
  private finished = false;
  private readonly compression: WriteCompression;
  private readonly level: number;
  private readonly dosDate: number;
  private readonly dosTime: number;

  constructor(
    readonly path: string,
    options: CabWriterOptions = {},
  ) {
    this.compression = options.compression ?? 'mszip';
    this.level = options.level ?? 6;
    const d = options.date ?? new Date(2024, 0, 1, 0, 0, 0);
    this.dosDate = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
    this.dosTime = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
    this.tmpData = `${path}.data-${process.pid}.tmp`;
    try {
      this.dataFd = openSync(this.tmpData, 'w+');
    } catch (e) {
      throw ioError('create', this.tmpData, e);
    }
  }

  get entryCount(): number {
    return this.entries.length;
  }

  /** Adds an entry; `name` uses `/` or `\\` as separator and is stored with `\\`. */
  add(name: string, data: Uint8Array): void {
    this.addStream(name, [data], data.length);
  }

  /**
   * Adds an entry from chunks, for data too large to hold at once. `sizeHint` (the total, when known up front)
   * keeps the entry from straddling a folder boundary; without it the entry starts a folder only when needed.
   */
  addStream(name: string, chunks: Iterable<Uint8Array>, sizeHint = 0): void {
    if (this.finished) throw new Error('CabWriter.add after finish');
    if (this.entries.length >= MAX_ENTRIES) {
      throw new PatchscanError('CAB_LIMIT', `${this.path}: a cabinet holds at most ${MAX_ENTRIES} entries`, { file: this.path });
    }
    // An entry never spans folders; start a new one before a folder's block count or size would overflow.
    const blocksAfter = this.folders[this.folders.length - 1]!.blocks + Math.ceil((this.pendingLength + sizeHint) / CAB_BLOCK_MAX);
    if (this.folderOffset > 0 && (blocksAfter > MAX_BLOCKS_PER_FOLDER || this.folderOffset + sizeHint > 0x7fff0000)) this.startFolder();
    const stored = name.replaceAll('/', '\\');
    const utf8 = /[^\x20-\x7e]/.test(stored);
    const start = this.folderOffset;
    for (const data of chunks) {
      let at = 0;
      while (at < data.length) {
        const n = Math.min(CAB_BLOCK_MAX - this.pendingLength, data.length - at);
        this.pending.set(data.subarray(at, at + n), this.pendingLength);
        this.pendingLength += n;
        at += n;
        if (this.pendingLength === CAB_BLOCK_MAX) this.flushBlock();
      }
      this.folderOffset += data.length;
    }
    if (this.folders[this.folders.length - 1]!.blocks > MAX_BLOCKS_PER_FOLDER) {
      throw new PatchscanError('CAB_LIMIT', `${this.path}: entry ${name} overflows a folder (give its size up front)`, { file: this.path });
    }
    this.entries.push({
      name: Buffer.from(stored, utf8 ? 'utf8' : 'latin1'),
      utf8,
      size: this.folderOffset - start,
      folderOffset: start,
      folder: this.folders.length - 1,
    });
  }

  private startFolder(): void {
    if (this.pendingLength > 0) this.flushBlock();
    this.folders.push({ blocks: 0, dataStart: this.dataSize });
    this.folderOffset = 0;
  }

  private flushBlock(): void {
    const raw = this.pending.subarray(0, this.pendingLength);
    // MSZIP blocks are compressed independently here (no shared history): valid, and lets a reader
    // start at any block. Readers must still accept history from the previous block, as Microsoft's do.
    const payload =
      this.compression === 'mszip'
        ? Buffer.concat([Buffer.from('CK', 'latin1'), deflateRawSync(raw, { level: this.level })])
        : Buffer.from(raw);
    const header = Buffer.alloc(8);
    header.writeUInt16LE(payload.length, 4);
    header.writeUInt16LE(raw.length, 6);
    header.writeUInt32LE(cabChecksum(header, 4, 8, cabChecksum(payload, 0, payload.length, 0)), 0);
    writeSync(this.dataFd, header);
    writeSync(this.dataFd, payload);
    this.dataSize += 8 + payload.length;
    this.pendingLength = 0;
    this.folders[this.folders.length - 1]!.blocks++;
  }

  /** Writes the cabinet atomically and returns its size in bytes. */
  finish(): number {
    if (this.finished) throw new Error('CabWriter.finish called twice');
    this.finished = true;
    try {
      if (this.pendingLength > 0) this.flushBlock();
      if (this.entries.length === 0)
        throw new PatchscanError('CAB_LIMIT', `${this.path}: a cabinet needs at least one entry`, { file: this.path });
      const folders = this.folders;
      const headerSize = 36 + folders.length * 8;
      const filesSize = this.entries.reduce((n, e) => n + 16 + e.name.length + 1, 0);
      const dataBase = headerSize + filesSize;
      const total = dataBase + this.dataSize;
      const dir = Buffer.alloc(dataBase);
      dir.writeUInt32LE(CAB_SIGNATURE, 0);
      dir.writeUInt32LE(total, 8);
      dir.writeUInt32LE(headerSize, 16);
      dir.writeUInt8(3, 24);
      dir.writeUInt8(1, 25);
      dir.writeUInt16LE(folders.length, 26);
      dir.writeUInt16LE(this.entries.length, 28);
      let p = 36;
      for (const f of folders) {
        dir.writeUInt32LE(dataBase + f.dataStart, p);
        dir.writeUInt16LE(f.blocks, p + 4);
        dir.writeUInt16LE(this.compression === 'mszip' ? 1 : 0, p + 6);
        p += 8;
      }
      for (const e of this.entries) {
        dir.writeUInt32LE(e.size, p);
        dir.writeUInt32LE(e.folderOffset, p + 4);
        dir.writeUInt16LE(e.folder, p + 8);
        dir.writeUInt16LE(this.dosDate, p + 10);
        dir.writeUInt16LE(this.dosTime, p + 12);
        dir.writeUInt16LE(0x20 | (e.utf8 ? ATTR_NAME_IS_UTF : 0), p + 14);
        e.name.copy(dir, p + 16);
        p += 16 + e.name.length + 1;
      }
      const tmpCab = `${this.path}.${process.pid}.tmp`;
      const out = openSync(tmpCab, 'w');
      try {
        writeSync(out, dir);
        const buf = Buffer.allocUnsafe(1 << 20);
        for (let pos = 0; pos < this.dataSize;) {
          const n = readSync(this.dataFd, buf, 0, buf.length, pos);
          writeSync(out, buf, 0, n);
          pos += n;
        }
      } finally {
        closeSync(out);
      }
      renameSync(tmpCab, this.path);
      return total;
    } catch (e) {
      if (e instanceof PatchscanError) throw e;
      throw ioError('write', this.path, e);
    } finally {
      closeSync(this.dataFd);
      rmSync(this.tmpData, { force: true });
    }
  }

  /** Abandons the cabinet and removes temporary files. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    closeSync(this.dataFd);
    rmSync(this.tmpData, { force: true });
  }
}
