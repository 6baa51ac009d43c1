/**
 * One machine's outcomes as a packed result set: every reportable update that is not NotApplicable (or every
 * update with `all`), each as one 32-bit word, with a reason per outcome when asked — or only for the outcomes a
 * report will show (`reasonMask`): a reason costs far more than a state, and a fleet's reasons are most of its memory.
 * On the fleet path (flat-decisions.ts), where few outcomes get a reason, the states come first and only the masked
 * outcomes are decided again for their reasons.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { Inventory } from '../inventory/types.js';
import { prerequisiteClasses, type PrerequisiteClasses } from '../scanner/prerequisite-classes.js';
import { PatchscanError } from '../errors.js';
import { outcomeIndex, outcomeState, outcomeSupersedence, packOutcome } from './result-set.js';
import type { Scanner } from '../scanner/scanner.js';
import { flatDecider } from './flat-decisions.js';
import type { ReasonBytes, ReasonEncoder } from './reason-bytes.js';
import { S_NOT_APPLICABLE, type UpdateState } from '../scanner/machine-scan.js';
import { SUP_NO, SUP_POSSIBLY, SUP_YES, supersedenceCode, type SupersedenceCode } from '../scanner/supersedence.js';

export interface OutcomeOptions {
  readonly all: boolean;
  readonly reasons: boolean;
  /**
   * With `reasons`: which outcomes get one. Bit `state << 2 | supersedence` (the low 4 bits of a packed outcome); the
   * others get ''. Default ALL_REASONS.
   */
  readonly reasonMask?: number;
}

/** Every outcome gets a reason. */
export const ALL_REASONS = 0xffff;

/** The reason mask for outcomes in `states` whose supersedence is one of `supersedence` (default: any). */
export function reasonMask(
  states: Iterable<UpdateState>,
  supersedence: readonly SupersedenceCode[] = [SUP_NO, SUP_YES, SUP_POSSIBLY],
): number {
  let mask = 0;
  for (const st of states) for (const sup of supersedence) mask |= 1 << (packOutcome(0, st, sup) & 15);
  return mask;
}

/** An outcome's state and supersedence, for a message. */
const outcomeText = (w: number): string => `${outcomeState(w)} (supersedence ${outcomeSupersedence(w)})`;

/**
 * Per scanner, of the outcomes its scans with reasons emitted, how many the mask gave a reason. Deciding the states
 * over the flat layout first and only the masked outcomes again pays where few get one — measured on 5,000 machines:
 * 1 outcome in 15 (the batch output's default mask) 22 % less time; 1 in 3 (`-f rows --reasons`, superseded Required
 * included) 6–9 % more CPU than MachineScan's single pass — so a scanner takes that path while the share stays under
 * FLAT_FIRST_BELOW. Either path gives the same outcomes and reasons.
 */
const maskedShares = new WeakMap<Scanner, { masked: number; emitted: number }>();
const FLAT_FIRST_BELOW = 0.2;

function noteMasked(scanner: Scanner, masked: number, emitted: number): void {
  let t = maskedShares.get(scanner);
  if (t === undefined) maskedShares.set(scanner, (t = { masked: 0, emitted: 0 }));
  t.masked += masked;
  t.emitted += emitted;
}

/** The mask bits of every outcome a default (not `all`) set holds: all but NotApplicable's. */
const REPORTED_BITS = reasonMask(['Installed', 'Required', 'Unknown']);

/**
 * Per catalog's classes: one bit per update, set for the updates a scan gathers and cleared as it walks them, reused
 * by each scan (a scan is not re-entered). Walking the set bits gives catalog order without sorting (sorting the
 * ~3,000 gathered indexes was an eighth of a machine's decisions).
 */
const scratch = new WeakMap<PrerequisiteClasses, Int32Array>();
function gatheredBits(pc: PrerequisiteClasses): Int32Array {
  let a = scratch.get(pc);
  if (a === undefined) scratch.set(pc, (a = new Int32Array((pc.classOf.length + 31) >>> 5)));
  return a;
}

/**
 * Per catalog: room for every update's outcome word, filled by a scan and copied out at its end. A growing array was a
 * third of what a first-of-a-profile scan allocated (its doublings and the copy into a typed array).
 */
const wordScratch = new WeakMap<Catalog, Uint32Array>();
function outcomeWords(c: Catalog): Uint32Array {
  let a = wordScratch.get(c);
  if (a === undefined) wordScratch.set(c, (a = new Uint32Array(c.size)));
  return a;
}

/** Where a scan's reasons go as they are made: an array of strings, or an encoder (reason-bytes.ts). */
interface ReasonSink {
  push(r: string): void;
  /** Reasons pushed that are not empty. */
  readonly given: number;
}

class ReasonArray implements ReasonSink {
  readonly texts: string[] = [];
  given = 0;
  push(r: string): void {
    this.texts.push(r);
    if (r !== '') this.given++;
  }
}

/**
 * The outcomes of one machine, with its reasons as strings — or, given an encoder, as UTF-8 bytes made as the reasons
 * are (how a pool worker sends them: reason-bytes.ts).
 */
export function scanOutcomes(scanner: Scanner, inv: Inventory, options: OutcomeOptions): { outcomes: Uint32Array; reasons?: string[] };
export function scanOutcomes(
  scanner: Scanner,
  inv: Inventory,
  options: OutcomeOptions,
  encoder: ReasonEncoder,
): { outcomes: Uint32Array; reasons?: ReasonBytes };
export function scanOutcomes(
  scanner: Scanner,
  inv: Inventory,
  options: OutcomeOptions,
  encoder?: ReasonEncoder,
): { outcomes: Uint32Array; reasons?: string[] | ReasonBytes } {
  const c = scanner.catalog;
  const words = outcomeWords(c);
  let n = 0;
  let reasons: ReasonSink | undefined;
  if (options.reasons) {
    if (encoder) encoder.begin();
    reasons = encoder ?? new ReasonArray();
  }
  const mask = options.reasonMask ?? ALL_REASONS;
  let result: Uint32Array | undefined;
  scanner.withMachineScan(inv, (s) => {
    const emit = (i: number): void => {
      if (reasons) {
        // The whole result first, as without a mask (what a prerequisite cycle resolves to depends on where it is entered).
        const r = s.result(i);
        const w = packOutcome(i, r.state, supersedenceCode(r));
        words[n++] = w;
        reasons.push(((mask >>> (w & 15)) & 1) === 1 ? s.reason(r) : '');
      } else words[n++] = packOutcome(i, s.state(i), s.supersedence(i));
    };
    if (options.all) {
      for (let i = 0; i < c.size; i++) emit(i);
      result = words.slice(0, n);
      return;
    }
    // As Windows Update orders a scan: the prerequisite classes first (detectoids and product categories), then only
    // the reportable updates of the classes that may hold, in catalog order. An update of a class that is False is
    // not looked at: the work is proportional to what applies, not to the catalog.
    const pc = prerequisiteClasses(c);
    // With reasons, the flat states first only where few outcomes get one (see maskedShares); when every outcome
    // gets one, MachineScan decides each of them anyway.
    const share = reasons ? maskedShares.get(scanner) : undefined;
    const flatFirst =
      !reasons || ((mask & REPORTED_BITS) !== REPORTED_BITS && (share === undefined || share.masked < share.emitted * FLAT_FIRST_BELOW));
    if (flatFirst && scanner.flatDecisions && s.classValues.length === pc.count) {
      // The fleet's path: decided over arrays laid out for it (flat-decisions.ts), on catalogs without cycles.
      const flat = flatDecider(c, s.sharedSlotPlaces);
      if (flat !== undefined) {
        n = flat.outcomes(s, pc, words);
        result = words.slice(0, n);
        if (reasons) {
          // Only the outcomes the mask asks for are decided again, by MachineScan, for their reasons: without cycles
          // an update's result does not depend on which update asked for it first (a batch output's default mask
          // is ~1 outcome in 15: deciding every one as below made reasons cost 2–3 × a scan).
          s.notCountingShared(() => {
            for (let k = 0; k < n; k++) {
              const w = words[k]!;
              if (((mask >>> (w & 15)) & 1) === 0) {
                reasons.push('');
                continue;
              }
              const r = s.result(outcomeIndex(w));
              const again = packOutcome(r.index, r.state, supersedenceCode(r));
              if (again !== w)
                throw new PatchscanError(
                  'INTERNAL',
                  `update ${c.updateId(r.index)}: the fleet path decided ${outcomeText(w)}, the scan ${outcomeText(again)}; report it`,
                );
              reasons.push(s.reason(r));
            }
          });
          noteMasked(scanner, reasons.given, n);
        }
        return;
      }
    }
    const bits = gatheredBits(pc);
    const mark = (i: number): void => {
      bits[i >>> 5]! |= 1 << (i & 31);
    };
    try {
      for (let k = 0; k < pc.reportingClasses.length; k++) {
        const cl = pc.reportingClasses[k]!;
        if (!s.classMayHold(cl)) continue;
        for (let m = pc.classReportableOffsets[cl]!; m < pc.classReportableOffsets[cl + 1]!; m++) mark(pc.classReportable[m]!);
      }
      for (let k = 0; k < pc.reportableInCycles.length; k++) mark(pc.reportableInCycles[k]!);
      for (let w = 0; w < bits.length; w++) {
        let b = bits[w]!;
        if (b === 0) continue;
        bits[w] = 0;
        while (b !== 0) {
          const low = b & -b;
          const i = (w << 5) | (31 - Math.clz32(low));
          b ^= low;
          if (s.stateCode(i) !== S_NOT_APPLICABLE) emit(i);
        }
      }
    } catch (e) {
      bits.fill(0); // a scan that threw mid-way leaves no bit for the next machine
      throw e;
    }
    if (reasons && (mask & REPORTED_BITS) !== REPORTED_BITS) noteMasked(scanner, reasons.given, n);
    result = words.slice(0, n);
  });
  if (reasons === undefined) return { outcomes: result! };
  return { outcomes: result!, reasons: reasons instanceof ReasonArray ? reasons.texts : encoder!.end() };
}
