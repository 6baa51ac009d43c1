/**
 * One machine's outcomes as a packed result set: every reportable update that is not NotApplicable (or every
 * update with `all`), each as one 32-bit word, with a reason per outcome when asked.
 */
import type { Inventory } from '../inventory/types.js';
import { prerequisiteClasses } from './prerequisite-classes.js';
import { packOutcome } from './result-set.js';
import type { Scanner } from './scan.js';
import { S_NOT_APPLICABLE } from './scanner.js';
import { supersedenceCode } from './supersedence.js';

export interface OutcomeOptions {
  readonly all: boolean;
  readonly reasons: boolean;
}

export function scanOutcomes(scanner: Scanner, inv: Inventory, options: OutcomeOptions): { outcomes: Uint32Array; reasons?: string[] } {
  const c = scanner.catalog;
  const words: number[] = [];
  const reasons: string[] | undefined = options.reasons ? [] : undefined;
  scanner.withSession(inv, (s) => {
    const emit = (i: number): void => {
      if (reasons) {
        const r = s.result(i);
        words.push(packOutcome(i, r.state, supersedenceCode(r)));
        reasons.push(s.reason(r));
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
