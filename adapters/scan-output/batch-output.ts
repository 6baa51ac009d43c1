/**
 * The output formats of a batch scan (`patchscan scan --inventories`), each a writer that turns machines into bytes
 * the batch loop hands to the file as it goes: a writer holds at most what it was given since the last take(), so
 * memory does not grow with the fleet. docs/batch-output.md describes every format's fields.
 */
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import type { UpdateState } from '../../engine/scanner/machine-scan.js';

export const BATCH_FORMATS = ['jsonl', 'rows', 'csv', 'parquet', 'msgpack'] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/** Formats with one row per update (the others have one record per machine). */
export const ROW_FORMATS: readonly BatchFormat[] = ['rows', 'csv', 'parquet'];

/** The states a row format writes unless `--states` says otherwise: what a machine needs or may need. */
export const DEFAULT_ROW_STATES: readonly UpdateState[] = ['Required', 'Unknown'];

export interface BatchWriter {
  machine(m: ScannedMachine): void;
  error(m: FailedMachine): void;
  /** Bytes ready to be written. */
  readonly size: number;
  /** The bytes ready, handed over (the writer goes on with an empty buffer). */
  take(): string | Uint8Array;
  /**
   * Optional: bytes take() returned have been written and nothing reads them any more; a writer may reuse their
   * memory for later chunks (writing from reused buffers spares the page faults and collections of fresh ones).
   */
  recycle?(chunk: Uint8Array): void;
  /**
   * Optional: a promise the loop awaits before it gives more machines, while the writer holds as much as it may (its
   * work is done elsewhere and is behind); undefined when it may go on. Rejects if that work failed.
   */
  backlog?(): Promise<void> | undefined;
  /** No more machines: whatever closes the file becomes ready (then take() it). */
  finish(): void | Promise<void>;
  /** Optional: releases what the writer holds (a thread); called once the batch ends, finished or not. */
  close?(): Promise<void>;
}

/** Written chunks a {@link ByteChunks} keeps for reuse. */
const SPARE_CHUNKS = 4;

/**
 * Bytes written into a buffer that grows as it must, handed out by take() and reused once written (recycle). Fresh
 * buffers per chunk were page faults on first touch, and external memory that kept the garbage collector running.
 * Subclasses write at `n` into `buf` after making room (grow()) for the bytes.
 */
export class ByteChunks {
  protected buf: Buffer;
  protected n = 0;
  private readonly spare: Buffer<ArrayBuffer>[] = [];
  /** Chunks take() handed out and recycle() has not had back (the chunk objects: a buffer backs many over time). */
  private readonly lent = new WeakSet<Uint8Array>();

  constructor(private readonly chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.n;
  }

  /** The bytes written so far, handed over; they stay valid until given back to recycle() (or for good, if never). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.n);
    this.lent.add(out);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
    this.n = 0;
    return out;
  }

  /**
   * A chunk take() returned has been written and nothing reads it any more: its memory may hold later chunks. Only a
   * chunk handed out and not yet had back is taken (a foreign buffer, or a chunk given back twice while a later chunk
   * of the same buffer is out, would otherwise be written over), and only at the standard size (one grown for a huge
   * record is let go).
   */
  recycle(chunk: Uint8Array): void {
    if (this.lent.delete(chunk)) this.keep(chunk.buffer);
  }

  /**
   * Room for `len` more bytes at `n`, when the buffer lacks it: it doubles, as often as it must. Writers check
   * `n + len > buf.length` themselves before calling: on the msgpack writer's per-byte path, a call to this inherited
   * method for every write measured 1-2 % slower than the check in the writer's own method.
   */
  protected grow(len: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.n + len));
    this.buf.copy(bigger, 0, 0, this.n);
    this.keep(this.buf.buffer); // nobody else holds the buffer being written
    this.buf = bigger;
  }

  private keep(memory: ArrayBufferLike): void {
    // allocUnsafe gives a chunk-sized buffer an ArrayBuffer of its own (never the shared pool's).
    if (!(memory instanceof ArrayBuffer) || memory.byteLength !== this.chunkBytes || this.spare.length >= SPARE_CHUNKS) return;
    this.spare.push(Buffer.from(memory));
  }
}

/**
 * Bytes a chunk of text is gathered into before it is taken. The batch loop takes it once past 256 KiB, after a
 * machine: a machine's rows with reasons (~0.7 MB) fit in what is left; a larger machine grows the chunk.
 */
const TEXT_CHUNK_BYTES = 1024 * 1024;

/**
 * Text gathered as UTF-8 bytes until taken, in chunks that are reused once written.
 *
 * Writers push row-sized pieces (a row, a list item), never a machine's whole text: with reasons a machine's rows
 * weigh ~0.7 MB, and a string that size is a V8 "large object", freed only by a full collection. One per machine
 * kept the main thread's heap at ~300 MiB of dead text and a 5,000-machine `-f rows --reasons` run over 1 GB of RSS.
 * Small pieces die young; each is encoded into the chunk as it comes.
 */
export class TextChunks extends ByteChunks {
  constructor() {
    super(TEXT_CHUNK_BYTES);
  }

  /**
   * Appends `s` as UTF-8. Each piece is encoded on its own, so a surrogate pair split across two pushes would become
   * two U+FFFD: writers push whole rows or list items, which never end inside a pair.
   */
  push(s: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4).
    if (this.n + 3 * s.length > this.buf.length) this.grow(3 * s.length);
    this.n += this.buf.write(s, this.n, 'utf8');
  }
}
