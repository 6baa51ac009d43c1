/**
 * What crosses the worker boundary. Inventories travel as raw bytes (JSON or msgpack, as read), packed into one
 * transferable buffer per batch, with the shared profile table; results come back as columns (one result-set id
 * per machine) plus the result sets this task scanned, their outcomes packed in typed arrays. Errors travel as
 * `{ code, message }`.
 */
import type { RelevantDetails } from '../catalog/relevant-details.js';
import type { ResultSet, ResultSetData } from '../fleet/result-set.js';
import type { ReasonBytes } from '../fleet/reason-bytes.js';
import type { OutcomeOptions } from '../fleet/scan-outcomes.js';
import type { UpdateOutcome } from '../scanner/scanner.js';
import type { ProfileTableHandle } from '../fleet/profile-table.js';
import type { ErrorCode } from '../errors.js';

export interface ScanTask {
  /** Concatenated inventory documents; item k is bytes[offsets[k] .. offsets[k+1]). */
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
  /** Where each item came from (file:line), for error rows. */
  readonly sources: readonly string[];
  readonly options: OutcomeOptions;
  /** The profile table of this scan (shared memory: every task of one scanMany() sees the same table). */
  readonly table: ProfileTableHandle;
  readonly details: RelevantDetails;
}

/** A result set as a task sends it: reasons, if any, as UTF-8 bytes. */
export type TaskSet = Omit<ResultSetData, 'reasons'> & { readonly reasons?: ReasonBytes };

export interface MachineError {
  readonly k: number;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ScanTaskResult {
  /** Per machine: the id of its result set (0 when the machine is in `errors`). */
  readonly setIds: Int32Array;
  readonly computers: readonly string[];
  /** Per machine: microseconds from bytes to outcomes in the worker. */
  readonly micros: Uint32Array;
  readonly errors: readonly MachineError[];
  /**
   * Result sets scanned by this task (each machine that claimed a new profile, or was not recorded), their reasons as
   * bytes (engine/fleet/reason-bytes.ts).
   */
  readonly sets: readonly TaskSet[];
  /** Machines answered by a result set another machine claimed. */
  readonly shared: number;
  /** Rule-slot values this task's scans took from earlier machines with the same sections, and evaluated. */
  readonly ruleValues: { readonly shared: number; readonly evaluated: number };
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
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

export type MachineResult = ScannedMachine | FailedMachine;
