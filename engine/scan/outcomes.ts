/**
 * One machine's outcomes as a packed result set: every reportable update that is not NotApplicable (or every
 * update with `all`), each as one 32-bit word, with a reason per outcome when asked.
 */
import type { Inventory } from '../inventory/types.js';
import { packOutcome } from './result-set.js';
import type { Scanner } from './scan.js';

export interface OutcomeOptions {
  readonly all: boolean;
  readonly reasons: boolean;
}

export function scanOutcomes(scanner: Scanner, inv: Inventory, options: OutcomeOptions): { outcomes: Uint32Array; reasons?: string[] } {
  const c = scanner.catalog;
  const words: number[] = [];
  const reasons: string[] | undefined = options.reasons ? [] : undefined;
  scanner.withSession(inv, (s) => {
    for (let i = 0; i < c.size; i++) {
      if (!options.all && (!c.isReportable(i) || s.state(i) === 'NotApplicable')) continue;
      if (reasons) {
        const r = s.result(i);
        words.push(packOutcome(i, r.state, r.superseded));
        reasons.push(s.reason(r));
      } else words.push(packOutcome(i, s.state(i), s.isSuperseded(i)));
    }
  });
  return { outcomes: Uint32Array.from(words), ...(reasons ? { reasons } : {}) };
}
