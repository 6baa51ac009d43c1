/**
 * A machine's outcomes carried over to a new catalog without a full rescan: the updates a catalog delta marks
 * affected (engine/catalog/diff.ts) are evaluated on the new catalog — on demand, so only they and what they read
 * (their prerequisites, bundled updates, superseding updates) are decided — and every other outcome is the old
 * one, moved to the update's new index. The result is the result set a full scan of the new catalog produces:
 * the same outcomes, in the same (catalog index) order.
 *
 * Reasons are not carried over: a reason names other updates (titles, KBs) that may have changed; a set with
 * reasons is rescanned in full by the caller.
 */
import type { CatalogDelta } from '../catalog/diff.js';
import { PatchscanError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { outcomeIndex, packOutcome } from './result-set.js';
import type { Scanner } from './scan.js';
import { S_NOT_APPLICABLE } from './scanner.js';

export interface CarryOverOptions {
  /** The old outcomes hold every update (a scan with `all`), not only the reportable ones that apply. */
  readonly all: boolean;
}

/**
 * Re-evaluates a delta's affected updates for one machine. `scanner` scans the delta's new catalog; `old` are the
 * machine's outcomes on the delta's old catalog, scanned with the same `all`. Throws when the delta says only a
 * full rescan is exact.
 */
export function carryOverOutcomes(
  scanner: Scanner, delta: CatalogDelta, inventory: Inventory, old: Uint32Array, options: CarryOverOptions,
): Uint32Array {
  if (scanner.catalog !== delta.to && scanner.catalog.data !== delta.to.data) {
    throw new PatchscanError('BAD_ARGUMENT', 'the scanner given to carryOverOutcomes must scan the delta\'s new catalog');
  }
  if (delta.fullRescan !== undefined) throw new PatchscanError('BAD_ARGUMENT', `outcomes cannot be carried over: ${delta.fullRescan}`);
  const words = new Uint32Array(old.length + delta.affectedList.length);
  let n = 0;
  for (let k = 0; k < old.length; k++) {
    const w = old[k]!;
    const i = delta.newIndex[outcomeIndex(w)]!;
    if (i < 0 || delta.affected[i] === 1) continue; // gone, or re-evaluated below
    words[n++] = ((i << 4) | (w & 15)) >>> 0;
  }
  const c = scanner.catalog;
  const { type, action } = c.data.updates;
  scanner.withSession(inventory, (s) => {
    for (let k = 0; k < delta.affectedList.length; k++) {
      const i = delta.affectedList[k]!;
      if (!options.all) {
        // A default scan reports software that is not a bundle-only child, and of that what applies.
        if (type[i] !== 0 || action[i] === 1) continue;
        if (s.knownNotApplicable(i) || s.stateCode(i) === S_NOT_APPLICABLE) continue;
      }
      words[n++] = packOutcome(i, s.state(i), s.supersedence(i));
    }
  });
  // Words sort by catalog index (its high bits): the order a full scan emits them in.
  return words.subarray(0, n).sort().slice();
}
