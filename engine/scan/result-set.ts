/**
 * A result set: the outcomes of one scan, shared by every machine with the same profile. Outcomes are packed one
 * per 32-bit word (catalog index << 3 | state << 1 | superseded), so a set of 2,000 outcomes is 8 KB, crosses a
 * thread boundary as one typed array, and costs no object per update until someone asks for them.
 */
import type { UpdateOutcome } from '../pool/protocol.js';
import type { UpdateState } from './scanner.js';

export const STATES: readonly UpdateState[] = ['Installed', 'Required', 'NotApplicable', 'Unknown'];
const STATE_CODE: Readonly<Record<UpdateState, number>> = { Installed: 0, Required: 1, NotApplicable: 2, Unknown: 3 };

export function packOutcome(index: number, state: UpdateState, superseded: boolean): number {
  return ((index << 3) | (STATE_CODE[state] << 1) | (superseded ? 1 : 0)) >>> 0;
}

export const outcomeIndex = (w: number): number => w >>> 3;
export const outcomeState = (w: number): UpdateState => STATES[(w >>> 1) & 3]!;
export const outcomeSuperseded = (w: number): boolean => (w & 1) === 1;

/** What a worker sends back for each result set it scanned. */
export interface ResultSetData {
  readonly id: number;
  /** Recorded in the profile table: later machines may name it. */
  readonly shared: boolean;
  readonly outcomes: Uint32Array;
  /** One per outcome when reasons were asked for. */
  readonly reasons?: readonly string[];
  /** The scan of the machine that claimed this profile failed (never expected; reported, not hidden). */
  readonly error?: { readonly code: string; readonly message: string };
}

/** Per-state counts and the Required, not superseded updates of a set — what fleet summaries add up. */
export interface ResultSetStats {
  readonly counts: Readonly<Record<UpdateState, number>>;
  readonly superseded: number;
  readonly required: Int32Array;
}

export class ResultSet {
  readonly id: number;
  readonly shared: boolean;
  readonly outcomes: Uint32Array;
  readonly reasons: readonly string[] | undefined;
  readonly error: { readonly code: string; readonly message: string } | undefined;
  private statsMemo: ResultSetStats | undefined;

  constructor(d: ResultSetData) {
    this.id = d.id;
    this.shared = d.shared;
    this.outcomes = d.outcomes;
    this.reasons = d.reasons;
    this.error = d.error;
  }

  get size(): number {
    return this.outcomes.length;
  }

  /** The outcomes as objects (built on each call: callers that keep them own them). */
  get updates(): UpdateOutcome[] {
    const out: UpdateOutcome[] = new Array<UpdateOutcome>(this.outcomes.length);
    for (let k = 0; k < this.outcomes.length; k++) {
      const w = this.outcomes[k]!;
      const o = { index: outcomeIndex(w), state: outcomeState(w), superseded: outcomeSuperseded(w) };
      out[k] = this.reasons ? { ...o, reason: this.reasons[k]! } : o;
    }
    return out;
  }

  get stats(): ResultSetStats {
    if (this.statsMemo) return this.statsMemo;
    const counts: Record<UpdateState, number> = { Installed: 0, Required: 0, NotApplicable: 0, Unknown: 0 };
    let superseded = 0;
    const required: number[] = [];
    for (const w of this.outcomes) {
      const state = outcomeState(w);
      counts[state]++;
      if (outcomeSuperseded(w)) superseded++;
      else if (state === 'Required') required.push(outcomeIndex(w));
    }
    this.statsMemo = { counts, superseded, required: Int32Array.from(required) };
    return this.statsMemo;
  }
}
