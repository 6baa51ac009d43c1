/**
 * Update state resolution for one machine (reference §4; decisions in docs/semantics.md):
 *
 * 1. Categories and detectoids are "installed" when their prerequisites are and their IsInstalled rule is True
 *    (evaluated on demand in prerequisite order, memoized: the fix-point of §4.3).
 * 2. A leaf update: prerequisites False → NotApplicable; else the table of §4.2 in Kleene logic:
 *    Installed if P ∧ IsInstalled, Required if P ∧ ¬IsInstalled ∧ ¬IsSuperseded ∧ IsInstallable,
 *    NotApplicable if both are False, Unknown otherwise. Absent rules: IsInstalled False, IsInstallable True,
 *    IsSuperseded False.
 * 3. A bundle: from its children — any Required → Required; else any Unknown → Unknown; else any Installed →
 *    Installed; else NotApplicable (its own prerequisites first).
 * 4. Supersedence: an update superseded by one that is Installed or Required carries `superseded`; when none is but
 *    one is Unknown, `possiblySuperseded` (supersedence.ts).
 */
import type { Catalog } from '../catalog/catalog.js';
import { isDetectoidOrCategory, SLOT_IS_INSTALLABLE, SLOT_IS_INSTALLED, SLOT_IS_SUPERSEDED } from '../catalog/codes.js';
import { PatchscanError } from '../errors.js';
import { EvalContext } from '../eval/context.js';
import { FileVersions } from '../eval/file-version-table.js';
import { type RuleProgram, type ExplainNode } from '../eval/program.js';
import { citedReason } from '../eval/reason.js';
import { F, T, U, and2, not, or2, triName, type Tri } from '../eval/tri.js';
import { Machine } from '../inventory/machine.js';
import { prerequisiteClasses, type PrerequisiteClasses } from './prerequisite-classes.js';
import type { MachineMemo } from './section-memo.js';
import type { Inventory } from '../inventory/types.js';
import type { RuleSlot } from '../model.js';
import { SUP_NO, SUP_POSSIBLY, SUP_YES, type SupersedenceCode } from './supersedence.js';

export type UpdateState = 'Installed' | 'Required' | 'NotApplicable' | 'Unknown';

const BUSY = 255;
const S_NONE = 0,
  S_BUSY = 1;
/**
 * The state codes stateCode() returns, for callers that compare them without a string (fleet/flat-decisions.ts decides in
 * the same codes). In the order of result-set.ts's STATES, from S_INSTALLED on.
 */
export const S_INSTALLED = 2,
  S_REQUIRED = 3,
  S_NOT_APPLICABLE = 4,
  S_UNKNOWN = 5;
const S_NA = S_NOT_APPLICABLE;
const STATE_NAMES: Record<number, UpdateState> = {
  [S_INSTALLED]: 'Installed',
  [S_REQUIRED]: 'Required',
  [S_NA]: 'NotApplicable',
  [S_UNKNOWN]: 'Unknown',
};

/** Why an update got its state: enough to print a reason and to explain. */
export type Because =
  | {
      readonly kind: 'prerequisite';
      readonly group: number;
      readonly value: Tri;
      readonly members: readonly { updateId: string; index: number }[];
    }
  | { readonly kind: 'rules'; readonly slot: RuleSlot | 'defaults'; readonly value: Tri }
  | { readonly kind: 'children'; readonly child: number; readonly childUpdateId: string; readonly state: UpdateState }
  | { readonly kind: 'noChildren' }
  | { readonly kind: 'cycle' };

export interface UpdateResult {
  readonly index: number;
  readonly state: UpdateState;
  readonly superseded: boolean;
  /** Not superseded, but an update that supersedes it is Unknown on the machine (never true with `superseded`). */
  readonly possiblySuperseded: boolean;
  /** Index of the update that supersedes this one (Installed or Required), when superseded. */
  readonly supersededBy?: number;
  /** Index of the first superseding update that is Unknown, when possibly superseded. */
  readonly possiblySupersededBy?: number;
  readonly because: Because;
}

const EMPTY = new Int32Array(0);
const EMPTY_CLASSES = new Int8Array(0);

/**
 * Per update i, at 2i and 2i + 1: the range of its bundled updates in the catalog's bundle member arrays (the members
 * of its groups are contiguous there, and a bundle's state reads them all alike), empty when it is not a bundle. One
 * read where a decision read the group offsets, then the member offsets. Built once per catalog.
 */
const bundleRangeCache = new WeakMap<Catalog['data'], Int32Array>();
function bundleRanges(c: Catalog): Int32Array {
  let r = bundleRangeCache.get(c.data);
  if (r === undefined) {
    const b = c.data.bundles;
    r = new Int32Array(c.size * 2);
    for (let i = 0; i < c.size; i++) {
      r[2 * i] = b.memberOffsets[b.groupOffsets[i]!]!;
      r[2 * i + 1] = b.memberOffsets[b.groupOffsets[i + 1]!]!;
    }
    bundleRangeCache.set(c.data, r);
  }
  return r;
}
/**
 * Per catalog update, how reasons name it: `KB123 "Title"`, the update id where it has no title (kept apart: a reason
 * names an update for each outcome, and looking its title up in the catalog's languages each time was a tenth of a
 * reason's cost).
 */
const kbAndTitles = new WeakMap<Catalog['data'], (readonly [kb: string, title: string] | undefined)[]>();
function updateName(c: Catalog, i: number, id: string): string {
  let names = kbAndTitles.get(c.data);
  if (names === undefined) kbAndTitles.set(c.data, (names = new Array(c.size)));
  const [kb, title] = (names[i] ??= [c.kb(i) ? `KB${c.kb(i)} ` : '', c.title(i)]);
  return `${kb}"${title || id}"`;
}

const SLOTS: readonly RuleSlot[] = ['IsInstalled', 'IsInstallable', 'IsSuperseded'];

/** `becauseKind`: which variant of {@link Because} an update's reason is (0, the reset value, is a cycle). */
const BECAUSE_CYCLE = 0,
  BECAUSE_PREREQUISITE = 1,
  BECAUSE_RULES = 2,
  BECAUSE_CHILDREN = 3,
  BECAUSE_NO_CHILDREN = 4;
type BecauseKind =
  typeof BECAUSE_CYCLE | typeof BECAUSE_PREREQUISITE | typeof BECAUSE_RULES | typeof BECAUSE_CHILDREN | typeof BECAUSE_NO_CHILDREN;

/** The ref of a rules reason: the slot that decided (a SlotCode), or neither rule but the defaults of §4.1. */
const REF_DEFAULTS = 3;

/**
 * Why an update got its state, in one word (one memory write per decision, no object): the kind (3 bits), a value
 * (3 bits: a tri, or a state code) and a ref + 1 above them — the deciding prerequisite group relative to the
 * update's first, the slot (SlotCode or REF_DEFAULTS), or the deciding child relative to the bundle's first member.
 * Relative refs are small, and need no read of the catalog's offsets when a decision is made, only when it is told.
 */
const becauseWord = (kind: BecauseKind, ref: number, value: number): number => kind | (value << 3) | ((ref + 1) << 6);
/** An update NotApplicable because its own IsSuperseded rule is True (supersedence() asks). */
const BY_OWN_IS_SUPERSEDED = becauseWord(BECAUSE_RULES, SLOT_IS_SUPERSEDED, T);

/**
 * Per-machine working memory, sized to the catalog. Scanning a fleet reuses one set per thread (reset with fill,
 * not reallocated), so a machine costs no megabyte-scale allocation and no garbage.
 */
export class MachineScanBuffers {
  readonly codes: Uint8Array;
  readonly installedMemo: Uint8Array; // 0 = not computed, else tri + 1
  /** Why each update got its state (becauseWord; 0, the reset value, is a cycle). */
  readonly becauseWords: Int32Array;
  readonly slotMemo: Int8Array; // 3 per update: -1 not computed, else tri
  readonly factValues: unknown[];
  readonly factResolved: Uint8Array;
  readonly fileVersions: FileVersions;
  readonly nodeMemo: Int8Array;
  /** Per prerequisite class: -1 not computed, -2 being computed, else its tri (prerequisite-classes.ts). */
  readonly classMemo: Int8Array;
  /** Per computed class: the group that decided it, relative to an update's first group (-1: none). */
  readonly classGroup: Int32Array;

  constructor(updates: number, facts: number, nodes = 0, classes = 0) {
    this.codes = new Uint8Array(updates);
    this.installedMemo = new Uint8Array(updates);
    this.becauseWords = new Int32Array(updates);
    this.slotMemo = new Int8Array(updates * 3).fill(-1);
    this.factValues = new Array<unknown>(facts);
    this.factResolved = new Uint8Array(facts);
    this.fileVersions = new FileVersions(facts);
    this.nodeMemo = new Int8Array(nodes).fill(-1);
    this.classMemo = new Int8Array(classes).fill(-1);
    this.classGroup = new Int32Array(classes);
  }

  /** Buffers sized for every memo a machine scan over `catalog` keeps. */
  static for(catalog: Catalog): MachineScanBuffers {
    return new MachineScanBuffers(catalog.size, catalog.data.facts.count, catalog.data.nodes.count, prerequisiteClasses(catalog).count);
  }

  reset(): void {
    this.codes.fill(0);
    this.installedMemo.fill(0);
    this.becauseWords.fill(0);
    this.slotMemo.fill(-1);
    this.factResolved.fill(0); // stale factValues are never read past a cleared flag
    this.fileVersions.clear();
    this.nodeMemo.fill(-1);
    this.classMemo.fill(-1);
  }
}

/** One machine scanned against one catalog: each update's state decided on demand and memoized (the rules above). */
export class MachineScan {
  readonly ctx: EvalContext;
  private readonly codes: Uint8Array;
  private readonly installedMemo: Uint8Array;
  private readonly becauseWords: Int32Array;
  private readonly slotMemo: Int8Array;
  /** Group that decided the last prerequisites() call (F: the failing one; U: the first open one), relative to the update's first; -1 none. */
  private prereqGroup = -1;
  // The catalog's arrays this class reads per update, held directly (hot path: no property chains).
  private readonly rules: Int32Array;
  private readonly types: Uint8Array;
  private readonly pre: Catalog['data']['prerequisites'];
  private readonly classes: PrerequisiteClasses;
  /** Per update: its prerequisite cycle or -1 (prerequisite-classes.ts); a reference within a cycle reads Unknown. */
  private readonly cycleOf: Int32Array;
  private readonly acyclicClassOf: Int32Array;
  private readonly bundleRange: Int32Array;
  private readonly classMemo: Int8Array;
  private readonly classGroup: Int32Array;
  private readonly byClass: boolean;
  /** Times a prerequisite cycle was met (a BUSY update asked for): a value computed meanwhile depends on the path. */
  private cycleHits = 0;
  // The section memo's per-slot arrays and this machine's value array per group (found on first use), held directly.
  private readonly slotPlace: Int32Array;
  private readonly groupValues: (Int8Array | undefined)[] = [];
  /** Slot values taken from earlier machines, and evaluated here (counted into the memo by {@link flushCounts}). */
  private sharedSlots = 0;
  private evaluatedSlots = 0;

  /**
   * `buffers` must be fresh or reset, and not used by another live machine scan. With `memo`, slot values are shared
   * with earlier machines whose inventory sections read by the slot's rules are the same (section-memo.ts).
   */
  constructor(
    readonly catalog: Catalog,
    readonly program: RuleProgram,
    inventory: Inventory,
    readonly buffers = MachineScanBuffers.for(catalog),
    readonly memo?: MachineMemo,
  ) {
    this.ctx = new EvalContext(catalog, new Machine(inventory), buffers.factValues, buffers.factResolved, buffers.fileVersions);
    if (buffers.nodeMemo.length === catalog.data.nodes.count) this.ctx.nodeMemo = buffers.nodeMemo;
    this.codes = buffers.codes;
    this.installedMemo = buffers.installedMemo;
    this.becauseWords = buffers.becauseWords;
    this.slotMemo = buffers.slotMemo;
    this.rules = catalog.data.updates.rules;
    this.types = catalog.data.updates.type;
    this.pre = catalog.data.prerequisites;
    this.classes = prerequisiteClasses(catalog);
    this.cycleOf = this.classes.cycleOf;
    this.acyclicClassOf = this.classes.acyclicClassOf;
    this.bundleRange = bundleRanges(catalog);
    // Buffers without room for the classes (built by hand, without MachineScanBuffers.for) evaluate every update's
    // prerequisites on their own: the straightforward evaluation the differential tests compare against.
    this.byClass = buffers.classMemo.length === this.classes.count;
    this.classMemo = buffers.classMemo;
    this.classGroup = buffers.classGroup;
    this.slotPlace = memo?.slotPlace ?? EMPTY;
  }

  /** The section memo's slot places ({@link slotIn}), or undefined when this scan shares no rule values. */
  get sharedSlotPlaces(): Int32Array | undefined {
    return this.memo?.slotPlace;
  }

  /** Adds this machine's shared and evaluated slot counts to the memo's statistics (once, when the scan is done). */
  flushCounts(): void {
    if (this.memo === undefined) return;
    this.memo.countMany(this.sharedSlots, this.evaluatedSlots);
    this.sharedSlots = this.evaluatedSlots = 0;
  }

  /** Value of a rule slot, with the defaults of reference §4.1 for absent rules. */
  slot(i: number, s: number): Tri {
    if (this.memo !== undefined && this.ctx.readings === undefined) {
      // Shared with earlier machines that read the same (and, within this machine, with slots sharing the tree).
      // The group's value array is found once per machine and kept here: a scan asks for thousands of slots, and
      // asking the shared array again is as cheap as a memo of this machine's own would be.
      const q2 = (i * 3 + s) << 1;
      return this.sharedSlot(this.memo, this.rules, i * 3 + s, s, this.slotPlace[q2]!, this.slotPlace[q2 + 1]!);
    }
    const m = this.slotMemo[i * 3 + s]!;
    if (m >= 0) return m as Tri;
    const root = this.rules[i * 3 + s]!;
    let v: Tri;
    if (root < 0) v = s === SLOT_IS_INSTALLABLE ? T : F;
    else {
      // Slots of different updates often share one rule tree (one node): evaluated once per machine. A slot's tree is
      // always evaluated outside any RegKeyLoop (no rule asks for a slot), so even a tree that reads the loop's subkey
      // has one value per machine.
      const nm = this.ctx.nodeMemo;
      const known = nm !== undefined && this.ctx.readings === undefined ? nm[root]! : -1;
      if (known >= 0) v = known as Tri;
      else {
        v = this.program.eval(root, this.ctx);
        if (nm !== undefined && this.ctx.readings === undefined) nm[root] = v;
      }
    }
    this.slotMemo[i * 3 + s] = v;
    return v;
  }

  /**
   * {@link slot} for a caller that holds the slot's rule root and place in the section memo already
   * (fleet/flat-decisions.ts lays them out in its own order): `roots[q]` is the slot's rule root (read only when the value
   * must be evaluated), `group` and `at` are `slotPlace`'s two entries for it. Only for scans with a memo and no
   * readings.
   */
  slotIn(roots: Int32Array, q: number, s: number, group: number, at: number): Tri {
    if (this.memo === undefined || this.ctx.readings !== undefined)
      throw new PatchscanError('INTERNAL', 'slotIn needs a scan that shares rule values and records no readings');
    return this.sharedSlot(this.memo, roots, q, s, group, at);
  }

  /**
   * Runs `fn` without counting the rule values it takes from the group value arrays as shared: deciding again, for
   * their reasons, outcomes this machine has decided already reads values this machine read, not earlier machines'.
   * Values it has to evaluate are counted.
   */
  notCountingShared<T>(fn: () => T): T {
    const shared = this.sharedSlots;
    try {
      return fn();
    } finally {
      this.sharedSlots = shared;
    }
  }

  /**
   * A slot's value shared with earlier machines that read the same (and, within this machine, with slots sharing the
   * tree): taken from the group's value array, else its rule root `roots[q]` evaluated and the value put there.
   * `group` -1: no rule (the defaults of reference §4.1).
   */
  private sharedSlot(memo: MachineMemo, roots: Int32Array, q: number, s: number, group: number, at: number): Tri {
    if (group < 0) return s === SLOT_IS_INSTALLABLE ? T : F;
    const values = (this.groupValues[group] ??= memo.valuesOfGroup(group));
    const known = values[at]!;
    if (known >= 0) {
      this.sharedSlots++;
      return known as Tri;
    }
    this.evaluatedSlots++;
    const v = this.program.eval(roots[q]!, this.ctx);
    values[at] = v;
    return v;
  }

  /**
   * Per prerequisite class, its value on this machine so far (-1: not computed; -2: being computed; else a Tri), or
   * an empty array when this scan evaluates prerequisites update by update. Read-only for callers.
   */
  get classValues(): Int8Array {
    return this.byClass ? this.classMemo : EMPTY_CLASSES;
  }

  /** Whether update `i` counts as installed for prerequisite purposes. */
  installed(i: number): Tri {
    if (!isDetectoidOrCategory(this.types[i]!)) {
      // Read from the state, never memoized apart from it: asked for while the update is being decided (a
      // prerequisite cycle), the state is Unknown for now, and a memo of that would outlive the state it is decided to.
      const s = this.stateCode(i);
      return s === S_INSTALLED ? T : s === S_UNKNOWN ? U : F;
    }
    const memo = this.installedMemo[i]!;
    if (memo === BUSY) {
      this.cycleHits++;
      return U; // a prerequisite cycle
    }
    if (memo !== 0) return (memo - 1) as Tri;
    this.installedMemo[i] = BUSY;
    const p = this.prerequisites(i);
    const v: Tri = p === F ? F : and2(p, this.slot(i, SLOT_IS_INSTALLED));
    this.installedMemo[i] = v + 1;
    return v;
  }

  /**
   * Prerequisites: every group satisfied; a group is one update, or at least one of several. Computed once per
   * prerequisite class (updates with the same groups) and kept — unless a cycle was met on the way, since a value
   * seen through a cycle depends on where the evaluation started.
   */
  prerequisites(i: number): Tri {
    // An update in a cycle reads its cycle's members as Unknown: its value is its own, not its class's.
    const c = this.acyclicClassOf[i]!;
    if (!this.byClass || c < 0) return this.groups(i);
    const known = this.classMemo[c]!;
    if (known >= 0) {
      this.prereqGroup = this.classGroup[c]!;
      return known as Tri;
    }
    if (known === -2) return this.groups(i); // this class is being computed further up: evaluate on its own
    this.classMemo[c] = -2;
    const hits = this.cycleHits;
    const v = this.groups(i);
    if (this.cycleHits === hits) {
      this.classMemo[c] = v;
      this.classGroup[c] = this.prereqGroup;
    } else this.classMemo[c] = -1;
    return v;
  }

  /** Prerequisite cycles met so far (an update asked for while it was being decided). */
  get cyclesMet(): number {
    return this.cycleHits;
  }

  /**
   * Whether prerequisite class `c` may hold on this machine: its groups are evaluated (once per machine, as for its
   * first update met) and False means every update of the class outside a prerequisite cycle is NotApplicable, so a
   * scan leaves them all out at once. True also when the value could not be kept (a cycle met on the way): then
   * each update of the class is decided on its own.
   */
  classMayHold(c: number): boolean {
    const i = this.classes.acyclicMember[c]!;
    if (i < 0) return true;
    const v = this.prerequisites(i);
    return !(v === F && this.byClass && this.classMemo[c] === F);
  }

  /**
   * Whether update i is NotApplicable by its prerequisites, as far as already known without evaluating anything
   * (its class was computed False). A scan skips such updates: deciding them would only read memos.
   */
  knownNotApplicable(i: number): boolean {
    const c = this.acyclicClassOf[i]!;
    return this.byClass && c >= 0 && this.classMemo[c] === F;
  }

  private groups(i: number): Tri {
    const p = this.pre;
    const cycle = this.cycleOf[i]!;
    let value: Tri = T;
    let deciding = -1;
    const first = p.groupOffsets[i]!;
    for (let g = first; g < p.groupOffsets[i + 1]!; g++) {
      let gv: Tri = F;
      for (let m = p.memberOffsets[g]!; m < p.memberOffsets[g + 1]!; m++) {
        const t = p.target[m]!;
        // A prerequisite the catalog does not hold can never be installed (WUA would not offer the update); one in
        // this update's own cycle is Unknown, wherever the scan entered the cycle.
        gv = or2(gv, t < 0 ? F : cycle >= 0 && this.cycleOf[t] === cycle ? U : this.installed(t));
        if (gv === T) break;
      }
      if (gv === F) {
        this.prereqGroup = g - first;
        return F;
      }
      if (gv === U && value === T) {
        value = U;
        deciding = g - first;
      }
    }
    this.prereqGroup = deciding;
    return value;
  }

  stateCode(i: number): number {
    const s = this.codes[i]!;
    if (s === S_BUSY) {
      this.cycleHits++;
      return S_UNKNOWN; // cycle: the caller sees Unknown
    }
    if (s !== S_NONE) return s;
    this.codes[i] = S_BUSY;
    const code = this.decide(i);
    this.codes[i] = code;
    return code;
  }

  private why(i: number, kind: BecauseKind, ref: number, value: number): void {
    this.becauseWords[i] = becauseWord(kind, ref, value);
  }

  /** Decides update i's state and records why (compactly). */
  private decide(i: number): number {
    const c = this.catalog;
    const pre = this.prerequisites(i);
    const group = this.prereqGroup;
    if (pre === F) {
      this.why(i, BECAUSE_PREREQUISITE, group, F);
      return S_NA;
    }
    if (isDetectoidOrCategory(this.types[i]!)) {
      const v = and2(pre, this.slot(i, SLOT_IS_INSTALLED));
      if (pre === U && v === U) this.why(i, BECAUSE_PREREQUISITE, group, U);
      else this.why(i, BECAUSE_RULES, SLOT_IS_INSTALLED, v);
      return v === T ? S_INSTALLED : v === F ? S_NA : S_UNKNOWN;
    }

    const first = this.bundleRange[2 * i]!,
      end = this.bundleRange[2 * i + 1]!;
    if (end > first) {
      const target = c.data.bundles.target;
      let req = -1,
        unk = -1,
        inst = -1;
      const cycle = this.cycleOf[i]!;
      // The first Required child decides the bundle (and is its reason): the children after it are not decided.
      for (let m = first; m < end; m++) {
        const t = target[m]!;
        // A child whose prerequisite class is known False is NotApplicable: no need to decide it.
        const s = t < 0 || (cycle >= 0 && this.cycleOf[t] === cycle) ? S_UNKNOWN : this.knownNotApplicable(t) ? S_NA : this.stateCode(t);
        if (s === S_REQUIRED) {
          req = m;
          break;
        } else if (s === S_UNKNOWN && unk < 0) unk = m;
        else if (s === S_INSTALLED && inst < 0) inst = m;
      }
      const m = req >= 0 ? req : unk >= 0 ? unk : inst;
      const code = req >= 0 ? S_REQUIRED : unk >= 0 ? S_UNKNOWN : inst >= 0 ? S_INSTALLED : S_NA;
      if (m >= 0) this.why(i, BECAUSE_CHILDREN, m - first, code);
      else this.why(i, BECAUSE_NO_CHILDREN, 0, 0);
      if (pre === U && code !== S_NA) {
        this.why(i, BECAUSE_PREREQUISITE, group, U);
        return S_UNKNOWN;
      }
      return code;
    }

    const isInstalled = this.slot(i, SLOT_IS_INSTALLED);
    const installed = and2(pre, isInstalled);
    if (installed === T) {
      this.why(i, BECAUSE_RULES, SLOT_IS_INSTALLED, T);
      return S_INSTALLED;
    }
    const isSuperseded = this.slot(i, SLOT_IS_SUPERSEDED);
    const isInstallable = this.slot(i, SLOT_IS_INSTALLABLE);
    const required = and2(and2(pre, not(isInstalled)), and2(not(isSuperseded), isInstallable));
    if (required === T) {
      this.why(i, BECAUSE_RULES, SLOT_IS_INSTALLABLE, T);
      return S_REQUIRED;
    }
    if (installed === F && required === F) {
      if (isSuperseded === T) this.why(i, BECAUSE_RULES, SLOT_IS_SUPERSEDED, T);
      else if (isInstallable === F) this.why(i, BECAUSE_RULES, SLOT_IS_INSTALLABLE, F);
      else this.why(i, BECAUSE_RULES, REF_DEFAULTS, F);
      return S_NA;
    }
    // Unknown: name the first part that left it open.
    if (pre === U) this.why(i, BECAUSE_PREREQUISITE, group, U);
    else {
      const open = isInstalled === U ? SLOT_IS_INSTALLED : isSuperseded === U ? SLOT_IS_SUPERSEDED : SLOT_IS_INSTALLABLE;
      this.why(i, BECAUSE_RULES, open, U);
    }
    return S_UNKNOWN;
  }

  /** The recorded reason of update i, as an object (built on demand). */
  because(i: number): Because {
    const c = this.catalog;
    const word = this.becauseWords[i]!;
    const value = (word >>> 3) & 7;
    let ref = (word >>> 6) - 1;
    switch (word & 7) {
      case BECAUSE_PREREQUISITE: {
        const p = c.data.prerequisites;
        if (ref >= 0) ref += p.groupOffsets[i]!;
        const members = [];
        for (let m = p.memberOffsets[ref]!; m < p.memberOffsets[ref + 1]!; m++)
          members.push({ updateId: c.str(p.guid[m]!), index: p.target[m]! });
        return { kind: 'prerequisite', group: ref, value: value as Tri, members };
      }
      case BECAUSE_RULES:
        return { kind: 'rules', slot: ref === REF_DEFAULTS ? 'defaults' : SLOTS[ref]!, value: value as Tri };
      case BECAUSE_CHILDREN: {
        const b = c.data.bundles;
        if (ref >= 0) ref += this.bundleRange[2 * i]!;
        return { kind: 'children', child: b.target[ref]!, childUpdateId: c.str(b.guid[ref]!), state: STATE_NAMES[value]! };
      }
      case BECAUSE_NO_CHILDREN:
        return { kind: 'noChildren' };
      case BECAUSE_CYCLE:
      default:
        return { kind: 'cycle' };
    }
  }

  /** Whether update i is superseded by an Installed or Required update (its index), or -1. */
  supersededBy(i: number): number {
    return this.superseder(i, false);
  }

  /** The first update superseding i that is Unknown, or -1 (what a possibly superseded update's reason names). */
  possiblySupersededBy(i: number): number {
    return this.superseder(i, true);
  }

  /** The first update superseding i that is Installed or Required (or, with `unknown`, Unknown), or -1. */
  private superseder(i: number, unknown: boolean): number {
    const sb = this.catalog.data.supersededBy;
    for (let k = sb.offsets[i]!; k < sb.offsets[i + 1]!; k++) {
      const t = sb.target[k]!;
      const s = this.stateCode(t);
      if (unknown ? s === S_UNKNOWN : s === S_INSTALLED || s === S_REQUIRED) return t;
    }
    return -1;
  }

  /** Superseded flag: by an Installed/Required superseder, or by the update's own IsSuperseded rule. */
  isSuperseded(i: number): boolean {
    return this.supersedence(i) === SUP_YES;
  }

  /**
   * Superseded (SUP_YES: as isSuperseded), possibly superseded (SUP_POSSIBLY: no superseder is Installed or
   * Required but one is Unknown), or not (SUP_NO). One pass over the superseders, no allocation.
   */
  supersedence(i: number): SupersedenceCode {
    // NotApplicable because its own IsSuperseded rule is True (stateCode decides i first, recording why).
    if (this.stateCode(i) === S_NA && this.becauseWords[i] === BY_OWN_IS_SUPERSEDED) return SUP_YES;
    return this.supersedenceBySuperseders(i);
  }

  /**
   * Supersedence as the updates superseding i make it, without deciding i itself: all of it for an update known not
   * to be NotApplicable (its own IsSuperseded rule then is not why). Outcomes carried over to a new catalog use it
   * (fleet/carry-over.ts) when only an update's superseders changed.
   */
  supersedenceBySuperseders(i: number): SupersedenceCode {
    const sb = this.catalog.data.supersededBy;
    let possibly = false;
    for (let k = sb.offsets[i]!; k < sb.offsets[i + 1]!; k++) {
      const s = this.stateCode(sb.target[k]!);
      if (s === S_INSTALLED || s === S_REQUIRED) return SUP_YES;
      if (s === S_UNKNOWN) possibly = true;
    }
    return possibly ? SUP_POSSIBLY : SUP_NO;
  }

  result(i: number): UpdateResult {
    const code = this.stateCode(i);
    const sup = this.supersedence(i);
    const by = sup === SUP_YES ? this.supersededBy(i) : -1;
    const maybeBy = sup === SUP_POSSIBLY ? this.superseder(i, true) : -1;
    return {
      index: i,
      state: STATE_NAMES[code]!,
      superseded: sup === SUP_YES,
      possiblySuperseded: sup === SUP_POSSIBLY,
      ...(by >= 0 ? { supersededBy: by } : {}),
      ...(maybeBy >= 0 ? { possiblySupersededBy: maybeBy } : {}),
      because: this.because(i),
    };
  }

  /** State name of update i (no allocation). */
  state(i: number): UpdateState {
    return STATE_NAMES[this.stateCode(i)]!;
  }

  /** Explanation of one rule slot of update `i`. */
  /** Why update i's rule slot has its value (reason.ts), or undefined when the update has no such rule. */
  private slotReason(i: number, slot: RuleSlot): string | undefined {
    const root = this.catalog.ruleRoot(i, slot);
    return root < 0 ? undefined : citedReason(this.program.citedLeaf(root, this.ctx));
  }

  explainSlot(i: number, slot: RuleSlot): ExplainNode | undefined {
    const root = this.catalog.ruleRoot(i, slot);
    return root < 0 ? undefined : this.program.explain(root, this.ctx);
  }

  /** One line saying why update `i` has its state. */
  reason(r: UpdateResult): string {
    // A reason follows open prerequisites and bundled updates; through a prerequisite cycle it would never end.
    if (this.reasonChain.includes(r.index)) return 'prerequisites form a cycle';
    this.reasonChain.push(r.index);
    try {
      return this.reasonText(r);
    } finally {
      this.reasonChain.pop();
    }
  }

  private readonly reasonChain: number[] = [];

  private reasonText(r: UpdateResult): string {
    const c = this.catalog;
    const name = (idx: number, id: string): string => (idx >= 0 ? updateName(c, idx, id) : `${id} (not in the catalog)`);
    let text: string;
    const b = r.because;
    switch (b.kind) {
      case 'prerequisite': {
        const what =
          b.members.length === 1
            ? `prerequisite ${name(b.members[0]!.index, b.members[0]!.updateId)}`
            : `none of the prerequisites ${b.members.map((m) => name(m.index, m.updateId)).join(', ')}`;
        text = b.value === F ? `${what} is not installed` : `${what} ${b.members.length === 1 ? 'is' : 'are'} of unknown state`;
        // Say why the first open prerequisite is open (its own rules or prerequisites).
        const open = b.value === U ? b.members.find((m) => m.index >= 0 && this.installed(m.index) === U) : undefined;
        if (open) text += `: ${this.reason(this.result(open.index))}`;
        break;
      }
      case 'children':
        text = `bundled update ${name(b.child, b.childUpdateId)} is ${b.state}`;
        if (b.child >= 0 && b.state !== 'Installed') text += `: ${this.reason(this.result(b.child))}`;
        break;
      case 'noChildren':
        text = 'no bundled update applies to this machine';
        break;
      case 'cycle':
        text = 'prerequisites form a cycle';
        break;
      case 'rules': {
        if (b.slot === 'defaults') {
          text = 'not installed and not installable';
          break;
        }
        const e = this.slotReason(r.index, b.slot);
        text =
          e !== undefined
            ? `${b.slot} is ${triName(b.value)}: ${e}`
            : `${b.slot} is absent (${b.slot === 'IsInstallable' ? 'True' : 'False'} by default)`;
        if (r.state === 'Required') {
          const ie = this.slotReason(r.index, 'IsInstalled');
          if (ie !== undefined) text = `IsInstalled is False: ${ie}; ${text}`;
        }
      }
    }
    if (r.supersededBy !== undefined)
      text += `; superseded by ${name(r.supersededBy, c.updateId(r.supersededBy))} (${STATE_NAMES[this.stateCode(r.supersededBy)]})`;
    else if (r.possiblySupersededBy !== undefined)
      text += `; possibly superseded by ${name(r.possiblySupersededBy, c.updateId(r.possiblySupersededBy))} (Unknown)`;
    return text;
  }
}
