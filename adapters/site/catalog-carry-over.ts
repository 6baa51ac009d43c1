/**
 * A stored result set carried over to a new catalog without a full rescan (issue 14, item 4): the outcomes by
 * carryOverOutcomes (engine/fleet/carry-over.ts), which re-decides only the updates the catalog delta marks, and
 * the reasons — a site stores one per outcome — computed again for exactly those updates.
 *
 * An outcome's reason is kept only where it cannot differ from a full scan's: neither the update nor anything its reason
 * may follow (prerequisites, bundled updates, transitively) is affected at all (same content, same states of what
 * they read, same superseders by UpdateId and state: a reason quotes its prerequisites' and bundled updates' reasons,
 * supersedence included), and none of the updates it may name (those, and its superseders) has another title or KB.
 * The unaffected updates must keep their relative order (a reason names the first matching superseder); otherwise the
 * carry-over refuses the whole catalog change (`refused`) and the site rescans in full.
 *
 * Where a reason is not kept but the outcome is the old one, the machine's own scan may still show it unchanged
 * (ReasonCheck): nothing it names or follows changed for that machine. Only the rest are worded again and compared.
 */
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { decodeCatalogDelta, encodeCatalogDelta } from '../../engine/catalog/catalog-delta-file.js';
import { PatchscanError } from '../../engine/errors.js';
import { AFFECTED_STATE, AFFECTED_SUPERSEDENCE, catalogDelta, type CatalogDelta } from '../../engine/catalog/catalog-delta.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { carryOverOutcomes, carryOverOutcomesThen } from '../../engine/fleet/carry-over.js';
import { outcomeIndex, outcomeState, outcomeSupersedence, packOutcome } from '../../engine/fleet/result-set.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import type { MachineScan, UpdateState } from '../../engine/scanner/machine-scan.js';
import { SUP_NO, SUP_POSSIBLY, SUP_YES, type SupersedenceCode } from '../../engine/scanner/supersedence.js';
import type { ResultUpdateRow } from '../store/port.js';

const STATES: readonly string[] = ['Installed', 'Required', 'NotApplicable', 'Unknown'];

const PLAN_FORMAT = 'patchscan-carry-over-2';
const packr = new Packr({ useRecords: false, moreTypes: true });

/** A carry-over as stored (encode / decode): the engine's delta bytes and what the site adds to it. */
interface StoredPlan {
  readonly format: string;
  readonly delta: Uint8Array;
  readonly refused: string | null;
  readonly indexMap: Int32Array;
  readonly otherOld: Int32Array;
  readonly otherOldIds: readonly string[];
  readonly renamed: Int32Array;
  readonly supersededOf: Int32Array;
  readonly supersededOffsets: Int32Array;
  readonly supersededTarget: Int32Array;
}

/** What a carry-over keeps of the old catalog's names and superseders (ReasonCheck reads it). */
interface OldNames {
  /** New indexes whose update has another title or KB than its old revision: a reason names an update by both. */
  readonly renamed: Int32Array;
  /**
   * The supersedence-only updates (AFFECTED_SUPERSEDENCE) that have an old revision: their new indexes, ascending, and
   * each one's superseders in the old catalog (old indexes, in its order: a reason names the first that fits),
   * `supersededTarget[supersededOffsets[k] .. supersededOffsets[k + 1])`.
   */
  readonly supersededOf: Int32Array;
  readonly supersededOffsets: Int32Array;
  readonly supersededTarget: Int32Array;
}

/** One carried-over outcome, as the site scanner stores it. */
export interface CarriedOutcome {
  readonly index: number;
  readonly state: UpdateState;
  readonly supersedence: SupersedenceCode;
  readonly reason: string;
}

/** A carried set as changes on its base (carryChanges). */
export interface CarriedChanges {
  /** Every outcome on the new catalog (packed words, result-set.ts), by index. */
  readonly words: Uint32Array;
  /** The set's own rows: every outcome of the update ids that changed, with its reason. */
  readonly own: readonly CarriedOutcome[];
  /**
   * Outcomes that are the old ones (state, supersedence, revision; their update id held once by the new catalog) but
   * whose stored reason may not be exact any more, with their reasons as a full scan words them: own rows too where the
   * base row they would replace differs.
   */
  readonly unsure: readonly CarriedOutcome[];
  /** Update ids the base has rows of and the set has no outcome for. */
  readonly removed: readonly string[];
}

export class CatalogCarryOver {
  /** Why outcomes cannot be carried over from `fromId` to the new catalog (then rescan in full), or undefined. */
  readonly refused: string | undefined;
  private readonly delta: CatalogDelta;
  private scannerMade: Scanner | undefined;
  /** The new catalog's scanner, made on first use (a carry-over only made and stored, as a sync does, needs none). */
  private get scanner(): Scanner {
    return (this.scannerMade ??= new Scanner(this.delta.to, { shareRuleResults: false }));
  }
  /** Per new index: 1 when a stored reason of the update is still exact (reasonsKept), else 0. */
  private readonly keep: Uint8Array;
  /** Per old index: the new index of the same update revision, or -1 (where a carried set's unchanged rows go). */
  readonly indexMap: Int32Array;

  /** UpdateIds of the old indexes with no one-to-one new update (the others' are the new catalog's: see oldId). */
  private readonly otherOldIds: ReadonlyMap<number, string>;
  private readonly names: OldNames;
  private readonly check: ReasonCheck;

  private constructor(
    readonly fromId: number,
    delta: CatalogDelta,
    refused: string | undefined,
    indexMap: Int32Array,
    otherOldIds: ReadonlyMap<number, string>,
    names: OldNames,
  ) {
    this.delta = delta;
    this.refused = refused;
    this.names = names;
    const renamed = new Uint8Array(delta.to.size);
    for (const i of names.renamed) renamed[i] = 1;
    this.keep = refused === undefined ? reasonsKept(delta, renamed) : new Uint8Array(0);
    this.indexMap = indexMap;
    this.otherOldIds = otherOldIds;
    this.check = new ReasonCheck(delta, this.keep, renamed, names);
  }

  /** The carry-over from catalog `from` (recorded as `fromId`) to `to`: diffs the two. */
  static between(fromId: number, from: Catalog, to: Catalog): CatalogCarryOver {
    const delta = catalogDelta(from, to);
    const other = new Map<number, string>();
    for (let o = 0; o < from.size; o++) if (delta.sameIdOld[o]! < 0) other.set(o, from.updateId(o));
    return new CatalogCarryOver(
      fromId,
      delta,
      delta.fullRescan ?? orderMoved(delta),
      sameRevision(delta, from),
      other,
      oldNames(delta, from),
    );
  }

  /**
   * The carry-over {@link encode} stored (made when the catalog was put in service), for `to`, the catalog it was made
   * for; the old catalog is not needed. Throws COMPILED_BAD_FILE when the bytes do not fit `to` (then diff again).
   */
  static decode(fromId: number, bytes: Uint8Array, to: Catalog): CatalogCarryOver {
    const bad = (why: string): PatchscanError => new PatchscanError('COMPILED_BAD_FILE', `stored carry-over: ${why}`);
    // A SHA-256 of the rest first: a damaged byte inside an array could still pass every check below.
    const body = bytes.subarray(32);
    if (bytes.length < 32 || !createHash('sha256').update(body).digest().equals(bytes.subarray(0, 32)))
      throw bad('checksum mismatch: it is damaged');
    let p: StoredPlan;
    try {
      p = packr.unpack(body) as StoredPlan;
    } catch (e) {
      throw bad(`does not decode: ${(e as Error).message}`);
    }
    if (p?.format !== PLAN_FORMAT) throw bad(`not a carry-over of format ${PLAN_FORMAT}`);
    const delta = decodeCatalogDelta(p.delta, to);
    if (!(p.indexMap instanceof Int32Array) || p.indexMap.length !== delta.fromSize) throw bad('its index map does not fit the delta');
    for (const i of p.indexMap) if (i < -1 || i >= to.size) throw bad('its index map points outside the catalog');
    if (!(p.otherOld instanceof Int32Array) || !Array.isArray(p.otherOldIds) || p.otherOldIds.length !== p.otherOld.length)
      throw bad('its old UpdateIds do not decode');
    const other = new Map<number, string>();
    p.otherOld.forEach((o, k) => other.set(o, String(p.otherOldIds[k])));
    for (let o = 0; o < delta.fromSize; o++) if (delta.sameIdOld[o]! < 0 && !other.has(o)) throw bad(`old update ${o} has no UpdateId`);
    if (p.refused !== null && typeof p.refused !== 'string') throw bad('its refusal is not text');
    const names = {
      renamed: p.renamed,
      supersededOf: p.supersededOf,
      supersededOffsets: p.supersededOffsets,
      supersededTarget: p.supersededTarget,
    };
    const why = badNames(names, delta);
    if (why) throw bad(why);
    return new CatalogCarryOver(fromId, delta, p.refused ?? undefined, p.indexMap, other, names);
  }

  /**
   * What {@link decode} reads back: the SHA-256 of the rest, then (msgpack) the delta, the refusal, the index map and
   * the old UpdateIds it needs.
   */
  encode(): Buffer {
    const plan: StoredPlan = {
      format: PLAN_FORMAT,
      delta: encodeCatalogDelta(this.delta),
      refused: this.refused ?? null,
      indexMap: this.indexMap,
      otherOld: Int32Array.from(this.otherOldIds.keys()),
      otherOldIds: [...this.otherOldIds.values()],
      ...this.names,
    };
    const body = Buffer.from(packr.pack(plan));
    return Buffer.concat([createHash('sha256').update(body).digest(), body]);
  }

  /** The UpdateId of old index `o` (< fromSize). */
  private oldId(o: number): string | undefined {
    const i = this.delta.sameIdOld[o]!;
    return i >= 0 ? this.delta.to.updateId(i) : this.otherOldIds.get(o);
  }

  /**
   * One machine's stored outcomes on the old catalog (`rows`, a default set with a reason for every outcome) on the
   * new one, or undefined when a row does not fit the old catalog (then rescan it in full).
   */
  carry(inventory: Inventory, rows: readonly ResultUpdateRow[]): CarriedOutcome[] | undefined {
    if (this.refused !== undefined) return undefined;
    const d = this.delta;
    const old = this.oldWords(rows);
    if (!old) return undefined;
    const keptReason = new Map<number, string>();
    for (const r of rows) {
      const i = d.newIndex[r.update_index]!;
      if (i >= 0 && this.keep[i] === 1) keptReason.set(i, r.reason);
    }
    const words = carryOverOutcomes(this.scanner, d, inventory, old, { all: false });
    const out: CarriedOutcome[] = new Array(words.length);
    let fresh = false;
    for (let k = 0; k < words.length; k++) {
      const w = words[k]!;
      const i = outcomeIndex(w);
      const reason = keptReason.get(i);
      if (reason === undefined) fresh = true;
      out[k] = { index: i, state: outcomeState(w), supersedence: outcomeSupersedence(w), reason: reason ?? '' };
    }
    if (fresh) {
      // The reasons of the re-decided outcomes, as a full scan words them (decided on demand: only what they read).
      this.scanner.withMachineScan(inventory, (s) => {
        for (let k = 0; k < out.length; k++) {
          const o = out[k]!;
          if (keptReason.has(o.index)) continue;
          const r = s.result(o.index);
          out[k] = { ...o, reason: s.reason(r) };
        }
      });
    }
    return out;
  }

  /**
   * A stored set's rows (their reasons not needed) as its packed outcomes on the old catalog, ascending, or undefined
   * when a row does not fit the old catalog (then rescan it in full).
   */
  oldWords(rows: readonly ResultUpdateRow[]): Uint32Array | undefined {
    const d = this.delta;
    const old = new Uint32Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      const o = r.update_index;
      if (o < 0 || o >= d.fromSize || r.superseded > 2 || !STATES.includes(r.state) || this.oldId(o) !== r.update_id) return undefined;
      old[k] = packOutcome(o, r.state as UpdateState, r.superseded as SupersedenceCode);
    }
    return old.sort();
  }

  /**
   * One machine's stored outcomes on the old catalog (`old`, packed and ascending: the set's stored words, or
   * {@link oldWords} of its rows) on the new one, as changes on the set they are stored on (carried-changes.ts): the new
   * outcomes; the rows that differ from the base's — every outcome of an update id with one outcome not the old one
   * (state, supersedence, same revision), or named in `overridden` (the old set's own rows: what its base holds for them
   * is not known here) — with their reasons as a full scan words them; the outcomes that are the old ones but whose
   * stored reason may not be exact any more (`unsure`: the caller compares them with the base's rows, and those that
   * differ are own rows too); and the base's update ids with no outcome any more. Undefined when a word does not fit the
   * old catalog, or when more than `maxOwn` rows could be the set's own (then store it whole: {@link carry}).
   */
  carryChanges(
    inventory: Inventory,
    old: Uint32Array,
    overridden: ReadonlySet<string> | undefined,
    maxOwn: number,
  ): CarriedChanges | undefined {
    if (this.refused !== undefined) return undefined;
    const d = this.delta;
    for (let k = 0; k < old.length; k++) {
      const w = old[k]!;
      if (outcomeIndex(w) >= d.fromSize || outcomeSupersedence(w) > 2 || (k > 0 && old[k - 1]! >= w)) return undefined;
    }
    // Where each old outcome lands: its same revision's new index (-1 none); `landed[i]` the old position k + 1 there.
    const landed = this.scratch(0);
    for (let k = 0; k < old.length; k++) {
      const i = this.indexMap[outcomeIndex(old[k]!)]!;
      if (i >= 0) landed[i] = k + 1;
    }
    try {
      return this.changesOf(inventory, old, landed, overridden, maxOwn);
    } finally {
      for (let k = 0; k < old.length; k++) {
        const i = this.indexMap[outcomeIndex(old[k]!)]!;
        if (i >= 0) landed[i] = 0;
      }
    }
  }

  /** carryChanges once `landed` is set (it clears it whatever happens here). */
  private changesOf(
    inventory: Inventory,
    old: Uint32Array,
    landed: Int32Array,
    overridden: ReadonlySet<string> | undefined,
    maxOwn: number,
  ): CarriedChanges | undefined {
    const d = this.delta;
    const carried = carryOverOutcomesThen(this.scanner, d, inventory, old, { all: false }, (s, words): CarriedChanges | undefined => {
      const at = this.scratch(1); // the new outcome at each new index: its position + 1
      // Update ids by their number in the new catalog's string table (equal ids, one number); ids it lacks as text.
      const ids = this.ids();
      const changed = new Set<number>();
      const gone = new Set<string>();
      const change = (id: string): void => {
        const n = this.idNumber(id);
        if (n < 0) gone.add(id);
        else changed.add(n);
      };
      if (overridden) for (const id of overridden) change(id);
      const unsureIds = new Set<number>();
      const idNumber = d.to.data.updates.updateId;
      const matched = new Uint8Array(old.length);
      const same: number[] = []; // new indexes whose outcome is the old one but whose stored reason is not kept
      for (let k = 0; k < words.length; k++) {
        const w = words[k]!;
        const i = outcomeIndex(w);
        at[i] = k + 1;
        const o = landed[i]! - 1;
        if (o >= 0) matched[o] = 1;
        // The same state and supersedence: the low four bits of the two words.
        if (o < 0 || (old[o]! & 15) !== (w & 15)) changed.add(idNumber[i]!);
        else if (this.keep[i] === 0) same.push(i);
      }
      // Of those, the ones this machine's scan cannot show unchanged are worded again (once every outcome is placed).
      this.check.start(s, old, landed, at, words);
      try {
        for (const i of same) if (!this.check.sameReason(i)) unsureIds.add(idNumber[i]!);
      } finally {
        this.check.end();
      }
      for (let k = 0; k < old.length; k++) {
        if (matched[k] === 1) continue;
        const o = outcomeIndex(old[k]!);
        const i = d.sameIdOld[o]!;
        if (i >= 0) changed.add(idNumber[i]!);
        else change(this.oldId(o)!);
      }
      const own: number[] = [];
      const unsure: number[] = [];
      const removed: string[] = [...gone];
      const fits = changed.size + gone.size + unsureIds.size <= maxOwn;
      if (fits) {
        for (const n of changed) {
          const before = own.length;
          for (let i = ids.first[n]! - 1; i >= 0; i = ids.next[i]! - 1) if (at[i]! > 0) own.push(i);
          if (own.length === before) removed.push(d.to.str(n));
        }
        for (const n of unsureIds) {
          if (changed.has(n)) continue;
          const i = ids.first[n]! - 1;
          // One revision of the id (the base then holds one row of it that the set shows: the one its outcome replaces).
          if (ids.next[i] === 0) unsure.push(i);
          else for (let j = i; j >= 0; j = ids.next[j]! - 1) if (at[j]! > 0) own.push(j);
        }
      }
      const wordAt = (i: number): number => words[at[i]! - 1]!;
      const ownWords = own.sort((a, b) => a - b).map(wordAt);
      const unsureWords = unsure.sort((a, b) => a - b).map(wordAt);
      for (const w of words) at[outcomeIndex(w)] = 0;
      if (!fits || own.length + unsure.length + removed.length > maxOwn) return undefined;
      // Their reasons as a full scan words them (in the same scan: what the carry-over decided is not decided again).
      const worded = (list: number[]): CarriedOutcome[] =>
        list.map((w) => {
          const i = outcomeIndex(w);
          return { index: i, state: outcomeState(w), supersedence: outcomeSupersedence(w), reason: s.reason(s.result(i)) };
        });
      return { words, own: worded(ownWords), unsure: worded(unsureWords), removed };
    });
    return carried.then;
  }

  /**
   * An update id's number in the new catalog's string table, or -1 when the catalog lacks it; remembered (the ids a
   * carried set's base overrides recur from set to set).
   */
  private idNumber(id: string): number {
    let n = this.idNumbers.get(id);
    if (n === undefined) {
      const to = this.delta.to;
      const found = to.findByUpdateId(id);
      n = found.length === 0 ? -1 : to.data.updates.updateId[found[0]!]!;
      if (n >= 0 && to.str(n) !== id) n = -1; // the lookup ignores case; an id here is the catalog's own text
      this.idNumbers.set(id, n);
    }
    return n;
  }

  private readonly idNumbers = new Map<string, number>();

  private idTable: { readonly first: Int32Array; readonly next: Int32Array } | undefined;
  /**
   * The new catalog's update ids, made on first use: `first` per number in its string table the id's lowest index + 1
   * (0: none), `next` per index the next index of the same id + 1 (0: none).
   */
  private ids(): { readonly first: Int32Array; readonly next: Int32Array } {
    if (this.idTable) return this.idTable;
    const to = this.delta.to;
    const numbers = to.data.updates.updateId;
    const first = new Int32Array(numbers.reduce((m, n) => Math.max(m, n + 1), 0));
    const next = new Int32Array(to.size);
    for (let i = to.size - 1; i >= 0; i--) {
      const n = numbers[i]!;
      next[i] = first[n]!;
      first[n] = i + 1;
    }
    return (this.idTable = { first, next });
  }

  private readonly scratches: Int32Array[] = [];
  /** A zeroed array of one slot per new index, reused (callers zero what they set). */
  private scratch(k: number): Int32Array {
    return (this.scratches[k] ??= new Int32Array(this.delta.to.size));
  }

  /** Updates whose outcomes may be re-decided (a figure for logs). */
  get affectedCount(): number {
    return this.delta.affectedList.length;
  }

  /** How many of them may change state. */
  get stateAffectedCount(): number {
    let n = 0;
    for (const a of this.delta.affectedList) if (this.delta.affected[a] === AFFECTED_STATE) n++;
    return n;
  }
}

/**
 * Per new index, whether a stored reason is still exact: the update and every update its reason may follow
 * (prerequisites and bundled updates, transitively — their reasons, superseders included, are part of it) are not
 * affected, and none of those nor of its superseders (a reason names them) is `renamed`. Through a prerequisite or
 * bundle cycle: not kept.
 */
function reasonsKept(d: CatalogDelta, renamed: Uint8Array): Uint8Array {
  const UNSEEN = 0,
    KEPT = 1,
    REDO = 2,
    OPEN = 3;
  const mark = new Uint8Array(d.to.size);
  const p = d.to.data.prerequisites;
  const b = d.to.data.bundles;
  const sb = d.to.data.supersededBy;
  const visit = (i: number): number => {
    if (mark[i] !== UNSEEN) return mark[i] === OPEN ? REDO : mark[i]!;
    if (d.affected[i] !== 0 || d.oldIndex[i]! < 0) return (mark[i] = REDO);
    mark[i] = OPEN;
    let m = KEPT;
    for (let k = sb.offsets[i]!; k < sb.offsets[i + 1]! && m === KEPT; k++) if (renamed[sb.target[k]!] === 1) m = REDO;
    for (const g of [p, b]) {
      for (let k = g.groupOffsets[i]!; k < g.groupOffsets[i + 1]! && m === KEPT; k++) {
        for (let t = g.memberOffsets[k]!; t < g.memberOffsets[k + 1]! && m === KEPT; t++) {
          const to = g.target[t]!;
          if (to >= 0 && (renamed[to] === 1 || visit(to) !== KEPT)) m = REDO;
        }
      }
    }
    return (mark[i] = m);
  };
  const keep = new Uint8Array(d.to.size);
  for (let i = 0; i < d.to.size; i++) keep[i] = visit(i) === KEPT ? 1 : 0;
  return keep;
}

/**
 * Why kept reasons could differ from a full scan's: the updates whose reasons are not all decided again (those a kept
 * reason may name) are in another order. (A changed title or KB only stops the reasons that name the update from
 * being kept: reasonsKept.) Only in catalogs whose updates have no RevisionId (third-party packages, kept in the order
 * imported): the builder orders the rest by RevisionId, and an update whose revision is the same keeps its place.
 */
function orderMoved(d: CatalogDelta): string | undefined {
  let last = -1;
  for (let i = 0; i < d.to.size; i++) {
    const j = d.sameId[i]!;
    // A state-affected update's readers and supersedees are affected too: their reasons are computed again. Not a
    // supersedence-only one's (nothing reads that flag): an unaffected update's kept reason names the first of its
    // superseders, which may be supersedence-only updates that changed places (a red-team pass found it; the test
    // test/site/carry-over-order.test.ts).
    if (j < 0 || d.affected[i] === AFFECTED_STATE) continue;
    if (j < last) return 'the updates both catalogs hold are in another order (stored reasons name superseders by order)';
    last = j;
  }
  return undefined;
}

/** The names and superseders of the old catalog a carry-over keeps (OldNames). */
function oldNames(d: CatalogDelta, from: Catalog): OldNames {
  const renamed: number[] = [];
  for (let i = 0; i < d.to.size; i++) {
    const j = d.sameId[i]!;
    if (j >= 0 && (d.to.title(i) !== from.title(j) || d.to.kb(i) !== from.kb(j))) renamed.push(i);
  }
  const of: number[] = [];
  const offsets = [0];
  const target: number[] = [];
  const sb = from.data.supersededBy;
  for (const i of d.affectedList) {
    const j = d.sameId[i]!;
    if (d.affected[i] !== AFFECTED_SUPERSEDENCE || j < 0) continue;
    of.push(i);
    for (let k = sb.offsets[j]!; k < sb.offsets[j + 1]!; k++) target.push(sb.target[k]!);
    offsets.push(target.length);
  }
  return {
    renamed: Int32Array.from(renamed),
    supersededOf: Int32Array.from(of),
    supersededOffsets: Int32Array.from(offsets),
    supersededTarget: Int32Array.from(target),
  };
}

/** Why stored OldNames do not fit the delta, or undefined. */
function badNames(n: OldNames, d: CatalogDelta): string | undefined {
  const ints = [n.renamed, n.supersededOf, n.supersededOffsets, n.supersededTarget];
  if (!ints.every((a) => a instanceof Int32Array)) return 'its names and superseders do not decode';
  const ascendingBelow = (a: Int32Array, max: number): boolean => a.every((v, k) => v >= 0 && v < max && (k === 0 || a[k - 1]! < v));
  if (!ascendingBelow(n.renamed, d.to.size) || !ascendingBelow(n.supersededOf, d.to.size))
    return 'its renamed updates do not fit the catalog';
  const o = n.supersededOffsets;
  if (o.length !== n.supersededOf.length + 1 || o[0] !== 0 || o[o.length - 1] !== n.supersededTarget.length)
    return 'its old superseders do not fit';
  for (let k = 1; k < o.length; k++) if (o[k]! < o[k - 1]!) return 'its old superseders do not fit';
  for (const t of n.supersededTarget) if (t < 0 || t >= d.fromSize) return 'its old superseders point outside the old catalog';
  return undefined;
}

/** firstOldSuperseder: a superseder's old state is not known. */
const UNKNOWN = -2;

const UNSEEN = 0,
  SAME = 1,
  OTHER = 2,
  OPEN = 3;

/**
 * Whether an outcome that is the old one (state and supersedence) has the old reason too, from what one machine's scan
 * on the new catalog shows, without the stored reason: a reason that is not kept for every machine (reasonsKept) may
 * still be for this one. An update not re-decided (not AFFECTED_STATE) has the old decision; its reason then differs
 * only through what it names or follows: its prerequisites and bundled updates (renamed, or their outcome or reason
 * changed here — all of them are checked, not only those its reason quotes), and the superseder it names (for a
 * supersedence-only update, the first that fits in the old catalog's list against the first in the new one's, by
 * UpdateId, title and state). Anything not known from the old outcomes (an update they hold no row of) counts as changed.
 */
class ReasonCheck {
  private readonly renamedAt: Uint8Array;
  /** Per new index: its entry in OldNames' superseder lists + 1, or 0. */
  private readonly supersededAt: Int32Array;
  private readonly memo: Uint8Array;
  private readonly touched: number[] = [];
  private s: MachineScan | undefined;
  private old: Uint32Array = new Uint32Array(0);
  private landed: Int32Array = new Int32Array(0);
  private at: Int32Array = new Int32Array(0);
  private words: Uint32Array = new Uint32Array(0);

  constructor(
    private readonly d: CatalogDelta,
    private readonly keep: Uint8Array,
    renamed: Uint8Array,
    private readonly names: OldNames,
  ) {
    this.renamedAt = renamed;
    this.supersededAt = new Int32Array(d.to.size);
    names.supersededOf.forEach((i, k) => (this.supersededAt[i] = k + 1));
    this.memo = new Uint8Array(d.to.size);
  }

  /** For one machine: its scan, old outcomes, and where each lands (`landed`) and each new one is (`at`), + 1. */
  start(s: MachineScan, old: Uint32Array, landed: Int32Array, at: Int32Array, words: Uint32Array): void {
    this.s = s;
    this.old = old;
    this.landed = landed;
    this.at = at;
    this.words = words;
  }

  end(): void {
    for (const i of this.touched) this.memo[i] = UNSEEN;
    this.touched.length = 0;
    this.s = undefined;
  }

  /** Whether new index i's reason is the old one; its outcome is known to be the old one. */
  sameReason(i: number): boolean {
    if (this.keep[i] === 1) return true;
    if (this.d.affected[i] === AFFECTED_STATE) return false;
    const m = this.memo[i]!;
    if (m !== UNSEEN) return m === SAME; // OPEN: through a cycle, not known
    this.memo[i] = OPEN;
    this.touched.push(i);
    const same = this.followedSame(i) && this.supersederSame(i);
    this.memo[i] = same ? SAME : OTHER;
    return same;
  }

  /** Every prerequisite and bundled update of i: not renamed, and the old outcome and reason. */
  private followedSame(i: number): boolean {
    const data = this.d.to.data;
    for (const g of [data.prerequisites, data.bundles]) {
      for (let k = g.groupOffsets[i]!; k < g.groupOffsets[i + 1]!; k++) {
        for (let m = g.memberOffsets[k]!; m < g.memberOffsets[k + 1]!; m++) {
          const t = g.target[m]!;
          if (t < 0) continue;
          // Named by i's reason whatever t's own reason is (a rename never changes that one: t may be kept everywhere).
          if (this.renamedAt[t] === 1) return false;
          if (this.keep[t] === 0 && (!this.sameOutcome(t) || !this.sameReason(t))) return false;
        }
      }
    }
    return true;
  }

  /** Whether t's state and supersedence are the old ones. */
  private sameOutcome(t: number): boolean {
    const a = this.d.affected[t];
    if (a === 0) return true;
    if (a === AFFECTED_STATE) return false;
    // Supersedence-only: the state is the old one; the supersedence from the two words, or else from the superseders.
    const n = this.at[t]! - 1;
    const o = this.landed[t]! - 1;
    if (n >= 0 && o >= 0) return (this.words[n]! & 15) === (this.old[o]! & 15);
    const s = this.s!;
    const code = s.supersedenceBySuperseders(t);
    // Superseded by its own IsSuperseded rule (its decision, the old one): the old code too.
    if (s.supersedence(t) !== code) return true;
    const e = this.supersededAt[t]! - 1;
    if (e < 0) return false;
    const installedOrRequired = this.firstOldSuperseder(e, SUP_YES);
    if (installedOrRequired === UNKNOWN) return false;
    if (installedOrRequired >= 0) return code === SUP_YES;
    const unknown = this.firstOldSuperseder(e, SUP_POSSIBLY);
    return unknown !== UNKNOWN && code === (unknown >= 0 ? SUP_POSSIBLY : SUP_NO);
  }

  /** Whether the superseder i's reason names (if any) is the one the old reason named. */
  private supersederSame(i: number): boolean {
    const s = this.s!;
    const code = s.supersedence(i);
    if (code === SUP_NO) return true;
    const now = code === SUP_YES ? s.supersededBy(i) : s.possiblySupersededBy(i);
    // Not supersedence-only: the same superseders, in the same states and order (a renamed one is not kept).
    if (this.d.affected[i] === 0) return now < 0 || this.renamedAt[now] === 0;
    const e = this.supersededAt[i]! - 1;
    if (e < 0) return false;
    const then = this.firstOldSuperseder(e, code);
    if (then === UNKNOWN) return false;
    if (now < 0 || then < 0) return now < 0 && then < 0;
    return this.d.sameIdOld[then] === now && this.renamedAt[now] === 0 && STATES[this.oldState(then)] === s.state(now);
  }

  /**
   * Of entry e's old superseders, in the old catalog's order, the first one a reason names for supersedence `code`
   * (SUP_YES: Installed or Required; SUP_POSSIBLY: Unknown): its old index, -1 none, or UNKNOWN when the old outcomes
   * cannot tell the state of one before it.
   */
  private firstOldSuperseder(e: number, code: typeof SUP_YES | typeof SUP_POSSIBLY): number {
    for (let k = this.names.supersededOffsets[e]!; k < this.names.supersededOffsets[e + 1]!; k++) {
      const o = this.names.supersededTarget[k]!;
      const st = this.oldState(o);
      if (st < 0) return UNKNOWN;
      if (code === SUP_YES ? st <= 1 : st === 3) return o;
    }
    return -1;
  }

  /** Old index o's old state code (result-set.ts: 0 Installed … 3 Unknown), or -1 when the old outcomes cannot tell. */
  private oldState(o: number): number {
    const old = this.old;
    let lo = 0,
      hi = old.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (outcomeIndex(old[mid]!) < o) lo = mid + 1;
      else hi = mid;
    }
    if (lo < old.length && outcomeIndex(old[lo]!) === o) return (old[lo]! >>> 2) & 3;
    // No row: NotApplicable where a default set holds the update when it applies (carry-over.ts), else not known.
    return this.d.fromReportable[o] === 1 ? 2 : -1;
  }
}

/** Per old index, the new index of the same update revision (its UpdateId held once by each catalog), or -1. */
function sameRevision(d: CatalogDelta, from: Catalog): Int32Array {
  const map = new Int32Array(from.size).fill(-1);
  for (let j = 0; j < from.size; j++) {
    const i = d.sameIdOld[j]!;
    if (i >= 0 && d.to.revisionNumber(i) === from.revisionNumber(j)) map[j] = i;
  }
  return map;
}
