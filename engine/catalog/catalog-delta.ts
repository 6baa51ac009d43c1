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
  const oldIds = idMap(from);
  const newIds = idMap(to);
  const interned = new Map<string, number>(); // one table for both: equal content, equal number
  const oldPrint = new Fingerprints(from, interned);
  const newPrint = new Fingerprints(to, interned);
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  const oldIndex = new Int32Array(to.size).fill(-1);
  const newIndex = new Int32Array(from.size).fill(-1);
  const seeds: number[] = [];
  const flagSeeds: number[] = [];
  const sameId = new Int32Array(to.size).fill(-1);
  const sameIdOld = new Int32Array(from.size).fill(-1);

  for (const [id, is] of newIds) {
    const was = oldIds.get(id);
    if (was === undefined) {
      added.push(id);
      seeds.push(...is);
      continue;
    }
    // Several revisions of one UpdateId in either catalog: no one-to-one match, re-evaluate them all.
    if (is.length === 1 && was.length === 1) {
      sameId[is[0]!] = was[0]!;
      sameIdOld[was[0]!] = is[0]!;
    }
    if (is.length !== 1 || was.length !== 1 || newPrint.of(is[0]!) !== oldPrint.of(was[0]!)) {
      changed.push(id);
      seeds.push(...is);
      continue;
    }
    const i = is[0]!,
      o = was[0]!;
    oldIndex[i] = o;
    newIndex[o] = i;
    if (supersederIds(to, i) !== supersederIds(from, o)) flagSeeds.push(i);
  }
  // An update that listed one now gone (as prerequisite or bundled update) resolves that member differently.
  const oldReverse = reverseStateEdges(from);
  for (const [id, was] of oldIds) {
    if (newIds.has(id)) continue;
    removed.push(id);
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

function idMap(c: Catalog): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < c.size; i++) {
    const id = c.updateId(i);
    const at = m.get(id);
    if (at) at.push(i);
    else m.set(id, [i]);
  }
  return m;
}

/** The UpdateIds that supersede update i (as the scanner reads them: package.xml's list merged with Supersedes). */
function supersederIds(c: Catalog, i: number): string {
  const sb = c.data.supersededBy;
  const ids: string[] = [];
  for (let k = sb.offsets[i]!; k < sb.offsets[i + 1]!; k++) ids.push(c.updateId(sb.target[k]!));
  return ids.sort().join(',');
}

/** Per update: the updates whose state reads its state (they list it as a prerequisite or bundled update), as CSR. */
function reverseStateEdges(c: Catalog): { offsets: Uint32Array; target: Int32Array } {
  const n = c.size;
  const from: number[] = [];
  const to: number[] = [];
  const add = (groupOffsets: Uint32Array, memberOffsets: Uint32Array, target: Int32Array): void => {
    for (let i = 0; i < n; i++) {
      for (let g = groupOffsets[i]!; g < groupOffsets[i + 1]!; g++) {
        for (let m = memberOffsets[g]!; m < memberOffsets[g + 1]!; m++) {
          const t = target[m]!;
          if (t >= 0) {
            from.push(t);
            to.push(i);
          }
        }
      }
    }
  };
  const p = c.data.prerequisites;
  const b = c.data.bundles;
  add(p.groupOffsets, p.memberOffsets, p.target);
  add(b.groupOffsets, b.memberOffsets, b.target);
  const offsets = new Uint32Array(n + 1);
  for (const f of from) offsets[f + 1]!++;
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const fill = offsets.slice(0, n);
  const target = new Int32Array(from.length);
  for (let k = 0; k < from.length; k++) target[fill[from[k]!]!++] = to[k]!;
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
 * A key per update for everything a scan reads of it: equal keys = the same outcomes given the same inputs (compared
 * directly: only an update against its namesake). Rule trees are numbered through one table shared by both catalogs,
 * by content (type names, attributes, children's numbers), not by node
 * index or opcode, so equal trees of two catalogs get one number. Separators are control characters, which XML text
 * (the source of every string here) cannot hold.
 */
class Fingerprints {
  private readonly trees: Int32Array;
  constructor(
    private readonly c: Catalog,
    private readonly interned: Map<string, number>,
  ) {
    this.trees = new Int32Array(c.data.nodes.count).fill(-1);
  }

  private intern(key: string): number {
    let n = this.interned.get(key);
    if (n === undefined) {
      n = this.interned.size;
      this.interned.set(key, n);
    }
    return n;
  }

  of(i: number): string {
    const c = this.c;
    const u = c.data.updates;
    // Of the flags, those a scan reads (not where the KB came from, nor package.xml's IsSoftware, which no rule reads).
    const flags = u.flags[i]! & ~REPORT_ONLY_FLAGS;
    let s = `${u.revisionNumber[i]}\u0001${u.revisionId[i]}\u0001${u.type[i]}\u0001${u.action[i]}\u0001${flags}\u0001`;
    for (let slot = 0; slot < 3; slot++) s += `${this.tree(u.rules[i * 3 + slot]!)}\u0001`;
    if (u.metadataElement[i] !== 0) {
      s += c.str(u.metadataElement[i]!);
      const m = c.data.metadata;
      for (let k = m.offsets[i]!; k < m.offsets[i + 1]!; k++) s += `\u0002${c.str(m.pairs[k]!)}`;
    }
    s += '\u0001';
    const p = c.data.prerequisites;
    for (let g = p.groupOffsets[i]!; g < p.groupOffsets[i + 1]!; g++) {
      s += `${p.groupKind[g]}:`;
      for (let m = p.memberOffsets[g]!; m < p.memberOffsets[g + 1]!; m++) s += `${c.str(p.guid[m]!)},`;
      s += ';';
    }
    s += '\u0001';
    const b = c.data.bundles;
    for (let g = b.groupOffsets[i]!; g < b.groupOffsets[i + 1]!; g++) {
      s += `${b.groupKind[g]}:`;
      for (let m = b.memberOffsets[g]!; m < b.memberOffsets[g + 1]!; m++) s += `${c.str(b.guid[m]!)}@${b.revisionNumber[m]},`;
      s += ';';
    }
    return s;
  }

  private tree(node: number): number {
    if (node < 0) return -1;
    const known = this.trees[node]!;
    if (known >= 0) return known;
    const c = this.c;
    const n = c.data.nodes;
    const op = n.op[node]!;
    let s = op >= RULE_OP_BASE ? (c.data.ruleTypes[op - RULE_OP_BASE] ?? `#${op}`) : String(op);
    for (let k = n.attrOffsets[node]!; k < n.attrOffsets[node + 1]!; k++) s += `\u0002${c.str(n.attrs[k]!)}`;
    s += '\u0001';
    for (let k = n.childOffsets[node]!; k < n.childOffsets[node + 1]!; k++) s += `${this.tree(n.children[k]!)},`;
    const id = this.intern(s);
    this.trees[node] = id;
    return id;
  }
}
