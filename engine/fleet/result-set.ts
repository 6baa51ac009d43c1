/**
 * A result set: the outcomes of one scan, shared by every machine with the same profile. Outcomes are packed one
 * per 32-bit word (catalog index << 4 | state << 2 | supersedence), so a set of 2,000 outcomes is 8 KB, crosses a
 * thread boundary as one typed array, and costs no object per update until someone asks for them. Catalog indexes
 * up to 2^28 fit (Microsoft's catalog has under 10^6 updates).
 */
import type { UpdateOutcome } from '../scanner/scanner.js';
import { countOutcome, emptyCounts, type OutcomeCounts } from '../scanner/counting.js';
import type { UpdateState } from '../scanner/machine-scan.js';
import { SUP_POSSIBLY, SUP_YES, supersedenceFlags, type SupersedenceCode } from '../scanner/supersedence.js';

export const STATES: readonly UpdateState[] = ['Installed', 'Required', 'NotApplicable', 'Unknown'];
const STATE_CODE: Readonly<Record<UpdateState, number>> = { Installed: 0, Required: 1, NotApplicable: 2, Unknown: 3 };

export function packOutcome(index: number, state: UpdateState, supersedence: SupersedenceCode): number {
  return ((index << 4) | (STATE_CODE[state] << 2) | supersedence) >>> 0;
}

export const outcomeIndex = (w: number): number => w >>> 4;
/** The state's code (0 Installed, 1 Required, 2 NotApplicable, 3 Unknown: the order of STATES). */
export const outcomeStateCode = (w: number): number => (w >>> 2) & 3;
export const outcomeState = (w: number): UpdateState => STATES[(w >>> 2) & 3]!;
export const outcomeSupersedence = (w: number): SupersedenceCode => (w & 3) as SupersedenceCode;
export const outcomeSuperseded = (w: number): boolean => (w & 3) === SUP_YES;
export const outcomePossiblySuperseded = (w: number): boolean => (w & 3) === SUP_POSSIBLY;

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

/**
 * A set's outcomes counted by the counting rule (counting.ts) — the same numbers every report shows — and the
 * updates it counts as Required (not superseded, not possibly superseded): what fleet summaries add up.
 */
export interface ResultSetStats {
  readonly counts: OutcomeCounts;
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
      const o = { index: outcomeIndex(w), state: outcomeState(w), ...supersedenceFlags(w & 3) };
      out[k] = this.reasons ? { ...o, reason: this.reasons[k]! } : o;
    }
    return out;
  }

  get stats(): ResultSetStats {
    if (this.statsMemo) return this.statsMemo;
    const counts = emptyCounts();
    const required: number[] = [];
    for (const w of this.outcomes) {
      if (countOutcome(counts, outcomeStateCode(w), w & 3) === 'required') required.push(outcomeIndex(w));
    }
    this.statsMemo = { counts, required: Int32Array.from(required) };
    return this.statsMemo;
  }
}
