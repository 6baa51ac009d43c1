/**
 * A machine's reportable outcomes decided over arrays laid out in the order a scan reads them (issue 14, item 3).
 *
 * MachineScan decides on demand over catalog-indexed arrays: an update's class, kind, bundled updates, superseders
 * and rule-slot places sit in a dozen arrays of catalog size, and the ~6,000 updates a machine decides are scattered
 * over all 50,000, so nearly every read of every decision missed the cache (a CPU profile puts most of a decision's
 * time on the first read of each array). Here the same decisions read arrays indexed by *position*: updates placed
 * class by class — each class's reportable updates, each after its bundled updates — so the updates of the classes
 * that hold on a machine, and what deciding them reads, are a few dense runs of memory.
 *
 * The states are MachineScan's, by the same rules (scanner/machine-scan.ts, reference §4), asked for in the same order and
 * as lazily (a bundle stops at its first Required child, a supersedence at its first Installed or Required
 * superseder), so they read the same rule slots — as long as the section memo does not evict, since which values it
 * keeps then depends on the order groups were first touched. Class values (prerequisites) still come from
 * MachineScan: a machine evaluates a few dozen; an update MachineScan decides on the way (a software update that is a
 * prerequisite, and what it bundles) is taken from it rather than decided twice. Only
 * catalogs without prerequisite cycles get a layout (Windows Update's have none): there an update's state does not
 * depend on which update asked for it first. `all` scans, and scans with a reason for every outcome, keep
 * MachineScan's own path; with reasons for some outcomes (a mask), those are decided again by MachineScan for them.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { CatalogData } from '../catalog/data.js';
import type { FlatLayout } from '../catalog/scan-index.js';
import { isDetectoidOrCategory, SLOT_IS_INSTALLABLE, SLOT_IS_INSTALLED, SLOT_IS_SUPERSEDED } from '../catalog/codes.js';
import { F, T, U, and2, not, type Tri } from '../eval/tri.js';
import { S_INSTALLED, S_NOT_APPLICABLE, S_REQUIRED, S_UNKNOWN, type MachineScan } from '../scanner/machine-scan.js';
import { prerequisiteClasses, type PrerequisiteClasses } from '../scanner/prerequisite-classes.js';
import { scanIndexFor } from '../scanner/section-memo.js';
import { SUP_NO, SUP_POSSIBLY, SUP_YES, type SupersedenceCode } from '../scanner/supersedence.js';
import { packDecided } from './result-set.js';

// Decisions in machine-scan.ts's state codes (0 in `state`: not decided yet).
const S_NA = S_NOT_APPLICABLE;
const KIND_LEAF = 0,
  KIND_DETECTOID = 1,
  KIND_BUNDLE = 2,
  /** Decided by MachineScan (FlatLayout.decideAs), whatever its kind: one read tells both. */
  KIND_BY_SCAN = 3;

export type { FlatLayout } from '../catalog/scan-index.js';

const layouts = new WeakMap<CatalogData, FlatLayout | null>();

/**
 * The catalog's layout, or undefined when it has a prerequisite cycle (MachineScan then decides everything): from its
 * scan index (a catalog file's: catalog/scan-index.ts), else built once per catalog.
 */
export function flatLayout(c: Catalog): FlatLayout | undefined {
  let l = layouts.get(c.data);
  if (l === undefined) {
    const index = scanIndexFor(c);
    l = (index ? index.flat && narrowed(index.flat, index.classes.count) : buildFlatLayout(c)) ?? null;
    layouts.set(c.data, l);
  }
  return l ?? undefined;
}

/** A stored layout (its classes as 32-bit numbers: fleet/scan-index.ts) with its classes in 16 bits where they fit, as built. */
function narrowed(l: FlatLayout, classes: number): FlatLayout {
  return classes < 65536 && !(l.classAt instanceof Uint16Array) ? { ...l, classAt: Uint16Array.from(l.classAt) } : l;
}

/** Builds the layout over the catalog's prerequisite classes, or undefined when it has a prerequisite cycle. */
export function buildFlatLayout(c: Catalog): FlatLayout | undefined {
  const pc = prerequisiteClasses(c);
  return pc.cycleOf.every((x) => x < 0) ? buildLayout(c, pc) : undefined;
}

function buildLayout(c: Catalog, pc: PrerequisiteClasses): FlatLayout {
  const n = c.size;
  const b = c.data.bundles;
  const firstMember = (i: number): number => b.memberOffsets[b.groupOffsets[i]!]!;
  const endMember = (i: number): number => b.memberOffsets[b.groupOffsets[i + 1]!]!;
  const positionOf = new Int32Array(n).fill(-1);
  const updateAt = new Int32Array(n);
  let next = 0;
  // Depth-first post-order over bundled updates (iterative: pairs of update, next member), so a bundle's updates
  // sit just before it. The layout has no cycle to meet (checked by the caller).
  const stack: number[] = [];
  const place = (root: number): void => {
    if (positionOf[root]! >= 0) return;
    positionOf[root] = -2; // entered
    stack.push(root, firstMember(root));
    while (stack.length > 0) {
      const top = stack.length - 2;
      const v = stack[top]!;
      const m = stack[top + 1]!;
      if (m < endMember(v)) {
        stack[top + 1] = m + 1;
        const t = b.target[m]!;
        if (t >= 0 && positionOf[t] === -1) {
          positionOf[t] = -2;
          stack.push(t, firstMember(t));
        }
        continue;
      }
      stack.length = top;
      positionOf[v] = next;
      updateAt[next++] = v;
    }
  };
  // Class by class, in the order a scan asks for them; then everything no class's reportable update reached.
  for (let k = 0; k < pc.reportingClasses.length; k++) {
    const cl = pc.reportingClasses[k]!;
    for (let r = pc.classReportableOffsets[cl]!; r < pc.classReportableOffsets[cl + 1]!; r++) place(pc.classReportable[r]!);
  }
  for (let i = 0; i < n; i++) place(i);

  const { type } = c.data.updates;
  // A decision reads its class first: half the bytes where they fit (a catalog has a few dozen classes; a stored
  // layout is narrowed again when read).
  const classAt = pc.count < 65536 ? new Uint16Array(n) : new Int32Array(n);
  const kindAt = new Uint8Array(n);
  const childOffsets = new Int32Array(n + 1);
  const supersederOffsets = new Int32Array(n + 1);
  const sb = c.data.supersededBy;
  for (let p = 0; p < n; p++) {
    const i = updateAt[p]!;
    classAt[p] = pc.classOf[i]!;
    kindAt[p] = isDetectoidOrCategory(type[i]!) ? KIND_DETECTOID : endMember(i) > firstMember(i) ? KIND_BUNDLE : KIND_LEAF;
    childOffsets[p + 1] = childOffsets[p]! + (kindAt[p] === KIND_BUNDLE ? endMember(i) - firstMember(i) : 0);
    supersederOffsets[p + 1] = supersederOffsets[p]! + (sb.offsets[i + 1]! - sb.offsets[i]!);
  }
  const childPos = new Int32Array(childOffsets[n]!);
  const supersederPos = new Int32Array(supersederOffsets[n]!);
  for (let p = 0; p < n; p++) {
    const i = updateAt[p]!;
    if (kindAt[p] === KIND_BUNDLE) {
      let at = childOffsets[p]!;
      for (let m = firstMember(i); m < endMember(i); m++) childPos[at++] = b.target[m]! < 0 ? -1 : positionOf[b.target[m]!]!;
    }
    let at = supersederOffsets[p]!;
    for (let k = sb.offsets[i]!; k < sb.offsets[i + 1]!; k++) supersederPos[at++] = positionOf[sb.target[k]!]!;
  }
  // MachineScan decides a prerequisite that is not a detectoid or category (installed() asks its state), and with it
  // everything it bundles, recursively.
  const decideAs = kindAt.slice();
  const pending: number[] = [];
  const byScan = (q: number): void => {
    if (q < 0 || decideAs[q] === KIND_BY_SCAN) return;
    decideAs[q] = KIND_BY_SCAN;
    pending.push(q);
  };
  const pre = c.data.prerequisites;
  for (let m = 0; m < pre.target.length; m++) {
    const t = pre.target[m]!;
    if (t >= 0 && !isDetectoidOrCategory(type[t]!)) byScan(positionOf[t]!);
  }
  while (pending.length > 0) {
    const p = pending.pop()!;
    for (let k = childOffsets[p]!; k < childOffsets[p + 1]!; k++) byScan(childPos[k]!);
  }
  const rootPos = new Int32Array(pc.classReportable.length);
  for (let r = 0; r < rootPos.length; r++) rootPos[r] = positionOf[pc.classReportable[r]!]!;
  return {
    updateAt,
    classAt,
    kindAt,
    decideAs,
    childOffsets,
    childPos,
    supersederOffsets,
    supersederPos,
    rootOffsets: pc.classReportableOffsets,
    rootPos,
  };
}

/**
 * Decides machines' reportable outcomes over a layout. One per section memo (the rule slots' places are laid out by
 * position too), and one for every scanner of a catalog that shares no rule values; a machine at a time (its working
 * arrays are reused: a scan runs synchronously to its end, and one that throws leaves nothing the next reads).
 */
export class FlatDecider {
  /** Per position: the state code decided on the current machine (0: not yet). */
  private readonly state: Uint8Array;
  /** Per position × slot, at 2 × (3p + slot): the slot's group in the section memo (-1: no rule) and its place there. */
  private readonly places: Int32Array | undefined;
  /** Per catalog index: the outcome word of the current machine, valid where `emitted` has its bit. */
  private readonly wordAt: Uint32Array;
  private readonly emitted: Int32Array;
  /** Per position × slot: the slot's rule root (-1: none), read when a value must be evaluated. */
  private readonly roots: Int32Array;
  private s: MachineScan | undefined;
  private classMemo: Int8Array<ArrayBufferLike> = new Int8Array(0);

  constructor(
    private readonly layout: FlatLayout,
    rules: Int32Array,
    slotPlace: Int32Array | undefined,
  ) {
    const n = layout.updateAt.length;
    this.state = new Uint8Array(n);
    this.wordAt = new Uint32Array(n);
    this.emitted = new Int32Array((n + 31) >>> 5);
    this.roots = new Int32Array(n * 3);
    for (let p = 0; p < n; p++) for (let k = 0; k < 3; k++) this.roots[p * 3 + k] = rules[layout.updateAt[p]! * 3 + k]!;
    if (slotPlace !== undefined) {
      const places = new Int32Array(n * 6);
      for (let p = 0; p < n; p++) {
        const from = layout.updateAt[p]! * 6;
        for (let k = 0; k < 6; k++) places[p * 6 + k] = slotPlace[from + k]!;
      }
      this.places = places;
    }
  }

  /**
   * The machine's reportable outcomes that are not NotApplicable, as packed words (result-set.ts) into `words` in
   * catalog order; returns how many. `s` is the machine's scan (its classes, rule values and memos).
   */
  outcomes(s: MachineScan, pc: PrerequisiteClasses, words: Uint32Array): number {
    const { rootOffsets, rootPos, updateAt } = this.layout;
    this.s = s;
    this.classMemo = s.classValues;
    this.state.fill(0);
    // Classes interleave in catalog order: each outcome is put at its update's index and marked in a bit set, and
    // walking the set gives catalog order (sorting the words was a twentieth of a machine).
    const { emitted, wordAt } = this;
    try {
      for (let k = 0; k < pc.reportingClasses.length; k++) {
        const cl = pc.reportingClasses[k]!;
        if (!s.classMayHold(cl)) continue;
        for (let r = rootOffsets[cl]!; r < rootOffsets[cl + 1]!; r++) {
          const p = rootPos[r]!;
          const code = this.decide(p);
          if (code === S_NA) continue;
          const i = updateAt[p]!;
          wordAt[i] = packDecided(i, code, this.supersedence(p));
          emitted[i >>> 5]! |= 1 << (i & 31);
        }
      }
    } catch (e) {
      emitted.fill(0); // a scan that threw mid-way leaves no bit for the next machine
      throw e;
    } finally {
      this.s = undefined;
    }
    let n = 0;
    for (let w = 0; w < emitted.length; w++) {
      let b = emitted[w]!;
      if (b === 0) continue;
      emitted[w] = 0;
      while (b !== 0) {
        const low = b & -b;
        b ^= low;
        words[n++] = wordAt[(w << 5) | (31 - Math.clz32(low))]!;
      }
    }
    return n;
  }

  private supersedence(p: number): SupersedenceCode {
    const { supersederOffsets, supersederPos } = this.layout;
    let possibly = false;
    for (let k = supersederOffsets[p]!; k < supersederOffsets[p + 1]!; k++) {
      const st = this.decide(supersederPos[k]!);
      if (st === S_INSTALLED || st === S_REQUIRED) return SUP_YES;
      if (st === S_UNKNOWN) possibly = true;
    }
    return possibly ? SUP_POSSIBLY : SUP_NO;
  }

  private slot(p: number, slot: number): Tri {
    const places = this.places;
    if (places === undefined) return this.s!.slot(this.layout.updateAt[p]!, slot);
    const q = p * 3 + slot;
    return this.s!.slotIn(this.roots, q, slot, places[q << 1]!, places[(q << 1) + 1]!);
  }

  /** Position p's state code, decided as machine-scan.ts decides it (its bundled updates first). */
  private decide(p: number): number {
    const known = this.state[p]!;
    if (known !== 0) return known;
    const { classAt, decideAs, childOffsets, childPos } = this.layout;
    const kind = decideAs[p]!;
    if (kind === KIND_BY_SCAN) {
      // An update MachineScan decides while evaluating classes: its decision, made once (and kept in its memo).
      const code = this.s!.stateCode(this.layout.updateAt[p]!);
      this.state[p] = code;
      return code;
    }
    const memo = this.classMemo[classAt[p]!]!;
    const pre = memo >= 0 ? (memo as Tri) : this.s!.prerequisites(this.layout.updateAt[p]!);
    let code: number;
    if (pre === F) code = S_NA;
    else if (kind === KIND_DETECTOID) {
      const v = and2(pre, this.slot(p, SLOT_IS_INSTALLED));
      code = v === T ? S_INSTALLED : v === F ? S_NA : S_UNKNOWN;
    } else if (kind === KIND_BUNDLE) {
      let req = false,
        unk = false,
        inst = false;
      for (let m = childOffsets[p]!; m < childOffsets[p + 1]!; m++) {
        const q = childPos[m]!;
        // A child whose class is known False is NotApplicable without being decided (as machine-scan.ts).
        const st = q < 0 ? S_UNKNOWN : this.classMemo[classAt[q]!] === F ? S_NA : this.decide(q);
        if (st === S_REQUIRED) {
          req = true;
          break;
        } else if (st === S_UNKNOWN) unk = true;
        else if (st === S_INSTALLED) inst = true;
      }
      code = req ? S_REQUIRED : unk ? S_UNKNOWN : inst ? S_INSTALLED : S_NA;
      if (pre === U && code !== S_NA) code = S_UNKNOWN;
    } else {
      const isInstalled = this.slot(p, SLOT_IS_INSTALLED);
      const installed = and2(pre, isInstalled);
      if (installed === T) code = S_INSTALLED;
      else {
        const isSuperseded = this.slot(p, SLOT_IS_SUPERSEDED);
        const isInstallable = this.slot(p, SLOT_IS_INSTALLABLE);
        const required = and2(and2(pre, not(isInstalled)), and2(not(isSuperseded), isInstallable));
        code = required === T ? S_REQUIRED : installed === F && required === F ? S_NA : S_UNKNOWN;
      }
    }
    this.state[p] = code;
    return code;
  }
}

const deciders = new WeakMap<object, FlatDecider | null>();

/**
 * The decider for scans of `c` whose rule slots are placed by `slotPlace` (a section memo's; undefined: no memo),
 * or undefined when the catalog has no layout.
 */
export function flatDecider(c: Catalog, slotPlace: Int32Array | undefined): FlatDecider | undefined {
  const key: object = slotPlace ?? c.data;
  let d = deciders.get(key);
  if (d === undefined) {
    const layout = flatLayout(c);
    d = layout === undefined ? null : new FlatDecider(layout, c.data.updates.rules, slotPlace);
    deciders.set(key, d);
  }
  return d ?? undefined;
}
