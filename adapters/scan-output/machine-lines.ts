/**
 * The default batch output: JSON Lines, one line per machine — its counts by the counting rule and the updates it
 * needs or may need, each with its KB and update id (and its reason when asked):
 *
 *   {"computer":"PC-1","source":"fleet.jsonl:1","counts":{…},"required":[{"kb":"5034441","updateId":"…"}],
 *    "possiblySuperseded":[…],"unknown":[…]}
 *
 * A machine is ~100 bytes plus ~70 per listed update, where one row per update was ~1 MB. Machines with the same
 * profile share a result set, so everything after the machine's name is written once per set and reused (kept with
 * the set: it goes when the pool lets the set go; with reasons it is written again for each machine).
 * Fields: docs/batch-output.md, schema docs/batch-machine.schema.json.
 */
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import { bucketOf } from '../../engine/scanner/counting.js';
import { outcomeIndex, outcomeStateCode, outcomeSupersedence, type ResultSet } from '../../engine/fleet/result-set.js';
import { TextChunks, type BatchWriter } from './batch-output.js';

/**
 * What a machine's line lists, by the counting rule (engine/scanner/counting.ts): what it needs (Required, not
 * superseded), what it may need (Required, its superseding update Unknown; Unknown).
 */
export const LISTED = ['required', 'possiblySuperseded', 'unknown'] as const;
export type Listed = (typeof LISTED)[number];

/** The list an outcome goes in, or undefined. */
export function listedAs(w: number): Listed | undefined {
  const b = bucketOf(outcomeStateCode(w), outcomeSupersedence(w));
  return b === 'required' || b === 'possiblySuperseded' || b === 'unknown' ? b : undefined;
}

export class MachineLinesWriter implements BatchWriter {
  private readonly out = new TextChunks();
  /** The line after the machine's name, per result set. */
  private readonly tails = new WeakMap<ResultSet, string>();
  /** `{"kb":…,"updateId":…` per catalog update (the same in every line that lists it). */
  private readonly heads = new Map<number, string>();

  constructor(
    private readonly catalog: Catalog,
    private readonly options: { readonly all: boolean },
  ) {}

  get size(): number {
    return this.out.size;
  }

  take(): string {
    return this.out.take();
  }

  finish(): void {}

  machine(m: ScannedMachine): void {
    const set = m.resultSet;
    let tail = this.tails.get(set);
    if (tail === undefined) {
      tail = this.tail(set);
      // With reasons a tail is as large as the set's reasons: kept, it would double what the pool keeps within its
      // budget. Without, it is a few KB.
      if (!set.reasons) this.tails.set(set, tail);
    }
    this.out.push(`{"computer":${JSON.stringify(m.computer)},"source":${JSON.stringify(m.source)},${tail}\n`);
  }

  error(m: FailedMachine): void {
    this.out.push(`${JSON.stringify({ computer: m.computer ?? null, source: m.source, error: m.error })}\n`);
  }

  private head(i: number): string {
    let h = this.heads.get(i);
    if (h === undefined) {
      const c = this.catalog;
      h = `{"kb":${JSON.stringify(c.kb(i))},"updateId":${JSON.stringify(c.updateId(i))}`;
      this.heads.set(i, h);
    }
    return h;
  }

  private tail(set: ResultSet): string {
    const lists: Record<Listed, string[]> = { required: [], possiblySuperseded: [], unknown: [] };
    const { outcomes, reasons } = set;
    for (let k = 0; k < outcomes.length; k++) {
      const w = outcomes[k]!;
      const list = listedAs(w);
      if (list === undefined) continue;
      const h = this.head(outcomeIndex(w));
      lists[list].push(reasons ? `${h},"reason":${JSON.stringify(reasons[k] ?? '')}}` : `${h}}`);
    }
    const { notApplicable, ...counts } = set.stats.counts;
    return (
      `"counts":${JSON.stringify(this.options.all ? { ...counts, notApplicable } : counts)},` +
      LISTED.map((l) => `"${l}":[${lists[l].join(',')}]`).join(',') +
      '}'
    );
  }
}
