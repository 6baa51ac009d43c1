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
  /** No more machines: whatever closes the file becomes ready (then take() it). */
  finish(): void;
}

/** Chunks of text gathered until taken (one write per machine would cost more than the machine). */
export class TextChunks {
  private parts: string[] = [];
  private bytes = 0;

  push(s: string): void {
    this.parts.push(s);
    this.bytes += s.length;
  }

  /** Characters gathered (≈ bytes: the text is mostly ASCII). */
  get size(): number {
    return this.bytes;
  }

  take(): string {
    const s = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    return s;
  }
}
