/**
 * What changed between two compiled catalogs (a Patch Tuesday), and which updates of the new one a machine's
 * stored outcomes must be re-evaluated for. Everything else keeps its old outcome (engine/fleet/carry-over.ts).
 *
 * Updates are matched by UpdateId: the two catalogs' indexes differ. An update is
 * - added / removed: its UpdateId is in only one catalog;
 * - changed: its revision, or anything a scan reads of it (type, deployment action, flags but the report-only ones,
 *   rule trees, the update metadata rules read, its prerequisite and bundle groups by member UpdateId) differs.
 *   Titles, KBs, CVEs and other report-only fields are not compared: no outcome depends on them.
 *
 * An update's state depends on its own content, on whether its prerequisites are installed and on its bundled
 * updates' states; its supersedence on the states of the updates that supersede it. So the updates to re-evaluate
 * are the closure, over the new catalog's reverse prerequisite and bundle edges, of the changed and added updates
 * and of those that listed a removed one; plus, for the supersedence flag only, every update superseded by one in
 * that closure or whose list of superseding UpdateIds differs. A flag is read by nothing else, so it does not
 * propagate further.
 *
 * The state of an update inside a prerequisite or bundle cycle depends on where the evaluation started (the
 * scanner breaks the cycle as Unknown there); a new catalog with such a cycle is marked for a full rescan.
 */
import type { Catalog } from './catalog.js';
import { isReportableCode } from './codes.js';
import { F_KB_FROM_TITLE, F_SOFTWARE, RULE_OP_BASE } from './data.js';
import { holdsString } from './string-table.js';

/** Bits of `updates.flags` no scan reads: a catalog that differs only there decides every outcome the same. */
const REPORT_ONLY_FLAGS = F_KB_FROM_TITLE | F_SOFTWARE;

/** Codes of {@link CatalogDelta.affected}. */
export const AFFECTED_STATE = 1;
export const AFFECTED_SUPERSEDENCE = 2;

export interface CatalogDiff {
  /** UpdateIds only the new catalog holds. */
  readonly added: readonly string[];
  /** UpdateIds in both whose scanned content or revision differs (or that one of them holds several revisions of). */
  readonly changed: readonly string[];
  /** UpdateIds only the old catalog holds. */
  readonly removed: readonly string[];
}

export interface CatalogDelta extends CatalogDiff {
  /**
   * The new catalog. Of the old one the delta keeps only what a carry-over reads (its size, which of its updates are
   * reportable): it can be stored and used later without loading the old catalog (catalog-delta-file.ts).
   */
  readonly to: Catalog;
  /** How many update revisions the old catalog holds (old indexes are below it). */
  readonly fromSize: number;
  /** Per old index: 1 when the update is reportable (catalog/codes.ts isReportableCode), else 0. */
  readonly fromReportable: Uint8Array;
  /** Per new index: the old index of the same update when its old state holds (not AFFECTED_STATE), else -1. */
  readonly oldIndex: Int32Array;
  /** Per old index: the new index of the same update when its old state holds, or -1. */
  readonly newIndex: Int32Array;
  /**
   * Per new index: AFFECTED_STATE when its outcome must be re-evaluated (state and supersedence), AFFECTED_SUPERSEDENCE
   * when only its supersedence may differ (its state is the old one), else 0.
   */
  readonly affected: Uint8Array;
  /** The new indexes with `affected` set, ascending. */
  readonly affectedList: Int32Array;
  /** Of those, how many may change state (the rest: the supersedence flag only). */
  readonly stateAffected: number;
  /**
   * The AFFECTED_STATE updates, each after every one of them it reads (topological order). A machine decides one of
   * them again only when it is a seed or something it reads changed state on that machine (fleet/carry-over.ts).
   */
  readonly stateOrder: Int32Array;
  /** Per new index: its position in `stateOrder`, or -1. */
  readonly orderPosition: Int32Array;
  /** Per new index: 1 for a seed — added, changed, or listing an update now removed: always decided again. */
  readonly seed: Uint8Array;
  /** Per new index: the old index of the same UpdateId (changed or not) when each catalog holds one revision, or -1. */
  readonly sameId: Int32Array;
  /** The reverse of `sameId`: per old index, the new index of the same UpdateId, or -1. */
  readonly sameIdOld: Int32Array;
  /** Per new index: 1 when the UpdateIds superseding it differ from the old catalog's. */
  readonly supersedersChanged: Uint8Array;
  /**
   * Per position in `stateOrder`: the positions of the `stateOrder` updates it reads (prerequisites, bundled updates),
   * as CSR (`offsets` has one more entry than `stateOrder`). What a machine checks before deciding one again.
   */
  readonly orderReads: { readonly offsets: Uint32Array; readonly target: Uint32Array };
  /**
   * Whether `newIndex` keeps the order of the updates it maps (old index ascending → new index ascending): then the
   * unaffected outcomes of a stored set stay in order when moved, and a carry-over merges instead of sorting.
   */
  readonly keepsOrder: boolean;
  /** Set when reusing outcomes would not be exact: say why; callers then rescan in full. */
  readonly fullRescan?: string;
}

/** Diffs two compiled catalogs and computes the updates of `to` whose outcomes must be re-evaluated. */
export function catalogDelta(from: Catalog, to: Catalog): CatalogDelta {
  const numbers = new Map<string, number>(); // one numbering of UpdateIds for both catalogs
  const oldIds = idMap(from, numbers);
  const newIds = idMap(to, numbers);
  const same = new SameContent(from, to);
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  const oldIndex = new Int32Array(to.size).fill(-1);
  const newIndex = new Int32Array(from.size).fill(-1);
  const seeds: number[] = [];
  const flagSeeds: number[] = [];
  const sameId = new Int32Array(to.size).fill(-1);
  const sameIdOld = new Int32Array(from.size).fill(-1);

  for (const [key, is] of newIds.at) {
    const was = oldIds.at.get(key);
    if (was === undefined) {
      added.push(to.updateId(is[0]!));
      seeds.push(...is);
      continue;
    }
    // Several revisions of one UpdateId in either catalog: no one-to-one match, re-evaluate them all.
    if (is.length === 1 && was.length === 1) {
      sameId[is[0]!] = was[0]!;
      sameIdOld[was[0]!] = is[0]!;
    }
    if (is.length !== 1 || was.length !== 1 || !same.update(was[0]!, is[0]!)) {
      changed.push(to.updateId(is[0]!));
      seeds.push(...is);
      continue;
    }
    const i = is[0]!,
      o = was[0]!;
    oldIndex[i] = o;
    newIndex[o] = i;
    if (!sameSuperseders(from, o, oldIds.number, to, i, newIds.number)) flagSeeds.push(i);
  }
  // An update that listed one now gone (as prerequisite or bundled update) resolves that member differently.
  const oldReverse = reverseStateEdges(from);
  for (const [key, was] of oldIds.at) {
    if (newIds.at.has(key)) continue;
    removed.push(from.updateId(was[0]!));
    for (const o of was) {
      for (let k = oldReverse.offsets[o]!; k < oldReverse.offsets[o + 1]!; k++) {
        const n = newIndex[oldReverse.target[k]!]!;
        if (n >= 0) seeds.push(n);
      }
    }
  }

  const reverse = reverseStateEdges(to);
  const affected = new Uint8Array(to.size);
  // Closure over reverse prerequisite and bundle edges: the updates whose state may change.
  const stack = [...seeds];
  for (const s of stack) affected[s] = AFFECTED_STATE;
  while (stack.length > 0) {
    const u = stack.pop()!;
    for (let k = reverse.offsets[u]!; k < reverse.offsets[u + 1]!; k++) {
      const d = reverse.target[k]!;
      if (affected[d] !== AFFECTED_STATE) {
        affected[d] = AFFECTED_STATE;
        stack.push(d);
      }
    }
  }
  let stateAffected = 0;
  for (let i = 0; i < to.size; i++) if (affected[i] === AFFECTED_STATE) stateAffected++;
  // Supersedence only: updates superseded by one whose state may change, or whose superseders changed.
  const sup = to.data.supersededBy;
  for (let i = 0; i < to.size; i++) {
    if (affected[i] !== 0) continue;
    for (let k = sup.offsets[i]!; k < sup.offsets[i + 1]!; k++) {
      if (affected[sup.target[k]!] === AFFECTED_STATE) {
        affected[i] = AFFECTED_SUPERSEDENCE;
        break;
      }
    }
  }
  for (const f of flagSeeds) if (affected[f] === 0) affected[f] = AFFECTED_SUPERSEDENCE;

  const list: number[] = [];
  for (let i = 0; i < to.size; i++) {
    if (affected[i] !== 0) list.push(i);
    if (affected[i] === AFFECTED_STATE && oldIndex[i]! >= 0) {
      newIndex[oldIndex[i]!] = -1;
      oldIndex[i] = -1;
    }
  }
  const cycle = hasStateCycle(to, reverse);
  const seed = new Uint8Array(to.size);
  for (const i of seeds) seed[i] = 1;
  const supersedersChanged = new Uint8Array(to.size);
  for (const i of flagSeeds) supersedersChanged[i] = 1;
  const stateOrder = cycle ? new Int32Array(0) : topologicalOrder(affected, reverse);
  const orderPosition = new Int32Array(to.size).fill(-1);
  stateOrder.forEach((i, k) => {
    orderPosition[i] = k;
  });
  let keepsOrder = true;
  for (let o = 0, last = -1; o < from.size && keepsOrder; o++) {
    const i = newIndex[o]!;
    if (i < 0) continue;
    keepsOrder = i > last;
    last = i;
  }
  const fromReportable = new Uint8Array(from.size);
  const was = from.data.updates;
  for (let o = 0; o < from.size; o++) fromReportable[o] = isReportableCode(was.type[o]!, was.action[o]!) ? 1 : 0;
  return {
    added,
    changed,
    removed,
    to,
    fromSize: from.size,
    fromReportable,
    oldIndex,
    newIndex,
    affected,
    affectedList: Int32Array.from(list),
    stateAffected,
    stateOrder,
    orderPosition,
    seed,
    sameId,
    sameIdOld,
    supersedersChanged,
    orderReads: orderReads(to, stateOrder, orderPosition),
    keepsOrder,
    ...(cycle ? { fullRescan: 'the new catalog has a prerequisite or bundle cycle: states inside it depend on the scan order' } : {}),
  };
}

interface Ids {
  /** Indexes by UpdateId (keyed by its bytes, see idMap). */
  readonly at: Map<string, number[]>;
  /** Per index, its UpdateId's number in the numbering both catalogs share. */
  readonly number: Int32Array;
}

/**
 * A catalog's updates by UpdateId. Keyed by the id's UTF-8 bytes read as Latin-1 (equal bytes, equal key; the same
 * ids as their text for every catalog our builder writes, where the bytes are the text's encoding): decoding each id
 * as text, and keeping it, was ~0.17 s of a diff at 50,000 revisions. `numbers` numbers the keys across catalogs.
 */
function idMap(c: Catalog, numbers: Map<string, number>): Ids {
  const m = new Map<string, number[]>();
  const table = c.data.strings;
  const { offsets, bytes } = table;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids = c.data.updates.updateId;
  const number = new Int32Array(c.size);
  for (let i = 0; i < c.size; i++) {
    const s = ids[i]!;
    const id = holdsString(table, s) ? buf.toString('latin1', offsets[s], offsets[s + 1]) : '';
    const at = m.get(id);
    if (at) at.push(i);
    else m.set(id, [i]);
    let n = numbers.get(id);
    if (n === undefined) numbers.set(id, (n = numbers.size));
    number[i] = n;
  }
  return { at: m, number };
}

/** Whether update o of `from` and update i of `to` are superseded by the same UpdateIds (the scanner's merged list). */
function sameSuperseders(from: Catalog, o: number, fromNumber: Int32Array, to: Catalog, i: number, toNumber: Int32Array): boolean {
  const a = from.data.supersededBy,
    b = to.data.supersededBy;
  const n = a.offsets[o + 1]! - a.offsets[o]!;
  if (n !== b.offsets[i + 1]! - b.offsets[i]!) return false;
  if (n === 0) return true;
  const x = new Int32Array(n),
    y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    x[k] = fromNumber[a.target[a.offsets[o]! + k]!]!;
    y[k] = toNumber[b.target[b.offsets[i]! + k]!]!;
  }
  x.sort();
  y.sort();
  for (let k = 0; k < n; k++) if (x[k] !== y[k]) return false;
  return true;
}

/** Per update: the updates whose state reads its state (they list it as a prerequisite or bundled update), as CSR. */
function reverseStateEdges(c: Catalog): { offsets: Uint32Array; target: Int32Array } {
  const n = c.size;
  const p = c.data.prerequisites;
  const b = c.data.bundles;
  // Two passes over the edges (count, then place): typed arrays of the exact size, no arrays of pairs.
  const each = (visit: (from: number, to: number) => void): void => {
    for (const g of [p, b]) {
      for (let i = 0; i < n; i++) {
        for (let k = g.groupOffsets[i]!; k < g.groupOffsets[i + 1]!; k++) {
          for (let m = g.memberOffsets[k]!; m < g.memberOffsets[k + 1]!; m++) {
            const t = g.target[m]!;
            if (t >= 0) visit(t, i);
          }
        }
      }
    }
  };
  const offsets = new Uint32Array(n + 1);
  each((t) => offsets[t + 1]!++);
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const fill = offsets.slice(0, n);
  const target = new Int32Array(offsets[n]!);
  each((t, i) => (target[fill[t]!++] = i));
  return { offsets, target };
}

/** The AFFECTED_STATE updates, each after the affected ones it reads (Kahn's algorithm on that part of the graph). */
function topologicalOrder(affected: Uint8Array, reverse: { offsets: Uint32Array; target: Int32Array }): Int32Array {
  const reads = new Uint32Array(affected.length); // affected updates each one reads, not yet placed
  const ready: number[] = [];
  for (let u = 0; u < affected.length; u++) {
    if (affected[u] !== AFFECTED_STATE) continue;
    for (let k = reverse.offsets[u]!; k < reverse.offsets[u + 1]!; k++) reads[reverse.target[k]!]!++;
  }
  for (let u = 0; u < affected.length; u++) if (affected[u] === AFFECTED_STATE && reads[u] === 0) ready.push(u);
  const order: number[] = [];
  while (ready.length > 0) {
    const u = ready.pop()!;
    order.push(u);
    for (let k = reverse.offsets[u]!; k < reverse.offsets[u + 1]!; k++) {
      const d = reverse.target[k]!;
      if (--reads[d]! === 0) ready.push(d);
    }
  }
  return Int32Array.from(order);
}

/** Per position in `order`: the positions of the ordered updates it lists as prerequisite or bundled update (CSR). */
function orderReads(c: Catalog, order: Int32Array, position: Int32Array): { offsets: Uint32Array; target: Uint32Array } {
  const offsets = new Uint32Array(order.length + 1);
  const target: number[] = [];
  const p = c.data.prerequisites;
  const b = c.data.bundles;
  const add = (groupOffsets: Uint32Array, memberOffsets: Uint32Array, members: Int32Array, i: number): void => {
    for (let g = groupOffsets[i]!; g < groupOffsets[i + 1]!; g++) {
      for (let m = memberOffsets[g]!; m < memberOffsets[g + 1]!; m++) {
        const t = members[m]!;
        if (t >= 0 && position[t]! >= 0) target.push(position[t]!);
      }
    }
  };
  for (let k = 0; k < order.length; k++) {
    add(p.groupOffsets, p.memberOffsets, p.target, order[k]!);
    add(b.groupOffsets, b.memberOffsets, b.target, order[k]!);
    offsets[k + 1] = target.length;
  }
  return { offsets, target: Uint32Array.from(target) };
}

/** Whether the prerequisite + bundle graph has a cycle (Kahn's algorithm over the reverse edges). */
function hasStateCycle(c: Catalog, reverse: { offsets: Uint32Array; target: Int32Array }): boolean {
  const n = c.size;
  const outDegree = new Uint32Array(n); // edges from an update to the ones it reads
  for (let k = 0; k < reverse.target.length; k++) outDegree[reverse.target[k]!]!++;
  const ready: number[] = [];
  for (let i = 0; i < n; i++) if (outDegree[i] === 0) ready.push(i);
  let done = 0;
  while (ready.length > 0) {
    const u = ready.pop()!;
    done++;
    for (let k = reverse.offsets[u]!; k < reverse.offsets[u + 1]!; k++) {
      const d = reverse.target[k]!;
      if (--outDegree[d]! === 0) ready.push(d);
    }
  }
  return done < n;
}

/**
 * Whether update o of `from` and update i of `to` are the same for a scan: everything a scan reads of them —
 * revision, type, deployment action, the flags a scan reads, the three rule trees (rule names, attributes, children),
 * the metadata rules read, prerequisite and bundle groups by member UpdateId (and bundled revision) — compared
 * structure to structure, strings as their UTF-8 bytes in the two string tables. Building a string key of each
 * update of both catalogs instead (every attribute decoded) was ~0.5 s of a sync's diff at 50,000 revisions.
 * Stricter than a key can be: two different byte strings are different here even where they decode alike (invalid
 * UTF-8, which a catalog our builder wrote never holds), which costs only a re-evaluation.
 */
class SameContent {
  /**
   * Per old node, the new node it was found equal to + 1 (0: none yet), and the last it was found to differ from + 1.
   * A catalog holds one node per distinct subtree (the builder's hash-consing), so an old subtree equals at most one new
   * node, and each is compared once; pairs past these two (a file not built so) fall back to `pairs`.
   */
  private readonly equalTo: Int32Array;
  private readonly differsFrom: Int32Array;
  private readonly pairs = new Map<number, boolean>();
  private readonly fromNames: (string | undefined)[] = [];
  private readonly toNames: (string | undefined)[] = [];

  constructor(
    private readonly from: Catalog,
    private readonly to: Catalog,
  ) {
    this.equalTo = new Int32Array(from.data.nodes.count);
    this.differsFrom = new Int32Array(from.data.nodes.count);
  }

  update(o: number, i: number): boolean {
    const a = this.from.data,
      b = this.to.data;
    const ua = a.updates,
      ub = b.updates;
    if (
      ua.revisionNumber[o] !== ub.revisionNumber[i] ||
      ua.revisionId[o] !== ub.revisionId[i] ||
      ua.type[o] !== ub.type[i] ||
      ua.action[o] !== ub.action[i] ||
      (ua.flags[o]! & ~REPORT_ONLY_FLAGS) !== (ub.flags[i]! & ~REPORT_ONLY_FLAGS)
    )
      return false;
    for (let slot = 0; slot < 3; slot++) if (!this.tree(ua.rules[o * 3 + slot]!, ub.rules[i * 3 + slot]!)) return false;
    // The metadata rules read: none on either side, or the same element and pairs.
    const ea = ua.metadataElement[o]!,
      eb = ub.metadataElement[i]!;
    if ((ea === 0) !== (eb === 0)) return false;
    if (ea !== 0) {
      if (!this.str(ea, eb)) return false;
      const ma = a.metadata,
        mb = b.metadata;
      if (!this.strs(ma.pairs, ma.offsets[o]!, ma.offsets[o + 1]!, mb.pairs, mb.offsets[i]!, mb.offsets[i + 1]!)) return false;
    }
    return (
      this.groups(a.prerequisites, o, b.prerequisites, i) &&
      this.groups(a.bundles, o, b.bundles, i, a.bundles.revisionNumber, b.bundles.revisionNumber)
    );
  }

  /**
   * Prerequisite or bundle groups: the same kinds, members by UpdateId in order, and — given their revision numbers
   * (bundles) — the same member revisions.
   */
  private groups(
    ga: Catalog['data']['prerequisites'],
    o: number,
    gb: Catalog['data']['prerequisites'],
    i: number,
    revisionsA?: ArrayLike<number>,
    revisionsB?: ArrayLike<number>,
  ): boolean {
    const n = ga.groupOffsets[o + 1]! - ga.groupOffsets[o]!;
    if (n !== gb.groupOffsets[i + 1]! - gb.groupOffsets[i]!) return false;
    for (let k = 0; k < n; k++) {
      const x = ga.groupOffsets[o]! + k,
        y = gb.groupOffsets[i]! + k;
      if (ga.groupKind[x] !== gb.groupKind[y]) return false;
      const from = ga.memberOffsets[x]!,
        to = ga.memberOffsets[x + 1]!,
        at = gb.memberOffsets[y]!;
      if (to - from !== gb.memberOffsets[y + 1]! - at) return false;
      for (let m = 0; m < to - from; m++) {
        if (!this.str(ga.guid[from + m]!, gb.guid[at + m]!)) return false;
        if (revisionsA && revisionsA[from + m] !== revisionsB![at + m]) return false;
      }
    }
    return true;
  }

  private tree(x: number, y: number): boolean {
    if (x < 0 || y < 0) return x < 0 && y < 0;
    if (this.equalTo[x] === y + 1) return true;
    if (this.differsFrom[x] === y + 1) return false;
    const key = this.equalTo[x] !== 0 || this.differsFrom[x] !== 0 ? x * this.to.data.nodes.count + y : -1;
    const known = key < 0 ? undefined : this.pairs.get(key);
    if (known !== undefined) return known;
    const na = this.from.data.nodes,
      nb = this.to.data.nodes;
    const same =
      opName(this.from, na.op[x]!, this.fromNames) === opName(this.to, nb.op[y]!, this.toNames) &&
      this.strs(na.attrs, na.attrOffsets[x]!, na.attrOffsets[x + 1]!, nb.attrs, nb.attrOffsets[y]!, nb.attrOffsets[y + 1]!) &&
      this.children(x, y);
    // Bounded: a crafted pair of catalogs (one deep subtree shared by every update, compared with as many distinct
    // ones) would fill it with depth × updates pairs; past the bound a pair is compared again when asked again, which
    // costs what walking it costs (bounded by the rule XML, since a tree's size is what its XML spells out).
    if (key >= 0 && this.pairs.size < MAX_MEMO_PAIRS) this.pairs.set(key, same);
    else if (same) this.equalTo[x] = y + 1;
    else this.differsFrom[x] = y + 1;
    return same;
  }

  private children(x: number, y: number): boolean {
    const na = this.from.data.nodes,
      nb = this.to.data.nodes;
    const from = na.childOffsets[x]!,
      to = na.childOffsets[x + 1]!,
      at = nb.childOffsets[y]!;
    if (to - from !== nb.childOffsets[y + 1]! - at) return false;
    for (let k = 0; k < to - from; k++) if (!this.tree(na.children[from + k]!, nb.children[at + k]!)) return false;
    return true;
  }

  /** String lists a[af..at) of `from` and b[bf..bt) of `to`, element by element. */
  private strs(a: ArrayLike<number>, af: number, at: number, b: ArrayLike<number>, bf: number, bt: number): boolean {
    if (at - af !== bt - bf) return false;
    for (let k = 0; k < at - af; k++) if (!this.str(a[af + k]!, b[bf + k]!)) return false;
    return true;
  }

  /** Whether string x of `from` and string y of `to` have the same bytes (an id a table lacks reads as ''). */
  private str(x: number, y: number): boolean {
    const ta = this.from.data.strings,
      tb = this.to.data.strings;
    const ha = holdsString(ta, x),
      hb = holdsString(tb, y);
    const a0 = ha ? ta.offsets[x]! : 0,
      a1 = ha ? ta.offsets[x + 1]! : 0;
    const b0 = hb ? tb.offsets[y]! : 0,
      b1 = hb ? tb.offsets[y + 1]! : 0;
    if (a1 - a0 !== b1 - b0) return false;
    const ba = ta.bytes,
      bb = tb.bytes;
    for (let k = 0; k < a1 - a0; k++) if (ba[a0 + k] !== bb[b0 + k]) return false;
    return true;
  }
}

/** The most tree pairs SameContent remembers past its per-node slots. */
const MAX_MEMO_PAIRS = 1 << 20;

/** A rule node's kind as the two catalogs can share it: a rule's type name (their opcodes may differ), else the opcode. */
function opName(c: Catalog, op: number, names: (string | undefined)[]): string {
  return (names[op] ??= op >= RULE_OP_BASE ? `rule ${c.data.ruleTypes[op - RULE_OP_BASE] ?? `#${op}`}` : `op ${op}`);
}
