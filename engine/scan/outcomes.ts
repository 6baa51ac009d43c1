/**
 * One machine's outcomes as a packed result set: every reportable update that is not NotApplicable (or every
 * update with `all`), each as one 32-bit word, with a reason per outcome when asked — or only for the outcomes a
 * report will show (`reasonMask`): a reason costs far more than a state, and a fleet's reasons are most of its memory.
 */
import type { Inventory } from '../inventory/types.js';
import { prerequisiteClasses } from './prerequisite-classes.js';
import { packOutcome } from './result-set.js';
import type { Scanner } from './scan.js';
import { S_NOT_APPLICABLE, type UpdateState } from './scanner.js';
import { SUP_NO, SUP_POSSIBLY, SUP_YES, supersedenceCode, type SupersedenceCode } from './supersedence.js';

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

export function scanOutcomes(scanner: Scanner, inv: Inventory, options: OutcomeOptions): { outcomes: Uint32Array; reasons?: string[] } {
  const c = scanner.catalog;
  const words: number[] = [];
  const reasons: string[] | undefined = options.reasons ? [] : undefined;
  const mask = options.reasonMask ?? ALL_REASONS;
  scanner.withSession(inv, (s) => {
    const emit = (i: number): void => {
      if (reasons) {
        // The whole result first, as without a mask (what a prerequisite cycle resolves to depends on where it is entered).
        const r = s.result(i);
        const w = packOutcome(i, r.state, supersedenceCode(r));
        words.push(w);
        reasons.push(((mask >>> (w & 15)) & 1) === 1 ? s.reason(r) : '');
      } else words.push(packOutcome(i, s.state(i), s.supersedence(i)));
    };
    if (options.all) {
      for (let i = 0; i < c.size; i++) emit(i);
      return;
    }
    // The reportable updates only, and of those only the ones whose prerequisite class is not already known False:
    // the classes are computed as the first updates of each are met (detectoids and categories first, as Windows
    // Update orders a scan), after which most of the catalog is skipped by one array read.
    const { reportable } = prerequisiteClasses(c);
    for (let k = 0; k < reportable.length; k++) {
      const i = reportable[k]!;
      if (s.knownNotApplicable(i) || s.stateCode(i) === S_NOT_APPLICABLE) continue;
      emit(i);
    }
  });
  return { outcomes: Uint32Array.from(words), ...(reasons ? { reasons } : {}) };
}
