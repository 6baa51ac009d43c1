/**
 * A machine's outcomes carried over to a new catalog without a full rescan: the updates whose state a catalog delta
 * marks affected (engine/catalog/diff.ts) are evaluated on the new catalog — on demand, so only they and what they
 * read (their prerequisites, bundled updates, superseding updates) are decided; those whose supersedence only may
 * differ keep their old state and read their superseders' states; every other outcome is the old one, moved to the
 * update's new index. The result is the result set a full scan of the new catalog produces:
 * the same outcomes, in the same (catalog index) order.
 *
 * Reasons are not carried over: a reason names other updates (titles, KBs) that may have changed; a set with
 * reasons is rescanned in full by the caller.
 */
import { AFFECTED_STATE, AFFECTED_SUPERSEDENCE, type CatalogDelta } from '../catalog/diff.js';
import { PatchscanError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { outcomeIndex, outcomeStateCode, packOutcome, STATES } from './result-set.js';
import type { Scanner } from './scan.js';
import { S_NOT_APPLICABLE } from './scanner.js';

const NOT_APPLICABLE = STATES.indexOf('NotApplicable');

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
  // Updates whose state holds but whose supersedence may not: their old word without it, and the NotApplicable ones
  // of an `all` set (their own IsSuperseded rule may be why: decided again).
  const supersedenceOnly: number[] = [];
  const decideAgain: number[] = [];
  for (let k = 0; k < old.length; k++) {
    const w = old[k]!;
    const i = delta.newIndex[outcomeIndex(w)]!;
    if (i < 0) continue; // gone, or its state re-evaluated below
    const moved = ((i << 4) | (w & 15)) >>> 0;
    if (delta.affected[i] !== AFFECTED_SUPERSEDENCE) words[n++] = moved;
    else if (outcomeStateCode(w) === NOT_APPLICABLE) decideAgain.push(i);
    else supersedenceOnly.push(moved & ~3);
  }
  const c = scanner.catalog;
  const { type, action } = c.data.updates;
  scanner.withSession(inventory, (s) => {
    for (let k = 0; k < delta.affectedList.length; k++) {
      const i = delta.affectedList[k]!;
      if (delta.affected[i] !== AFFECTED_STATE) continue;
      if (!options.all) {
        // A default scan reports software that is not a bundle-only child, and of that what applies.
        if (type[i] !== 0 || action[i] === 1) continue;
        if (s.knownNotApplicable(i) || s.stateCode(i) === S_NOT_APPLICABLE) continue;
      }
      words[n++] = packOutcome(i, s.state(i), s.supersedence(i));
    }
    for (const w of supersedenceOnly) words[n++] = (w | s.supersedenceBySuperseders(outcomeIndex(w))) >>> 0;
    for (const i of decideAgain) words[n++] = packOutcome(i, s.state(i), s.supersedence(i));
  });
  // Words sort by catalog index (its high bits): the order a full scan emits them in.
  return words.subarray(0, n).sort().slice();
}
