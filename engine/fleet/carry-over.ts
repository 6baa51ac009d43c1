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
import { outcomeState, outcomeStateCode, packOutcome, STATES } from './result-set.js';
import type { Scanner } from '../scanner/scanner.js';
import { S_NOT_APPLICABLE, type MachineScan } from '../scanner/machine-scan.js';

const NOT_APPLICABLE = STATES.indexOf('NotApplicable');

export interface CarryOverOptions {
  /** The old outcomes hold every update (a scan with `all`), not only the reportable ones that apply. */
  readonly all: boolean;
}

/**
 * What every machine's carry-over over one delta reads, computed on its first machine, and working memory reused by
 * the next ones (a carry-over runs synchronously to its end, so one set per delta is never used by two at once). A
 * carry-over costs a few hundred decisions: allocating and sorting set-sized arrays per machine was a third of it.
 */
class Plan {
  /** Per position in the delta's order: whether the update is reportable on the new catalog. */
  readonly reportable: Uint8Array;
  /**
   * Per position: what the old words tell of the same UpdateId's old state — OLD_NONE (no one-to-one old update),
   * OLD_REPORTABLE (a default set holds its word when it applied, so no word means NotApplicable), OLD_HIDDEN (a
   * default set never holds it: known only in an `all` set).
   */
  readonly oldKind: Uint8Array;
  /**
   * Per old index, what its word becomes, in one table (one memory read per old word: a set's words are a few
   * thousand reads scattered over catalog-sized arrays, each a cache miss on a busy machine): ≥ 0, the word moves to
   * new index `v >> 1`, with `v & 1` set when its supersedence must be read again; ≤ -2, it is the old word of the
   * update at position `-v - 2` of the delta's order; -1, it is dropped.
   */
  readonly fate: Int32Array;
  // Per machine: per position, the old word + 1 (0: none), whether its state changed, whether it was decided.
  readonly oldWord: Float64Array;
  readonly changed: Uint8Array;
  readonly decided: Uint8Array;
  /** The old words of unaffected and supersedence-only updates at their new indexes, in the old words' order. */
  moved = new Uint32Array(0);
  /** The words of the ordered updates (decided again or kept), in `stateOrder`'s order. */
  readonly fresh: Uint32Array;
  /** Where in `moved` the supersedence-only updates' words are. */
  flagged = new Int32Array(0);

  constructor(delta: CatalogDelta) {
    const order = delta.stateOrder;
    const now = delta.to.data.updates;
    this.reportable = new Uint8Array(order.length);
    this.oldKind = new Uint8Array(order.length);
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      this.reportable[k] = isReportableCode(now.type[i]!, now.action[i]!) ? 1 : 0;
      const j = delta.sameId[i]!;
      this.oldKind[k] = j < 0 ? OLD_NONE : delta.fromReportable[j] === 1 ? OLD_REPORTABLE : OLD_HIDDEN;
    }
    this.fate = new Int32Array(delta.fromSize).fill(-1);
    for (let o = 0; o < delta.fromSize; o++) {
      const i = delta.newIndex[o]!;
      if (i >= 0) this.fate[o] = i * 2 + (delta.affected[i] === AFFECTED_SUPERSEDENCE ? 1 : 0);
      else {
        const j = delta.sameIdOld[o]!;
        if (j >= 0 && delta.orderPosition[j]! >= 0) this.fate[o] = -delta.orderPosition[j]! - 2;
      }
    }
    this.oldWord = new Float64Array(order.length);
    this.changed = new Uint8Array(order.length);
    this.decided = new Uint8Array(order.length);
    this.fresh = new Uint32Array(order.length);
  }

  /** Working memory for a set of `words` old words, cleared where it is read before being written. */
  ready(words: number, flagged: number): void {
    this.oldWord.fill(0);
    this.changed.fill(0);
    this.decided.fill(0);
    if (this.moved.length < words) this.moved = new Uint32Array(Math.max(words, this.moved.length * 2));
    if (this.flagged.length < flagged) this.flagged = new Int32Array(Math.max(flagged, this.flagged.length * 2));
  }
}
const OLD_NONE = 0,
  OLD_REPORTABLE = 1,
  OLD_HIDDEN = 2;
const plans = new WeakMap<CatalogDelta, Plan>();

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
  return carryOverOutcomesThen(scanner, delta, inventory, old, options, () => undefined).outcomes;
}

/**
 * {@link carryOverOutcomes}, then `then` with the machine's scan still open (what it decided is not decided again:
 * wording reasons of some outcomes, say) and the outcomes; gives both results. `outcomes` is the caller's to keep.
 */
export function carryOverOutcomesThen<T>(
  scanner: Scanner,
  delta: CatalogDelta,
  inventory: Inventory,
  old: Uint32Array,
  options: CarryOverOptions,
  then: (s: MachineScan, outcomes: Uint32Array) => T,
): { readonly outcomes: Uint32Array; readonly then: T } {
  if (scanner.catalog.data !== delta.to.data) {
    throw new PatchscanError('BAD_ARGUMENT', "carrying outcomes over needs a scanner of the delta's new catalog");
  }
  if (delta.fullRescan !== undefined) throw new PatchscanError('BAD_ARGUMENT', `outcomes cannot be carried over: ${delta.fullRescan}`);
  let plan = plans.get(delta);
  if (plan === undefined) plans.set(delta, (plan = new Plan(delta)));
  const order = delta.stateOrder;
  const fate = plan.fate;
  plan.ready(old.length, old.length);
  // Old words of the updates whose state may change, by position in `order` (word + 1; 0: none, i.e. NotApplicable
  // in a default set). Every other old word is final but for its index — and, for the supersedence-only updates
  // (`flagged`: their places in `moved`), its supersedence.
  const { oldWord, changed, decided, moved, flagged, fresh } = plan;
  let n = 0,
    f = 0;
  for (let k = 0; k < old.length; k++) {
    const w = old[k]!;
    const v = fate[w >>> 4]!;
    if (v >= 0) {
      if ((v & 1) === 1) flagged[f++] = n;
      moved[n++] = (((v >>> 1) << 4) | (w & 15)) >>> 0;
    } else if (v < -1) oldWord[-v - 2] = w + 1;
  }
  const all = options.all;
  const { reportable, oldKind } = plan;
  const reads = delta.orderReads;
  let m = 0;
  return scanner.withMachineScan(inventory, (s) => {
    for (let k = 0; k < order.length; k++) {
      if (delta.seed[order[k]!] === 0) {
        // Same content, same inputs: same state.
        let moves = false;
        for (let r = reads.offsets[k]!; r < reads.offsets[k + 1]! && !moves; r++) moves = changed[reads.target[r]!] === 1;
        if (!moves) continue;
      }
      decided[k] = 1;
      // Without an old state to compare with (a bundled update, a detectoid) it counts as changed, and is decided only
      // if something reads it: a bundle whose own prerequisites fail never looks at its children. The old state is
      // the old word's where there is one, else NotApplicable for an update a default set holds when it applies.
      const kind = oldKind[k]!;
      if (kind === OLD_NONE || (oldWord[k] === 0 && (all || kind === OLD_HIDDEN))) changed[k] = 1;
      else if (s.state(order[k]!) !== (oldWord[k] !== 0 ? outcomeState(oldWord[k]! - 1) : 'NotApplicable')) changed[k] = 1;
    }
    const keep = (i: number, w: number): number => {
      if (!supersedersMoved(delta, i, changed)) return ((i << 4) | (w & 15)) >>> 0;
      // NotApplicable (an `all` set): its own IsSuperseded rule may be why, decided with it.
      if (outcomeStateCode(w) === NOT_APPLICABLE) return outcome(s, i);
      return ((i << 4) | (w & 12) | s.supersedenceBySuperseders(i)) >>> 0;
    };
    for (let k = 0; k < order.length; k++) {
      if (!all && reportable[k] === 0) continue;
      const i = order[k]!;
      if (decided[k] === 1) {
        if (all || s.stateCode(i) !== S_NOT_APPLICABLE) fresh[m++] = outcome(s, i);
      } else if (oldWord[k] !== 0) fresh[m++] = keep(i, oldWord[k]! - 1);
    }
    for (let k = 0; k < f; k++) moved[flagged[k]!] = keep(moved[flagged[k]!]! >>> 4, moved[flagged[k]!]!);
    const outcomes = merged(delta.keepsOrder, moved.subarray(0, n), fresh.subarray(0, m));
    return { outcomes, then: then(s, outcomes) };
  });
}

/**
 * The moved and fresh words in one array, by catalog index (their high bits): the order a full scan emits them in.
 * The moved words are in order already when the delta keeps it; then only the few fresh ones are sorted, and merged in.
 */
function merged(keepsOrder: boolean, moved: Uint32Array, fresh: Uint32Array): Uint32Array {
  const n = moved.length,
    m = fresh.length;
  const out = new Uint32Array(n + m);
  if (!keepsOrder) {
    out.set(moved);
    out.set(fresh, n);
    return out.sort();
  }
  fresh.sort();
  let a = 0,
    b = 0,
    o = 0;
  while (a < n && b < m) out[o++] = moved[a]! < fresh[b]! ? moved[a++]! : fresh[b++]!;
  while (a < n) out[o++] = moved[a++]!;
  while (b < m) out[o++] = fresh[b++]!;
  return out;
}

function outcome(s: MachineScan, i: number): number {
  return packOutcome(i, s.state(i), s.supersedence(i));
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
