/**
 * A result set: the outcomes of one scan, shared by every machine with the same profile. Outcomes are packed one
 * per 32-bit word (catalog index << 4 | state << 2 | supersedence), so a set of 2,000 outcomes is 8 KB, crosses a
 * thread boundary as one typed array, and costs no object per update until someone asks for them. Catalog indexes
 * up to 2^28 fit (Microsoft's catalog has under 10^6 updates).
 */
import type { UpdateOutcome } from '../scanner/scanner.js';
import { isReasonBytes, ReasonReader, type ReasonBytes } from './reason-bytes.js';
import { bucketOf, emptyCounts, type CountBucket, type OutcomeCounts } from '../scanner/counting.js';
import { S_INSTALLED, type UpdateState } from '../scanner/machine-scan.js';
import { SUP_POSSIBLY, SUP_YES, supersedenceFlags, type SupersedenceCode } from '../scanner/supersedence.js';
import type { ErrorCode } from '../errors.js';

export const STATES: readonly UpdateState[] = ['Installed', 'Required', 'NotApplicable', 'Unknown'];
const STATE_CODE: Readonly<Record<UpdateState, number>> = { Installed: 0, Required: 1, NotApplicable: 2, Unknown: 3 };

export function packOutcome(index: number, state: UpdateState, supersedence: SupersedenceCode): number {
  return ((index << 4) | (STATE_CODE[state] << 2) | supersedence) >>> 0;
}

/** packOutcome from a state code (machine-scan.ts S_INSTALLED…S_UNKNOWN, in STATES' order) instead of a name. */
export function packDecided(index: number, stateCode: number, supersedence: SupersedenceCode): number {
  return ((index << 4) | ((stateCode - S_INSTALLED) << 2) | supersedence) >>> 0;
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
  /**
   * One per outcome when reasons were asked for: as strings, or as UTF-8 bytes (how a worker sends them:
   * reason-bytes.ts says why).
   */
  readonly reasons?: readonly string[] | ReasonBytes;
  /** The scan of the machine that claimed this profile failed (never expected; reported, not hidden). */
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

/**
 * A set's outcomes counted by the counting rule (counting.ts) — the same numbers every report shows — and the
 * updates it counts as Required (not superseded, not possibly superseded): what fleet summaries add up.
 */
export interface ResultSetStats {
  readonly counts: OutcomeCounts;
  readonly required: Int32Array;
}

/**
 * The counting rule's bucket of each word's low 4 bits (state << 2 | supersedence), undefined where no outcome has
 * them: a set is counted by its low bits first (one array increment per outcome), then a bucket per distinct value.
 */
export const BUCKET_OF_LOW: readonly (CountBucket | undefined)[] = Array.from({ length: 16 }, (_, low) => {
  try {
    return bucketOf(low >>> 2, low & 3);
  } catch {
    return undefined;
  }
});

export class ResultSet {
  readonly id: number;
  readonly shared: boolean;
  readonly outcomes: Uint32Array;
  /** Reasons as strings: given so, or decoded by {@link reasonTexts}. */
  private texts: string[] | undefined;
  /** Reasons as bytes, until decoded. */
  private reader: ReasonReader | undefined;
  readonly error: { readonly code: ErrorCode; readonly message: string } | undefined;
  private statsMemo: ResultSetStats | undefined;

  constructor(d: ResultSetData) {
    this.id = d.id;
    this.shared = d.shared;
    this.outcomes = d.outcomes;
    if (d.reasons !== undefined) {
      if (isReasonBytes(d.reasons)) this.reader = new ReasonReader(d.reasons);
      else this.texts = d.reasons as string[];
    }
    this.error = d.error;
  }

  get hasReasons(): boolean {
    return this.texts !== undefined || this.reader !== undefined;
  }

  /** The reason of outcome k ('' where none was made, or without reasons). */
  reason(k: number): string {
    if (this.texts !== undefined) return this.texts[k] ?? '';
    return this.reader !== undefined && k < this.reader.length ? this.reader.at(k) : '';
  }

  /** Bytes of reasons held as bytes (0 once decoded, or when held as strings). */
  get reasonBytes(): number {
    return this.reader?.bytes ?? 0;
  }

  /**
   * The reasons as strings, decoded once and held so from then on (the bytes are let go): the array itself, for a
   * caller that replaces its entries by equal strings (the pool's ReasonTable shares one copy of each text).
   */
  reasonTexts(): string[] | undefined {
    if (this.texts === undefined && this.reader !== undefined) {
      const r = this.reader;
      this.texts = Array.from({ length: r.length }, (_, k) => r.at(k));
      this.reader = undefined;
    }
    return this.texts;
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
      out[k] = this.hasReasons ? { ...o, reason: this.reason(k) } : o;
    }
    return out;
  }

  get stats(): ResultSetStats {
    if (this.statsMemo) return this.statsMemo;
    // Sets are counted on the thread that also feeds the workers and writes the output: no object per outcome.
    const outcomes = this.outcomes;
    const byLow = new Int32Array(16);
    for (let k = 0; k < outcomes.length; k++) byLow[outcomes[k]! & 15]!++;
    const counts = emptyCounts();
    let requiredCount = 0;
    for (let low = 0; low < 16; low++) {
      if (byLow[low] === 0) continue;
      const b = BUCKET_OF_LOW[low] ?? bucketOf(low >>> 2, low & 3); // the latter throws: no outcome has these bits
      counts[b] += byLow[low]!;
      if (b === 'required') requiredCount += byLow[low]!;
    }
    const required = new Int32Array(requiredCount);
    for (let k = 0, r = 0; r < requiredCount; k++) {
      const w = outcomes[k]!;
      if (BUCKET_OF_LOW[w & 15] === 'required') required[r++] = outcomeIndex(w);
    }
    this.statsMemo = { counts, required };
    return this.statsMemo;
  }
}
