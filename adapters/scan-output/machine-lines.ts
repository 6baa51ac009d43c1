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

  take(): Uint8Array {
    return this.out.take();
  }

  recycle(chunk: Uint8Array): void {
    this.out.recycle(chunk);
  }

  finish(): void {}

  machine(m: ScannedMachine): void {
    const set = m.resultSet;
    this.out.push(`{"computer":${JSON.stringify(m.computer)},"source":${JSON.stringify(m.source)},`);
    if (set.hasReasons) {
      // With reasons a tail is as large as the set's reasons (~0.3 MB): kept, it would double what the pool keeps
      // within its budget, and as one string it would be a V8 large object (TextChunks): it goes out piece by piece.
      this.tailPieces(set, (piece) => this.out.push(piece));
    } else {
      let tail = this.tails.get(set);
      if (tail === undefined) {
        const pieces: string[] = [];
        this.tailPieces(set, (piece) => pieces.push(piece));
        this.tails.set(set, (tail = pieces.join('')));
      }
      this.out.push(tail);
    }
    this.out.push('\n');
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

  /** The line after the machine's name, in pieces of one listed update each. */
  private tailPieces(set: ResultSet, emit: (piece: string) => void): void {
    const lists: Record<Listed, number[]> = { required: [], possiblySuperseded: [], unknown: [] };
    const { outcomes } = set;
    const reasons = set.hasReasons;
    for (let k = 0; k < outcomes.length; k++) {
      const list = listedAs(outcomes[k]!);
      if (list !== undefined) lists[list].push(k);
    }
    const { notApplicable, ...counts } = set.stats.counts;
    emit(`"counts":${JSON.stringify(this.options.all ? { ...counts, notApplicable } : counts)},`);
    for (const [j, l] of LISTED.entries()) {
      emit(`${j > 0 ? ',' : ''}"${l}":[`);
      const ks = lists[l];
      for (let i = 0; i < ks.length; i++) {
        const k = ks[i]!;
        const h = this.head(outcomeIndex(outcomes[k]!));
        emit(`${i > 0 ? ',' : ''}${reasons ? `${h},"reason":${JSON.stringify(set.reason(k))}}` : `${h}}`}`);
      }
      emit(']');
    }
    emit('}');
  }
}
