/**
 * A machine's outcomes carried over to a new catalog without a full rescan (engine/catalog/catalog-delta.ts says which
 * updates may have moved). Per machine, in dependency order over the updates whose state may change:
 *
 * - a seed (added, changed, or listing a removed update) is decided on the new catalog and compared with its old
 *   state where the old words tell it (else it counts as changed);
 * - any other is decided again only when something it reads (a prerequisite, a bundled update) changed state on
 *   this machine; otherwise its state is the old one — its content and what it reads are the same;
 * - a supersedence is read again from the new catalog's superseding updates when their UpdateIds differ or one of
 *   them changed state.
 *
 * Every other outcome is the old one, moved to the update's new index. Decisions are on demand, so only these
 * updates and what they read are decided. The result is the result set a full scan of the new catalog produces:
 * the same outcomes, in the same (catalog index) order.
 *
 * Reasons are not carried over: a reason names other updates (titles, KBs) that may have changed; a set with
 * reasons is rescanned in full by the caller.
 */
import { isReportableCode } from '../catalog/codes.js';
import { AFFECTED_SUPERSEDENCE, type CatalogDelta } from '../catalog/catalog-delta.js';
import { PatchscanError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { outcomeIndex, outcomeState, outcomeStateCode, packOutcome, STATES } from './result-set.js';
import type { Scanner } from '../scanner/scanner.js';
import { S_NOT_APPLICABLE, type MachineScan, type UpdateState } from '../scanner/machine-scan.js';

const NOT_APPLICABLE = STATES.indexOf('NotApplicable');

export interface CarryOverOptions {
  /** The old outcomes hold every update (a scan with `all`), not only the reportable ones that apply. */
  readonly all: boolean;
}

/**
 * One machine's outcomes on the delta's new catalog, from its outcomes `old` on the old one (scanned with the same
 * `all`); `scanner` scans the new catalog. Throws BAD_ARGUMENT when it does not, or when the delta says only a full
 * rescan is exact.
 */
export function carryOverOutcomes(
  scanner: Scanner,
  delta: CatalogDelta,
  inventory: Inventory,
  old: Uint32Array,
  options: CarryOverOptions,
): Uint32Array {
  if (scanner.catalog.data !== delta.to.data) {
    throw new PatchscanError('BAD_ARGUMENT', "carrying outcomes over needs a scanner of the delta's new catalog");
  }
  if (delta.fullRescan !== undefined) throw new PatchscanError('BAD_ARGUMENT', `outcomes cannot be carried over: ${delta.fullRescan}`);
  const order = delta.stateOrder;
  const pos = delta.orderPosition;
  // Old words of the updates whose state may change, by position in `order` (word + 1; 0: none, i.e. NotApplicable
  // in a default set), and of those whose supersedence only may change; every other old word is final.
  const oldWord = new Float64Array(order.length);
  const kept: number[] = [];
  const words = new Uint32Array(old.length + delta.affectedList.length);
  let n = 0;
  for (let k = 0; k < old.length; k++) {
    const w = old[k]!;
    const o = outcomeIndex(w);
    const i = delta.newIndex[o]!;
    if (i >= 0) {
      const moved = ((i << 4) | (w & 15)) >>> 0;
      if (delta.affected[i] === AFFECTED_SUPERSEDENCE) kept.push(moved);
      else words[n++] = moved;
      continue;
    }
    const j = delta.sameIdOld[o]!;
    if (j >= 0 && pos[j]! >= 0) oldWord[pos[j]!] = w + 1;
  }
  const reportable = (i: number): boolean =>
    options.all || isReportableCode(delta.to.data.updates.type[i]!, delta.to.data.updates.action[i]!);
  const changed = new Uint8Array(order.length);
  const decided = new Uint8Array(order.length);
  const was = delta.from.data.updates;
  // The old state of order[k] where the old words tell it: every update of an `all` set, and the reportable ones of
  // a default set (no word: NotApplicable). Else undefined: the update counts as changed.
  const oldState = (k: number, i: number): UpdateState | undefined => {
    const j = delta.sameId[i]!;
    if (j < 0) return undefined;
    if (oldWord[k] !== 0) return outcomeState(oldWord[k]! - 1);
    return !options.all && isReportableCode(was.type[j]!, was.action[j]!) ? 'NotApplicable' : undefined;
  };
  scanner.withMachineScan(inventory, (s) => {
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (delta.seed[i] === 0 && !readsChanged(delta, i, changed)) continue; // same content, same inputs: same state
      decided[k] = 1;
      // Without an old state to compare with (a bundled update, a detectoid) it counts as changed, and is decided only
      // if something reads it: a bundle whose own prerequisites fail never looks at its children.
      const prev = oldState(k, i);
      if (prev === undefined || s.state(i) !== prev) changed[k] = 1;
    }
    const keep = (i: number, w: number): number => {
      if (!supersedersMoved(delta, i, changed)) return ((i << 4) | (w & 15)) >>> 0;
      // NotApplicable (an `all` set): its own IsSuperseded rule may be why, decided with it.
      if (outcomeStateCode(w) === NOT_APPLICABLE) return outcome(s, i);
      return ((i << 4) | (w & 12) | s.supersedenceBySuperseders(i)) >>> 0;
    };
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (!reportable(i)) continue;
      if (decided[k] === 1) {
        if (options.all || s.stateCode(i) !== S_NOT_APPLICABLE) words[n++] = outcome(s, i);
      } else if (oldWord[k] !== 0) words[n++] = keep(i, oldWord[k]! - 1);
    }
    for (const w of kept) words[n++] = keep(outcomeIndex(w), w);
  });
  // Words sort by catalog index (its high bits): the order a full scan emits them in.
  return words.subarray(0, n).sort().slice();
}

function outcome(s: MachineScan, i: number): number {
  return packOutcome(i, s.state(i), s.supersedence(i));
}

/** Whether update i reads (as prerequisite or bundled update) one whose state changed on this machine. */
function readsChanged(delta: CatalogDelta, i: number, changed: Uint8Array): boolean {
  const moved = (t: number): boolean => t >= 0 && delta.orderPosition[t]! >= 0 && changed[delta.orderPosition[t]!] === 1;
  const p = delta.to.data.prerequisites;
  for (let g = p.groupOffsets[i]!; g < p.groupOffsets[i + 1]!; g++) {
    for (let m = p.memberOffsets[g]!; m < p.memberOffsets[g + 1]!; m++) if (moved(p.target[m]!)) return true;
  }
  const b = delta.to.data.bundles;
  for (let g = b.groupOffsets[i]!; g < b.groupOffsets[i + 1]!; g++) {
    for (let m = b.memberOffsets[g]!; m < b.memberOffsets[g + 1]!; m++) if (moved(b.target[m]!)) return true;
  }
  return false;
}

/** Whether update i's superseding updates differ by UpdateId, or one of them changed state on this machine. */
function supersedersMoved(delta: CatalogDelta, i: number, changed: Uint8Array): boolean {
  if (delta.supersedersChanged[i] === 1) return true;
  const sb = delta.to.data.supersededBy;
  for (let k = sb.offsets[i]!; k < sb.offsets[i + 1]!; k++) {
    const at = delta.orderPosition[sb.target[k]!]!;
    if (at >= 0 && changed[at] === 1) return true;
  }
  return false;
}
