/**
 * One row per update a machine has or needs, filtered by state (`--states`, default Required and Unknown): JSON
 * Lines (`rows`) or CSV (`csv`), the fields of `patchscan scan` (engine/scanner/scanner.ts ScanRow). A machine that failed
 * is one error row. Fields: docs/batch-output.md.
 */
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { FailedMachine, ScannedMachine } from '../../engine/pool/protocol.js';
import {
  outcomeIndex,
  outcomePossiblySuperseded,
  outcomeState,
  outcomeSuperseded,
  STATES,
  type ResultSet,
} from '../../engine/fleet/result-set.js';
import { scanRow } from '../../engine/scanner/scanner.js';
import type { UpdateState } from '../../engine/scanner/machine-scan.js';
import { TextChunks, type BatchWriter } from './batch-output.js';
import { CSV_HEADER, csvLine } from './rows.js';

/** Which states a row format writes, as a test on a packed outcome (no allocation per row). */
export class StateFilter {
  private readonly keep: boolean[];

  constructor(readonly states: readonly UpdateState[]) {
    this.keep = STATES.map((s) => states.includes(s));
  }

  has(w: number): boolean {
    return this.keep[STATES.indexOf(outcomeState(w))] === true;
  }

  /** Outcome positions of a set that pass. */
  positions(set: ResultSet): number[] {
    const out: number[] = [];
    const o = set.outcomes;
    for (let k = 0; k < o.length; k++) if (this.has(o[k]!)) out.push(k);
    return out;
  }
}

export class RowLinesWriter implements BatchWriter {
  private readonly out = new TextChunks();
  /** The catalog's fields of an update's row, serialized once: `"updateId":…,"isBundle":…` (between computer and state). */
  private readonly middles = new Map<number, string>();

  constructor(
    private readonly catalog: Catalog,
    private readonly filter: StateFilter,
    private readonly language?: string,
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
    const { outcomes } = set;
    const reasons = set.hasReasons;
    const head = `{"computer":${JSON.stringify(m.computer)},`;
    // Row by row: a machine's rows as one string would be a V8 large object (TextChunks says why that matters).
    for (let k = 0; k < outcomes.length; k++) {
      const w = outcomes[k]!;
      if (!this.filter.has(w)) continue;
      this.out.push(
        `${head}${this.middle(outcomeIndex(w))},"state":"${outcomeState(w)}","superseded":${outcomeSuperseded(w)},` +
          `"possiblySuperseded":${outcomePossiblySuperseded(w)},` +
          `"reason":${reasons ? JSON.stringify(set.reason(k)) : '""'}}\n`,
      );
    }
  }

  error(m: FailedMachine): void {
    this.out.push(`${JSON.stringify({ computer: m.computer ?? null, source: m.source, error: m.error })}\n`);
  }

  private middle(i: number): string {
    let s = this.middles.get(i);
    if (s === undefined) {
      const outcome = { index: i, state: 'Installed', superseded: false, possiblySuperseded: false } as const;
      const row = scanRow(this.catalog, '', outcome, this.language);
      const { computer: _c, state: _s, superseded: _u, possiblySuperseded: _p, reason: _r, ...fields } = row;
      s = JSON.stringify(fields).slice(1, -1);
      this.middles.set(i, s);
    }
    return s;
  }
}

export class RowCsvWriter implements BatchWriter {
  private readonly out = new TextChunks();

  constructor(
    private readonly catalog: Catalog,
    private readonly filter: StateFilter,
    private readonly language?: string,
  ) {
    this.out.push(`${CSV_HEADER}\r\n`);
  }

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
    const { outcomes } = set;
    const reasons = set.hasReasons;
    for (let k = 0; k < outcomes.length; k++) {
      const w = outcomes[k]!;
      if (!this.filter.has(w)) continue;
      const u = {
        index: outcomeIndex(w),
        state: outcomeState(w),
        superseded: outcomeSuperseded(w),
        possiblySuperseded: outcomePossiblySuperseded(w),
        ...(reasons ? { reason: set.reason(k) } : {}),
      };
      this.out.push(`${csvLine(scanRow(this.catalog, m.computer, u, this.language))}\r\n`);
    }
  }

  error(m: FailedMachine): void {
    this.out.push(`${csvLine({ computer: m.computer ?? m.source, state: 'Error', reason: `${m.error.code}: ${m.error.message}` })}\r\n`);
  }
}
