/**
 * FileVersion and FileVersionPrependRegSz rules evaluated as numbers instead of closures.
 *
 * They are ~45 % of the leaf rules a first-of-a-profile scan evaluates (~980 per machine against a 50,000-revision
 * catalog), many of them on the same few files. As closures, each one reads the closure, its context, the machine's
 * file object, its version string and that string's parsed form, at scattered places of a large heap. Here a rule is
 * one record of numbers (its fact, comparison and wanted version), and each file fact's version is parsed once per
 * machine into a typed array the next rules on that file read.
 *
 * Same answers as the closure (file-registry.ts fileProperty('Version')): the file not collected → Unknown; absent →
 * False; no version resource, or a version that does not parse → False; else the comparison. Rules inside a
 * RegKeyLoop (whose fact depends on the subkey visited) stay closures, as do explanations.
 */
import { holds, parseVersion, SCALAR_COMPARISONS, type ScalarComparison } from './compare.js';
import { emptyRecords, storedRecords, withRoomForOne } from './record-array.js';
import { FILE_VERSION_RECORD as W } from '../catalog/scan-index.js';
import type { EvalContext } from './context.js';
import { ABSENT, NOT_COLLECTED } from '../inventory/machine.js';
import type { InventoryFile } from '../inventory/types.js';
import { F, T, U, type Tri } from './tri.js';

/** Per fact, per machine: not read yet, or how its file's version reads (FileVersions.state). */
const NOT_READ = 0,
  VERSION = 1,
  FILE_NOT_COLLECTED = 2,
  /** Absent, without a version resource, or with a version that does not parse: every comparison is False. */
  NO_VERSION = 3;

/**
 * One machine's file versions by fact, parsed on first read. A machine scan's buffers hold one set, cleared per machine
 * (`clear`), so a fleet allocates none per machine.
 */
export class FileVersions {
  readonly state: Uint8Array;
  readonly parts: Float64Array;

  constructor(facts: number) {
    this.state = new Uint8Array(facts);
    this.parts = new Float64Array(facts * 4);
  }

  clear(): void {
    this.state.fill(NOT_READ);
  }
}

/** The numbered rules of one catalog's rule program: per rule, [fact, comparison, four version parts]. */
export class FileVersionRules {
  private records = emptyRecords(W);
  private count = 0;

  /** Numbers a rule comparing fact `fact`'s file version with `want` (four parts) by `op`; returns its number. */
  add(fact: number, op: ScalarComparison, want: readonly number[]): number {
    this.records = withRoomForOne(this.records, this.count, W);
    const at = this.count * W;
    this.records[at] = fact;
    this.records[at + 1] = SCALAR_COMPARISONS.indexOf(op);
    for (let k = 0; k < 4; k++) this.records[at + 2 + k] = want[k]!;
    return this.count++;
  }

  /**
   * Whether a rule wanting `want` fits a record a scan index stores (catalog/scan-index.ts: 32-bit numbers): a version
   * part past 2^32 − 1 does not, and that rule is left to be prepared on use.
   */
  static storable(want: readonly number[]): boolean {
    return want.length === 4 && want.every((p) => Number.isInteger(p) && p >= 0 && p <= 0xffffffff);
  }

  /** The records so far, as a scan index stores them. */
  stored(): Uint32Array {
    return Uint32Array.from(this.records.subarray(0, this.count * W));
  }

  /** Takes the records a scan index stored, in an empty table (their numbers are then the stored ones). */
  load(records: Uint32Array): void {
    if (this.count > 0) throw new Error('FileVersionRules.load: the table is not empty');
    // Its size: a rule prepared later grows it (record-array.ts).
    this.records = storedRecords(records, W);
    this.count = records.length / W;
  }

  /** Rule `r` on the machine of `ctx`. */
  evaluate(ctx: EvalContext, r: number): Tri {
    const rec = this.records;
    const at = r * W;
    const fact = rec[at]!;
    const versions = ctx.fileVersions();
    let state = versions.state[fact]!;
    if (state === NOT_READ) state = read(ctx, versions, fact);
    if (state !== VERSION) return state === FILE_NOT_COLLECTED ? U : F;
    const parts = versions.parts;
    const p = fact * 4;
    let c = 0;
    for (let k = 0; k < 4 && c === 0; k++) {
      const have = parts[p + k]!,
        want = rec[at + 2 + k]!;
      c = have < want ? -1 : have > want ? 1 : 0;
    }
    return holds(SCALAR_COMPARISONS[rec[at + 1]!]!, c) ? T : F;
  }
}

/** Reads fact `fact`'s file and parses its version into `versions`; returns its state. */
function read(ctx: EvalContext, versions: FileVersions, fact: number): number {
  const f = ctx.fact(fact);
  let state: number;
  if (f === NOT_COLLECTED) state = FILE_NOT_COLLECTED;
  else if (f === ABSENT) state = NO_VERSION;
  else {
    const v = parseVersion((f as InventoryFile).version);
    if (v === undefined) state = NO_VERSION;
    else {
      state = VERSION;
      for (let k = 0; k < 4; k++) versions.parts[fact * 4 + k] = v[k]!;
    }
  }
  versions.state[fact] = state;
  return state;
}
