/**
 * What crosses the worker boundary. Inventories travel as raw bytes (JSON or msgpack, as read), packed into one
 * transferable buffer per batch; results come back as one msgpack buffer per batch. Errors travel as
 * `{ code, message }` and are rebuilt as PatchscanError.
 */
import type { UpdateState } from '../scan/scanner.js';

export interface ScanTaskOptions {
  readonly all: boolean;
  readonly reasons: boolean;
  readonly language: string;
}

export interface ScanTask {
  /** Concatenated inventory documents; item k is bytes[offsets[k] .. offsets[k+1]). */
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
  /** Where each item came from (file:line), for error rows. */
  readonly sources: readonly string[];
  readonly options: ScanTaskOptions;
}

/** One update's outcome on one machine, by catalog index. */
export interface UpdateOutcome {
  readonly index: number;
  readonly state: UpdateState;
  readonly superseded: boolean;
  readonly reason?: string;
}

export type MachineResult =
  | { readonly ok: true; readonly source: string; readonly computer: string; readonly updates: readonly UpdateOutcome[]; readonly micros: number }
  | { readonly ok: false; readonly source: string; readonly computer?: string; readonly error: { readonly code: string; readonly message: string } };

export interface ScanTaskResult {
  /** msgpack of MachineResult[] */
  readonly packed: Uint8Array;
}
