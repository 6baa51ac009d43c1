/**
 * RegValueExists and RegDword rules evaluated as numbers instead of closures (program.ts, numbered-forms.ts).
 *
 * They are most of the registry rules a first-of-a-profile scan meets (~6,000 of ~40,000 leaves against a
 * 50,000-revision catalog). As numbers a rule is one record — its fact, and its value type or its comparison and
 * number — and no closure, input object or captured strings are kept for it. The answer is computed by the same
 * functions the closures answer with (evaluators/file-registry.ts regValueExistsOf, regDwordOf).
 */
import type { EvalContext } from './context.js';
import { SCALAR_COMPARISONS, type ScalarComparison } from './compare.js';
import { emptyRecords, storedRecords, withRoomForOne } from './record-array.js';
import { REG_VALUE_DWORD as DWORD, REG_VALUE_EXISTS as EXISTS, REG_VALUE_RECORD as W } from '../catalog/scan-index.js';
import { regDwordOf, regValueExistsOf } from './evaluators/file-registry.js';
import type { Tri } from './tri.js';

/** A record's kind (its second number); a RegValueExists record's third number is its Type's index, or -1 for none. */

/** The numbered registry value rules of one catalog's rule program: per rule, [fact, kind, type or comparison, number]. */
export class RegValueRules {
  private records = emptyRecords(W);
  private count = 0;
  /** The Type attributes the RegValueExists rules name (few in a real catalog: REG_SZ, REG_DWORD, …), by index. */
  private readonly types: string[] = [];
  private readonly typeIndex = new Map<string, number>();

  /** Numbers a RegValueExists rule on fact `fact` (with its Type attribute, if any); returns its number. */
  addExists(fact: number, type: string | undefined): number {
    let t = -1;
    if (type !== undefined) {
      t = this.typeIndex.get(type) ?? -1;
      if (t < 0) this.typeIndex.set(type, (t = this.types.push(type) - 1));
    }
    return this.add(fact, EXISTS, t, 0);
  }

  /** Numbers a RegDword rule comparing fact `fact`'s DWORD with `want` by `op`; returns its number. */
  addDword(fact: number, op: ScalarComparison, want: number): number {
    return this.add(fact, DWORD, SCALAR_COMPARISONS.indexOf(op), want);
  }

  private add(fact: number, kind: number, a: number, b: number): number {
    this.records = withRoomForOne(this.records, this.count, W);
    const at = this.count * W;
    this.records[at] = fact;
    this.records[at + 1] = kind;
    this.records[at + 2] = a;
    this.records[at + 3] = b;
    return this.count++;
  }

  /**
   * The records so far as a scan index stores them (catalog/scan-index.ts: a Type's number + 1, 0 for none, so that
   * every number is ≥ 0), and the Type names by number.
   */
  stored(): { readonly records: Uint32Array; readonly types: readonly string[] } {
    const records = new Uint32Array(this.count * W);
    for (let at = 0; at < records.length; at += W) {
      records[at] = this.records[at]!;
      records[at + 1] = this.records[at + 1]!;
      records[at + 2] = this.records[at + 1] === EXISTS ? this.records[at + 2]! + 1 : this.records[at + 2]!;
      records[at + 3] = this.records[at + 3]!;
    }
    return { records, types: [...this.types] };
  }

  /** Takes the records and Types a scan index stored, in an empty table (their numbers are then the stored ones). */
  load(records: Uint32Array, types: readonly string[]): void {
    if (this.count > 0 || this.types.length > 0) throw new Error('RegValueRules.load: the table is not empty');
    for (const t of types) this.typeIndex.set(t, this.types.push(t) - 1);
    // Its size: a rule prepared later grows it (record-array.ts).
    this.records = storedRecords(records, W);
    for (let at = 0; at < records.length; at += W) if (records[at + 1] === EXISTS) this.records[at + 2] = records[at + 2]! - 1;
    this.count = records.length / W;
  }

  /** Rule `r` on the machine of `ctx`. */
  evaluate(ctx: EvalContext, r: number): Tri {
    const rec = this.records;
    const at = r * W;
    const v = ctx.fact(rec[at]!);
    if (rec[at + 1] === DWORD) return regDwordOf(v, SCALAR_COMPARISONS[rec[at + 2]!]!, rec[at + 3]!);
    const t = rec[at + 2]!;
    return regValueExistsOf(v, t < 0 ? undefined : this.types[t]);
  }
}
