/**
 * What crosses the worker boundary. Inventories travel as raw bytes (JSON or msgpack, as read), packed into one
 * transferable buffer per batch, with the shared profile table; results come back as columns (one result-set id
 * per machine) plus the result sets this task scanned, their outcomes packed in typed arrays. Errors travel as
 * `{ code, message }`.
 */
import type { RelevantDetails } from '../scan/result-cache.js';
import type { ResultSet, ResultSetData } from '../scan/result-set.js';
import type { UpdateState } from '../scan/scanner.js';
import type { ProfileTableHandle } from './profile-table.js';

export interface ScanTaskOptions {
  readonly all: boolean;
  readonly reasons: boolean;
  /** With reasons: which outcomes get one (engine/scan/outcomes.ts); default every one. */
  readonly reasonMask?: number;
  readonly language: string;
}

export interface ScanTask {
  /** Concatenated inventory documents; item k is bytes[offsets[k] .. offsets[k+1]). */
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
  /** Where each item came from (file:line), for error rows. */
  readonly sources: readonly string[];
  readonly options: ScanTaskOptions;
  /** The profile table of this scan (shared memory: every task of one scanMany() sees the same table). */
  readonly table: ProfileTableHandle;
  readonly details: RelevantDetails;
}

export interface MachineError {
  readonly k: number;
  readonly code: string;
  readonly message: string;
}

export interface ScanTaskResult {
  /** Per machine: the id of its result set (0 when the machine is in `errors`). */
  readonly setIds: Int32Array;
  readonly computers: readonly string[];
  /** Per machine: microseconds from bytes to outcomes in the worker. */
  readonly micros: Uint32Array;
  readonly errors: readonly MachineError[];
  /** Result sets scanned by this task (each machine that claimed a new profile, or was not recorded). */
  readonly sets: readonly ResultSetData[];
  /** Machines answered by a result set another machine claimed. */
  readonly shared: number;
  /** Rule-slot values this task's scans took from earlier machines with the same sections, and evaluated. */
  readonly ruleValues: { readonly shared: number; readonly evaluated: number };
}

/** One update's outcome on one machine, by catalog index. */
export interface UpdateOutcome {
  readonly index: number;
  readonly state: UpdateState;
  readonly superseded: boolean;
  /** Not superseded, but a superseding update is Unknown on the machine (supersedence.ts). */
  readonly possiblySuperseded: boolean;
  readonly reason?: string;
}

export interface ScannedMachine {
  readonly ok: true;
  readonly source: string;
  readonly computer: string;
  /** The outcomes, shared with every machine of the same profile in this scan. */
  readonly resultSet: ResultSet;
  /** The outcomes as objects (built from `resultSet` on each read). */
  readonly updates: readonly UpdateOutcome[];
  readonly micros: number;
}

export interface FailedMachine {
  readonly ok: false;
  readonly source: string;
  readonly computer?: string;
  readonly error: { readonly code: string; readonly message: string };
}

export type MachineResult = ScannedMachine | FailedMachine;
