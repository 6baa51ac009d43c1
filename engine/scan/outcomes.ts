/**
 * One machine's outcomes as a packed result set: every reportable update that is not NotApplicable (or every
 * update with `all`), each as one 32-bit word, with a reason per outcome when asked.
 */
import type { Inventory } from '../inventory/types.js';
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
  // Read as codes on the hot path: type 0 = Software, action 1 = Bundle (a bundle-only child is not a row).
  const { type, action } = c.data.updates;
  const n = c.size;
  scanner.withSession(inv, (s) => {
    for (let i = 0; i < n; i++) {
      if (!options.all && (type[i] !== 0 || action[i] === 1 || s.stateCode(i) === S_NOT_APPLICABLE)) continue;
      if (reasons) {
        const r = s.result(i);
        words.push(packOutcome(i, r.state, supersedenceCode(r)));
        reasons.push(s.reason(r));
      } else words.push(packOutcome(i, s.state(i), s.supersedence(i)));
    }
  });
  return { outcomes: Uint32Array.from(words), ...(reasons ? { reasons } : {}) };
}
