/**
 * Incremental scans (issue 14, item 3): a first-of-a-profile machine usually differs from an earlier machine of its
 * image in a few facts (a drifted file, an Office version, a DWORD). Instead of deciding its ~6,000 updates again, a
 * scan starts from the complete per-update state of such an earlier machine (a base) and re-decides only what the
 * differences can reach:
 *
 * 1. the inventory sections (section-memo.ts buckets) whose content differs from the base's;
 * 2. the rule slots of the groups reading them, each evaluated for this machine (values still shared through the
 *    section memo) and compared with the base's value: only a slot whose value changed makes its update a seed;
 * 3. the seeds' dependents, transitively: updates that have a seed as a prerequisite or a bundled child;
 * 4. the outcomes of those updates, of the updates they supersede, and of the updates of a prerequisite class that
 *    holds here but did not on the base (never decided there); every other outcome is the base's.
 *
 * Equal section contents mean equal rule inputs (the section memo's invariant), and an update's state is a function
 * of its slot values and of its prerequisites' and children's states only (machine-scan.ts: a value is the same
 * wherever the scan enters a prerequisite cycle), so what is not re-decided is what a full scan would decide.
 * test/engine/incremental.property.test.ts compares both, outcome for outcome and reason for reason.
 *
 * Bases are per scanner (one per worker thread), a bounded number (LRU), each a copy of a machine's buffers.
 */
import type { Catalog } from '../catalog/catalog.js';
import { isReportableCode } from '../catalog/codes.js';
import type { CatalogData } from '../catalog/data.js';
import { S_NOT_APPLICABLE, type MachineScan } from './machine-scan.js';

/**
 * How the fleet path packs an outcome (fleet/result-set.ts; this layer does not import it): one update's word, decided
 * on the scan, and the update index of a word.
 */
export interface OutcomeWords {
  pack(i: number): number;
  index(word: number): number;
}
import { prerequisiteClasses, type PrerequisiteClasses } from './prerequisite-classes.js';
import type { SectionIndex, SectionMemo } from './section-memo.js';

/** Who reads an update's state, per update (CSR): what a change of it can reach. */
interface Dependents {
  /** Updates having t as a prerequisite member or as a bundled child: `stateReaders[stateOffsets[t] .. [t + 1])`. */
  readonly stateOffsets: Int32Array;
  readonly stateReaders: Int32Array;
  /** Updates t supersedes (their supersedence reads t's state). */
  readonly supersedesOffsets: Int32Array;
  readonly supersedes: Int32Array;
  /** Per update: 1 when a default scan reports it. */
  readonly reportable: Uint8Array;
  /**
   * Per update: its place in an order where every update comes after the updates whose state it reads (depth-first
   * post-order over prerequisites and bundled children; within a prerequisite cycle, where members read each other
   * as Unknown without reading them, any order).
   */
  readonly rank: Int32Array;
}

const dependentsOf = new WeakMap<CatalogData, Dependents>();

/** Reverses `lists` (each update's targets): per target, the updates naming it (each once). */
function reverse(n: number, lists: readonly { offsets: (i: number) => [number, number]; target: Int32Array }[]): [Int32Array, Int32Array] {
  const count = new Int32Array(n + 1);
  const seen = new Int32Array(n).fill(-1);
  const each = (fn: (i: number, t: number) => void): void => {
    seen.fill(-1);
    for (let i = 0; i < n; i++) {
      for (const l of lists) {
        const [from, to] = l.offsets(i);
        for (let m = from; m < to; m++) {
          const t = l.target[m]!;
          if (t < 0 || seen[t] === i) continue;
          seen[t] = i;
          fn(i, t);
        }
      }
    }
  };
  each((_, t) => count[t + 1]!++);
  for (let t = 0; t < n; t++) count[t + 1]! += count[t]!;
  const out = new Int32Array(count[n]!);
  const at = count.slice(0, n);
  each((i, t) => (out[at[t]!++] = i));
  return [count, out];
}

/** Depth-first post-order over the updates each update reads the state of (iterative: chains can be long). */
function postOrder(c: Catalog): Int32Array {
  const n = c.size;
  const lists = [c.data.prerequisites, c.data.bundles];
  const rank = new Int32Array(n).fill(-1);
  const started = new Uint8Array(n);
  const stack: number[] = []; // pairs: update, next member to visit (over both lists' members, in turn)
  let next = 0;
  const member = (i: number, k: number): number => {
    // The k-th member of i's prerequisite groups, then of its bundle groups; -2 past the end.
    for (const l of lists) {
      const from = l.memberOffsets[l.groupOffsets[i]!]!;
      const count = l.memberOffsets[l.groupOffsets[i + 1]!]! - from;
      if (k < count) return l.target[from + k]!;
      k -= count;
    }
    return -2;
  };
  for (let root = 0; root < n; root++) {
    if (started[root] === 1) continue;
    started[root] = 1;
    stack.push(root, 0);
    while (stack.length > 0) {
      const v = stack[stack.length - 2]!;
      const k = stack[stack.length - 1]!;
      const t = member(v, k);
      if (t === -2) {
        stack.length -= 2;
        rank[v] = next++;
        continue;
      }
      stack[stack.length - 1] = k + 1;
      if (t >= 0 && started[t] === 0) {
        started[t] = 1;
        stack.push(t, 0);
      }
    }
  }
  return rank;
}

function dependents(c: Catalog): Dependents {
  let d = dependentsOf.get(c.data);
  if (d !== undefined) return d;
  const n = c.size;
  const grouped = (l: Catalog['data']['prerequisites']) => ({
    offsets: (i: number): [number, number] => [l.memberOffsets[l.groupOffsets[i]!]!, l.memberOffsets[l.groupOffsets[i + 1]!]!],
    target: l.target,
  });
  const [stateOffsets, stateReaders] = reverse(n, [grouped(c.data.prerequisites), grouped(c.data.bundles)]);
  const sb = c.data.supersededBy;
  const [supersedesOffsets, supersedes] = reverse(n, [{ offsets: (i) => [sb.offsets[i]!, sb.offsets[i + 1]!], target: sb.target }]);
  const { type, action } = c.data.updates;
  const reportable = new Uint8Array(n);
  for (let i = 0; i < n; i++) reportable[i] = isReportableCode(type[i]!, action[i]!) ? 1 : 0;
  d = { stateOffsets, stateReaders, supersedesOffsets, supersedes, reportable, rank: postOrder(c) };
  dependentsOf.set(c.data, d);
  return d;
}

/** One machine's complete scan state, kept to start later scans from. */
class Base {
  readonly codes: Uint8Array;
  readonly installedMemo: Uint8Array;
  readonly becauseKind: Uint8Array;
  readonly becauseRef: Int32Array;
  readonly becauseValue: Uint8Array;
  readonly slotMemo: Int8Array;
  /** Per reporting class (its place in PrerequisiteClasses.reportingClasses): 1 when it may hold. */
  readonly mayHold: Uint8Array;
  sectionIds: Int32Array;
  generation = -1;
  /** Outcomes without reasons (packed words, by update index). */
  outcomes: Uint32Array = new Uint32Array(0);
  lastUsed = 0;

  constructor(updates: number, reportingClasses: number, sections: number) {
    this.codes = new Uint8Array(updates);
    this.installedMemo = new Uint8Array(updates);
    this.becauseKind = new Uint8Array(updates);
    this.becauseRef = new Int32Array(updates);
    this.becauseValue = new Uint8Array(updates);
    this.slotMemo = new Int8Array(updates * 3);
    this.mayHold = new Uint8Array(reportingClasses);
    this.sectionIds = new Int32Array(sections);
  }
}

/** Limits of {@link ScanBases}. */
export interface ScanBaseLimits {
  /** Bases kept (each ~11 bytes per catalog update), the one used least recently replaced. Default 32. */
  readonly bases?: number;
  /**
   * Start only from a base of the same image and patch level (the same OS, UBR, processor and CBS packages), and
   * keep one base per such image. Default true: from another image most rule values differ, and re-deciding what
   * they reach costs more than a full scan.
   */
  readonly sameImage?: boolean;
  /**
   * A base is used when the rule slots reading its differing sections are at most this share of all slots; else the
   * machine is scanned in full. Default 0.3 (beyond it, re-deciding cost about as much as a full scan when measured).
   */
  readonly maxShare?: number;
  /**
   * A machine started from a base is kept as a base itself when its differing share exceeded this (a near one adds
   * little, and keeping costs a copy of its state). Default 0.05.
   */
  readonly keepShare?: number;
}

/** How an incremental scan went (for benchmarks and tests). */
export interface IncrementalStats {
  /** Machines started from a base / scanned in full. */
  incremental: number;
  full: number;
  /** Over the incremental ones: slots re-evaluated, updates re-decided, outcomes recomputed. */
  slotsChecked: number;
  /** Updates whose own slot values changed (the rest of `redecided` read their state). */
  seeds: number;
  redecided: number;
  recomputed: number;
}

export class ScanBases {
  private readonly bases: Base[] = [];
  private readonly max: number;
  private readonly maxShare: number;
  private readonly keepShare: number;
  private readonly sameImage: boolean;
  private readonly deps: Dependents;
  private readonly pc: PrerequisiteClasses;
  private readonly index: SectionIndex;
  private readonly totalWeight: number;
  private readonly updates: number;
  /** Epoch-stamped marks (no clearing per machine): re-decided updates, recomputed outcomes. */
  private readonly dirtyMark: Int32Array;
  private readonly outcomeMark: Int32Array;
  private readonly groupMark: Int32Array;
  private readonly queue: Int32Array;
  private readonly heap: Int32Array;
  private readonly candidates: Int32Array;
  private epoch = 0;
  private clock = 0;
  readonly stats: IncrementalStats = { incremental: 0, full: 0, slotsChecked: 0, seeds: 0, redecided: 0, recomputed: 0 };

  constructor(catalog: Catalog, memo: SectionMemo, limits: ScanBaseLimits = {}) {
    this.max = limits.bases ?? 32;
    this.maxShare = limits.maxShare ?? 0.3;
    this.keepShare = limits.keepShare ?? 0.05;
    this.sameImage = limits.sameImage ?? true;
    this.deps = dependents(catalog);
    this.pc = prerequisiteClasses(catalog);
    this.index = memo.sectionIndex();
    this.totalWeight = Math.max(1, this.index.slots.length);
    this.updates = catalog.size;
    this.dirtyMark = new Int32Array(this.updates);
    this.outcomeMark = new Int32Array(this.updates);
    this.groupMark = new Int32Array(this.index.slotOffsets.length - 1);
    this.queue = new Int32Array(this.updates);
    this.heap = new Int32Array(this.updates);
    this.candidates = new Int32Array(this.updates);
  }

  /**
   * The outcomes (packed, sorted by update index) of the machine in `s`, decided from the nearest base, with the
   * scan's buffers holding its state as if decided in full; undefined when no base is near enough (`s` untouched).
   */
  outcomes(s: MachineScan, words: OutcomeWords): Uint32Array | undefined {
    const memo = s.memo;
    if (memo === undefined) return undefined;
    const ids = memo.sectionIds();
    const generation = memo.memoGeneration();
    const w = this.index.weight;
    let best: Base | undefined;
    let bestCost = this.maxShare * this.totalWeight;
    for (const b of this.bases) {
      if (b.generation !== generation || (this.sameImage && !this.sameImageAs(b, ids))) continue;
      let cost = 0;
      const bi = b.sectionIds;
      for (let k = 0; k < ids.length && cost <= bestCost; k++) if (bi[k] !== ids[k]) cost += w[k]!;
      if (cost <= bestCost) {
        best = b;
        bestCost = cost;
      }
    }
    if (best === undefined) return undefined;
    best.lastUsed = ++this.clock;
    const outcomes = this.from(s, best, ids, words);
    if (bestCost > this.keepShare * this.totalWeight) this.keep(s, outcomes, true);
    return outcomes;
  }

  private sameImageAs(b: Base, ids: Int32Array): boolean {
    for (const sec of this.index.image) if (b.sectionIds[sec] !== ids[sec]) return false;
    return true;
  }

  private from(s: MachineScan, base: Base, ids: Int32Array, pack: OutcomeWords): Uint32Array {
    const buf = s.buffers;
    buf.codes.set(base.codes);
    buf.installedMemo.set(base.installedMemo);
    buf.becauseKind.set(base.becauseKind);
    buf.becauseRef.set(base.becauseRef);
    buf.becauseValue.set(base.becauseValue);
    buf.slotMemo.set(base.slotMemo);
    const epoch = ++this.epoch;
    const { groupOffsets, groups, slotOffsets, slots } = this.index;
    const dirty = this.dirtyMark;
    const queue = this.queue;
    let queued = 0;
    const seed = (i: number): void => {
      if (dirty[i] === epoch) return;
      dirty[i] = epoch;
      queue[queued++] = i;
    };
    // 2. The slots reading a differing section: a value the base computed, computed again; changed → a seed.
    const slotMemo = buf.slotMemo;
    let checked = 0;
    for (let sec = 0; sec < ids.length; sec++) {
      if (base.sectionIds[sec] === ids[sec]) continue;
      for (let k = groupOffsets[sec]!; k < groupOffsets[sec + 1]!; k++) {
        const g = groups[k]!;
        if (this.groupMark[g] === epoch) continue;
        this.groupMark[g] = epoch;
        for (let m = slotOffsets[g]!; m < slotOffsets[g + 1]!; m++) {
          const q = slots[m]!;
          const old = slotMemo[q]!;
          if (old < 0) continue;
          slotMemo[q] = -1;
          const i = (q / 3) | 0;
          checked++;
          if (s.slot(i, q - i * 3) !== old) seed(i);
        }
      }
    }
    this.stats.seeds += queued;
    // 3. Updates re-decided in an order where what an update reads comes first, so that an update whose state came
    // out the same as on the base stops there (its readers keep the base's decisions). An update the base never
    // decided is taken as changed: a bundle read its prerequisite class without deciding it (knownNotApplicable).
    const { stateOffsets, stateReaders, supersedesOffsets, supersedes, reportable, rank } = this.deps;
    const heap = this.heap;
    let size = 0;
    const push = (i: number): void => {
      let at = size++;
      const r = rank[i]!;
      while (at > 0) {
        const up = (at - 1) >> 1;
        if (rank[heap[up]!]! <= r) break;
        heap[at] = heap[up]!;
        at = up;
      }
      heap[at] = i;
    };
    const pop = (): number => {
      const top = heap[0]!;
      const last = heap[--size]!;
      const r = rank[last]!;
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= size) break;
        if (child + 1 < size && rank[heap[child + 1]!]! < rank[heap[child]!]!) child++;
        if (rank[heap[child]!]! >= r) break;
        heap[at] = heap[child]!;
        at = child;
      }
      heap[at] = last;
      return top;
    };
    for (let h = 0; h < queued; h++) push(queue[h]!);
    this.stats.seeds += queued;
    let changed = 0;
    let redecided = 0;
    while (size > 0) {
      const t = pop();
      redecided++;
      const code = base.codes[t]!;
      const installed = base.installedMemo[t]!;
      buf.codes[t] = 0;
      buf.installedMemo[t] = 0;
      buf.becauseKind[t] = 0;
      const same =
        (code !== 0 || installed !== 0) && (code === 0 || s.stateCode(t) === code) && (installed === 0 || s.installed(t) + 1 === installed);
      if (same) continue;
      queue[changed++] = t;
      for (let k = stateOffsets[t]!; k < stateOffsets[t + 1]!; k++) {
        const r = stateReaders[k]!;
        if (dirty[r] === epoch) continue;
        dirty[r] = epoch;
        push(r);
      }
    }
    // 4. Outcomes to recompute: re-decided updates, those they supersede, the updates of classes newly holding.
    const mark = this.outcomeMark;
    const cand = this.candidates;
    let n = 0;
    const add = (i: number): void => {
      if (mark[i] === epoch || reportable[i] === 0) return;
      mark[i] = epoch;
      cand[n++] = i;
    };
    for (let h = 0; h < changed; h++) {
      const t = queue[h]!;
      add(t);
      for (let k = supersedesOffsets[t]!; k < supersedesOffsets[t + 1]!; k++) add(supersedes[k]!);
    }
    const pc = this.pc;
    for (let k = 0; k < pc.reportingClasses.length; k++) {
      const cl = pc.reportingClasses[k]!;
      if (!s.classMayHold(cl) || base.mayHold[k] === 1) continue;
      for (let m = pc.classReportableOffsets[cl]!; m < pc.classReportableOffsets[cl + 1]!; m++) add(pc.classReportable[m]!);
    }
    const order = cand.subarray(0, n).sort();
    const words: number[] = [];
    const old = base.outcomes;
    let a = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      for (; a < old.length && pack.index(old[a]!) < i; a++) if (mark[pack.index(old[a]!)] !== epoch) words.push(old[a]!);
      if (s.stateCode(i) !== S_NOT_APPLICABLE) words.push(pack.pack(i));
    }
    for (; a < old.length; a++) if (mark[pack.index(old[a]!)] !== epoch) words.push(old[a]!);
    this.stats.incremental++;
    this.stats.slotsChecked += checked;
    this.stats.redecided += redecided;
    this.stats.recomputed += n;
    return Uint32Array.from(words);
  }

  /**
   * Keeps the machine in `s` as a base (its outcomes without reasons, sorted by index), replacing the one used least
   * recently when all are taken — unless, with `sameImage`, it was scanned in full and its image has one. Call after
   * its outcomes were decided, before its buffers are reset.
   */
  keep(s: MachineScan, outcomes: Uint32Array, fromBase = false): void {
    const memo = s.memo;
    if (memo === undefined) return;
    const ids = memo.sectionIds();
    const generation = memo.memoGeneration();
    // A machine scanned in full although its image had a base (too far from it) replaces none: it is as far from
    // its image-mates. One started from a base is kept beside it (far enough from it to be worth one: keepShare).
    if (!fromBase && this.sameImage && this.bases.some((x) => x.generation === generation && this.sameImageAs(x, ids))) return;
    let b: Base;
    if (this.bases.length < this.max) {
      b = new Base(this.updates, this.pc.reportingClasses.length, this.index.sections);
      this.bases.push(b);
    } else {
      b = this.bases[0]!;
      for (const x of this.bases) if (x.lastUsed < b.lastUsed) b = x;
    }
    const buf = s.buffers;
    b.codes.set(buf.codes);
    b.installedMemo.set(buf.installedMemo);
    b.becauseKind.set(buf.becauseKind);
    b.becauseRef.set(buf.becauseRef);
    b.becauseValue.set(buf.becauseValue);
    b.slotMemo.set(buf.slotMemo);
    const pc = this.pc;
    for (let k = 0; k < pc.reportingClasses.length; k++) b.mayHold[k] = s.classMayHold(pc.reportingClasses[k]!) ? 1 : 0;
    b.sectionIds.set(ids);
    b.generation = generation;
    b.outcomes = outcomes;
    b.lastUsed = ++this.clock;
  }

  /** Counts a machine scanned in full. */
  countFull(): void {
    this.stats.full++;
  }
}
